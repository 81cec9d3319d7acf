-- 003_sync: collections, records and their history.
-- Versions: each collection hands out the next value of its counter to every
-- record write (create, update, delete), so versions within a collection are
-- unique and increasing, and `version` is the largest one given.
-- Counters (records, bytes) are kept by the same transaction as the data.

CREATE TABLE collections (
	id             INTEGER PRIMARY KEY,
	account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	version        INTEGER NOT NULL DEFAULT 0,
	records        INTEGER NOT NULL DEFAULT 0,  -- current records that are not tombstones
	bytes          INTEGER NOT NULL DEFAULT 0,  -- payload bytes of current records + kept history
	meta           BLOB,                        -- encrypted by the client
	created_at     INTEGER NOT NULL,
	modified_at    INTEGER NOT NULL,
	purged_version INTEGER NOT NULL DEFAULT 0,  -- tombstones up to this version were purged
	UNIQUE (account_id, name)
);

CREATE TABLE records (
	id            INTEGER PRIMARY KEY,
	collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	rid           TEXT NOT NULL,
	version       INTEGER NOT NULL,
	modified_at   INTEGER NOT NULL,
	deleted       INTEGER NOT NULL DEFAULT 0,
	payload       BLOB,                         -- NULL for a tombstone
	UNIQUE (collection_id, rid)
);
-- pull: records of a collection in version order
CREATE UNIQUE INDEX records_version ON records (collection_id, version);

-- older versions of a record, up to the plan's history_depth
CREATE TABLE history (
	id            INTEGER PRIMARY KEY,
	collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	rid           TEXT NOT NULL,
	version       INTEGER NOT NULL,
	modified_at   INTEGER NOT NULL,
	deleted       INTEGER NOT NULL,
	payload       BLOB,
	UNIQUE (collection_id, rid, version)
);
