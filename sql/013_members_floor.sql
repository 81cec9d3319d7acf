-- 013_members_floor: the last membership version of every deleted
-- collection, beside its last version (006). A collection created again
-- under that name starts its membership version one above it, so a members
-- ETag of the deleted one (an If-Match of a rotation) never matches the new
-- one: it is 412, never a rotation of the wrong collection's members.
-- Floors of collections deleted before this migration hold 0 (their last
-- membership version is gone): a name re-created from them starts at 1, as
-- before.
ALTER TABLE collection_floors ADD COLUMN members_version INTEGER NOT NULL DEFAULT 0;
