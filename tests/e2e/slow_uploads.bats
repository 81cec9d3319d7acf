#!/usr/bin/env bats
# Hostile slow uploads (issue 9, point 9). A streamed body (import, backups,
# slots) holds a handler thread while it arrives; a client sending a few
# bytes and then nothing (or a byte now and then) must not be able to hold
# every thread. Checked here: uploads in progress leave threads free in
# each process (the others are refused 503 with Retry-After), so login,
# prelogin and every other route keep answering; a body that stops arriving
# ends with 408 after limits.upload_idle_seconds, one that trickles under
# limits.upload_min_rate too; and an address or account with its share of
# long-running uploads is refused 429 with Retry-After.
#
# The slow clients are tests/tools/slow_upload.py, bounded in time. The
# idle timeout is 5 s here, so that the tests wait little; what they assert
# is the order of events (the routes answered while the uploads were held),
# not how fast the machine is. Front ends that buffer the body before the
# handler sees it (apache-fcgid) or start a process per request (cgi) have
# nothing to hold: skipped there.
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'trusted_proxies = { "127.0.0.1" }' \
		'limits = { upload_idle_seconds = 5, upload_min_rate = 1024 }' \
		'slots = { enabled = true, max_bytes = 1 * MiB }'
}
teardown_file() { bs_stop; }

setup() {
	bs_front_skip handler-socket
	bs_front_skip body-streaming
}

# a second stack started by a test (one worker process per handler)
teardown() {
	if [ -n "${STACK2:-}" ]; then
		BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
	fi
}

SLOW=$BS_ROOT/tests/tools/slow_upload.py

# slow N METHOD PATH GAP SECONDS OUT [HEADER...]: N slow uploads of a
# 1000000-byte body in the background (10 bytes, then one every GAP s; 0:
# none), answers into OUT; returns once they are all under way
slow() {
	local n=$1 m=$2 p=$3 gap=$4 secs=$5 out=$6
	shift 6
	rm -f "$out.ready" "$out"
	python3 "$SLOW" "$BS_PORT" "$n" "$m" "$p" 1000000 10 "$gap" "$secs" "$out.ready" "$out" "$@" &
	SLOW_PID=$!
	for _ in $(seq 1 300); do
		[ -e "$out.ready" ] && return 0
		sleep 0.05
	done
	fail "the slow clients did not start"
}

# ms_since T0: milliseconds since T0 (from now_ms)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# quick NAME STATUS [req args]: the request answers STATUS within 2 s (a
# generous bound: a held handler would not answer at all); prints nothing
quick() {
	local want=$1
	shift
	local t0=$(now_ms)
	req "$@" -m 10
	local dt=$(($(now_ms) - t0))
	[ "$status" = "$want" ] || fail "$*: expected $want, got $status after ${dt} ms: $body"
	[ "$dt" -lt 2000 ] || fail "$*: took ${dt} ms"
	echo "# $1 $2 -> $status in ${dt} ms" >&3
}

# check_slow OUT: every slow upload was answered: refused at once (503 or
# 429 JSON with Retry-After) or cut off with 408 request_timeout no sooner
# than the idle timeout; prints the number cut off
check_slow() {
	local i st t ra code cut=0
	while read -r i st t ra code; do
		case "$st" in
		503 | 429)
			[ "$ra" != - ] || fail "connection $i: $st without Retry-After"
			[ "$code" = "$([ "$st" = 503 ] && echo unavailable || echo rate_limited)" ] ||
				fail "connection $i: $st with code $code" ;;
		408)
			[ "$code" = request_timeout ] || fail "connection $i: 408 with code $code"
			[ "${t%.*}" -ge 4 ] || fail "connection $i: cut off after $t s, before the idle timeout"
			cut=$((cut + 1)) ;;
		*) fail "connection $i: unexpected answer '$st $t $ra $code'" ;;
		esac
	done <"$1"
	echo "$cut"
}

@test "16 stalled imports leave login, prelogin and the account routes answering" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	t0=$(now_ms)
	slow 16 POST /v1/account/import 0 30 "$out" "Authorization: Bearer $ACCESS" "Content-Type: application/json"
	quick 200 POST /v1/account/prelogin -H 'Content-Type: application/json' --data "{\"username\":\"$USERNAME\"}"
	quick 200 POST /v1/account/login -H 'Content-Type: application/json' \
		--data "{\"username\":\"$USERNAME\",\"auth_key\":\"$KEY\",\"device\":{\"name\":\"d\",\"type\":\"cli\"}}"
	quick 200 GET /v1/account -H "Authorization: Bearer $ACCESS"
	quick 200 GET /v1/account/devices -H "Authorization: Bearer $ACCESS"
	quick 200 GET /v1/info
	done_ms=$(($(now_ms) - t0))
	wait "$SLOW_PID"
	cat "$out"
	cut=$(check_slow "$out")
	# the routes answered while the uploads were still held
	first=$(awk '$2 == 408 { print $3 * 1000 }' "$out" | sort -n | head -1)
	[ -n "$first" ] && [ "${first%.*}" -gt "$done_ms" ] || fail "no upload was still held after ${done_ms} ms"
	# each process keeps two of its 8 threads: at most 2 x 6 held at once
	[ "$cut" -ge 1 ] && [ "$cut" -le 12 ] || fail "$cut uploads held"
	assert_equal "$(grep -c ' 503 ' "$out")" $((16 - cut))
}

