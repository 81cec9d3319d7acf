#!/usr/bin/env bats
# Sharing with the blindsync CLI (client.md section 9, docs/API-sharing.md)
# against the real stack through nginx, with three accounts: keys made at
# registration and pinned on first use; invite -> accept -> the member reads
# what the owner wrote and the owner what the member wrote; a read member's
# push refused (403, one line, exit 2); unshare: the removed member's next
# command is not_found, the owner rotated (new envelopes carry kv 2 on the
# server), the remaining member reads old and new records; a role change
# (the member's refused push set aside), a declined invitation, a rotation
# by hand followed by the member (kv 3); an admin member's invitation
# (--owner) opened by the invitee, history of a shared record; an admin's
# unshare rotating (a random key kept in its keyring: the removed member has
# no key of what comes next, the owner, the other members and the admin's
# other home read it); a put in a fresh home after a leave rotating first;
# an invitation made while a
# rotation is on its way (412, read again, retried, the invitee's grant
# replaced by one it opens); an account from before sharing (keys made and
# the keyring rewritten at its first share; another device finds them); a
# tampered grant,
# a grant sealed to another recipient or for another collection, a changed
# public key of the inviter: each one clear error; and the canary scan with
# sharing: no plaintext, collection key or identity secret on the server's
# disk (store, WAL) or in its logs, while the same scan finds them in a
# plaintext control file.
load ../lib

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	bs_setup_stack 'rate_limits = {}' 'tokens = { access_ttl = 3600, refresh_ttl = 7200 }'
	export CANARY=sHaReCaNaRy4k
	export PWFILE=$BATS_FILE_TMPDIR/pw
	printf 'pw-%s-secret\n' "$CANARY" >"$PWFILE"
	export ALICE=al$RANDOM$RANDOM BOB=bo$RANDOM$RANDOM CAROL=ca$RANDOM$RANDOM
	for u in "$ALICE" "$BOB" "$CAROL"; do
		BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
			--home "$BATS_FILE_TMPDIR/h-$u" register "$u"
		BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
			--home "$BATS_FILE_TMPDIR/h-$u" login "$u" --device cli
	done
}
teardown_file() { bs_stop; }

# cli USER ARGS...: the CLI in USER's home
cli() {
	local u=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/h-$u" "$@"
}
# cli_in USER INPUT ARGS...: the same with INPUT on stdin
cli_in() {
	local u=$1 in=$2; shift 2
	run bash -c 'printf "%s" "$1" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/h-$2" "${@:3}"' _ "$in" "$u" "$@"
}
# state USER SQL: a query on USER's client state
state() { sqlite3 -cmd '.timeout 5000' "$BATS_FILE_TMPDIR/h-$1/blindsync.db" "$2"; }
# token USER: USER's current access token (from its client state)
token() { state "$1" "SELECT CAST(v AS TEXT) FROM settings WHERE k = 'access'"; }
# sname USER NAME: the server's name of USER's own collection NAME
sname() { state "$1" "SELECT sname FROM collections WHERE name = '$2'"; }
# api USER METHOD PATH [curl args...]: a request with USER's token (req of lib.bash)
api() { local u=$1; shift; local m=$1 p=$2; shift 2; req "$m" "$p" -H "Authorization: Bearer $(token "$u")" "$@"; }
# kvs: the key versions in the envelope headers ("BS1" kind u32be(kv)) of
# the records of the last answer (a pull), in record order
kvs() {
	python3 -c '
import base64, json, sys
for r in json.loads(sys.stdin.read())["records"]:
    if r.get("payload"):
        print(int.from_bytes(base64.b64decode(r["payload"])[4:8], "big"))' <<<"$body"
}
# inv_id: the invitation id share printed on stdout (bats merges stderr into output)
inv_id() { grep -v '^blindsync: ' <<<"$output" | head -1; }
# one_line: the CLI said one line on stderr (bats merges it into output)
one_line() { assert_equal "$(printf '%s\n' "$output" | grep -c .)" 1; }

