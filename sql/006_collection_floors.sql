-- 006_collection_floors: the last version of every deleted collection, per
-- account and name. A collection created again under that name starts one
-- version above it, with its purge horizon there: a cursor from the deleted
-- one then answers 410 resync_required (its records are gone) instead of
-- silently skipping the first records of the new one.
CREATE TABLE collection_floors (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
