#!/bin/bash
# bench.sh: what `make bench` runs. Never part of `make test`.
#
# Starts the real stack (scripts/run.sh, nginx + handlers, plus the libfcgi
# hello ceiling) on a free port with a bench config, and measures with wrk
# (-t2, the load generator on the same 2 cores). Every figure is the median
# of BENCH_RUNS runs (default 3) of BENCH_SECONDS (default 10) each, and every
# target is a ratio to a baseline measured in this same run.
#
# The sync part (after the account part): GET /v1/status against the
# FastCGI hello ceiling; a mixed load (tests/bench/mixed.lua: 70% status or
# pull, 30% push of 10 records) of BENCH_MIXED_SECONDS (default 20) at 64
# and 256 connections, and the peak RSS of the push, pull and status
# processes during it; then the server time of a push of 1,000 records x
# 1 KiB and of a pull of them (the handler's own figure from its log line,
# for which the log level goes to info meanwhile; median of BENCH_SYNC_RUNS,
# default 7) beside the raw SQLite work of the same inserts
# (tests/bench/sqlite_raw.c).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECONDS:-10}
SYNC_RUNS=${BENCH_SYNC_RUNS:-7}
MIXED_SECS=${BENCH_MIXED_SECONDS:-20}
work=$(mktemp -d /tmp/blindsync-bench.XXXXXX)
stack=
trap 'kill -TERM $stack 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cc -std=c11 -D_GNU_SOURCE -O2 -Ifcgi/lib -Ifcgi/crypto tests/bench/pbkdf2.c -o "$work/pbkdf2" \
	"$BIN/libblindsync.a" "$BIN/libbscrypto.a" \
	$(pkg-config --libs fcgi sqlite3 libpq libcrypto json-c lua5.4) -lpthread -lm || exit 1
cc -std=c11 -D_GNU_SOURCE -O2 tests/bench/sqlite_raw.c -o "$work/sqlite_raw" $(pkg-config --libs sqlite3) || exit 1

# bench_config LEVEL: the bench config with that log level; replaced in one
# rename, so the handlers' reload (on a changed file) never reads half of it
bench_config() {
	cat >"$work/bench.lua.new" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
log = { level = "$1" }
tokens = { access_ttl = 86400 }
plans = { default = { bytes = 1024 * GiB, collections = 10000 } }
LUA
	mv "$work/bench.lua.new" "$work/bench.lua"
}
bench_config error
start_bench_stack EXTRA_HANDLERS=hello || exit 1

# measure NAME CONNS wrk-args...: sets R_rps R_p50 R_p99 R_err (medians)
measure() {
	local name=$1 conns=$2; shift 2
	: >"$work/$name.$conns"
	for _ in $(seq 1 "$RUNS"); do
		wrk -t2 -c"$conns" -d"${SECS}s" --latency "$@" 2>/dev/null | grep '^RESULT' >>"$work/$name.$conns"
	done
	R_rps=$(sed 's/.*rps=\([^ ]*\).*/\1/' "$work/$name.$conns" | median)
	R_p50=$(sed 's/.*p50_ms=\([^ ]*\).*/\1/' "$work/$name.$conns" | median)
	R_p99=$(sed 's/.*p99_ms=\([^ ]*\).*/\1/' "$work/$name.$conns" | median)
	R_err=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(errors|non2xx)=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' "$work/$name.$conns")
}
row() { printf '%-34s %6s %12s %10s %10s %8s\n' "$@"; }
# RssFile (KiB: mapped files, mostly shared libraries) of the process of one
# handler with the highest peak RSS
file_rss() {
	local m=0 f=0 p v
	for p in $(pgrep -f -- "$work/run/$1.sock"); do
		v=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v && f=$(awk '/RssFile/ {print $2}' /proc/$p/status 2>/dev/null)
	done
	echo "${f:-0}"
}

echo "blindsync bench: $(nproc) cores, wrk -t2, median of $RUNS x ${SECS}s, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
row "route" conns "req/s" "p50 ms" "p99 ms" errors
declare -A RPS
for c in 64 256; do
	measure static $c -s tests/bench/report.lua "$url/bench/static"; RPS[static.$c]=$R_rps
	row "nginx return 200 (baseline)" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
	measure hello $c -s tests/bench/report.lua "$url/bench/hello"; RPS[hello.$c]=$R_rps
	row "libfcgi hello (ceiling)" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
	measure health $c -s tests/bench/report.lua "$url/v1/health"; RPS[health.$c]=$R_rps
	row "GET /v1/health" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
