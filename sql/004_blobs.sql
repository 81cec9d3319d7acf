-- 004_blobs: whole-blob backups of accounts, and anonymous slots.
-- `data` is written with incremental blob I/O into a zeroblob of the final
-- size inside the transaction that replaces the previous version, so a
-- reader sees the old bytes or the new ones, never a mix.

CREATE TABLE backups (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	version     INTEGER NOT NULL,
	bytes       INTEGER NOT NULL,
	sha256      BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	data        BLOB NOT NULL,
	UNIQUE (account_id, name)
);

-- slots belong to no account: the id is derived by the client from its
-- passphrase, and the key is kept only as its SHA-256
CREATE TABLE slots (
	rowid_      INTEGER PRIMARY KEY,
	slot_id     TEXT NOT NULL UNIQUE,          -- 64 lowercase hex
	key_hash    BLOB NOT NULL,
	version     INTEGER NOT NULL,
	bytes       INTEGER NOT NULL,
	sha256      BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL,
	accessed_at INTEGER NOT NULL,              -- updated at most once a day
	data        BLOB NOT NULL
);
CREATE INDEX slots_accessed ON slots (accessed_at);
