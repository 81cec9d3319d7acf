-- 001_init: the server's own metadata.
-- Every migration runs inside one BEGIN IMMEDIATE transaction together with
-- the PRAGMA user_version bump, so it is applied exactly once.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('schema', 'blindsync');
INSERT INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