@test "16 stalled slot uploads from 16 addresses leave the backup and slot routes answering; more uploads are 503" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	t0=$(now_ms)
	id=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
	slow 16 PUT "/v1/slots/$id" 0 30 "$out" "X-Slot-Key: $(b64_random 32)" "X-Forwarded-For: 10.9.0.{i}"
	quick 200 GET /v1/backups -H "Authorization: Bearer $ACCESS"
	f=$BATS_TEST_TMPDIR/b
	head -c 100 /dev/urandom >"$f"
	# another upload has no thread to take: refused at once, with Retry-After
	quick 503 PUT /v1/backups/main -H "Authorization: Bearer $ACCESS" --data-binary @"$f"
	assert_error 503 unavailable
	[ -n "$(header Retry-After)" ]
	quick 404 GET "/v1/slots/$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)"
	done_ms=$(($(now_ms) - t0))
	wait "$SLOW_PID"
	cat "$out"
	cut=$(check_slow "$out")
	first=$(awk '$2 == 408 { print $3 * 1000 }' "$out" | sort -n | head -1)
	[ -n "$first" ] && [ "${first%.*}" -gt "$done_ms" ] || fail "no upload was still held after ${done_ms} ms"
	[ "$cut" -ge 1 ] && [ "$cut" -le 12 ] || fail "$cut uploads held"
	assert_equal "$(grep -c ' 503 ' "$out")" $((16 - cut))
	# nothing was stored by the cut uploads
	req GET "/v1/slots/$id"
	assert_error 404 not_found
}

@test "a body that trickles under limits.upload_min_rate is cut off with 408" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	# a byte every half second: never idle for 5 s, far under 1024 bytes/s
	slow 1 POST /v1/account/import 0.5 40 "$out" "Authorization: Bearer $ACCESS" "Content-Type: application/json"
	wait "$SLOW_PID"
	cat "$out"
	assert_equal "$(check_slow "$out")" 1
	grep -q 'arrived too slowly' "$BS_LOG"
}

@test "an address or an account with its share of long-running uploads is refused 429" {
	bs_front_skip worker-processes
	# one worker process per handler: the bounds are per process
	STACK2=1
	local BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR
	BS_DATA=$BATS_TEST_TMPDIR/data BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BS_CONFIG" 'rate_limits = {}' 'trusted_proxies = { "127.0.0.1" }' \
		'limits = { upload_idle_seconds = 5, max_uploads_per_ip = 2, max_uploads_per_account = 2 }' \
		'slots = { enabled = true, max_bytes = 1 * MiB }'
	WORKERS=1 bs_start
	new_account
	auth=("Authorization: Bearer $ACCESS" "Content-Type: application/json")
	held=$BATS_TEST_TMPDIR/held
	slow 2 POST /v1/account/import 0 30 "$held" "${auth[@]}" "X-Forwarded-For: 10.8.0.1"
	sleep 1.2 # older than a second: they now count against their address and account
	one=$BATS_TEST_TMPDIR/one
	# the same account from another address
	python3 "$SLOW" "$BS_PORT" 1 POST /v1/account/import 1000000 10 0 3 "" "$one" "${auth[@]}" "X-Forwarded-For: 10.8.0.2"
	cat "$one"
	read -r _ st _ ra code <"$one"
	assert_equal "$st $code" "429 rate_limited"
	[ "$ra" != - ]
	# the same address, another account
	new_account
	python3 "$SLOW" "$BS_PORT" 1 POST /v1/account/import 1000000 10 0 3 "" "$one" \
		"Authorization: Bearer $ACCESS" "Content-Type: application/json" "X-Forwarded-For: 10.8.0.1"
	cat "$one"
	read -r _ st _ ra code <"$one"
	assert_equal "$st $code" "429 rate_limited"
	[ "$ra" != - ]
	# another address and another account: admitted (no answer within 3 s)
	python3 "$SLOW" "$BS_PORT" 1 POST /v1/account/import 1000000 10 0 3 "" "$one" \
		"Authorization: Bearer $ACCESS" "Content-Type: application/json" "X-Forwarded-For: 10.8.0.3"
	read -r _ st _ <"$one"
	assert_equal "$st" -
	wait "$SLOW_PID"
	assert_equal "$(check_slow "$held")" 2
}
