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
# not how fast the machine is. The handlers' answers are read from their
# log, which is the same behind every front end: mod_proxy_fcgi relays a
# handler's early answer only once it has stopped sending the body (its
# Timeout, or mod_reqtimeout), so behind Apache the slow clients see it late;
# behind nginx the test also checks what the clients got. Front ends that
# buffer the body before the handler sees it (apache-fcgid) or start a
# process per request (cgi) have no handler thread to hold: skipped there.
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
	python3 "$SLOW" "$BS_PORT" "$n" "$m" "$p" 1000000 16 "$gap" "$secs" "$out.ready" "$out" "$@" &
	SLOW_PID=$!
	bs_wait 60 test -e "$out.ready" || fail "the slow clients did not start"
}

# now_ms: the time in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# quick STATUS [req args]: the request answers STATUS within a second or
# two (a generous bound: a held handler would not answer at all while the
# slow clients last; measured: 40 to 110 ms behind nginx; behind Apache the
# first request after the burst takes ~0.9 s in Apache itself, the handler
# answering in under a millisecond, hence 5 s there)
quick() {
	local want=$1 bound=2000
	[ "$(bs_front)" = nginx ] || bound=5000
	shift
	local t0=$(now_ms)
	req "$@" -m 10
	local dt=$(($(now_ms) - t0))
	[ "$status" = "$want" ] || fail "$1 $2: expected $want, got $status after ${dt} ms: $body"
	[ "$dt" -lt "$bound" ] || fail "$1 $2: took ${dt} ms"
	echo "# $1 $2 -> $status in ${dt} ms" >&3
}

# log_mark: remember where the handlers' log ends (log_since reads past it)
log_mark() { LOG_MARK=$(wc -l <"$BS_LOG"); }
log_since() { tail -n +$((LOG_MARK + 1)) "$BS_LOG"; }

# check_clients OUT: behind nginx, every slow client got the handler's
# answer: refused at once (503 or 429 JSON with Retry-After) or cut off with
# 408 request_timeout no sooner than the idle timeout
check_clients() {
	[ "$(bs_front)" = nginx ] || return 0
	local i st t ra code
	while read -r i st t ra code; do
		case "$st" in
		503 | 429)
			[ "$ra" != - ] || fail "connection $i: $st without Retry-After"
			[ "$code" = "$([ "$st" = 503 ] && echo unavailable || echo rate_limited)" ] ||
				fail "connection $i: $st with code $code" ;;
		408)
			[ "$code" = request_timeout ] || fail "connection $i: 408 with code $code"
			[ "${t%.*}" -ge 4 ] || fail "connection $i: cut off after $t s, before the idle timeout" ;;
		*) fail "connection $i: unexpected answer '$st $t $ra $code'" ;;
		esac
	done <"$1"
}

# check_handler ROUTE N LAST: in the handlers' log since log_mark, the N
# uploads of ROUTE were all answered: some cut off with 408 after the idle
# timeout (at least one, at most 12: each of the 2 processes keeps 2 of its
# 8 threads), the rest refused 503; and the request logged as LAST (a quick
# request made while they were held) came before the first 408
logged_at_least() {
	[ "$(log_since | grep -c " $1 \(408\|503\|429\) " || true)" -ge "$2" ]
}
check_handler() {
	local route=$1 n=$2 last=$3 cut refused ms
	bs_wait 60 logged_at_least "$route" "$n" || true
	log_since | grep " $route " || true
	cut=$(log_since | grep -c " $route 408 " || true)
	refused=$(log_since | grep -c " $route 503 " || true)
	[ "$cut" -ge 1 ] && [ "$cut" -le 12 ] || fail "$cut uploads held (1 to 12 expected)"
	assert_equal "$refused" $((n - cut))
	for ms in $(log_since | sed -n "s/.* $route 408 \([0-9]*\)\.[0-9]*ms.*/\1/p"); do
		[ "$ms" -ge 4000 ] || fail "an upload was cut off after $ms ms, before the idle timeout"
	done
	log_since | grep " $route 408 " | grep -q 'arrived too slowly' || fail "408 without its reason"
	log_since | awk -v last="$last" -v route=" $route 408 " \
		'index($0, last) { seen = 1 } index($0, route) { exit !seen } END { if (!seen) exit 1 }' ||
		fail "the uploads were cut off before the other routes were tried"
}