@test "keys: the own fingerprint; another's pinned on first use and shown the same" {
	cli "$ALICE" keys
	assert_success
	fa=$(cut -f2 <<<"$output")
	assert_equal "${#fa}" 16
	cli "$BOB" keys "$ALICE"
	assert_success
	assert_output "$ALICE	$fa"
	# published at login: the server has them
	api "$ALICE" GET /v1/account/keys
	assert_equal "$status" 200
	cli "$ALICE" keys nosuchuser$RANDOM
	assert_failure 2
	assert_output --partial not_found
	one_line
}

@test "invite -> accept: the member reads the owner's records and the owner the member's" {
	cli_in "$ALICE" "from alice $CANARY" put "notes-$CANARY" "r1-$CANARY"
	assert_success
	cli "$ALICE" share "notes-$CANARY" "$BOB" --role write
	assert_success
	id=$(inv_id)
	[ "${#id}" -eq 22 ]
	cli "$BOB" invitations
	assert_success
	assert_output --partial "$id	notes-$CANARY	$ALICE	$ALICE	write"
	cli "$BOB" accept "$id"
	assert_success
	assert_output --partial "accepted notes-$CANARY of $ALICE"
	cli "$BOB" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_success
	assert_output "from alice $CANARY"
	cli_in "$BOB" "from bob $CANARY" put "notes-$CANARY" "r2-$CANARY" --owner "$ALICE"
	assert_success
	cli "$ALICE" get "notes-$CANARY" "r2-$CANARY"
	assert_success
	assert_output "from bob $CANARY"
	cli "$BOB" --owner "$ALICE" ls "notes-$CANARY"
	assert_success
	assert_output --partial "r1-$CANARY"
	assert_output --partial "r2-$CANARY"
	cli "$ALICE" members "notes-$CANARY"
	assert_success
	assert_line --index 0 --partial "$ALICE	owner"
	assert_line --index 1 --partial "$BOB	write"
	cli "$BOB" members "notes-$CANARY" --owner "$ALICE"
	assert_success
	assert_line --index 1 --partial "$BOB	write"
	# a full sync of the member brings the shared collection along
	cli_in "$ALICE" "third $CANARY" put "notes-$CANARY" r3
	assert_success
	cli "$BOB" sync
	assert_success
	cli "$BOB" --owner "$ALICE" get "notes-$CANARY" r3
	assert_output "third $CANARY"
	# ls lists the shared collection after the own ones, with its owner and role
	cli "$BOB" ls
	assert_success
	assert_line --regexp "^notes-$CANARY	[0-9]+	[0-9]+	$ALICE	write$"
	cli "$BOB" --owner "$ALICE" ls
	assert_line --regexp "^notes-$CANARY	[0-9]+	[0-9]+$"
}

@test "a read member's push is refused: exit 2, one line naming forbidden; reading works" {
	cli "$ALICE" share "notes-$CANARY" "$CAROL" --role read
	assert_success
	id=$(inv_id)
	cli "$CAROL" accept "$id"
	assert_success
	cli "$CAROL" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_success
	assert_output "from alice $CANARY"
	cli_in "$CAROL" "not allowed" put "notes-$CANARY" r9 --owner "$ALICE"
	assert_failure 2
	assert_output --partial forbidden
	one_line
	# a member cannot remove another one
	cli "$CAROL" unshare "notes-$CANARY" "$BOB" --owner "$ALICE"
	assert_failure
	one_line
}

@test "unshare: the removed member's next command is not_found; kv 2 on the server; the rest still reads" {
	cli "$ALICE" unshare "notes-$CANARY" "$CAROL"
	assert_success
	cli "$CAROL" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_failure 2
	assert_output --partial not_found
	one_line
	api "$ALICE" GET "/v1/collections/$(sname "$ALICE" "notes-$CANARY")/members"
	assert_equal "$status" 200
	assert_equal "$(jq -r .key_version <<<"$body")" 2
	assert_equal "$(jq -r '.members | length' <<<"$body")" 2
	# new records are sealed under the new key version
	cli_in "$ALICE" "after rotation $CANARY" put "notes-$CANARY" r4
	assert_success
	cli_in "$BOB" "bob after rotation" put "notes-$CANARY" r5 --owner "$ALICE"
	assert_success
	api "$ALICE" GET "/v1/collections/$(sname "$ALICE" "notes-$CANARY")/pull?since=0&limit=100"
	assert_equal "$status" 200
	run kvs
	assert_line --index 0 1
	# the last two writes (r4 by the owner, r5 by the member) are the newest
	assert_equal "$(tail -2 <<<"$output" | tr '\n' ' ')" "2 2 "
	# the remaining member reads old and new records
	cli "$BOB" get "notes-$CANARY" r4 --owner "$ALICE"
	assert_success
	assert_output "after rotation $CANARY"
	cli "$BOB" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_success
	assert_output "from alice $CANARY"
	cli "$ALICE" get "notes-$CANARY" r5
	assert_output "bob after rotation"
	# a member invited after the rotation reads the records of kv 1 too ("previous")
	cli "$ALICE" share "notes-$CANARY" "$CAROL"
	assert_success
	cli "$CAROL" accept "$(inv_id)"
	assert_success
	cli "$CAROL" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_output "from alice $CANARY"
	cli "$CAROL" leave "notes-$CANARY" --owner "$ALICE"
	assert_success
	cli "$CAROL" get "notes-$CANARY" r4 --owner "$ALICE"
	assert_failure 2
}

