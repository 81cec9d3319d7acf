#!/usr/bin/env bats
# The blindsync CLI behind a hostile network (tests/client/faulty_proxy.py
# between it and the real stack): an expired access token is refreshed and
# rotated once; 503s with Retry-After are retried; 500s, garbage JSON and
# connections closed mid-pull end in exit 4 after bounded retries with the
# local state consistent, and the next sync completes the work.
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}'
	export FAULTS=$BATS_FILE_TMPDIR/faults
	bs_faulty_proxy "$FAULTS" "$BATS_FILE_TMPDIR"
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo 'faults password' >"$PWFILE"
	export BSUSER=ft$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$PURL" --home "$BATS_FILE_TMPDIR/a" \
		register "$BSUSER"
	for h in a b; do
		BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$PURL" \
			--home "$BATS_FILE_TMPDIR/$h" login "$BSUSER"
	done
}
teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/proxy.pid")" 2>/dev/null || true
	bs_stop
}

cli() {
	local h=$1; shift
	run "$BIN/blindsync" --server "$PURL" --home "$BATS_FILE_TMPDIR/$h" "$@"
}
fault() { echo "$1 $2 $3" >"$FAULTS"; }
state() { sqlite3 "$BATS_FILE_TMPDIR/$1/blindsync.db" "$2"; }

@test "an expired access token is refreshed once, rotated and saved" {
	old=$(state a "SELECT hex(v) FROM settings WHERE k = 'refresh'")
	fault /v1/collections expired 1
	run bash -c "echo data | $BIN/blindsync --server $PURL --home $BATS_FILE_TMPDIR/a put exp r"
	assert_success
	grep -q 'account/refresh -> forwarded' "$FAULTS.log"
	new=$(state a "SELECT hex(v) FROM settings WHERE k = 'refresh'")
	[ "$old" != "$new" ]
	# the rotated tokens work in the next run
	cli a sync
	assert_success
}

@test "503 with Retry-After is retried and then succeeds" {
	fault /pull 503 2
	cli b get exp r
	assert_success
	assert_output data
	[ "$(grep -c 'pull -> 503' "$FAULTS.log")" -ge 2 ]
}

@test "500s on pull: exit 4 after bounded retries; the next sync completes" {
	for i in 1 2 3 4 5; do echo "rec $i" | "$BIN/blindsync" --server "$PURL" --home "$BATS_FILE_TMPDIR/a" put five "r$i"; done
	fault /pull 500 -1
	cli b sync five
	assert_failure 4
	assert_output --partial "after retries"
	[ "$(grep -c 'pull -> 500' "$FAULTS.log")" -le 8 ]
	# nothing half-applied: no page came, so no record and no version moved
	assert_equal "$(state b "SELECT count(*) FROM records r JOIN collections c USING (sname) WHERE c.name = 'five'")" 0
	assert_equal "$(state b "SELECT version FROM collections WHERE name = 'five'")" 0
	fault none none 0
	cli b sync five
	assert_success
	assert_equal "$(state b "SELECT count(*) FROM records r JOIN collections c USING (sname) WHERE c.name = 'five'")" 5
}

@test "garbage JSON and a closed connection mid-pull: exit 4, then the next sync completes" {
	for i in 1 2 3; do echo "g $i" | "$BIN/blindsync" --server "$PURL" --home "$BATS_FILE_TMPDIR/a" put garb "g$i"; done
	fault /pull garbage -1
	cli b sync garb
	assert_failure 4
	fault /pull close -1
	cli b sync garb
	assert_failure 4
	assert_output --partial "cannot reach"
	fault none none 0
	cli b get garb g3
	assert_success
	assert_output "g 3"
}

@test "a push whose answer is lost and that is sent again is the device's own write, not a conflict" {
	echo "lost answer" >"$BATS_TEST_TMPDIR/in"
	fault /push lost 1
	# libcurl sends it again on a fresh connection; the server then holds it
	cli a put lost r "$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$(grep -c 'push -> lost' "$FAULTS.log")" -eq 1 ]
	assert_equal "$(state a "SELECT count(*) FROM queue")" 0
	fault /push lost -1
	echo "lost twice" >"$BATS_TEST_TMPDIR/in2"
	cli a put lost r "$BATS_TEST_TMPDIR/in2"
	assert_failure 4
	# still queued; the next sync finds its own write on the server, no conflict
	fault none none 0
	assert_equal "$(state a "SELECT count(*) FROM queue")" 1
	cli a sync lost
	assert_success
	assert_equal "$(state a "SELECT count(*) FROM queue")" 0
	assert_equal "$(state a "SELECT count(*) FROM conflicts")" 0
	cli b get lost r
	assert_success
	assert_output "lost twice"
}
