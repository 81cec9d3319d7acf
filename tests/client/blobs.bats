#!/usr/bin/env bats
# Backups and anonymous slots through the blindsync CLI against the real
# stack (client.md sections 5, 6 and 8): byte-exact round trips from a file
# and from a pipe, 200 MiB both ways with a peak RSS under 16 MiB, If-Match
# conflicts (exit 3, nothing overwritten), a flipped byte, a truncated
# stream and reordered chunks put on the server through the API (exit 5 "cannot decrypt", no output file left), the seed
# flow of a slot pushed with a passphrase and pulled from a home with no
# account, a wrong passphrase, an export and its import into another
# account, and the canary nowhere on the server.
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'slots = { enabled = true, max_bytes = 4 * MiB }' \
		'plans = { default = { backups = 10, backup_bytes = 256 * MiB, bytes = 512 * MiB } }' \
		'limits = { max_body_bytes = 16 * MiB }'
	export CANARY=bLoBcAnArY5u
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo "backup password $CANARY" >"$PWFILE"
	export BSUSER=bk$RANDOM$RANDOM
	for h in a b; do
		[ $h = b ] || BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
			--home "$BATS_FILE_TMPDIR/$h" register "$BSUSER"
		BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
			--home "$BATS_FILE_TMPDIR/$h" login "$BSUSER"
	done
}
teardown_file() { bs_stop; }

cli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@"
}
# the access token a home saved (to play a hostile server's part with curl)
token() { sqlite3 "$BATS_FILE_TMPDIR/$1/blindsync.db" "SELECT CAST(v AS TEXT) FROM settings WHERE k = 'access'"; }
# raw_put HOME NAME FILE: replace a backup's bytes through the API, as a server could
raw_put() {
	local v
	v=$(curl -s -H "Authorization: Bearer $(token "$1")" "$BS_URL/v1/backups" | jq -r ".backups[] | select(.name == \"$2\") | .version")
	run curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $(token "$1")" \
		-H "If-Match: \"$v\"" -H 'Content-Type: application/octet-stream' --data-binary @"$3" \
		"$BS_URL/v1/backups/$2"
	assert_output 200
}

@test "backup put and get, byte-exact, from a file and from a pipe" {
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	cli a backup put main "$BATS_TEST_TMPDIR/big"
	assert_success
	cli b backup get main "$BATS_TEST_TMPDIR/out"
	assert_success
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/out"
	# the server holds the stream's size: 3000000 + 20 + 16 per piece
	cli a --json backup ls
	assert_success
	[ "$(echo "$output" | jq '.[] | select(.name == "main") | .bytes')" -eq $((3000000 + 20 + 46 * 16)) ]
	# a pipe, an empty input, standard output
	run bash -c "printf 'piped %s text' $CANARY | BLINDSYNC_PASSWORD_FILE=$PWFILE $BIN/blindsync --server $BS_URL --home $BATS_FILE_TMPDIR/a backup put piped -"
	assert_success
	cli b backup get piped
	assert_success
	assert_output "piped $CANARY text"
	: >"$BATS_TEST_TMPDIR/empty"
	cli a backup put empty "$BATS_TEST_TMPDIR/empty"
	assert_success
	cli b backup get empty "$BATS_TEST_TMPDIR/empty.out"
	assert_success
	[ -f "$BATS_TEST_TMPDIR/empty.out" ]
	[ ! -s "$BATS_TEST_TMPDIR/empty.out" ]
}

@test "a 200 MiB backup both ways, byte-exact, in bounded memory: peak RSS under 16 MiB" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	head -c $((200 * 1048576)) /dev/urandom >"$BATS_TEST_TMPDIR/huge"
	run /usr/bin/time -f 'rss %M' -o "$BATS_TEST_TMPDIR/rss.put" env BLINDSYNC_PASSWORD_FILE="$PWFILE" \
		"$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/a" backup put huge "$BATS_TEST_TMPDIR/huge"
	assert_success
	run /usr/bin/time -f 'rss %M' -o "$BATS_TEST_TMPDIR/rss.get" env BLINDSYNC_PASSWORD_FILE="$PWFILE" \
		"$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/b" backup get huge "$BATS_TEST_TMPDIR/huge.out"
	assert_success
	cmp "$BATS_TEST_TMPDIR/huge" "$BATS_TEST_TMPDIR/huge.out"
	put=$(awk '/^rss/ {print $2}' "$BATS_TEST_TMPDIR/rss.put")
	get=$(awk '/^rss/ {print $2}' "$BATS_TEST_TMPDIR/rss.get")
	echo "# peak RSS: put $put KiB, get $get KiB" >&3
	# ASan's shadow memory and quarantine add their own; the bound is for the real build
	lim=16384
	nm "$BIN/blindsync" 2>/dev/null | grep -q __asan_init && lim=65536
	[ "$put" -lt "$lim" ]
	[ "$get" -lt "$lim" ]
	rm -f "$BATS_TEST_TMPDIR/huge" "$BATS_TEST_TMPDIR/huge.out"
	cli a backup rm huge
	assert_success
}

