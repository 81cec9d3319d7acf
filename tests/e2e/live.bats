#!/usr/bin/env bats
# blindsync-live (docs/API-live.md) through the real front end (nginx, or
# Apache with FRONT=apache / apache-fcgid): the ticket's life (single use,
# expiry, bound to its device, refused before the upgrade, an access token
# refused in its place), the hello, a push reaching a socket, coalescing,
# the sockets of an ended session closed with 4401 (revoke, logout, admin
# disable), bad frames (binary 1003, text 1008, not UTF-8 1007, too big
# 1009, broken framing 1002; a bystander socket goes on), a reader that
# never drains and a client stopped without a FIN (dropped at the ping
# bound), the caps (4429), refused attempts rate-limited per address, and
# SIGTERM closing with 1012 and a retry delay (last: it stops
# the stack), after a restart without a gap (a second blindsync-live takes
# the socket path, the first one closes with 1012 and leaves it). The
# WebSocket client is tests/tools/live_client.py.
#
# Config: at most 2 sockets per account and 8 in all; live.connect at 25
# refused attempts a minute per address (far above what the other tests do);
# pings every 5 s (live.ping_seconds at its minimum), so a silent socket is
# dropped after 20 s; blindsync-live logs each socket's end (debug).
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack \
		'rate_limits = { { route = "live.connect", per = "ip", limit = 25, window = 3600 } }' \
		'live = { max_per_account = 2, max_total = 8, ping_seconds = 5 }' 'log = { level = "debug" }'
}
teardown_file() {
	# a blindsync-live the restart test started (not run.sh's child) ends too
	kill -TERM "$(cat "$BS_RUN/live.pid" 2>/dev/null)" 2>/dev/null || true
	bs_stop
}

# plain CGI has no live (the first test checks that /v1/info says so)
setup() {
	[[ $BATS_TEST_DESCRIPTION == "/v1/info says"* ]] || bs_front_skip live
}