@test "role change, decline, a rotation by hand: the member follows each" {
	cli "$ALICE" role "notes-$CANARY" "$BOB" read
	assert_success
	cli "$ALICE" members "notes-$CANARY"
	assert_line --index 1 --partial "$BOB	read"
	cli_in "$BOB" "now refused" put "notes-$CANARY" r6 --owner "$ALICE"
	assert_failure 2
	assert_output --partial forbidden
	assert_output --partial "set aside"
	cli "$BOB" conflicts
	assert_output --partial "now refused"
	cli "$ALICE" role "notes-$CANARY" "$BOB" write
	assert_success
	cli_in "$BOB" "allowed again" put "notes-$CANARY" r7 --owner "$ALICE"
	assert_success
	# the invitee declines: gone from its list
	cli_in "$ALICE" "x" put declined r
	cli "$ALICE" share declined "$BOB"
	assert_success
	id=$(inv_id)
	cli "$BOB" decline "$id"
	assert_success
	cli "$BOB" invitations
	refute_output --partial "$id"
	cli "$BOB" accept "$id"
	assert_failure 2
	assert_output --partial not_found
	# a rotation by hand: kv 3, the member reads and writes under it
	cli "$ALICE" rotate "notes-$CANARY"
	assert_success
	api "$ALICE" GET "/v1/collections/$(sname "$ALICE" "notes-$CANARY")/members"
	assert_equal "$(jq -r .key_version <<<"$body")" 3
	cli_in "$ALICE" "kv three" put "notes-$CANARY" r8
	cli "$BOB" get "notes-$CANARY" r8 --owner "$ALICE"
	assert_output "kv three"
	cli_in "$BOB" "bob kv three" put "notes-$CANARY" r10 --owner "$ALICE"
	assert_success
	api "$ALICE" GET "/v1/collections/$(sname "$ALICE" "notes-$CANARY")/pull?since=0&limit=100"
	run kvs
	assert_equal "$(tail -2 <<<"$output" | tr '\n' ' ')" "3 3 "
}

@test "an admin member invites with --owner; the invitee reads old and new records; history of a shared record" {
	cli "$ALICE" role "notes-$CANARY" "$BOB" admin
	assert_success
	cli "$BOB" share "notes-$CANARY" "$CAROL" --owner "$ALICE" --role read
	assert_success
	id=$(inv_id)
	cli "$CAROL" --json invitations
	assert_success
	assert_equal "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .from' <<<"$output")" "$BOB"
	cli "$CAROL" accept "$id"
	assert_success
	# kv 3 from the grant, kv 1 from the "previous" bob held
	cli "$CAROL" get "notes-$CANARY" r8 --owner "$ALICE"
	assert_output "kv three"
	cli "$CAROL" get "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_output "from alice $CANARY"
	cli "$CAROL" history "notes-$CANARY" "r1-$CANARY" --owner "$ALICE"
	assert_success
	assert_output --partial "from alice $CANARY"
	cli "$CAROL" --json members "notes-$CANARY" --owner "$ALICE"
	assert_equal "$(jq -r --arg c "$CAROL" '.[] | select(.username == $c) | .role' <<<"$output")" read
	# an admin removes too, and rotates (a random key of its own: kv 4)
	cli "$BOB" unshare "notes-$CANARY" "$CAROL" --owner "$ALICE"
	assert_success
	api "$ALICE" GET "/v1/collections/$(sname "$ALICE" "notes-$CANARY")/members"
	assert_equal "$(jq -c '[.key_version, .rotate_due]' <<<"$body")" '[4,false]'
	cli "$BOB" get "notes-$CANARY" r8 --owner "$ALICE"
	assert_output "kv three"
}

