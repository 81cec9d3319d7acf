#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# blindsync-admin on a store on PostgreSQL (store_pg_admin.c), the handlers
# run as CGI programs against it: check (no integrity check there, the
# recount, a drifted counter found and repaired), purge (expired tokens, old
# tombstones with their history, the counters giving the bytes back), the
# account, invite and session commands, stats, user mfa-off, and backup and restore
# refusing with a pointer to pg_dump. On the cluster of $BS_PG_DIR, else on
# one of the file's own (scripts/pg.sh); skipped when neither can be had.
load ../lib

setup_file() {
	if [ -z "${BS_PG_DIR:-}" ]; then
		[ -x "$BS_ROOT/scripts/pg.sh" ] || return 0
		OWN_PG=$(mktemp -d /tmp/bs-pg.XXXXXX) && "$BS_ROOT/scripts/pg.sh" start "$OWN_PG" >/dev/null || return 0
		export OWN_PG BS_PG_DIR=$OWN_PG
	fi
	export PG_OK=1
}
teardown_file() { [ -z "${OWN_PG:-}" ] || "$BS_ROOT/scripts/pg.sh" destroy "$OWN_PG"; }

setup() {
	[ -n "${PG_OK:-}" ] || skip "no PostgreSQL cluster (scripts/pg.sh)"
	export BS_DATA=$BATS_TEST_TMPDIR/data BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	mkdir -p "$BS_DATA"
	DBNAME=bs_adm_$$_$BATS_TEST_NUMBER
	URI=$("$BS_ROOT/scripts/pg.sh" createdb "$BS_PG_DIR" "$DBNAME")
	printf '%s\n' "database = \"$URI\"" "secret_file = \"$BS_DATA/secret\"" 'password_hash = { iterations = 1000 }' \
		'registration = "invite"' 'rate_limits = {}' >"$BLINDSYNC_CONFIG"
}
teardown() { [ -z "${DBNAME:-}" ] || "$BS_ROOT/scripts/pg.sh" dropdb "$BS_PG_DIR" "$DBNAME"; }

load admin_helpers

# q SQL: one value from the store, on PostgreSQL
q() { "$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" "$DBNAME" -tA -c "$1"; }

@test "check on PostgreSQL: no integrity check, the recount; a drifted counter is found, then repaired" {
	session alice
	push notes "[$(rec a 0 10),$(rec b 0 20)]"
	assert_equal "$cgi_status" 200
	admin check
	assert_success
	assert_line "integrity_check: not run on PostgreSQL (it checks its own pages; see pg_amcheck(1))"
	assert_line "check: ok (1 account, 1 collection)"
	q "UPDATE collections SET bytes = bytes + 5, records = 7"
	q "UPDATE accounts SET usage_records = 9"
	admin check
	assert_failure
	assert_line "differs: account alice, collection notes: bytes stored 35, actual 30"
	assert_line "differs: account alice, collection notes: records stored 7, actual 2"
	assert_line "differs: account alice: usage_records stored 9, actual 2"
	admin check --repair
	assert_success
	assert_line "check: repaired 3 counters of 1 account"
	assert_equal "$(q "SELECT bytes || ' ' || records FROM collections")" "30 2"
	admin check
	assert_success
	assert_line "check: ok (1 account, 1 collection)"
	# the repaired account's version moved: its status ETag changes
	[ "$(q "SELECT account_version FROM accounts")" -gt 1 ]
}

@test "purge on PostgreSQL: expired tokens, old tombstones with their history; the counters give the bytes back" {
	session alice
	push notes "[$(rec a 0 100),$(rec b 0 10)]"
	push notes "[$(rec a 1 200)]"
	push notes "[$(rec_del a 3)]"
	assert_equal "$cgi_status" 200
	local before
	before=$(q "SELECT usage_bytes FROM accounts")
	q "UPDATE records SET modified_at = 1000 WHERE deleted = 1"
	q "UPDATE tokens SET expires_at = 5 WHERE kind = 2"
	admin purge
	assert_success
	assert_output --regexp "^purge: 1 expired token, 0 expired invites, 0 expired invitations, 1 tombstone \(collections: 1\), 0 old events, 0 expired slots$"
	assert_equal "$(q "SELECT count(*) FROM records WHERE deleted = 1")" 0
	assert_equal "$(q "SELECT count(*) FROM history")" 0
	[ "$(q "SELECT usage_bytes FROM accounts")" -lt "$before" ]
	[ "$(q "SELECT purged_version FROM collections")" -ge 4 ]
	admin check
	assert_success
	# a pull from before the purge is told to start again
	pull notes 1
	assert_equal "$cgi_status" 410
	pull notes 0
	assert_equal "$cgi_status" 200
}

@test "user, invite, sessions and stats commands on PostgreSQL" {
	session alice
	push notes "[$(rec a 0 10)]"
	admin user list
	assert_success
	assert_line --regexp "^alice +"
	admin user show alice
	assert_success
	assert_line "collections: 1"
	admin stats
	assert_success
	assert_line "accounts: 1"
	assert_line "collections: 1"
	assert_line --regexp "^store size: [1-9][0-9]*$"
	new_invite
	admin invite list
	assert_success
	local id
	id=$(q "SELECT max(id) FROM invites WHERE used_at IS NULL")
	admin invite revoke "$id"
	assert_success
	used=$(q "SELECT min(id) FROM invites")
	admin invite revoke "$used"
	assert_failure
	[[ $stderr == *"was used already"* ]] || fail "$stderr"
	admin sessions revoke alice
	assert_success
	assert_output "sessions of alice revoked: 2 tokens, 1 device"
	pull notes 0
	assert_equal "$cgi_status" 401
	admin user delete alice --yes
	assert_success
	assert_equal "$(q "SELECT count(*) FROM records")" 0
}

@test "user mfa-off on PostgreSQL: two-factor login off without a code, logged in the activity log" {
	mfa_off_check
}

@test "backup and restore on PostgreSQL: SQLite's only, they point to pg_dump" {
	admin backup "$BATS_TEST_TMPDIR/copy.db"
	assert_failure
	[[ $stderr == *"PostgreSQL"*"pg_dump"* ]] || fail "$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/copy.db" ]
	admin restore "$BATS_TEST_TMPDIR/copy.db"
	assert_failure
	[[ $stderr == *"PostgreSQL"*"pg_dump"* ]] || fail "$stderr"
}
