#!/usr/bin/env bats
# The CLI's watch over the live socket (docs/API-live.md, docs/CLIENT.md)
# through nginx: a change written by another device reaches the watch
# through the socket (blindsync-live's own log says the socket opened and
# no long poll was made), the watch survives a restart of blindsync-live
# (1012, then a new socket after the retry delay, long-polling meanwhile),
# and with live.enabled = false it long-polls (last: it restarts the stack
# with that config).
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'log = { level = "debug" }'
	export PWFILE=$BATS_FILE_TMPDIR/pw
	printf 'pw-live-watch-secret\n' >"$PWFILE"
	export BSUSER=w$RANDOM$RANDOM
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/h0" \
		register "$BSUSER"
	for h in w b; do
		BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/$h" \
			login "$BSUSER" --device "$h"
	done
}
teardown_file() {
	# a blindsync-live the restart test started itself (not run.sh's child)
	local p
	p=$(cat "$BATS_FILE_TMPDIR/live2.pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null || true
	# the stack the last test started again (its BS_PID is not this process's)
	[ ! -s "$BATS_FILE_TMPDIR/stack.pid" ] || BS_PID=$(cat "$BATS_FILE_TMPDIR/stack.pid")
	bs_stop
}

# the watch started in the background is ended (by its pid)
teardown() {
	[ -z "${WATCH:-}" ] || { kill "$WATCH" 2>/dev/null || true; wait "$WATCH" 2>/dev/null || true; }
	WATCH=
}

# cli HOME ARGS...: the CLI with that home and the password file
cli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@"
}
# put_b COLL ID TEXT: the other device writes
put_b() {
	run bash -c 'printf "%s" "$1" | "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/b" put "$2" "$3"' \
		_ "$3" "$1" "$2"
	assert_success
}
# watch_bg: `blindsync watch` of home w in the background, its lines in $OUT;
# returns once it synced the first time
watch_bg() {
	OUT=$BATS_TEST_TMPDIR/watch.out
	"$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/w" watch >"$OUT" 2>&1 &
	WATCH=$!
	bs_wait 30 grep -q synced "$OUT" || fail "watch did not sync: $(cat "$OUT")"
}
# synced_n: how many syncs the watch reported
synced_n() { grep -c synced "$OUT" || true; }
# opened: how many sockets blindsync-live opened (its debug log)
opened() { grep -c 'blindsync-live.*socket open' "$BS_LOG" || true; }
# polls: how many long polls nginx answered (it logs a request when it
# ends: a socket's at its close, a poll's at its answer)
polls() { grep -c 'GET /v1/status?wait=' "$BS_RUN/access.log" || true; }
# at_least N CMD...: CMD prints a number >= N
at_least() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }

@test "watch uses the live socket: another device's change arrives through it, with no long poll" {
	local s0 p0
	s0=$(opened)
	p0=$(polls)
	watch_bg
	bs_wait 20 at_least $((s0 + 1)) opened || fail "blindsync-live opened no socket: $(tail -5 "$BS_LOG")"
	put_b notes r1 "first by b"
	bs_wait 30 grep -q '1 pulled' "$OUT" || fail "the change was not pulled: $(cat "$OUT")"
	# the socket did it: no long poll reached the server meanwhile
	assert_equal "$(polls)" "$p0"
	cli w get notes r1
	assert_output "first by b"
}

@test "watch survives a restart of blindsync-live: 1012, long polls meanwhile, a new socket" {
	watch_bg
	local s0 pid n ms
	bs_wait 20 at_least 1 opened || fail "no socket"
	s0=$(opened)
	pid=$(cat "$BS_RUN/live.pid")
	kill -TERM "$pid"
	local t0=$EPOCHREALTIME
	bs_wait 30 bs_gone "$pid" || fail "blindsync-live did not stop"
	# meanwhile the watch long-polls: a change still arrives
	put_b notes r2 "while live is down"
	bs_wait 60 grep -q '1 pulled' "$OUT" || fail "no sync while live was down: $(cat "$OUT")"
	[ "$(polls)" -ge 1 ] || fail "no long poll while live was down"
	# blindsync-live again (run.sh does not restart it; the test does)
	BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-live" --listen "$BS_RUN/live.sock" >>"$BS_LOG" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/live2.pid"
	# the watch comes back after the 1012's retry delay (at most 30 s) plus a poll
	bs_wait 90 at_least $((s0 + 1)) opened || fail "the watch did not reconnect: $(tail -5 "$BS_LOG")"
	# not before the smallest retry delay (1 s): the 1012's delay was kept
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "# back on a socket $ms ms after the SIGTERM (the 1012's delay: 1 to 30 s)" >&3
	[ "$ms" -ge 1000 ] || fail "back after $ms ms: the retry delay was not kept"
	n=$(synced_n)
	put_b notes r3 "after the restart"
	bs_wait 30 at_least $((n + 1)) synced_n || fail "no sync after the restart: $(cat "$OUT")"
	cli w get notes r3
	assert_output "after the restart"
}

@test "with live.enabled = false the watch long-polls (restarts the stack)" {
	local p
	p=$(cat "$BATS_FILE_TMPDIR/live2.pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null || true
	rm -f "$BATS_FILE_TMPDIR/live2.pid"
	bs_stop
	echo 'live = { enabled = false }' >>"$BS_CONFIG"
	bs_start
	echo "$BS_PID" >"$BATS_FILE_TMPDIR/stack.pid"
	req GET /v1/info
	assert_equal "$(jq -r .live <<<"$body")" false
	local s0 p0 u0
	s0=$(opened)
	p0=$(polls)
	u0=$(grep -c 'GET /v1/live' "$BS_RUN/access.log" || true)
	watch_bg
	put_b notes r4 "long-polled"
	bs_wait 30 grep -q '1 pulled' "$OUT" || fail "the change was not pulled: $(cat "$OUT")"
	# nginx logs a request when it ends: the poll the change answered
	bs_wait 20 at_least $((p0 + 1)) polls || fail "no long poll"
	assert_equal "$(opened)" "$s0"
	assert_equal "$(grep -c 'GET /v1/live' "$BS_RUN/access.log" || true)" "$u0"
	cli w get notes r4
	assert_output "long-polled"
}
