#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# blindsync-admin operations: init, migrate, user show/delete, invite revoke,
# sessions revoke, stats, backup and restore. Handlers run as CGI programs;
# each test has its own data directory and config.
load ../lib

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}'
	DB=$BS_DATA/blindsync.db
}

load admin_helpers

NEW=("init" "migrate" "user show" "user delete" "invite revoke" "sessions revoke" "stats" "backup" "restore")

@test "the new commands have --help and are listed; wrong arguments exit 2 before the store is touched" {
	admin --help
	local list=$output
	for c in "${NEW[@]}"; do
		grep -Eq "^  $c( |\$)" <<<"$list" || fail "$c is not listed"
		admin $c --help
		assert_success
		assert_line --index 0 --regexp "^usage: blindsync-admin $c( |\$)"
	done
	for form in "init x" "migrate x" "user show" "user show a b" "user delete" "user delete a b --yes" \
		"invite revoke" "invite revoke x" "invite revoke 0" "sessions revoke" "stats x" "backup" "backup a b" \
		"restore" "restore a b" "restore --bogus a"; do
		admin $form
		assert_equal "$status" 2
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
	done
	[ ! -e "$DB" ]
}

@test "init creates the store and a 0600 secret, then changes nothing" {
	admin init
	assert_success
	assert_line --index 0 "store $DB: created (schema version $(ls "$BS_ROOT"/sql/[0-9]*.sql | wc -l))"
	assert_line --index 1 "secret $BS_DATA/secret: created (mode 0600)"
	assert_equal "$(stat -c %a "$BS_DATA/secret")" 600
	assert_equal "$(stat -c %s "$BS_DATA/secret")" 32
	local sum=$(sha256sum <"$BS_DATA/secret")
	admin init
	assert_success
	assert_line --index 0 --regexp "^store $DB: exists \(schema version [0-9]+\)$"
	assert_line --index 1 "secret $BS_DATA/secret: exists"
	assert_equal "$(sha256sum <"$BS_DATA/secret")" "$sum"
}

@test "migrate prints the schema version before and after" {
	# an old store: only the first migration
	rm -f "$DB"
	{ cat "$BS_ROOT/sql/001_init.sql"; echo "PRAGMA user_version=1;"; } | sqlite3 "$DB"
	admin migrate
	assert_success
	local v=$(q 'PRAGMA user_version')
	assert_output "migrate: schema version 1 -> $v"
	admin migrate
	assert_success
	assert_output "migrate: schema version $v -> $v (nothing to do)"
	rm -f "$DB" "$DB"-*
	admin migrate
	assert_output "migrate: schema version 0 -> $v"
	q "PRAGMA user_version=999"
	admin migrate
	assert_failure 1
	[[ $stderr == *"newer than this program"* ]]
}

@test "user show: every field; an unknown user exits 1" {
	session alice
	push c "[$(rec a 0 100),$(rec b 0 20)]"
	assert_equal "$cgi_status" 200
	push d "[$(rec x 0 3)]"
	admin user quota alice 1M
	admin user show ALICE
	assert_success
	assert_line "username: alice"
	assert_line "account id: $(q "SELECT public_id FROM accounts WHERE username='alice'")"
	assert_line --regexp '^created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
	assert_line "plan: default"
	assert_line "quota: 1048576 bytes, set for the account"
	assert_line "usage bytes: 123"
	assert_line "usage records: 3"
	assert_line "collections: 2"
	assert_line "backups: 0"
	assert_line "devices: 1"
	assert_line "disabled: no"
	assert_line "keyring version: 0"
	admin user show bob
	assert_failure 1
	[[ $stderr == "blindsync-admin: no such user: bob" ]]
}

@test "user delete: refused without --yes; with it every row of the account is gone" {
	session alice
	push c "[$(rec a 0 100)]"
	new_user bob
	local id=$(q "SELECT id FROM accounts WHERE username='alice'")
	admin user delete alice
	assert_failure 1
	[[ $stderr == *"--yes"* ]]
	assert_equal "$(q "SELECT count(*) FROM accounts WHERE id=$id")" 1
	admin user delete alice --yes
	assert_success
	assert_output --partial "user alice deleted"
	for t in accounts; do assert_equal "$(q "SELECT count(*) FROM $t WHERE id=$id")" 0; done
	for t in devices tokens collections events backups; do
		assert_equal "$(q "SELECT count(*) FROM $t WHERE account_id=$id")" 0
	done
	assert_equal "$(q 'SELECT count(*) FROM records')" 0
	assert_equal "$(q "SELECT count(*) FROM accounts WHERE username='bob'")" 1
	assert_equal "$(q 'PRAGMA foreign_key_check')" ""
	admin user delete alice --yes
	assert_failure 1
}