@test "16 stalled imports leave login, prelogin and the account routes answering" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	log_mark
	slow 16 POST /v1/account/import 0 30 "$out" "Authorization: Bearer $ACCESS" "Content-Type: application/json"
	quick 200 POST /v1/account/prelogin -H 'Content-Type: application/json' --data "{\"username\":\"$USERNAME\"}"
	quick 200 POST /v1/account/login -H 'Content-Type: application/json' \
		--data "{\"username\":\"$USERNAME\",\"auth_key\":\"$KEY\",\"device\":{\"name\":\"d\",\"type\":\"cli\"}}"
	quick 200 GET /v1/account -H "Authorization: Bearer $ACCESS"
	quick 200 GET /v1/account/devices -H "Authorization: Bearer $ACCESS"
	check_handler import 16 "GET account.devices 200"
	[ "$(bs_front)" = nginx ] || kill "$SLOW_PID"
	wait "$SLOW_PID" || true
	[ "$(bs_front)" != nginx ] || { cat "$out"; check_clients "$out"; }
}

@test "16 stalled slot uploads from 16 addresses leave the backup and slot routes answering; more uploads are 503" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	log_mark
	id=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
	slow 16 PUT "/v1/slots/$id" 0 30 "$out" "X-Slot-Key: $(b64_random 32)" "X-Forwarded-For: 10.9.0.{i}"
	quick 200 GET /v1/backups -H "Authorization: Bearer $ACCESS"
	# another upload has no thread to take: refused at once, with Retry-After
	f=$BATS_TEST_TMPDIR/b
	head -c 100 /dev/urandom >"$f"
	quick 503 PUT /v1/backups/main -H "Authorization: Bearer $ACCESS" --data-binary @"$f"
	assert_error 503 unavailable
	[ -n "$(header Retry-After)" ]
	quick 404 GET "/v1/slots/$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)"
	check_handler slots.put 16 "GET slots.get 404"
	[ "$(bs_front)" = nginx ] || kill "$SLOW_PID"
	wait "$SLOW_PID" || true
	[ "$(bs_front)" != nginx ] || { cat "$out"; check_clients "$out"; }
	# nothing was stored by the cut uploads
	req GET "/v1/slots/$id"
	assert_error 404 not_found
}

@test "a body that trickles under limits.upload_min_rate is cut off with 408" {
	new_account
	out=$BATS_TEST_TMPDIR/slow
	log_mark
	# a byte every half second: never idle for 5 s, far under 1024 bytes/s
	slow 1 POST /v1/account/import 0.5 40 "$out" "Authorization: Bearer $ACCESS" "Content-Type: application/json"
	bs_wait 60 eval "log_since | grep -q ' import 408 '" || true
	log_since | grep ' import 408 ' | grep -q 'arrived too slowly' || fail "not cut off: $(log_since)"
	[ "$(bs_front)" = nginx ] || kill "$SLOW_PID"
	wait "$SLOW_PID" || true
	[ "$(bs_front)" != nginx ] || { cat "$out"; check_clients "$out"; }
}

@test "an address or an account with its share of long-running uploads is refused 429" {
	bs_front_skip worker-processes
	# one worker process per handler: the bounds are per process
	STACK2=1
	local BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR
	BS_DATA=$BATS_TEST_TMPDIR/data BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BS_CONFIG" 'rate_limits = {}' 'trusted_proxies = { "127.0.0.1" }' \
		'limits = { upload_idle_seconds = 5, upload_min_rate = 0, max_uploads_per_ip = 2, max_uploads_per_account = 2 }'
	WORKERS=1 bs_start
	new_account
	a1=$ACCESS
	new_account
	a2=$ACCESS
	held=$BATS_TEST_TMPDIR/held
	log_mark
	# (a byte a second, no minimum rate: held for the whole test)
	slow 2 POST /v1/account/import 1 30 "$held" "Authorization: Bearer $a1" "Content-Type: application/json" \
		"X-Forwarded-For: 10.8.0.1"
	sleep 1.2 # older than a second: they now count against their address and account
	one=$BATS_TEST_TMPDIR/one
	# one_more TOKEN ADDRESS: one more slow import, its first answer within 3 s
	one_more() {
		python3 "$SLOW" "$BS_PORT" 1 POST /v1/account/import 1000000 16 0 3 "" "$one" \
			"Authorization: Bearer $1" "Content-Type: application/json" "X-Forwarded-For: $2"
		cat "$one"
	}
	one_more "$a1" 10.8.0.2 # the same account from another address
	one_more "$a2" 10.8.0.1 # the same address, another account
	log_since | grep ' import 429 ' || true
	assert_equal "$(log_since | grep -c ' import 429 .*this account are in progress')" 1
	assert_equal "$(log_since | grep -c ' import 429 .*this address are in progress')" 1
	if [ "$(bs_front)" = nginx ]; then
		read -r _ st _ ra code <"$one"
		assert_equal "$st $code" "429 rate_limited"
		[ "$ra" != - ]
	fi
	# another address and another account: taken (held past the 3 s)
	one_more "$a2" 10.8.0.3
	assert_equal "$(log_since | grep -c ' import 429 ')" 2
	[ "$(bs_front)" = nginx ] || kill "$SLOW_PID"
	wait "$SLOW_PID" || true
}