@test "an admin's unshare rotates: the removed member cannot open what is written after; the owner, the others and the admin's other home can" {
	export DAVE=da$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/h-$DAVE" register "$DAVE"
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/h-$DAVE" login "$DAVE"
	cli_in "$ALICE" "kv one $CANARY" put "adm-$CANARY" r1
	assert_success
	s=$(sname "$ALICE" "adm-$CANARY")
	for u in "$BOB:admin" "$CAROL:write" "$DAVE:read"; do
		cli "$ALICE" share "adm-$CANARY" "${u%%:*}" --role "${u#*:}"
		assert_success
		cli "${u%%:*}" accept "$(inv_id)"
		assert_success
	done
	cli "$CAROL" get "adm-$CANARY" r1 --owner "$ALICE"
	assert_output "kv one $CANARY"
	# bob, an admin, removes carol: removed and rotated at once (kv 2), nothing left due
	cli "$BOB" unshare "adm-$CANARY" "$CAROL" --owner "$ALICE"
	assert_success
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -c '[.key_version, .rotate_due, (.members | length)]' <<<"$body")" '[2,false,3]'
	# the new key is in bob's keyring ("granted", the JavaScript SDK's member), not derived
	assert_equal "$(state "$BOB" "SELECT count(*) FROM share_keys WHERE sname = '$s' AND kv = 2")" 1
	# the owner and dave hold a grant of kv 2 from bob; carol none
	api "$ALICE" GET "/v1/collections/$s/grant?owner=$ALICE&key_version=2"
	assert_equal "$status" 200
	assert_equal "$(jq -r .from <<<"$body")" "$BOB"
	api "$DAVE" GET "/v1/collections/$s/grant?owner=$ALICE&key_version=2"
	assert_equal "$status" 200
	api "$CAROL" GET "/v1/collections/$s/grant?owner=$ALICE&key_version=2"
	assert_equal "$status" 404
	# what bob and alice write from now on is sealed under kv 2
	cli_in "$BOB" "admin kv two $CANARY" put "adm-$CANARY" r2 --owner "$ALICE"
	assert_success
	cli_in "$ALICE" "owner kv two $CANARY" put "adm-$CANARY" r3
	assert_success
	api "$ALICE" GET "/v1/collections/$s/pull?since=0&limit=100"
	run kvs
	assert_equal "$(tr '\n' ' ' <<<"$output")" "1 2 2 "
	# carol: no longer a member, and no key of kv 2 in her state
	cli "$CAROL" get "adm-$CANARY" r2 --owner "$ALICE"
	assert_failure 2
	assert_output --partial not_found
	assert_equal "$(state "$CAROL" "SELECT count(*) FROM share_keys WHERE sname = '$s' AND kv = 2")" 0
	# the owner and the other member read old and new records
	cli "$ALICE" get "adm-$CANARY" r2
	assert_output "admin kv two $CANARY"
	cli "$DAVE" get "adm-$CANARY" r2 --owner "$ALICE"
	assert_output "admin kv two $CANARY"
	cli "$DAVE" get "adm-$CANARY" r3 --owner "$ALICE"
	assert_output "owner kv two $CANARY"
	cli "$DAVE" get "adm-$CANARY" r1 --owner "$ALICE"
	assert_output "kv one $CANARY"
	# bob's other home finds the key it made in the keyring, reads and writes under it
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/h2-$BOB" login "$BOB"
	assert_success
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/h2-$BOB" get "adm-$CANARY" r3 --owner "$ALICE"
	assert_success
	assert_output "owner kv two $CANARY"
	run bash -c 'printf "second home %s" "$CANARY" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" \
		--server "$BS_URL" --home "$BATS_FILE_TMPDIR/h2-$BOB" put "adm-$CANARY" r4 --owner "$ALICE"'
	assert_success
	api "$ALICE" GET "/v1/collections/$s/pull?since=0&limit=100"
	run kvs
	assert_equal "$(tail -1 <<<"$output")" 2
	cli "$DAVE" get "adm-$CANARY" r4 --owner "$ALICE"
	assert_output "second home $CANARY"
	# a read member cannot remove anyone (and rotates nothing)
	cli "$DAVE" unshare "adm-$CANARY" "$BOB" --owner "$ALICE"
	assert_failure 2
	assert_output --partial forbidden
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -r .key_version <<<"$body")" 2
}

