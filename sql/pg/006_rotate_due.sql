-- 006_rotate_due: a collection whose key must be rotated, as
-- sql/012_rotate_due.sql makes it for SQLite (the comment there says why):
-- set when a member is removed or leaves, cleared by the next rotation, both
-- under the collection's row lock (store_pg_share.c). An integer 0/1, not a
-- boolean, so that migrate-store copies it between the backends as it is.
-- (006 is left to the PostgreSQL push work, which may take it.)
ALTER TABLE collections ADD COLUMN rotate_due INTEGER NOT NULL DEFAULT 0 CHECK (rotate_due IN (0, 1));
