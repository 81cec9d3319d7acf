# tests/tools/sync_checks.bash: checks of the store shared by the sync
# end-to-end tests (sync_concurrency.bats, sync_crash.bats). Load it after
# ../lib and account_helpers (it uses $BS_DATA, $BS_CONFIG, $BIN, sql, areq, jb).

SYNC_LOAD=${BS_ROOT}/tests/tools/sync_load.py

# counter_drift_sql: the recount of every counter, one line per counter that
# drifted (none: empty): a collection's records (not tombstones) and bytes
# (payloads of its records and history), its version (at least the highest
# stored), an account's usage (the sums over its collections, plus its
# backups' bytes)
counter_drift_sql() {
	cat <<'SQL'
WITH rc AS (
	SELECT c.id, c.name, c.version, c.records, c.bytes,
		(SELECT count(*) FROM records r WHERE r.collection_id = c.id AND r.deleted = 0) AS n,
		(SELECT coalesce(sum(length(payload)), 0) FROM records r WHERE r.collection_id = c.id) +
		(SELECT coalesce(sum(length(payload)), 0) FROM history h WHERE h.collection_id = c.id) AS b,
		(SELECT coalesce(max(version), 0) FROM (SELECT version FROM records r WHERE r.collection_id = c.id
		    UNION ALL SELECT version FROM history h WHERE h.collection_id = c.id) AS stored) AS v
	FROM collections c),
ra AS (
	SELECT a.username, a.usage_records, a.usage_bytes,
		(SELECT coalesce(sum(records), 0) FROM collections WHERE account_id = a.id) AS n,
		(SELECT coalesce(sum(bytes), 0) FROM collections WHERE account_id = a.id) +
		(SELECT coalesce(sum(bytes), 0) FROM backups WHERE account_id = a.id) AS b
	FROM accounts a)
SELECT 'collection ' || name || ': records ' || records || ' (recount ' || n || '), bytes ' || bytes ||
	' (recount ' || b || '), version ' || version || ' (highest stored ' || v || ')'
FROM rc WHERE records != n OR bytes != b OR version < v
UNION ALL
SELECT 'account ' || username || ': usage_records ' || usage_records || ' (recount ' || n || '), usage_bytes ' ||
	usage_bytes || ' (recount ' || b || ')'
FROM ra WHERE usage_records != n OR usage_bytes != b;
SQL
}

# assert_no_drift: collections.records/bytes and accounts.usage_* equal a recount
assert_no_drift() {
	local drift
	drift=$(sql "$(counter_drift_sql)") || fail "the recount query failed"
	[ -z "$drift" ] || fail "counter drift: $drift"
}

# assert_integrity: PRAGMA integrity_check and foreign_key_check of the store;
# on PostgreSQL (which enforces the foreign keys itself), pg_amcheck of every
# table and index of the database (its amcheck extension installed first)
assert_integrity() {
	if bs_backend sqlite; then
		assert_equal "$(sql 'PRAGMA integrity_check')" ok
		assert_equal "$(sql 'PRAGMA foreign_key_check')" ""
	else
		run "$PG_BINDIR/pg_amcheck" --install-missing --heapallindexed -h "$BS_PG_DIR" "$(bs_pg_dbname "$BS_DATA")"
		[ "$status" -eq 0 ] || fail "pg_amcheck: $output"
	fi
}

# admin_check: `blindsync-admin check` finds no integrity error and no counter
# drift (exit 0)
admin_check() {
	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" check
	[ "$status" -eq 0 ] || fail "blindsync-admin check exited $status: $output"
	[[ $output == *"check: ok"* ]] || fail "blindsync-admin check: $output"
}

# assert_status_usage USERNAME TOKEN: GET /v1/status reports the account's stored counters
assert_status_usage() {
	local want
	areq GET /v1/status "$2"
	assert_equal "$status" 200
	want=$(sql "SELECT usage_bytes || ' ' || usage_records FROM accounts WHERE username = lower('$1')")
	assert_equal "$(jb '"\(.usage.bytes) \(.usage.records)"')" "$want"
}
