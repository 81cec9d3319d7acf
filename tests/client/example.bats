#!/usr/bin/env bats
# docs/CLIENT.md's example program (client/examples/notes.c), compiled
# against build/ the way an application links the library, and run against
# the real stack: two "devices" write the same note, its own merge function
# keeps both texts.
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
