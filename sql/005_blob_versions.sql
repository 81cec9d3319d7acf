-- 005_blob_versions: backup and slot versions come from one counter that
-- never goes back, so a backup deleted and created again never reuses a
-- version (an If-Match from before the delete must not match the new one).
INSERT INTO meta (key, value) VALUES ('blob_version',
	max(coalesce((SELECT max(version) FROM backups), 0), coalesce((SELECT max(version) FROM slots), 0)));
