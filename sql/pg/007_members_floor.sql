-- 007_members_floor: the last membership version of every deleted
-- collection, as sql/013_members_floor.sql makes it for SQLite (the comment
-- there says why): a collection created again under its name starts its
-- membership version above it, so an old members ETag never matches.
ALTER TABLE collection_floors ADD COLUMN members_version BIGINT NOT NULL DEFAULT 0;
