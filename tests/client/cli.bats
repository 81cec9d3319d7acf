#!/usr/bin/env bats
# The blindsync CLI (client.md section 8) against the real stack through
# nginx: register and login, a round trip between two homes of one
# account, watch, a conflict reported and not lost, a wrong password (exit 5,
# invalid_credentials), a kdf below the floor refused before any login
# request (exit 5 naming the reason), a tampered record and keyring, password change,
# an unreachable server (exit 4), and the canary scan: a planted string in
# the password, the names and the data never reaches the server's disk or
# logs, while the same search finds it in a plaintext file.
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'tokens = { access_ttl = 120, refresh_ttl = 3600 }'
	export CANARY=cAnArY7q1zX
	export PWFILE=$BATS_FILE_TMPDIR/pw
	printf 'pw-%s-secret\n' "$CANARY" >"$PWFILE"
	export BSUSER=u$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/h0" \
		register "$BSUSER"
}
teardown_file() { bs_stop; }

# cli HOME ARGS...: the CLI with that home (under the file's tmpdir) and the password file
cli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@"
}
# cli_in HOME INPUT ARGS...: the same with INPUT on stdin
cli_in() {
	local h=$1 in=$2; shift 2
	run bash -c 'printf "%s" "$1" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$2" "${@:3}"' _ "$in" "$h" "$@"
}
login_home() { cli "$1" login "$BSUSER" --device "$1"; assert_success; }

@test "register then login; whoami; the state file is 0600 in a 0700 home" {
	login_home a
	assert_output --partial "logged in as $BSUSER"
	# the login answer's keyring_version is enough: no second request for the keyring
	run grep -c 'GET /v1/account/keyring' "$BS_RUN/access.log"
	assert_output 0
	cli a whoami
	assert_success
	assert_output --partial "$BSUSER"
	assert_equal "$(stat -c %a "$BATS_FILE_TMPDIR/a")" 700
	assert_equal "$(stat -c %a "$BATS_FILE_TMPDIR/a/blindsync.db")" 600
	cli a devices
	assert_success
	assert_output --partial "(this device)"
}

@test "put in one home, get in another home of the same account" {
	login_home a
	login_home b
	cli_in a "hello $CANARY data" put "notes-$CANARY" "rec-$CANARY"
	assert_success
	cli b get "notes-$CANARY" "rec-$CANARY"
	assert_success
	assert_output "hello $CANARY data"
	cli b ls
	assert_success
	assert_output --partial "notes-$CANARY"
	cli b ls "notes-$CANARY"
	assert_success
	assert_output --partial "rec-$CANARY"
	# a file round trip, written through a temporary file
	head -c 70000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	cli a put files blob "$BATS_TEST_TMPDIR/blob"
	assert_success
	cli b get files blob "$BATS_TEST_TMPDIR/out"
	assert_success
	cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/out"
	# a deletion travels too
	cli a rm files blob
	assert_success
	cli b get files blob
	assert_failure 2
	assert_output --partial not_found
}

@test "a sync when nothing changed is one status request answered 304; a change is pulled" {
	login_home n
	cli n sync
	assert_success
	cli n sync
	assert_success
	log=$BS_RUN/access.log
	before=$(wc -l <"$log")
	cli n sync
	assert_success
	run tail -n +"$((before + 1))" "$log"
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '"GET /v1/status HTTP/[0-9.]+" 304 '
	# a change elsewhere: the status answers 200 and the moved collection is pulled
	login_home a
	cli_in a "moved" put "nc-$CANARY" r1
	assert_success
	cli n --json sync
	assert_success
	assert_output --regexp '"pulled": ?1[,} ]'
	cli n get "nc-$CANARY" r1
	assert_success
	assert_output "moved"
	# after this device's own write, one sync learns the new tag and the next is a 304 again
	cli_in n "from n" put "nc-$CANARY" r2
	assert_success
	cli n sync
	assert_success
	before=$(wc -l <"$log")
	cli n sync
	assert_success
	run tail -n +"$((before + 1))" "$log"
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '"GET /v1/status HTTP/[0-9.]+" 304 '
}

@test "sync progress: a line on a terminal's standard error, nothing when not a terminal" {
	cli_in a "p" put "prog-$CANARY" r1
	assert_success
	login_home p
	cli p sync
	assert_success
	assert_output ""
	login_home q
	run script -qec "env BLINDSYNC_PASSWORD_FILE='$PWFILE' '$BIN/blindsync' --server '$BS_URL' \
		--home '$BATS_FILE_TMPDIR/q' sync" /dev/null
	assert_success
	assert_output --regexp 'sync: 0 pushed, [1-9][0-9]* pulled'
}