@test "a backup changed by another device: exit 3, nothing overwritten; get then put works" {
	echo one >"$BATS_TEST_TMPDIR/one"
	echo two >"$BATS_TEST_TMPDIR/two"
	cli a backup put conf "$BATS_TEST_TMPDIR/one"
	assert_success
	cli b backup get conf "$BATS_TEST_TMPDIR/seen"
	assert_success
	cli b backup put conf "$BATS_TEST_TMPDIR/two"
	assert_success
	cli a backup put conf "$BATS_TEST_TMPDIR/one"
	assert_failure 3
	cli a backup get conf
	assert_output two
	cli a backup put conf "$BATS_TEST_TMPDIR/one"
	assert_success
	cli a backup rm conf
	assert_success
}

@test "a flipped byte, a truncation, reordered chunks: exit 5, no output file" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/plain"
	cli a backup put tam "$BATS_TEST_TMPDIR/plain"
	assert_success
	curl -s -H "Authorization: Bearer $(token a)" "$BS_URL/v1/backups/tam" -o "$BATS_TEST_TMPDIR/stream"
	n=$(stat -c %s "$BATS_TEST_TMPDIR/stream")
	# a flipped byte in the second chunk
	cp "$BATS_TEST_TMPDIR/stream" "$BATS_TEST_TMPDIR/flip"
	printf '\x55' | dd of="$BATS_TEST_TMPDIR/flip" bs=1 seek=70000 conv=notrunc status=none
	# truncated after the first two chunks (no last flag)
	head -c $((20 + 2 * 65552)) "$BATS_TEST_TMPDIR/stream" >"$BATS_TEST_TMPDIR/trunc"
	# chunks 0 and 1 swapped
	{ head -c 20 "$BATS_TEST_TMPDIR/stream"; tail -c +$((20 + 65552 + 1)) "$BATS_TEST_TMPDIR/stream" | head -c 65552
	  tail -c +21 "$BATS_TEST_TMPDIR/stream" | head -c 65552; tail -c +$((20 + 2 * 65552 + 1)) "$BATS_TEST_TMPDIR/stream"; } >"$BATS_TEST_TMPDIR/swap"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/swap")" -eq "$n" ]
	for bad in flip trunc swap; do
		raw_put a tam "$BATS_TEST_TMPDIR/$bad"
		cli b backup get tam "$BATS_TEST_TMPDIR/restored"
		assert_failure 5
		assert_output --partial "cannot decrypt"
		[ ! -e "$BATS_TEST_TMPDIR/restored" ]
		[ -z "$(ls "$BATS_TEST_TMPDIR" | grep restored)" ]
	done
	# the intact stream again reads back
	raw_put a tam "$BATS_TEST_TMPDIR/stream"
	cli b backup get tam "$BATS_TEST_TMPDIR/restored"
	assert_success
	cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/restored"
}

@test "the seed flow: slot push with a passphrase, slot pull from a home with no account" {
	echo "slot passphrase $CANARY" >"$BATS_TEST_TMPDIR/pp"
	printf '{"snapshot": "%s", "n": 1}\n' "$CANARY" >"$BATS_TEST_TMPDIR/snap.json"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s1" \
		--password-file "$BATS_TEST_TMPDIR/pp" slot push "$BATS_TEST_TMPDIR/snap.json" --app audit
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s2" \
		--password-file "$BATS_TEST_TMPDIR/pp" --app audit slot pull "$BATS_TEST_TMPDIR/got.json"
	assert_success
	cmp "$BATS_TEST_TMPDIR/snap.json" "$BATS_TEST_TMPDIR/got.json"
	# another app id is another slot
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s2" \
		--password-file "$BATS_TEST_TMPDIR/pp" slot pull
	assert_failure 2
	assert_output --partial "no slot for this passphrase"
	# a wrong passphrase finds nothing
	echo "another passphrase here" >"$BATS_TEST_TMPDIR/pp2"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s2" \
		--password-file "$BATS_TEST_TMPDIR/pp2" --app audit slot pull
	assert_failure 2
	assert_output --partial "no slot for this passphrase"
	# a short passphrase is refused before anything is sent
	echo "short" >"$BATS_TEST_TMPDIR/pp3"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s2" \
		--password-file "$BATS_TEST_TMPDIR/pp3" slot push "$BATS_TEST_TMPDIR/snap.json"
	assert_failure 1
	assert_output --partial "at least 12"
	# the second push from the first home overwrites (it saw the version)
	echo "v2 $CANARY" >"$BATS_TEST_TMPDIR/snap2"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s1" \
		--password-file "$BATS_TEST_TMPDIR/pp" --app audit slot push "$BATS_TEST_TMPDIR/snap2"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/s2" \
		--password-file "$BATS_TEST_TMPDIR/pp" --app audit slot pull
	assert_success
	assert_output "v2 $CANARY"
}

