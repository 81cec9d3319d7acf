-- 003_live_tickets: the tickets of blindsync-live, as sql/010_live_tickets.sql
-- makes them for SQLite (docs/API-live.md): single use, 30 s, bound to one
-- device of one account; only the ticket's SHA-256 is stored; a device that
-- goes takes its tickets with it.
CREATE TABLE live_tickets (
	hash       BYTEA PRIMARY KEY,
	account_id BIGINT NOT NULL,
	device_id  BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	expires_at BIGINT NOT NULL
);
CREATE INDEX live_tickets_device ON live_tickets (device_id);
CREATE INDEX live_tickets_expires ON live_tickets (expires_at);