@test "a put in a fresh home right after another member left: rotated first (kv 2), nothing sealed under kv 1" {
	cli_in "$ALICE" "before $CANARY" put "fresh-$CANARY" r1
	assert_success
	s=$(sname "$ALICE" "fresh-$CANARY")
	cli "$ALICE" share "fresh-$CANARY" "$BOB" --role write
	assert_success
	cli "$BOB" accept "$(inv_id)"
	assert_success
	cli "$BOB" leave "fresh-$CANARY" --owner "$ALICE"
	assert_success
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -c '[.rotate_due, .key_version]' <<<"$body")" '[true,1]'
	# a home that never ran sync or ls: put asks the members answer first
	h=$BATS_FILE_TMPDIR/h3-$ALICE
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" --home "$h" login "$ALICE"
	assert_success
	run bash -c 'printf "after %s" "$CANARY" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" \
		--server "$BS_URL" --home "$1" put "fresh-$CANARY" r2' _ "$h"
	assert_success
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -c '[.rotate_due, .key_version]' <<<"$body")" '[false,2]'
	api "$ALICE" GET "/v1/collections/$s/pull?since=0&limit=100"
	run kvs
	assert_equal "$(tr '\n' ' ' <<<"$output")" "1 2 "
	# the first home reads the record sealed under the new key
	cli "$ALICE" get "fresh-$CANARY" r2
	assert_output "after $CANARY"
	# the leaver got no grant of kv 2
	api "$BOB" GET "/v1/collections/$s/grant?owner=$ALICE&key_version=2"
	assert_equal "$status" 404
}

@test "a member leaves by itself: the owner's next sync rotates (kv + 1) before it pushes; the leaver has no new key" {
	cli_in "$ALICE" "before the leave $CANARY" put "left-$CANARY" r1
	assert_success
	cli "$ALICE" share "left-$CANARY" "$BOB" --role write
	assert_success
	cli "$BOB" accept "$(inv_id)"
	assert_success
	cli "$BOB" get "left-$CANARY" r1 --owner "$ALICE"
	assert_output "before the leave $CANARY"
	s=$(sname "$ALICE" "left-$CANARY")
	cli "$BOB" leave "left-$CANARY" --owner "$ALICE"
	assert_success
	# the server marks it; nothing rotated yet
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -c '[.rotate_due, .key_version]' <<<"$body")" '[true,1]'
	# a change made offline (queued: no server on that port) ...
	run bash -c 'printf "after the leave %s" "$CANARY" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" \
		--server http://127.0.0.1:9 --home "$BATS_FILE_TMPDIR/h-$ALICE" put "left-$CANARY" r2'
	assert_failure
	assert_equal "$(state "$ALICE" "SELECT count(*) FROM queue")" 1
	# ... goes out at the next sync under the new key: the sync rotated first
	cli "$ALICE" sync
	assert_success
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -c '[.rotate_due, .key_version]' <<<"$body")" '[false,2]'
	assert_equal "$(state "$ALICE" "SELECT count(*) FROM rotate_due")" 0
	assert_equal "$(state "$ALICE" "SELECT count(*) FROM queue")" 0
	cli_in "$ALICE" "new key $CANARY" put "left-$CANARY" r3
	assert_success
	api "$ALICE" GET "/v1/collections/$s/pull?since=0&limit=100"
	run kvs
	assert_equal "$(tr '\n' ' ' <<<"$output")" "1 2 2 "
	cli "$ALICE" get "left-$CANARY" r2
	assert_output "after the leave $CANARY"
	cli "$ALICE" get "left-$CANARY" r3
	assert_output "new key $CANARY"
	# the leaver got no grant of kv 2 (and no longer reaches the collection)
	api "$BOB" GET "/v1/collections/$s/grant?owner=$ALICE&key_version=2"
	assert_equal "$status" 404
	# a second sync has nothing left to rotate
	cli "$ALICE" sync
	assert_success
	api "$ALICE" GET "/v1/collections/$s/members"
	assert_equal "$(jq -r .key_version <<<"$body")" 2
}

