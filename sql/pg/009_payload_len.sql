-- 009_payload_len: an index of each collection's records by payload size,
-- so that a pull's first batch finds the collection's largest payload with
-- one index lookup and takes as many rows as fit PG_WALK_BYTES at that size
-- (store_pg_sync.c, pg_record_pull). Before it, every batch computed a
-- running sum of the payloads (a window function): 10% of the PostgreSQL
-- server's CPU under the mixed benchmark. Building it reads the records
-- table once and holds off writes to it meanwhile (seconds for a million
-- records). Harmless if run again.
CREATE INDEX IF NOT EXISTS records_payload_len ON records (collection_id, octet_length(payload));
