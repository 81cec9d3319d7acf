#!/usr/bin/env bats
# An interrupted sync loses nothing: 5,000 records of 1 KiB written by one
# home; another home's `blindsync sync` is killed with SIGKILL at 20 random
# points; the next sync ends with every record present and byte-exact, none
# duplicated, none lost (tests/client/manyrecs.c writes and verifies them).
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'plans = { default = { bytes = 256 * MiB } }'
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo 'crash password' >"$PWFILE"
	export BSUSER=cr$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/reg" register "$BSUSER"
	export MANY=$BATS_FILE_TMPDIR/manyrecs
	san=
	nm "$BIN/libbscrypto.a" 2>/dev/null | grep -q __asan_init && san=-fsanitize=address,undefined
	cc -std=c11 -D_GNU_SOURCE $san -I"$BS_ROOT/client/lib" "$BS_ROOT/tests/client/manyrecs.c" -o "$MANY" \
		"$BIN/libblindsync-client.a" "$BIN/libbscrypto.a" \
		$(pkg-config --libs libcrypto json-c libsodium libcurl sqlite3) -lunistring -lm
}
teardown_file() { bs_stop; }

@test "sync killed -9 at 20 random points, then one more: 5,000 records, byte-exact" {
	N=5000
	run "$MANY" "$BS_URL" "$BATS_FILE_TMPDIR/a" "$BSUSER" "$PWFILE" put $N
	assert_success
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/b" login "$BSUSER"
	assert_success
	seen=
	for i in $(seq 1 20); do
		"$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/b" sync >/dev/null 2>&1 &
		pid=$!
		# 0 to 80 ms: a whole sync of 5,000 takes several times that here, so
		# the kills land before, between and inside the pulled pages
		sleep "0.$(printf '%03d' $((RANDOM % 80)))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		seen="$seen $(sqlite3 "$BATS_FILE_TMPDIR/b/blindsync.db" 'SELECT count(*) FROM records' 2>/dev/null)"
	done
	echo "# records after each kill:$seen" >&3
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/b" sync
	assert_success
	run "$MANY" "$BS_URL" "$BATS_FILE_TMPDIR/b" "$BSUSER" "$PWFILE" verify $N
	assert_success
	assert_output "verified $N"
	# one row per record: no duplicate, nothing else
	assert_equal "$(sqlite3 "$BATS_FILE_TMPDIR/b/blindsync.db" 'SELECT count(*), count(DISTINCT rid) FROM records')" "$N|$N"
}