@test "an invitation made while a rotation is on its way: 412, read again, and the retry seals to the invitee too" {
	# a proxy that, just before the first rotate reaches the stack, has alice invite carol with curl
	faults=$BATS_TEST_TMPDIR/faults
	bs_faulty_proxy "$faults" "$BATS_TEST_TMPDIR"
	cli_in "$ALICE" "concurrent $CANARY" put conc r
	assert_success
	cli "$ALICE" share conc "$BOB"
	assert_success
	cli "$BOB" accept "$(inv_id)"
	assert_success
	sc=$(sname "$ALICE" conc)
	cat >"$faults.cmd" <<EOF
curl -s -o /dev/null -X POST "$BS_URL/v1/collections/$sc/invitations" -H "Authorization: Bearer $(token "$ALICE")" \
	-H 'Content-Type: application/json' \
	--data '{"to": "$CAROL", "role": "read", "key_version": 1, "sealed": "$(head -c 100 /dev/urandom | base64 -w0)", "signature": "$(head -c 64 /dev/urandom | base64 -w0)"}'
EOF
	echo "/rotate exec 1" >"$faults"
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$PURL" \
		--home "$BATS_FILE_TMPDIR/h-$ALICE" unshare conc "$BOB"
	kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")" 2>/dev/null || true
	assert_success
	# two rotations were sent: the first met the invitation (412), the second went through
	assert_equal "$(grep -c 'POST /v1/collections/.*/rotate' "$faults.log")" 2
	api "$ALICE" GET "/v1/collections/$sc/invitations"
	assert_equal "$(jq -r --arg c "$CAROL" '.invitations[] | select(.to == $c) | .key_version' <<<"$body")" 2
	# the invitation made by hand now holds a real grant of kv 2 (with kv 1 as "previous")
	api "$CAROL" GET /v1/invitations
	id=$(jq -r --arg c "$sc" '.invitations[] | select(.collection == $c) | .id' <<<"$body")
	cli "$CAROL" accept "$id"
	assert_success
	cli "$CAROL" get conc r --owner "$ALICE"
	assert_output "concurrent $CANARY"
	cli "$BOB" get conc r --owner "$ALICE"
	assert_failure 2
}

# invite_raw USER COLL_SNAME TO SEALED SIGNATURE: an invitation posted by hand
invite_raw() {
	api "$1" POST "/v1/collections/$2/invitations" -H 'Content-Type: application/json' \
		--data "$(jq -cn --arg to "$3" --arg s "$4" --arg g "$5" \
			'{to: $to, role: "read", key_version: 1, sealed: $s, signature: $g}')"
}