@test "conflicting edits: exit 3, nothing overwritten, the loser reported and kept" {
	login_home a
	login_home b
	cli_in a "v1" put conf r
	assert_success
	cli b sync
	assert_success
	cli_in b "from b" put conf r
	assert_success
	# a still believes v1 is the latest
	cli_in a "from a" put conf r
	assert_failure 3
	assert_output --partial "changed on the server"
	cli b get conf r
	assert_output "from b"
	# a's sync hands it to the default merge: the server's kept, a's reported
	cli a sync conf
	assert_failure 3
	assert_output --partial "conflict"
	cli a get conf r
	assert_output "from b"
	cli a conflicts
	assert_success
	assert_output --partial "from a"
	cli a --json history conf r
	assert_success
	[ "$(echo "$output" | jq length)" -ge 2 ]
}

@test "three homes edit offline, then sync in turns: they converge, every write kept or reported" {
	for h in x y z; do login_home $h; done
	cli_in x "shared v1" put conv s1
	assert_success
	for h in y z; do cli $h sync conv; assert_success; done
	# offline: the server unreachable, each change stays queued (exit 4)
	off() { local h=$1 in=$2; shift 2; run bash -c 'printf "%s" "$1" | "$BIN/blindsync" --server http://127.0.0.1:9 \
		--home "$BATS_FILE_TMPDIR/$2" "${@:3}"' _ "$in" "$h" "$@"; }
	off x "x edit" put conv s1; assert_failure 4
	off x "x only" put conv x1; assert_failure 4
	off y "y edit" put conv s1; assert_failure 4
	off y "y only" put conv y1; assert_failure 4
	run "$BIN/blindsync" --server http://127.0.0.1:9 --home "$BATS_FILE_TMPDIR/z" rm conv s1
	assert_failure 4
	off z "z only" put conv z1; assert_failure 4
	# in turns, twice
	for h in x y z x y z; do
		cli $h sync conv
		[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	done
	# the same records everywhere
	for h in x y z; do
		cli $h --json ls conv
		assert_success
		echo "$output" | jq -c '[.[] | {name, version}]' >"$BATS_TEST_TMPDIR/ls.$h"
	done
	cmp "$BATS_TEST_TMPDIR/ls.x" "$BATS_TEST_TMPDIR/ls.y"
	cmp "$BATS_TEST_TMPDIR/ls.x" "$BATS_TEST_TMPDIR/ls.z"
	assert_equal "$(jq -r '[.[].name] | join(" ")' "$BATS_TEST_TMPDIR/ls.x")" "s1 x1 y1 z1"
	for h in x y z; do cli $h get conv s1; assert_output "x edit"; done
	# the losers are reported, not lost
	cli y conflicts
	assert_output --partial "y edit"
	cli z --json conflicts
	assert_equal "$(echo "$output" | jq -r '.[] | select(.id == "s1") | .local')" null
	cli x conflicts
	assert_output ""
}

@test "watch syncs at once, then again as soon as another device writes" {
	login_home w
	login_home a
	env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/w" watch >"$BATS_TEST_TMPDIR/watch.out" 2>&1 &
	wpid=$!
	bs_wait 60 grep -q synced "$BATS_TEST_TMPDIR/watch.out" || fail "watch did not sync: $(cat "$BATS_TEST_TMPDIR/watch.out")"
	cli_in a "seen by watch" put watched r
	assert_success
	# the socket (or the long poll) wakes when the write lands; bounded
	# generously. The put may be two changes (the collection, then the
	# record): the first can wake a sync that pulls nothing yet
	bs_wait 60 grep -q '1 pulled' "$BATS_TEST_TMPDIR/watch.out" || true
	kill "$wpid"
	wait "$wpid" || true
	[ "$(grep -c synced "$BATS_TEST_TMPDIR/watch.out")" -ge 2 ]
	grep -q '1 pulled' "$BATS_TEST_TMPDIR/watch.out"
	cli w get watched r
	assert_output "seen by watch"
}

@test "a wrong password exits 5 with invalid_credentials" {
	printf 'not the password\n' >"$BATS_TEST_TMPDIR/wrong"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/w" \
		--password-file "$BATS_TEST_TMPDIR/wrong" login "$BSUSER"
	assert_failure 5
	assert_output --partial invalid_credentials
}

@test "a kdf below the floor is refused before any login request: exit 5, reason named" {
	u=weak$RANDOM$RANDOM
	salt=$(head -c 16 /dev/urandom | base64 -w0)
	key=$(head -c 32 /dev/urandom | base64 -w0)
	run curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data "{\"username\":\"$u\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"argon2id\",\"suite\":\"bs1\",\"m\":1024,\"t\":1,\"p\":1,\"salt\":\"$salt\"}}" \
		"$BS_URL/v1/account/register"
	assert_output 201
	log=$BS_RUN/access.log
	[ -f "$log" ]
	pre=$(grep -c 'account/prelogin' "$log")
	before=$(grep -c 'account/login' "$log")
	cli weak login "$u"
	assert_failure 5
	assert_output --partial "kdf"
	assert_output --partial "m is outside"
	# the prelogin was asked (the log sees requests), the login never sent
	[ "$(grep -c 'account/prelogin' "$log")" -gt "$pre" ]
	assert_equal "$(grep -c 'account/login' "$log")" "$before"
}

@test "a tampered record on the server: exit 5 cannot decrypt, the local copy unchanged" {
	login_home t
	cli_in t "tamper me" put tam r
	assert_success
	# flip one byte of the stored ciphertext in the server's store
	db=$BS_DATA/blindsync.db
	sqlite3 "$db" "UPDATE records SET payload = CAST(substr(payload, 1, 40) AS BLOB) || X'00' || substr(payload, 42) WHERE length(payload) > 60 AND rowid = (SELECT max(rowid) FROM records)" ||
		skip "the store's schema differs"
	login_home t2
	cli t2 get tam r
	assert_failure 5
	assert_output --partial "cannot decrypt"
}

@test "a tampered keyring on the server: login exits 5 cannot decrypt and keeps no session" {
	u=kt$RANDOM$RANDOM
	cli k1 register "$u"
	assert_success
	# flip one byte in the middle of the sealed keyring (past the header and nonce)
	db=$BS_DATA/blindsync.db
	hex=$(sqlite3 "$db" "SELECT hex(keyring) FROM accounts WHERE username = '$u'")
	[ ${#hex} -gt 100 ]
	c=${hex:70:1}
	[ "$c" = 0 ] && c=1 || c=0
	sqlite3 "$db" "UPDATE accounts SET keyring = X'${hex:0:70}$c${hex:71}' WHERE username = '$u'"
	[ "$(sqlite3 "$db" "SELECT hex(keyring) FROM accounts WHERE username = '$u'")" != "$hex" ]
	cli k1 login "$u"
	assert_failure 5
	assert_output --partial "cannot decrypt"
	# nothing of the failed login was kept: no session in that home
	cli k1 whoami
	assert_failure 1
}

@test "an unreachable server: exit 4 after retries" {
	login_home a
	run "$BIN/blindsync" --server http://127.0.0.1:9 --home "$BATS_FILE_TMPDIR/a" sync
	assert_failure 4
	assert_output --partial "cannot reach"
}

@test "password change: the other device logs in again and reads every old record" {
	u=pc$RANDOM$RANDOM
	cli p1 register "$u"
	assert_success
	cli p1 login "$u"
	assert_success
	cli p2 login "$u"
	assert_success
	cli_in p1 "old record" put pc r
	assert_success
	printf 'pw-%s-secret\nnew-%s-pass\n' "$CANARY" "$CANARY" >"$BATS_TEST_TMPDIR/two"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/p1" \
		--password-file "$BATS_TEST_TMPDIR/two" passwd
	assert_success
	cli p2 sync
	assert_failure 2
	printf 'new-%s-pass\n' "$CANARY" >"$BATS_TEST_TMPDIR/new"
	run "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/p2" \
		--password-file "$BATS_TEST_TMPDIR/new" login "$u"
	assert_success
	cli p2 get pc r
	assert_success
	assert_output "old record"
	cli p2 logout
	assert_success
	cli p2 whoami
	assert_failure 1
}

@test "the canary is nowhere on the server's disk or in its logs; the search can find it" {
	# the tests above planted it in the password, collection and record names and data
	sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA wal_checkpoint(PASSIVE)' >/dev/null 2>&1 || true
	hits=$(grep -rlaF "$CANARY" "$BS_DATA" "$BS_RUN" "$BS_LOG" "$BATS_FILE_TMPDIR/run.log" 2>/dev/null | wc -l)
	assert_equal "$hits" 0
	# positive control: the same search over a plaintext file finds it
	mkdir -p "$BATS_TEST_TMPDIR/control"
	printf 'some text %s more\n' "$CANARY" >"$BATS_TEST_TMPDIR/control/plain"
	hits=$(grep -rlaF "$CANARY" "$BATS_TEST_TMPDIR/control" | wc -l)
	assert_equal "$hits" 1
	# and the client's own state does hold it (it is the plaintext side)
	grep -qaF "$CANARY" "$BATS_FILE_TMPDIR"/b/blindsync.db*
}
