-- 009_mfa: two-factor login (TOTP, recovery codes) and the recovery key
-- (issue 15, docs/API-account.md). Nothing here is usable in clear: the TOTP
-- secret is sealed (AES-256-GCM under a key derived from the server secret,
-- the account's public id as associated data), recovery codes are keyed
-- hashes (HMAC-SHA256, key from the server secret), recovery_auth is a
-- salted PBKDF2 hash as auth_key is, and a reset token only its SHA-256.

-- one row per account that ever began TOTP; the code limit lives here too,
-- so that every worker and every node sees the same count
CREATE TABLE account_mfa (
	account_id   INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	totp_secret  BLOB,                       -- sealed; NULL: none
	totp_on      INTEGER NOT NULL DEFAULT 0, -- 0: made but not confirmed yet
	last_step    INTEGER NOT NULL DEFAULT 0, -- the TOTP step used last (no replay)
	fails        INTEGER NOT NULL DEFAULT 0, -- wrong codes in a row
	locked_until INTEGER NOT NULL DEFAULT 0  -- unix seconds; codes refused (429) until then
);

CREATE TABLE recovery_codes (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	hash       BLOB NOT NULL,                -- HMAC-SHA256 of the normalised code
	PRIMARY KEY (account_id, hash)
) WITHOUT ROWID;

CREATE TABLE recovery_keys (
	account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	auth_hash       BLOB NOT NULL,           -- PBKDF2-HMAC-SHA256(recovery_auth, auth_salt, auth_iterations)
	auth_salt       BLOB NOT NULL,
	auth_iterations INTEGER NOT NULL,
	blob            BLOB NOT NULL,           -- the client's sealed keyring, opaque
	created_at      INTEGER NOT NULL,
	reset_hash      BLOB UNIQUE,             -- SHA-256 of the reset token of POST /account/recover
	reset_expires   INTEGER
);
