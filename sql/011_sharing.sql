-- 011_sharing: sharing a collection between accounts (docs/API-sharing.md).
-- The server keeps only public keys, who is a member with which role, and
-- opaque sealed grants: a collection key sealed by a client to a member's
-- public key and signed by the giver. It never opens one.
--
-- A collection's owner is its account_id, never a row of members. Roles:
-- 1 read, 2 write, 3 admin. members_version is the membership version (the
-- ETag of the members listing, the If-Match of a rotation); key_version the
-- collection key's version, 1 until rotated.
-- Deleting an account or a collection takes its keys, memberships,
-- invitations and grants with it (cascade).
ALTER TABLE collections ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE collections ADD COLUMN members_version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE account_keys (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	x25519     BLOB NOT NULL,                  -- 32 bytes
	ed25519    BLOB NOT NULL,                  -- 32 bytes
	updated_at INTEGER NOT NULL
);

CREATE TABLE members (
	collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role          INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
	joined_at     INTEGER NOT NULL,
	PRIMARY KEY (collection_id, account_id)
) WITHOUT ROWID;
-- the collections shared with an account (listings, status, deletion)
CREATE INDEX members_account ON members(account_id, collection_id);

CREATE TABLE invitations (
	id            INTEGER PRIMARY KEY,
	public_id     TEXT NOT NULL UNIQUE,         -- 22 base64url characters, random
	collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	from_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	to_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role          INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
	key_version   INTEGER NOT NULL,
	sealed        BLOB NOT NULL,                -- opaque to the server
	signature     BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	UNIQUE (collection_id, to_id)
);
CREATE INDEX invitations_to ON invitations(to_id, id);
CREATE INDEX invitations_from ON invitations(from_id, expires_at);

-- a member's grants, one per key version; the giver's name and public keys
-- are kept as they were, so a grant stays verifiable if the giver goes
CREATE TABLE grants (
	collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	key_version   INTEGER NOT NULL,
	from_name     TEXT NOT NULL,
	from_x25519   BLOB NOT NULL,
	from_ed25519  BLOB NOT NULL,
	sealed        BLOB NOT NULL,
	signature     BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	PRIMARY KEY (collection_id, account_id, key_version)
) WITHOUT ROWID;
CREATE INDEX grants_account ON grants(account_id);