@test "a tampered signature, a grant for another recipient or collection: refused, one line, exit 5" {
	cli_in "$ALICE" "tamper" put "tamper" r
	assert_success
	cli_in "$ALICE" "other" put "other" r
	assert_success
	st=$(sname "$ALICE" tamper)
	so=$(sname "$ALICE" other)
	# a genuine invitation to carol, read as carol sees it, then withdrawn
	cli "$ALICE" share tamper "$CAROL"
	assert_success
	id=$(inv_id)
	api "$CAROL" GET /v1/invitations
	sealed=$(jq -r --arg id "$id" '.invitations[] | select(.id == $id) | .sealed' <<<"$body")
	sig=$(jq -r --arg id "$id" '.invitations[] | select(.id == $id) | .signature' <<<"$body")
	cli "$ALICE" decline "$id"
	assert_success
	# one byte of the signature flipped
	bad=$(python3 -c 'import base64,sys; b=bytearray(base64.b64decode(sys.argv[1])); b[5]^=1; print(base64.b64encode(bytes(b)).decode())' "$sig")
	invite_raw "$ALICE" "$st" "$CAROL" "$sealed" "$bad"
	assert_equal "$status" 201
	id2=$(jq -r .id <<<"$body")
	cli "$CAROL" accept "$id2"
	assert_failure 5
	assert_output --partial "cannot decrypt the grant from $ALICE"
	one_line
	# the refused invitation was not accepted on the server
	api "$CAROL" GET /v1/invitations
	assert_equal "$(jq --arg id "$id2" '[.invitations[] | select(.id == $id)] | length' <<<"$body")" 1
	cli "$CAROL" invitations
	assert_success
	assert_output --partial "$id2	?"
	cli "$ALICE" decline "$id2"
	assert_success
	# the genuine grant, offered for another collection: it opens, and is refused
	invite_raw "$ALICE" "$so" "$CAROL" "$sealed" "$sig"
	assert_equal "$status" 201
	cli "$CAROL" accept "$(jq -r .id <<<"$body")"
	assert_failure 5
	assert_output --partial "for another collection"
	one_line
	cli "$ALICE" decline "$(jq -r .id <<<"$body")"
	# a grant sealed (and signed) to bob, offered to carol
	cli "$ALICE" share tamper "$BOB"
	assert_success
	idb=$(inv_id)
	api "$BOB" GET /v1/invitations
	sealed=$(jq -r --arg id "$idb" '.invitations[] | select(.id == $id) | .sealed' <<<"$body")
	sig=$(jq -r --arg id "$idb" '.invitations[] | select(.id == $id) | .signature' <<<"$body")
	invite_raw "$ALICE" "$st" "$CAROL" "$sealed" "$sig"
	assert_equal "$status" 201
	cli "$CAROL" accept "$(jq -r .id <<<"$body")"
	assert_failure 5
	assert_output --partial "not sealed to you"
	one_line
	cli "$ALICE" decline "$(jq -r .id <<<"$body")"
	cli "$ALICE" decline "$idb"
}

@test "a changed public key of the inviter: the pin error until trust; then only the genuine key opens" {
	# carol pinned alice's keys when she accepted before; alice's keys now change on the server
	x=$(head -c 32 /dev/urandom | base64)
	e=$(head -c 32 /dev/urandom | base64)
	api "$ALICE" PUT /v1/account/keys -H 'Content-Type: application/json' \
		--data "{\"x25519\": \"$x\", \"ed25519\": \"$e\"}"
	assert_equal "$status" 204
	cli "$ALICE" share tamper "$CAROL"
	assert_success
	id=$(inv_id)
	cli "$CAROL" accept "$id"
	assert_failure 5
	assert_output --partial "the public key of $ALICE changed: fingerprint"
	assert_output --partial "blindsync trust $ALICE"
	one_line
	cli "$CAROL" keys "$ALICE"
	assert_failure 5
	# trusting the new (foreign) key: the grant signed with alice's real key does not open
	cli "$CAROL" trust "$ALICE"
	assert_success
	cli "$CAROL" accept "$id"
	assert_failure 5
	assert_output --partial "cannot decrypt the grant"
	# alice logs in again: her client publishes her real keys; carol confirms them
	cli "$ALICE" login "$ALICE" --device cli
	assert_success
	cli "$CAROL" trust "$ALICE"
	assert_success
	cli "$CAROL" accept "$id"
	assert_success
	cli "$CAROL" get tamper r --owner "$ALICE"
	assert_output tamper
}