# the clients a test started in the background are ended (by their pids)
teardown() {
	local p
	for p in ${CLIENTS:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	CLIENTS=
}

CLIENT=$BS_ROOT/tests/tools/live_client.py

# ticket TOKEN: POST /v1/live/ticket and expect 200; sets TICKET
ticket() {
	areq POST /v1/live/ticket "$1"
	[ "$status" = 200 ] || fail "ticket: expected 200, got $status: $body"
	TICKET=$(jb .ticket)
}

# live_run TICKET [args]: run the client to its end; its lines in $output
live_run() {
	local t=$1; shift
	run python3 "$CLIENT" "$BS_URL" --ticket="$t" --timeout 20 "$@"
}

# live_bg FILE TICKET [args]: the client in the background, its lines in FILE;
# returns once it has its hello (or has ended)
live_bg() {
	local f=$1 t=$2; shift 2
	: >"$f"
	python3 "$CLIENT" "$BS_URL" --ticket="$t" --timeout "${LIVE_TIMEOUT:-30}" "$@" >"$f" 2>&1 &
	CLIENTS="${CLIENTS:-} $!"
	bs_wait 30 grep -qE '^(msg \{"type":"hello"|http|close|eof|timeout)' "$f" || fail "no hello in $f: $(cat "$f")"
}

# has FILE REGEX: a line of FILE matches
has() { grep -qE "$2" "$1"; }

@test "/v1/info says live: true where blindsync-live is configured (false on plain CGI)" {
	req GET /v1/info
	assert_equal "$status" 200
	if bs_front_supports live; then
		assert_equal "$(jb .live)" true
	else
		assert_equal "$(jb .live)" false
	fi
}

@test "a ticket: 43 base64url characters, 30 s; only with an access token" {
	new_account
	ticket "$ACCESS"
	[[ $TICKET =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "bad ticket: $TICKET"
	assert_equal "$(jb .expires_in)" 30
	assert_equal "$(header Cache-Control)" no-store
	req POST /v1/live/ticket
	assert_err 401 unauthorized
	areq POST /v1/live/ticket "$TICKET"
	assert_err 401 unauthorized
	areq GET /v1/live/ticket "$ACCESS"
	assert_err 405 method_not_allowed
}

@test "the hello has the account's versions; a ticket is single use" {
	new_account
	push_ok "$ACCESS" notes "$(rec a 0 "$(payload 10)"),$(rec b 0 "$(payload 10)")"
	push_ok "$ACCESS" todo "$(rec a 0 "$(payload 10)")"
	areq GET /v1/status "$ACCESS"
	local av
	av=$(jb .account_version)
	ticket "$ACCESS"
	live_run "$TICKET" --max-messages 1
	assert_line --index 0 open
	local hello=${lines[1]#msg }
	assert_equal "$(jq -r .type <<<"$hello")" hello
	assert_equal "$(jq -c .collections <<<"$hello")" '{"notes":2,"todo":1}'
	assert_equal "$(jq -r .account_version <<<"$hello")" "$av"
	# used: refused before the upgrade, with the JSON error
	live_run "$TICKET"
	assert_line --index 0 --regexp '^http 401 '
	assert_equal "$(jq -r .error.code <<<"${lines[0]#http 401 }")" unauthorized
}

@test "refused before the upgrade: no ticket, a malformed one, an access or refresh token, an expired ticket" {
	new_account
	run python3 "$CLIENT" "$BS_URL" --timeout 20
	assert_line --index 0 --regexp '^http 401 '
	live_run 'not-a-ticket'
	assert_line --index 0 --regexp '^http 401 '
	live_run "$ACCESS"
	assert_line --index 0 --regexp '^http 401 '
	live_run "$REFRESH"
	assert_line --index 0 --regexp '^http 401 '
	# an expired one (its expiry moved into the past in the store: no 30 s wait)
	ticket "$ACCESS"
	bs_sql "UPDATE live_tickets SET expires_at = 1;"
	live_run "$TICKET"
	assert_line --index 0 --regexp '^http 401 '
	# a plain GET without the upgrade
	req GET /v1/live
	assert_err 400 invalid_request
}

@test "a ticket is bound to its device: revoked before use, it is refused" {
	new_account
	local phone=$ACCESS phone_dev=$DEVICE
	login_ok "$USERNAME" "$KEY"
	ticket "$phone"
	areq DELETE "/v1/account/devices/$phone_dev" "$ACCESS"
	assert_equal "$status" 204
	live_run "$TICKET"
	assert_line --index 0 --regexp '^http 401 '
}

@test "a push reaches a connected socket: changed names the collection" {
	new_account
	push_ok "$ACCESS" notes "$(rec a 0 "$(payload 10)")"
	ticket "$ACCESS"
	local f=$BATS_TEST_TMPDIR/ws
	live_bg "$f" "$TICKET" --max-messages 2
	push_ok "$ACCESS" notes "$(rec b 0 "$(payload 10)")"
	bs_wait 20 has "$f" '"type":"changed"' || fail "no changed message: $(cat "$f")"
	local m
	m=$(grep '"type":"changed"' "$f" | head -1)
	m=${m#msg }
	assert_equal "$(jq -c .collections <<<"$m")" '{"notes":2}'
	areq GET /v1/status "$ACCESS"
	assert_equal "$(jq -r .account_version <<<"$m")" "$(jb .account_version)"
}

@test "a write to a shared collection reaches a member's socket under shared, keyed owner/collection" {
	local k='"x25519":"'$(b64_random 32)'","ed25519":"'$(b64_random 32)'"'
	new_account
	local o=$USERNAME o_t=$ACCESS
	ajreq PUT /v1/account/keys "$o_t" "{$k}"
	push_ok "$o_t" notes "$(rec a 0 "$(payload 10)")"
	new_account
	local m=$USERNAME m_t=$ACCESS
	ajreq PUT /v1/account/keys "$m_t" "{$k}"
	ajreq POST /v1/collections/notes/invitations "$o_t" \
		"{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,\"sealed\":\"$(b64_random 48)\",\"signature\":\"$(b64_random 64)\"}"
	assert_equal "$status" 201
	areq POST "/v1/invitations/$(jb .id)/accept" "$m_t"
	assert_equal "$status" 200
	ticket "$m_t"
	local f=$BATS_TEST_TMPDIR/ws
	live_bg "$f" "$TICKET" --max-messages 2
	bs_wait 20 has "$f" '"type":"hello"' || fail "no hello: $(cat "$f")"
	assert_equal "$(grep '"type":"hello"' "$f" | head -1 | sed 's/^msg //' | jq -c '[.collections, .shared]')" \
		"[{},{\"$o/notes\":1}]"
	push_ok "$o_t" notes "$(rec b 0 "$(payload 10)")"
	bs_wait 20 has "$f" '"type":"changed"' || fail "no changed message: $(cat "$f")"
	assert_equal "$(grep '"type":"changed"' "$f" | head -1 | sed 's/^msg //' | jq -c '[.collections, .shared]')" \
		"[{},{\"$o/notes\":2}]"
}

@test "a backup changes the account_version only; a deleted collection is null" {
	new_account
	push_ok "$ACCESS" gone "$(rec a 0 "$(payload 10)")"
	ticket "$ACCESS"
	local f=$BATS_TEST_TMPDIR/ws
	live_bg "$f" "$TICKET" --max-messages 3
	head -c 100 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	areq PUT /v1/backups/main "$ACCESS" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$BATS_TEST_TMPDIR/blob"
	[ "$status" = 200 ] || [ "$status" = 201 ] || fail "backup: $status $body"
	bs_wait 20 has "$f" '"type":"changed".*"collections":\{\}' || fail "no changed for the backup: $(cat "$f")"
	areq DELETE /v1/collections/gone "$ACCESS"
	[ "$status" = 204 ] || fail "delete: $status $body"
	bs_wait 20 has "$f" '"collections":\{"gone":null\}' || fail "no null for the deleted collection: $(cat "$f")"
}

@test "coalescing: 30 pushes in a row arrive as fewer messages, the last with the final version" {
	new_account
	push_ok "$ACCESS" notes "$(rec r0 0 "$(payload 10)")"
	ticket "$ACCESS"
	local f=$BATS_TEST_TMPDIR/ws i
	LIVE_TIMEOUT=60 live_bg "$f" "$TICKET"
	local t0 t1 n most
	t0=$(date +%s%N)
	for i in $(seq 1 30); do push_ok "$ACCESS" notes "$(rec "r$i" 0 "$(payload 10)")"; done
	bs_wait 30 has "$f" '"notes":31' || fail "the final version never came: $(cat "$f")"
	t1=$(date +%s%N)
	n=$(grep -c '"type":"changed"' "$f")
	# an account is re-read at most every 250 ms (docs/API-live.md): however
	# slow the pushes, no more messages than one per 250 ms of the run, plus
	# the first; when the 30 pushes take under 7 s (as on a quiet machine)
	# that is fewer than 30. Without coalescing each push is a message.
	most=$((2 + (t1 - t0) / 250000000))
	echo "# 30 pushes in $(((t1 - t0) / 1000000)) ms -> $n messages (at most $most)" >&3
	[ "$n" -ge 1 ] && [ "$n" -le "$most" ] || fail "expected 1 to $most changed messages, got $n"
}

@test "revoking a device closes its socket with 4401 within a second (measured from the revoke's answer)" {
	new_account
	local phone=$ACCESS phone_dev=$DEVICE
	login_ok "$USERNAME" "$KEY"
	local laptop=$ACCESS
	ticket "$phone"
	local f=$BATS_TEST_TMPDIR/phone g=$BATS_TEST_TMPDIR/laptop
	live_bg "$f" "$TICKET"
	ticket "$laptop"
	live_bg "$g" "$TICKET"
	areq DELETE "/v1/account/devices/$phone_dev" "$laptop"
	assert_equal "$status" 204
	local t0=$EPOCHREALTIME
	bs_wait 20 has "$f" '^close' || fail "not closed: $(cat "$f")"
	local ms
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "# revoke -> close: $ms ms (bats polls every 100 ms)" >&3
	assert_equal "$(grep '^close' "$f" | cut -d' ' -f2)" 4401
	# a generous bound for a loaded machine; the figure above is the measure
	[ "$ms" -lt 5000 ] || fail "closed after $ms ms"
	# the other device's socket stays open
	! has "$g" '^close' || fail "the laptop's socket closed: $(cat "$g")"
}

@test "logout, and blindsync-admin user disable, close the account's sockets with 4401" {
	new_account
	ticket "$ACCESS"
	local f=$BATS_TEST_TMPDIR/ws
	live_bg "$f" "$TICKET"
	areq POST /v1/account/logout "$ACCESS"
	assert_equal "$status" 204
	bs_wait 20 has "$f" '^close' || fail "not closed at logout: $(cat "$f")"
	assert_equal "$(grep '^close' "$f" | cut -d' ' -f2)" 4401

	login_ok "$USERNAME" "$KEY"
	ticket "$ACCESS"
	live_bg "$f" "$TICKET"
	BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-admin" user disable "$USERNAME"
	bs_wait 20 has "$f" '^close' || fail "not closed at disable: $(cat "$f")"
	assert_equal "$(grep '^close' "$f" | cut -d' ' -f2)" 4401
}

@test "clients send no messages: a binary frame closes with 1003, a text one with 1008" {
	new_account
	ticket "$ACCESS"
	live_run "$TICKET" --send-binary
	assert_line --regexp '^close 1003 '
	ticket "$ACCESS"
	live_run "$TICKET" --send-text '{"type":"subscribe"}'
	assert_line --regexp '^close 1008 '
}

# bad_frame HEX CODE: a socket of a fresh ticket sends the raw bytes HEX
# (after the upgrade) and is closed with CODE
bad_frame() {
	ticket "$ACCESS"
	live_run "$TICKET" --send-raw "$1"
	assert_line --regexp "^close $2 "
}

@test "bad frames close that socket with their code; another socket keeps receiving" {
	new_account
	local by=$ACCESS f=$BATS_TEST_TMPDIR/bystander
	ticket "$by"
	live_bg "$f" "$TICKET"
	new_account
	# (masked frames carry the mask 00000000: their payload as it is)
	bad_frame 838000000000 1002                       # opcode 3 is reserved
	bad_frame 810568656c6c6f 1008                     # unmasked: refused as the text it is
	bad_frame 818200000000c328 1007                   # text that is not UTF-8
	bad_frame 81ff0000000000100000000000006161616161616161 1009 # 1 MiB announced: too big
	bad_frame 808300000000616263 1002                 # a continuation with nothing to continue
	# a ping over 125 bytes: libwebsockets drops the connection, no close frame
	ticket "$ACCESS"
	live_run "$TICKET" --send-raw "89fe007e00000000$(printf '61%.0s' $(seq 1 126))"
	assert_line --regexp '^eof'
	# the bystander saw none of it and still gets its changes
	push_ok "$by" notes "$(rec a 0 "$(payload 10)")"
	bs_wait 20 has "$f" '"type":"changed"' || fail "the bystander got nothing: $(cat "$f")"
	! has "$f" '^close' || fail "the bystander was closed: $(cat "$f")"
}

@test "a client ping is answered; a text frame (a message type clients may not send) closes with 1008" {
	new_account
	ticket "$ACCESS"
	# a masked ping "hi": a pong, and the socket stays
	run python3 "$CLIENT" "$BS_URL" --ticket="$TICKET" --timeout 3 --send-raw 8982000000006869
	assert_line pong
	assert_line timeout
	refute_line --regexp '^(close|eof)'
	# a masked text frame "hi"
	ticket "$ACCESS"
	live_run "$TICKET" --send-raw 8182000000006869
	assert_line --regexp '^close 1008 '
}

@test "a reader that never drains, and a client gone without a FIN, are dropped at the ping bound; others go on" {
	new_account
	local by=$ACCESS f=$BATS_TEST_TMPDIR/bystander s=$BATS_TEST_TMPDIR/slow h=$BATS_TEST_TMPDIR/halfopen
	ticket "$by"
	live_bg "$f" "$TICKET"
	new_account
	local n0 hp t0 ms
	n0=$(grep -c 'socket closed' "$BS_LOG" || true)
	# the slow reader: a 1 KiB receive buffer, reads nothing for 60 s
	ticket "$ACCESS"
	python3 "$CLIENT" "$BS_URL" --ticket="$TICKET" --timeout 90 --no-read 60 >"$s" 2>&1 &
	CLIENTS="${CLIENTS:-} $!"
	bs_wait 30 has "$s" '^stalled' || fail "the slow reader did not open: $(cat "$s")"
	# the half-open one: stopped (SIGSTOP: no FIN, no pong, no read) once it has its hello
	ticket "$ACCESS"
	LIVE_TIMEOUT=90 live_bg "$h" "$TICKET"
	hp=${CLIENTS##* }
	kill -STOP "$hp"
	t0=$EPOCHREALTIME
	# changes meanwhile: the bystander gets them, the slow and stopped ones cannot
	push_ok "$ACCESS" notes "$(rec a 0 "$(payload 1000)")"
	push_ok "$by" notes "$(rec a 0 "$(payload 10)")"
	bs_wait 20 has "$f" '"type":"changed"' || fail "the bystander got nothing: $(cat "$f")"
	# both are dropped once silent for 2 x ping_seconds + 10 = 20 s
	bs_wait 60 at_least_closed $((n0 + 2)) || fail "not dropped: $(grep 'socket closed' "$BS_LOG" | tail -3)"
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "# dropped after $ms ms (bound: 20 s of silence)" >&3
	kill -CONT "$hp"
	bs_wait 30 has "$h" '^(eof|close)' || fail "the stopped client's connection lives on: $(cat "$h")"
	! has "$f" '^close|^eof' || fail "the bystander was closed: $(cat "$f")"
	push_ok "$by" notes "$(rec b 0 "$(payload 10)")"
	bs_wait 20 has "$f" '"notes":2' || fail "the bystander stopped receiving: $(cat "$f")"
}

# at_least_closed N: blindsync-live logged at least N socket ends
at_least_closed() { [ "$(grep -c 'socket closed' "$BS_LOG" || true)" -ge "$1" ]; }

@test "the caps: a third socket of an account, and a ninth in all, are closed with 4429" {
	new_account
	local i f
	for i in 1 2; do
		ticket "$ACCESS"
		live_bg "$BATS_TEST_TMPDIR/a$i" "$TICKET"
	done
	ticket "$ACCESS"
	live_run "$TICKET"
	assert_line --regexp '^close 4429 '
	# three more accounts of two sockets: 8 in all, then the ninth
	for i in 1 2 3; do
		new_account
		ticket "$ACCESS"; live_bg "$BATS_TEST_TMPDIR/b$i-1" "$TICKET"
		ticket "$ACCESS"; live_bg "$BATS_TEST_TMPDIR/b$i-2" "$TICKET"
	done
	for f in "$BATS_TEST_TMPDIR"/a? "$BATS_TEST_TMPDIR"/b?-?; do
		! has "$f" '^close' || fail "$f closed early: $(cat "$f")"
	done
	new_account
	ticket "$ACCESS"
	live_run "$TICKET"
	assert_line --regexp '^close 4429 '
}

# live.connect allows 25 refused attempts an hour here (setup_file): the
# bucket refills one attempt per 144 s, so however slow each attempt (behind
# Apache on a loaded machine, one takes a second or more), the 25 of this
# file are spent before 40 attempts
@test "refused attempts are rate-limited per address: 429 with Retry-After" {
	local i got=
	for i in $(seq 1 40); do
		live_run "bad-ticket-$i"
		if [[ ${lines[0]} == "http 429 "* ]]; then got=$i; break; fi
		assert_line --index 0 --regexp '^http 401 '
	done
	[ -n "$got" ] || fail "never limited"
	echo "# limited at attempt $got" >&3
}

@test "a session that expires closes its socket with 4401 within about a second, with nothing else changing" {
	new_account
	# the device's tokens expire in 6 s (moved in the store: no 300 s wait)
	local lower exp t ms
	lower=$(tr 'A-Z' 'a-z' <<<"$USERNAME")
	exp=$(($(date +%s) + 6))
	bs_sql "UPDATE tokens SET expires_at = $exp WHERE account_id = (SELECT id FROM accounts WHERE username = '$lower');"
	ticket "$ACCESS"
	local f=$BATS_TEST_TMPDIR/ws
	live_bg "$f" "$TICKET"
	bs_wait 30 has "$f" '^close' || fail "not closed: $(cat "$f")"
	t=$EPOCHREALTIME
	assert_equal "$(grep '^close' "$f" | cut -d' ' -f2)" 4401
	ms=$(awk -v a="$exp" -v b="$t" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "# expiry -> close: $ms ms (the sweep runs every second; bats polls every 100 ms)" >&3
	[ "$ms" -ge 0 ] || fail "closed $ms ms before the expiry"
	[ "$ms" -lt 5000 ] || fail "closed $ms ms after the expiry"
}

@test "a restart without a gap: a new blindsync-live takes the socket path, the old one closes with 1012 and leaves it" {
	new_account
	local f=$BATS_TEST_TMPDIR/old g=$BATS_TEST_TMPDIR/new old new ino
	ticket "$ACCESS"; live_bg "$f" "$TICKET"
	old=$(cat "$BS_RUN/live.pid")
	ino=$(stat -c %i "$BS_RUN/live.sock")
	# the new one first: it binds a temporary path and renames it over the socket
	BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-live" --listen "$BS_RUN/live.sock" >>"$BS_LOG" 2>&1 &
	new=$!
	bs_wait 30 eval '[ "$(stat -c %i "$BS_RUN/live.sock" 2>/dev/null)" != "$ino" ]' || fail "the new one did not take the path"
	echo "$new" >"$BS_RUN/live.pid"
	# a new socket now reaches the new program, while the old one keeps its own
	ticket "$ACCESS"; live_bg "$g" "$TICKET"
	has "$g" '"type":"hello"' || fail "no hello from the new one: $(cat "$g")"
	! has "$f" '^close' || fail "the old socket closed early: $(cat "$f")"
	kill -TERM "$old"
	bs_wait 20 has "$f" '^close' || fail "the old socket was not closed: $(cat "$f")"
	assert_equal "$(grep '^close' "$f" | cut -d' ' -f2)" 1012
	bs_wait 30 bs_gone "$old" || fail "the old one did not exit"
	# it left the path to the new one, which still serves
	[ -S "$BS_RUN/live.sock" ] || fail "the old one removed the socket file"
	! has "$g" '^close' || fail "the new program's socket closed: $(cat "$g")"
	ticket "$ACCESS"
	live_run "$TICKET" --max-messages 1
	assert_line --index 0 open
}

@test "SIGTERM: every socket is closed with 1012 and a random retry delay (stops the stack)" {
	new_account
	local f=$BATS_TEST_TMPDIR/ws1 g=$BATS_TEST_TMPDIR/ws2
	ticket "$ACCESS"; live_bg "$f" "$TICKET"
	ticket "$ACCESS"; live_bg "$g" "$TICKET"
	local pid
	pid=$(cat "$BS_RUN/live.pid")
	kill -0 "$pid" || fail "blindsync-live is not running"
	kill -TERM "$pid"
	bs_wait 20 has "$f" '^close' || fail "not closed: $(cat "$f")"
	bs_wait 20 has "$g" '^close' || fail "not closed: $(cat "$g")"
	local a b
	a=$(grep '^close' "$f")
	b=$(grep '^close' "$g")
	assert_equal "$(cut -d' ' -f2 <<<"$a")" 1012
	assert_equal "$(cut -d' ' -f2 <<<"$b")" 1012
	local da db
	da=$(cut -d' ' -f3- <<<"$a" | jq -r .retry_after_ms)
	db=$(cut -d' ' -f3- <<<"$b" | jq -r .retry_after_ms)
	[ "$da" -ge 1000 ] && [ "$da" -le 30000 ] || fail "retry delay $da"
	[ "$db" -ge 1000 ] && [ "$db" -le 30000 ] || fail "retry delay $db"
	bs_wait 20 bs_gone "$pid" || fail "blindsync-live did not exit"
}
