-- 012_rotate_due: a collection whose key must be rotated (docs/API-sharing.md,
-- "Rotation"). Set when a member is removed or leaves, in the same
-- transaction; cleared by the next rotation. The owner's client sees it in
-- its listings and the members listing, and rotates before its next push:
-- so a member who leaves by itself is rotated out too, and a client that
-- crashed between a removal and its rotation finishes the job later.
-- 1 or 0 (an integer, as on PostgreSQL, so migrate-store copies it as is).
ALTER TABLE collections ADD COLUMN rotate_due INTEGER NOT NULL DEFAULT 0 CHECK (rotate_due IN (0, 1));