@test "an account from before sharing: no keys until its first share or keys; then the keyring holds them" {
	# registered as an older client did (tests/client/oldreg.c): a keyring without "identity"
	old=ol$RANDOM$RANDOM
	helper=$BATS_TEST_TMPDIR/oldreg
	san=
	nm "$BIN/libbscrypto.a" 2>/dev/null | grep -q __asan_init && san=-fsanitize=address,undefined
	cc -std=c11 -D_GNU_SOURCE $san -I"$BS_ROOT/client/lib" -I"$BS_ROOT/fcgi/crypto" \
		"$BS_ROOT/tests/client/oldreg.c" -o "$helper" "$BIN/libblindsync-client.a" "$BIN/libbscrypto.a" \
		$(pkg-config --libs libcrypto json-c libsodium libcurl sqlite3) -lunistring -lm
	OLDREG_PASSWORD=$(head -1 "$PWFILE") "$helper" "$old" >"$BATS_TEST_TMPDIR/reg.json"
	req POST /v1/account/register -H 'Content-Type: application/json' --data @"$BATS_TEST_TMPDIR/reg.json"
	assert_equal "$status" 201
	cli "$old" login "$old" --device cli
	assert_success
	# nothing published: nobody can share with it yet
	cli "$ALICE" keys "$old"
	assert_failure 2
	assert_output --partial "no sharing keys yet"
	api "$old" GET /v1/account/keyring
	assert_equal "$(jq -r .version <<<"$body")" 1
	# its first share (or keys) makes them: the keyring rewritten as version 2, the keys published
	cli_in "$old" "old data" put oldcoll r
	assert_success
	cli "$old" share oldcoll "$BOB"
	assert_success
	api "$old" GET /v1/account/keyring
	assert_equal "$(jq -r .version <<<"$body")" 2
	cli "$old" keys
	fo=$(cut -f2 <<<"$output")
	cli "$ALICE" keys "$old"
	assert_success
	assert_output "$old	$fo"
	# bob reads what it shared
	api "$BOB" GET /v1/invitations
	cli "$BOB" accept "$(jq -r --arg o "$old" '.invitations[] | select(.owner == $o) | .id' <<<"$body")"
	assert_success
	cli "$BOB" get oldcoll r --owner "$old"
	assert_output "old data"
	# another device of the account finds the same identity in the keyring
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_TEST_TMPDIR/second" login "$old"
	run env "$BIN/blindsync" --server "$BS_URL" --home "$BATS_TEST_TMPDIR/second" keys
	assert_success
	assert_output "$old	$fo"
}

@test "usage: --help lists the sharing commands; a bad role is one line, exit 1" {
	run "$BIN/blindsync" --help
	assert_success
	assert_output --partial "share COLLECTION USER"
	assert_output --partial "leave COLLECTION --owner OWNER"
	assert_output --partial "unshare, rotate"
	cli "$ALICE" share tamper "$BOB" --role boss
	assert_failure 1
	one_line
	cli "$BOB" leave tamper
	assert_failure 1
	assert_output --partial "--owner"
}

@test "the canary, the collection keys and the identity secrets are nowhere on the server; the scan finds them" {
	secrets=$BATS_TEST_TMPDIR/secrets
	: >"$secrets"
	# identity secrets (x25519 sk, ed25519 seed) of each account, and every collection key granted
	for u in "$ALICE" "$BOB" "$CAROL"; do
		state "$u" "SELECT hex(substr(v, 1, 32)), hex(substr(v, 33, 32)) FROM settings WHERE k = 'identity'" |
			tr '|' '\n' >>"$secrets"
		state "$u" "SELECT hex(key) FROM share_keys" >>"$secrets"
	done
	# secrets: the identities' 6 halves and at least kv 1 and 2 of notes
	[ "$(grep -c . "$secrets")" -ge 8 ]
	bs_sql 'PRAGMA wal_checkpoint(PASSIVE)' >/dev/null 2>&1 || true
	files=$(bs_store_files; find "$BS_RUN" "$BS_LOG" -type f 2>/dev/null; echo "$BATS_FILE_TMPDIR/run.log")
	scan() {
		python3 - "$secrets" "$CANARY" "$@" <<'EOF'
import base64, sys
pats = []
for line in open(sys.argv[1]):
    raw = bytes.fromhex(line.strip())
    pats += [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"="), raw.hex().encode(), raw.hex().upper().encode()]
pats.append(sys.argv[2].encode())
found = 0
for path in sys.argv[3:]:
    try:
        data = open(path, "rb").read()
    except (FileNotFoundError, IsADirectoryError):
        continue
    for p in pats:
        if p in data:
            print(f"{path}: {p[:8]!r}...")
            found += 1
sys.exit(1 if found else 0)
EOF
	}
	run scan $files
	assert_success
	# positive control: a file holding one key's base64 and the canary is found twice
	k=$(head -1 "$secrets")
	python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode(), sys.argv[2])' \
		"$k" "$CANARY" >"$BATS_TEST_TMPDIR/control"
	run scan "$BATS_TEST_TMPDIR/control"
	assert_failure
	[ "$(grep -c control <<<"$output")" -ge 2 ]
}