@test "invite revoke: an unused invite goes and no longer registers; absent or used ones exit 1" {
	new_invite
	local code1=$CODE
	new_invite
	local code2=$CODE
	register alice "$code2"
	assert_equal "$cgi_status" 201
	admin invite revoke 1
	assert_success
	assert_output "invite 1 revoked"
	assert_equal "$(q 'SELECT count(*) FROM invites WHERE id=1')" 0
	register bob "$code1"
	assert_equal "$cgi_status" 403
	admin invite revoke 1
	assert_failure 1
	[[ $stderr == *"no such invite: 1"* ]]
	admin invite revoke 2
	assert_failure 1
	[[ $stderr == *"used already"* ]]
	assert_equal "$(q 'SELECT count(*) FROM invites WHERE id=2')" 1
}

@test "sessions revoke: the account's tokens stop working at once, others keep theirs" {
	session bob
	local bob_token=$TOKEN
	session alice
	handler status GET /v1/status "" "$TOKEN"
	assert_equal "$cgi_status" 200
	admin sessions revoke alice
	assert_success
	assert_output "sessions of alice revoked: 2 tokens, 1 device"
	handler status GET /v1/status "" "$TOKEN"
	assert_equal "$cgi_status" 401
	handler status GET /v1/status "" "$bob_token"
	assert_equal "$cgi_status" 200
	local id=$(q "SELECT id FROM accounts WHERE username='alice'")
	assert_equal "$(q "SELECT count(*) FROM tokens WHERE account_id=$id")" 0
	assert_equal "$(q "SELECT count(*) FROM devices WHERE account_id=$id")" 0
	login alice
	assert_equal "$cgi_status" 200
	admin sessions revoke carol
	assert_failure 1
}

@test "stats: totals and the largest accounts by bytes" {
	session alice
	push c "[$(rec a 0 100),$(rec b 0 20)]"
	push d "[$(rec a 0 1)]"
	session bob
	push c "[$(rec a 0 500)]"
	new_user carol
	admin stats
	assert_success
	assert_line "accounts: 3"
	assert_line "collections: 3"
	assert_line "records: 4"
	assert_line "bytes: 621"
	assert_line "backups: 0"
	assert_line "slots: 0"
	assert_line --regexp '^store size: [1-9][0-9]*$'
	assert_line "top accounts by bytes:"
	assert_line --index 8 --regexp '^  bob +500 bytes +1 records$'
	assert_line --index 9 --regexp '^  alice +121 bytes +3 records$'
	assert_line --index 10 --regexp '^  carol +0 bytes +0 records$'
}

