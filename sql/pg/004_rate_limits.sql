-- 004_rate_limits: the login and registration rate limits that every node
-- shares (store_pg_limit.c). One token bucket per (rule, key), named by a
-- keyed hash (HMAC-SHA256 under a key derived from the server secret: no
-- address or username is stored). UNLOGGED: the buckets are not worth a
-- WAL write per login, and losing them in a crash only refills them.
-- units: tokens x window x 1000 at last_ms (the database's clock, ms);
-- full_ms: when the bucket is full again, and its row can go.
CREATE UNLOGGED TABLE rate_buckets (
	id      BYTEA PRIMARY KEY,
	units   BIGINT NOT NULL,
	last_ms BIGINT NOT NULL,
	full_ms BIGINT NOT NULL
);
CREATE INDEX rate_buckets_full ON rate_buckets (full_ms);
