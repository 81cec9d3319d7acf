#!/usr/bin/env bats
# docs/CLIENT.md's example program (client/examples/notes.c), compiled
# against build/ the way an application links the library, and run against
# the real stack: two "devices" write the same note, its own merge function
# keeps both texts. The bench's seeder (tests/bench/client_tool.c) queues
# records with bs_put_many, and another home reads every one.
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}'
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo 'example password' >"$PWFILE"
	export BSUSER=ex$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/reg" register "$BSUSER"
	export NOTES=$BATS_FILE_TMPDIR/notes
	# the sanitizer build's archives need the sanitizer runtimes
	san=
	nm "$BIN/libbscrypto.a" 2>/dev/null | grep -q __asan_init && san=-fsanitize=address,undefined
	cc -std=c11 -D_GNU_SOURCE $san -I"$BS_ROOT/client/lib" "$BS_ROOT/client/examples/notes.c" -o "$NOTES" \
		"$BIN/libblindsync-client.a" "$BIN/libbscrypto.a" \
		$(pkg-config --libs libcrypto json-c libsodium libcurl sqlite3) -lunistring -lm
	export TOOL=$BATS_FILE_TMPDIR/client_tool
	cc -std=c11 -D_GNU_SOURCE $san -I"$BS_ROOT/client/lib" -I"$BS_ROOT/fcgi/crypto" \
		"$BS_ROOT/tests/bench/client_tool.c" -o "$TOOL" \
		"$BIN/libblindsync-client.a" "$BIN/libbscrypto.a" \
		$(pkg-config --libs libcrypto json-c libsodium libcurl sqlite3) -lunistring -lm
}
teardown_file() { bs_stop; }

@test "the example program logs in, writes, syncs and merges with its own function" {
	run "$NOTES" "$BS_URL" "$BATS_FILE_TMPDIR/a" "$BSUSER" "$PWFILE" "first from a"
	assert_success
	assert_line "first from a"
	# b has never synced: its write conflicts, and its merge keeps both
	run "$NOTES" "$BS_URL" "$BATS_FILE_TMPDIR/b" "$BSUSER" "$PWFILE" "then b"
	assert_success
	assert_line "first from a"
	assert_line "then b"
	assert_output --partial "conflicts 1"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/a" get notes today
	assert_success
	assert_output "first from a
then b"
}

@test "bs_put_many queues many records in one transaction; another home reads every one" {
	run "$TOOL" seed "$BS_URL" "$BATS_FILE_TMPDIR/seed" "$BSUSER" "$PWFILE" 300
	assert_success
	assert_output "seeded: 300 pushed"
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/c" login "$BSUSER"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/c" sync
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/c" ls bench
	assert_success
	assert_equal "${#lines[@]}" 300
	# record 299: byte k is 'a' + (299 + k) % 26
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/c" get bench r000299
	assert_success
	want=$(python3 -c 'import sys; sys.stdout.write("".join(chr(97 + (299 + k) % 26) for k in range(1024)))')
	assert_equal "$output" "$want"
}
