-- 008_tombstone_index: blindsync-admin purge finds the collections with old
-- tombstones through this partial index instead of reading every record
-- (payloads included) under the write lock. It holds only tombstones, so
-- pushes of live records do not maintain it.
CREATE INDEX records_tombstones ON records (collection_id, modified_at) WHERE deleted = 1;