done
rss_status=$(peak_rss status)

# accounts: one user, one token
key=$(head -c 32 /dev/urandom | base64)
curl -sf -H 'Content-Type: application/json' "$url/v1/account/register" \
	--data "{\"username\":\"bench\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}" >/dev/null
login_body="{\"username\":\"bench\",\"auth_key\":\"$key\"}"
token=$(curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" --data "$login_body" | jq -r .access_token)
for c in 64; do
	measure account $c -s tests/bench/report.lua -H "Authorization: Bearer $token" "$url/v1/account"
	RPS[account.$c]=$R_rps
	row "GET /v1/account (token + read)" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
	BENCH_BODY=$login_body measure login 16 -s tests/bench/post.lua "$url/v1/account/login"
	RPS[login]=$R_rps
	row "POST /v1/account/login" 16 "$R_rps" "$R_p50" "$R_p99" "$R_err"
done
rss_account=$(peak_rss account)
rss_account_file=$(file_rss account)
pbkdf2_ms=$("$work/pbkdf2" 100000)

echo
echo "ratios (targets in brackets):"
echo "  health / hello ceiling   c64: $(ratio "${RPS[health.64]}" "${RPS[hello.64]}")  c256: $(ratio "${RPS[health.256]}" "${RPS[hello.256]}")   [>= 0.7]"
echo "  account / health         c64: $(ratio "${RPS[account.64]}" "${RPS[health.64]}")   [>= 0.8]"
echo "  hello / nginx static     c64: $(ratio "${RPS[hello.64]}" "${RPS[static.64]}")"
echo "  logins/s: ${RPS[login]}; one PBKDF2 (100,000 iterations) alone: ${pbkdf2_ms} ms, so 2 cores bound logins at $(awk -v m="$pbkdf2_ms" 'BEGIN { printf "%.0f", 2000 / m }')/s"
echo "peak RSS of one handler process: status (health) $((rss_status / 1024)).$(((rss_status % 1024) * 10 / 1024)) MiB   [< 8 MiB]"
# the account handler after logins: 8 threads, each with its own SQLite
# connection (~260 KiB of schema, statements and cache), and the libcrypto
# pages that PBKDF2 touches (shared with every other process, yet in RSS)
echo "  account, after the logins: $((rss_account / 1024)).$(((rss_account % 1024) * 10 / 1024)) MiB (of which shared library pages: $(kib_mib "$rss_account_file") MiB)"

# ---- sync: status, a mixed load, push and pull ----

auth="Authorization: Bearer $token"
# sum_field NAME FILE: the sum of NAME= over the RESULT lines of FILE
sum_field() { awk -v n="$1" '{ for (i = 1; i <= NF; i++) if (index($i, n "=") == 1) s += substr($i, length(n) + 2) } END { print s + 0 }' "$2"; }
# timed NAME curl-args...: one request (timed_request); "server_ms curl_ms"
# appended to $work/NAME.times, the body in $work/NAME.body
timed() {
	local name=$1
	shift
	timed_request "$work/handlers.log" "$work/$name" 5 -H "$auth" "$@"
}
# the handlers reload a changed config within about a second
set_log_level() { bench_config "$1" && wait_level "$work/handlers.log" "$url" "$1" || exit 1; }

# GET /v1/status against the hello ceiling of the same connections
echo
row "route" conns "req/s" "p50 ms" "p99 ms" errors
for c in 64 256; do
	measure status $c -s tests/bench/report.lua -H "$auth" "$url/v1/status"; RPS[status.$c]=$R_rps
	row "GET /v1/status (token + counters)" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
done

# the mixed load: pulls read a collection of 1,000 records x 256 bytes
records_json 1000 "$(head -c 256 /dev/urandom | base64 -w0)" "m" >"$work/mixpull.json"
curl -sf -o /dev/null -H "$auth" -H 'Content-Type: application/json' --data-binary @"$work/mixpull.json" \
	"$url/v1/collections/mixpull/push" || { echo "bench: cannot fill the pull collection" >&2; exit 1; }
# peak RSS from here on: reset the high-water marks (Linux: clear_refs 5)
for h in push pull status; do
	for p in $(pgrep -f -- "$work/run/$h.sock"); do echo 5 >"/proc/$p/clear_refs" 2>/dev/null; done
done
declare -A MIXP99 MIX429 MIXBAD MIXSOCK
for c in 64 256; do
	SECS=$MIXED_SECS BENCH_TOKEN=$token BENCH_PUSH_COLLECTION=mix BENCH_PULL_COLLECTION=mixpull BENCH_PULL_MAX=950 \
		measure mixed $c -s tests/bench/mixed.lua "$url"
	RPS[mixed.$c]=$R_rps; MIXP99[$c]=$R_p99
	MIX429[$c]=$(sum_field n429 "$work/mixed.$c")
	MIXBAD[$c]=$(sum_field non2xx "$work/mixed.$c")
	MIXSOCK[$c]=$(sum_field errors "$work/mixed.$c")
	row "mixed 35% status 35% pull 30% push" $c "$R_rps" "$R_p50" "$R_p99" "$R_err"
done
rss_push=$(peak_rss push); rss_pull=$(peak_rss pull); rss_status_mixed=$(peak_rss status)
mixed_pushed=$(sqlite3 -cmd '.timeout 5000' "$work/data/blindsync.db" "SELECT records FROM collections WHERE name = 'mix'")

# push and pull of 1,000 records x 1 KiB (random bytes, fresh ids per run)
p1k=$(head -c 1024 /dev/urandom | base64 -w0)
for i in $(seq 1 "$SYNC_RUNS"); do records_json 1000 "$p1k" "r$i-" >"$work/push$i.json"; done
set_log_level info
: >"$work/push.times"; : >"$work/pull.times"
for i in $(seq 1 "$SYNC_RUNS"); do
	timed push -H 'Content-Type: application/json' --data-binary @"$work/push$i.json" \
		"$url/v1/collections/bpush$i/push" || exit 1
	[ "$(jq '.accepted | length' "$work/push.body")" = 1000 ] || { echo "bench: a push did not take 1000 records" >&2; exit 1; }
done
for i in $(seq 1 "$SYNC_RUNS"); do
	timed pull "$url/v1/collections/bpush1/pull?since=0&limit=1000" || exit 1
	[ "$(jq '.records | length' "$work/pull.body")" = 1000 ] || { echo "bench: a pull did not give 1000 records" >&2; exit 1; }
done
set_log_level error
push_ms=$(col_median 1 "$work/push.times"); push_curl=$(col_median 2 "$work/push.times")
pull_ms=$(col_median 1 "$work/pull.times"); pull_curl=$(col_median 2 "$work/pull.times")
raw_ms=$("$work/sqlite_raw" "$work/raw.db" 1000 1024 "$SYNC_RUNS") || exit 1
rss_push_big=$(peak_rss push); rss_pull_big=$(peak_rss pull)

echo
echo "sync (server time: the handler's logged duration, median of $SYNC_RUNS; curl's total on loopback beside it):"
echo "  push 1,000 x 1 KiB, one request: $push_ms ms (curl $push_curl ms)   [< 50 ms]"
echo "    the same 1,000 inserts in raw SQLite (one transaction, WAL, synchronous=FULL): $raw_ms ms; push / raw: $(ratio "$push_ms" "$raw_ms")"
echo "  pull 1,000 x 1 KiB, one page:    $pull_ms ms (curl $pull_curl ms)   [< 20 ms]"
echo "  status / hello ceiling   c64: $(ratio "${RPS[status.64]}" "${RPS[hello.64]}")  c256: $(ratio "${RPS[status.256]}" "${RPS[hello.256]}")   [>= 0.6]"
echo "  mixed load, ${MIXED_SECS}s runs: p99 c64 ${MIXP99[64]} ms [< 50 ms], c256 ${MIXP99[256]} ms; $mixed_pushed records pushed"
for c in 64 256; do
	echo "    c$c failures: ${MIX429[$c]} x 429 (allowed), ${MIXBAD[$c]} other non-2xx, ${MIXSOCK[$c]} socket errors or timeouts (wrk: 2 s)   [0 but 429s]"
done
echo "peak RSS of one handler process during the mixed load: push $(kib_mib "$rss_push") MiB, pull $(kib_mib "$rss_pull") MiB, status $(kib_mib "$rss_status_mixed") MiB   [< 16 MiB]"
echo "  (after the 1,000 x 1 KiB pushes and pulls as well: push $(kib_mib "$rss_push_big") MiB, pull $(kib_mib "$rss_pull_big") MiB)"
