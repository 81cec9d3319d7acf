-- 002_mfa: two-factor login and the recovery key, as sql/009_mfa.sql makes
-- them for SQLite (the comments there say what each column holds).
CREATE TABLE account_mfa (
	account_id   BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	totp_secret  BYTEA,
	totp_on      INTEGER NOT NULL DEFAULT 0,
	last_step    BIGINT NOT NULL DEFAULT 0,
	fails        BIGINT NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
	account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	hash       BYTEA NOT NULL,
	PRIMARY KEY (account_id, hash)
);

CREATE TABLE recovery_keys (
	account_id      BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	auth_hash       BYTEA NOT NULL,
	auth_salt       BYTEA NOT NULL,
	auth_iterations BIGINT NOT NULL,
	blob            BYTEA NOT NULL,
	created_at      BIGINT NOT NULL,
	reset_hash      BYTEA UNIQUE,
	reset_expires   BIGINT
);
ALTER TABLE recovery_keys ALTER COLUMN blob SET STORAGE EXTERNAL;