@test "backup: refuses an existing file; a copy taken during writes is sound and has every acknowledged write" {
	session alice
	push c "[$(rec r0 0 10)]"
	touch "$BATS_TEST_TMPDIR/exists"
	admin backup "$BATS_TEST_TMPDIR/exists"
	assert_failure 1
	[[ $stderr == *"exists"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/exists" ]
	# a writer pushes records one by one, logging each acknowledged id
	local acks=$BATS_TEST_TMPDIR/acks stop=$BATS_TEST_TMPDIR/stop
	: >"$acks"
	(
		seq_no=1
		while [ ! -e "$stop" ] && [ "$seq_no" -le 400 ]; do
			rid=r$seq_no
			handler push POST /v1/collections/c/push "{\"records\":[$(rec "$rid" 0 200)]}" "$TOKEN"
			[ "$cgi_status" = 200 ] && echo "$rid" >>"$acks"
			seq_no=$((seq_no + 1))
		done
	) 3>&- &
	local writer=$!
	bs_wait 60 acked 5 "$acks" || fail "the writer never got going"
	local before=$(cat "$acks")
	admin backup "$BATS_TEST_TMPDIR/copy.db"
	local st=$status out=$output
	sleep 0.3
	touch "$stop"
	wait "$writer"
	assert_equal "$st" 0
	[[ $out == *"integrity_check: ok"* ]] || fail "$out"
	assert_equal "$(sqlite3 "$BATS_TEST_TMPDIR/copy.db" 'PRAGMA integrity_check')" ok
	[ ! -e "$BATS_TEST_TMPDIR/copy.db-wal" ]
	for r in r0 $before; do
		[ "$(sqlite3 "$BATS_TEST_TMPDIR/copy.db" "SELECT count(*) FROM records WHERE rid='$r'")" = 1 ] || fail "$r missing: $(sqlite3 "$BATS_TEST_TMPDIR/copy.db" "SELECT group_concat(rid) FROM records") acks: $(cat $acks | tr "\n" " ")"
	done
	[ "$(wc -l <"$acks")" -gt "$(printf '%s\n' $before | wc -l)" ] || fail "the writer made no progress after the backup"
	# the store goes on
	admin check
	assert_success
	# and the copy restores into a new server's store: sound, every write
	# acknowledged before the backup began is there, the counters agree
	local cfg2=$BATS_TEST_TMPDIR/two.lua
	mkdir -p "$BATS_TEST_TMPDIR/two"
	printf 'database = "%s/two/blindsync.db"\nsecret_file = "%s/two/secret"\n' \
		"$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" >"$cfg2"
	BLINDSYNC_CONFIG=$cfg2 run --separate-stderr "$BIN/blindsync-admin" restore "$BATS_TEST_TMPDIR/copy.db"
	assert_success
	assert_equal "$(sqlite3 "$BATS_TEST_TMPDIR/two/blindsync.db" 'PRAGMA integrity_check')" ok
	for r in r0 $before; do
		[ "$(sqlite3 "$BATS_TEST_TMPDIR/two/blindsync.db" "SELECT count(*) FROM records WHERE rid='$r'")" = 1 ] ||
			fail "$r missing after the restore"
	done
	BLINDSYNC_CONFIG=$cfg2 run --separate-stderr "$BIN/blindsync-admin" check
	assert_success
}

@test "restore: refuses non-SQLite, corrupt and foreign files; restores a good backup; refuses a store in use unless --force" {
	session alice
	push c "[$(rec a 0 100)]"
	admin backup "$BATS_TEST_TMPDIR/good.db"
	assert_success
	# after the backup: a new user and a record, which the restore takes away
	new_user bob
	push c "[$(rec b 0 10)]"
	echo "not a database at all, no no no" >"$BATS_TEST_TMPDIR/text"
	admin restore "$BATS_TEST_TMPDIR/text"
	assert_failure 1
	[[ $stderr == *"not an SQLite database"* ]] || fail "$stderr"
	sqlite3 "$BATS_TEST_TMPDIR/foreign.db" "CREATE TABLE t(x)"
	admin restore "$BATS_TEST_TMPDIR/foreign.db"
	assert_failure 1
	[[ $stderr == *"not a blindsync store"* ]] || fail "$stderr"
	cp "$BATS_TEST_TMPDIR/good.db" "$BATS_TEST_TMPDIR/bad.db"
	local pages=$(sqlite3 "$BATS_TEST_TMPDIR/bad.db" 'PRAGMA page_count')
	# scribble over every page but the first
	for p in $(seq 1 $((pages - 1))); do
		printf 'garbage%.0s' $(seq 1 40) | dd of="$BATS_TEST_TMPDIR/bad.db" bs=1 seek=$((p * 4096 + 8)) conv=notrunc status=none
	done
	admin restore "$BATS_TEST_TMPDIR/bad.db"
	assert_failure 1
	[[ $stderr == *"integrity"* ]] || fail "$stderr"
	assert_equal "$(q "SELECT count(*) FROM accounts")" 2
	# a connection held open by another process: refused, then --force
	# (held until the test is done with it, 60 s at most)
	local held=$BATS_TEST_TMPDIR/held release=$BATS_TEST_TMPDIR/release
	sqlite3 "$DB" "SELECT count(*) FROM accounts" \
		".shell touch $held; i=0; while [ ! -e $release ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done" >/dev/null &
	local holder=$!
	bs_wait 60 test -e "$held" || fail "the connection was never opened"
	admin restore "$BATS_TEST_TMPDIR/good.db"
	local st=$status err=$stderr
	admin restore "$BATS_TEST_TMPDIR/good.db" --force
	local st2=$status out2=$output
	touch "$release"
	wait "$holder"
	assert_equal "$st" 1
	[[ $err == *"in use"* ]] || fail "$err"
	assert_equal "$st2" 0
	[[ $out2 == *"while in use (--force)"* ]] || fail "$out2"
	assert_equal "$(q "SELECT group_concat(username) FROM accounts")" alice
	assert_equal "$(q "SELECT group_concat(rid) FROM records")" a
	# and without anyone else: no --force needed
	admin restore "$BATS_TEST_TMPDIR/good.db"
	assert_success
	assert_output --partial "copied into $DB"
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	handler status GET /v1/status "" "$TOKEN"
	assert_equal "$cgi_status" 200
	admin check
	assert_success
}