@test "export: the account's ciphertext in a file, the collections and backups in it" {
	echo "exported $CANARY" | "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/a" put ex r
	echo "exported backup $CANARY" >"$BATS_TEST_TMPDIR/exb"
	cli a backup put exb "$BATS_TEST_TMPDIR/exb"
	assert_success
	cli a export "$BATS_TEST_TMPDIR/export.json"
	assert_success
	run jq -r '.format, (.collections | length > 0), (.backups | length > 0), (.keyring | type), (.keyring_version | type)' \
		"$BATS_TEST_TMPDIR/export.json"
	assert_output "blindsync-export-1
true
true
string
number"
	# nothing in it is plaintext
	run grep -caF "$CANARY" "$BATS_TEST_TMPDIR/export.json"
	assert_output 0
	# and no temporary file is left beside it
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep '\.tmp\.')" ]
}

@test "import: an export moved into a new account stays readable, records and backups" {
	echo "moved $CANARY" | "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/a" put mv r
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/mvb"
	cli a backup put mvb "$BATS_TEST_TMPDIR/mvb"
	assert_success
	cli a export "$BATS_TEST_TMPDIR/export.json"
	assert_success
	# a new account with another password; line 2 is the exported account's
	u2=mv$RANDOM$RANDOM
	printf 'new account pw\n' >"$BATS_TEST_TMPDIR/pw2"
	for h in n1 n2; do
		[ $h = n2 ] || { run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/$h" \
			--password-file "$BATS_TEST_TMPDIR/pw2" register "$u2"; assert_success; }
		run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/$h" \
			--password-file "$BATS_TEST_TMPDIR/pw2" login "$u2"
		assert_success
	done
	printf 'new account pw\nbackup password %s\n' "$CANARY" >"$BATS_TEST_TMPDIR/both"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n1" \
		--password-file "$BATS_TEST_TMPDIR/both" import "$BATS_TEST_TMPDIR/export.json"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n1" get mv r
	assert_success
	assert_output "moved $CANARY"
	# another home of the new account logs in again and reads it all
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n2" \
		--password-file "$BATS_TEST_TMPDIR/pw2" login "$u2"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n2" backup get mvb "$BATS_TEST_TMPDIR/mvb.out"
	assert_success
	cmp "$BATS_TEST_TMPDIR/mvb" "$BATS_TEST_TMPDIR/mvb.out"
	# the export names its keyring's version, so the import opens it at once;
	# an older document without the member still imports (the client searches)
	run jq -e '.keyring_version >= 1' "$BATS_TEST_TMPDIR/export.json"
	assert_success
	jq -c 'del(.keyring_version)' "$BATS_TEST_TMPDIR/export.json" >"$BATS_TEST_TMPDIR/old.json"
	jq -c '.keyring_version = "one"' "$BATS_TEST_TMPDIR/export.json" >"$BATS_TEST_TMPDIR/badkv.json"
	u4=mo$RANDOM$RANDOM
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n4" \
		--password-file "$BATS_TEST_TMPDIR/pw2" register "$u4"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n4" \
		--password-file "$BATS_TEST_TMPDIR/pw2" login "$u4"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n4" \
		--password-file "$BATS_TEST_TMPDIR/both" import "$BATS_TEST_TMPDIR/badkv.json"
	assert_failure 1
	assert_output --partial "keyring_version"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n4" \
		--password-file "$BATS_TEST_TMPDIR/both" import "$BATS_TEST_TMPDIR/old.json"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n4" get mv r
	assert_success
	assert_output "moved $CANARY"
	# a second import is refused: the account is not empty any more
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n1" \
		--password-file "$BATS_TEST_TMPDIR/both" import "$BATS_TEST_TMPDIR/export.json"
	assert_failure 3
	# the wrong old password opens nothing and changes nothing
	u3=mw$RANDOM$RANDOM
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n3" \
		--password-file "$BATS_TEST_TMPDIR/pw2" register "$u3"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n3" \
		--password-file "$BATS_TEST_TMPDIR/pw2" login "$u3"
	assert_success
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/n3" \
		--password-file "$BATS_TEST_TMPDIR/pw2" import "$BATS_TEST_TMPDIR/export.json"
	assert_failure 5
	assert_output --partial "export's keyring"
}

@test "the canary of passwords, passphrases and contents is nowhere on the server" {
	hits=$(grep -rlaF "$CANARY" "$BS_DATA" "$BS_RUN" "$BS_LOG" 2>/dev/null | wc -l)
	assert_equal "$hits" 0
	printf 'x %s y\n' "$CANARY" >"$BATS_TEST_TMPDIR/control"
	grep -qaF "$CANARY" "$BATS_TEST_TMPDIR/control"
}
