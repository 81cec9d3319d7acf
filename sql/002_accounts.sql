-- 002_accounts: accounts, devices, tokens, invites, the activity log.
-- Secrets are never stored: auth keys only as a salted PBKDF2 hash, tokens
-- and invite codes only as their SHA-256. Times are unix seconds (UTC).

CREATE TABLE accounts (
	id              INTEGER PRIMARY KEY,
	public_id       TEXT NOT NULL UNIQUE,      -- the opaque account_id clients see
	username        TEXT NOT NULL UNIQUE,      -- lowercased
	auth_hash       BLOB NOT NULL,             -- PBKDF2-HMAC-SHA256(auth_key, auth_salt, auth_iterations)
	auth_salt       BLOB NOT NULL,             -- 16 random bytes
	auth_iterations INTEGER NOT NULL,
	kdf             TEXT NOT NULL,             -- the client's kdf object, JSON, returned verbatim
	keyring         BLOB,                      -- opaque, encrypted by the client
	keyring_version INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	disabled        INTEGER NOT NULL DEFAULT 0,
	plan            TEXT NOT NULL DEFAULT 'default',
	quota_bytes     INTEGER,                   -- per-account override; NULL: the plan's
	usage_bytes     INTEGER NOT NULL DEFAULT 0,
	usage_records   INTEGER NOT NULL DEFAULT 0,
	account_version INTEGER NOT NULL DEFAULT 1 -- bumped on every change: the status ETag
);

CREATE TABLE devices (
	id           INTEGER PRIMARY KEY,
	public_id    TEXT NOT NULL UNIQUE,
	account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	type         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL
);
CREATE INDEX devices_account ON devices(account_id);

-- kind 1 = access, 2 = refresh. A rotated refresh token keeps its row with
-- used_at set until it expires, so that its reuse is recognised.
CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY,               -- SHA-256 of the token
	kind       INTEGER NOT NULL,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_device ON tokens(device_id);
CREATE INDEX tokens_account ON tokens(account_id);
CREATE INDEX tokens_expires ON tokens(expires_at);

CREATE TABLE invites (
	id         INTEGER PRIMARY KEY,
	hash       BLOB NOT NULL UNIQUE,           -- SHA-256 of the code
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	used_by    INTEGER REFERENCES accounts(id) ON DELETE SET NULL
);

CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	type       TEXT NOT NULL,
	device     TEXT                            -- the device's public id, if any
);
CREATE INDEX events_account ON events(account_id, id);
