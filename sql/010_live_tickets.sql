-- 010_live_tickets: the tickets of blindsync-live (docs/API-live.md). A
-- ticket is single use and lives 30 s; it is bound to one device of one
-- account. Only its SHA-256 is stored. Taking a ticket deletes its row;
-- issuing one deletes the expired ones, so the table stays tiny. A device
-- that goes takes its tickets with it (cascade).
CREATE TABLE live_tickets (
	hash       BLOB PRIMARY KEY,               -- SHA-256 of the ticket
	account_id INTEGER NOT NULL,
	device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX live_tickets_device ON live_tickets(device_id);
CREATE INDEX live_tickets_expires ON live_tickets(expires_at);
