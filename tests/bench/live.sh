#!/bin/bash
# live.sh: the blindsync-live benchmark of `make bench` (issue 13), through
# nginx: BENCH_LIVE_SOCKETS (10,000) idle WebSockets over
# BENCH_LIVE_ACCOUNTS (100) accounts: the RSS of blindsync-live before and
# with them (and nginx's beside it); then, with them all attached, the
# latency from a push to the "changed" message on every socket of the
# account pushed to (p50/p99 over BENCH_LIVE_SAMPLES pushes, 10 accounts
# in turn, each at most every 500 ms: over the 250 ms coalescing). The load
# generator is tests/tools/live_load.py (loopback, bounded in time). Raises
# ulimit -n as far as the hard limit allows.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
N=${BENCH_LIVE_SOCKETS:-10000}
ACCOUNTS=${BENCH_LIVE_ACCOUNTS:-100}
SAMPLES=${BENCH_LIVE_SAMPLES:-200}
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -gt $((N + 500)) ] || { echo "live.sh: ulimit -n $(ulimit -n) is too low for $N sockets" >&2; exit 1; }
work=$(mktemp -d /var/tmp/blindsync-live.XXXXXX)
stack= live_pid= live2=
trap 'kill -TERM $stack $live_pid $live2 2>/dev/null; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
password_hash = { iterations = 1000 }
log = { level = "error" }
live = { enabled = false, max_per_account = $N, max_total = $((N + 100)) }
LUA
# live.enabled = false: run.sh does not start blindsync-live (it would stop
# the whole stack when its child exits); this script runs it, beside the
# stack on the socket the nginx snippet proxies to, and restarts it.
# Every wait for a condition is lib.sh's wait_until, under a deadline; the
# one fixed wait is the 60 s window of reconnections that is measured.
start_bench_stack WORKER_CONNECTIONS=$((2 * N + 1000)) || exit 1
BLINDSYNC_CONFIG=$work/bench.lua "$BIN/blindsync-live" --listen "$work/run/live.sock" >>"$work/handlers.log" 2>&1 &
live_pid=$!
wait_until 120 "blindsync-live's socket" test -S "$work/run/live.sock" || exit 1

# accounts: $ACCOUNTS for the idle sockets, 10 more for the latency
for i in $(seq 1 $((ACCOUNTS + 10))); do
	key=$(head -c 32 /dev/urandom | base64)
	curl -sf -H 'Content-Type: application/json' "$url/v1/account/register" \
		--data "{\"username\":\"bench$i\",\"auth_key\":\"$key\",\"kdf\":{}}" >/dev/null
	curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" \
		--data "{\"username\":\"bench$i\",\"auth_key\":\"$key\"}" | jq -r .access_token
done >"$work/all-tokens"
head -n "$ACCOUNTS" "$work/all-tokens" >"$work/tokens"
tail -n 10 "$work/all-tokens" >"$work/tokens-latency"
nginx_pids=$(pgrep -P "$(cat "$work/run/nginx.pid")" | paste -sd,)

# the idle sockets, held by one process while a second one measures
python3 tests/tools/live_load.py "$url" "$work/tokens" --sockets "$N" --samples 0 --hold-until "$work/stop" --reconnect \
	--live-pid "$live_pid" --nginx-pids "$nginx_pids" --timeout 1200 >"$work/out" 2>"$work/err" &
holder=$!
holder_settled() { grep -q '^ready' "$work/out" || ! kill -0 "$holder" 2>/dev/null; }
wait_until 900 "the idle sockets" holder_settled || exit 1
python3 tests/tools/live_load.py "$url" "$work/tokens-latency" --sockets 10 --samples "$SAMPLES" \
	--timeout 600 >"$work/lat" 2>>"$work/err"
# a restart: the new blindsync-live first (ours, beside run.sh's stack): it
# binds a temporary path and renames it over the socket, so from then on
# every new connection reaches it; then SIGTERM to the old one, which closes
# every socket with 1012 and a random delay and exits; the holder's sockets
# come back after their delays, to the new one. Never a moment without a
# listener on the path.
ino=$(stat -c %i "$work/run/live.sock")
BLINDSYNC_CONFIG=$work/bench.lua "$BIN/blindsync-live" --listen "$work/run/live.sock" >>"$work/handlers.log" 2>&1 &
live2=$!
socket_taken() { [ "$(stat -c %i "$work/run/live.sock" 2>/dev/null)" != "$ino" ]; }
wait_until 120 "the new blindsync-live taking the socket" socket_taken || exit 1
t_term=$(date +%s%N)
kill -TERM "$live_pid"
old_gone() { ! kill -0 "$live_pid" 2>/dev/null; }
wait_until 300 "the old blindsync-live's exit" old_gone || exit 1
t_gone=$(date +%s%N)
sleep 60
touch "$work/stop"
wait $holder
v() { awk -v k="$1" '$1 == k { print $2 }' "$work/out"; }
l() { awk -v k="$1" '$1 == k { print $2 }' "$work/lat"; }
echo
echo "== blindsync-live: $N idle WebSockets over $ACCOUNTS accounts through nginx (loopback) =="
if [ -z "$(v opened)" ]; then
	echo "the load generator failed:"; cat "$work/err"; exit 1
fi
printf '%-48s %s\n' "sockets opened (failed)" "$(v opened) ($(v failed)), in $(v open_seconds) s"
grep '^failure' "$work/err" | sed 's/^/  /'
printf '%-48s %s\n' "blindsync-live RSS before" "$(awk -v k="$(v rss_before_kib)" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
printf '%-48s %s\n' "blindsync-live RSS with them" "$(awk -v k="$(v rss_live_kib)" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
printf '%-48s %s\n' "  per socket" "$(awk -v a="$(v rss_before_kib)" -v b="$(v rss_live_kib)" -v n="$(v opened)" \
	'BEGIN { printf "%.2f KiB", (b - a) / (n ? n : 1) }')"
printf '%-48s %s\n' "nginx workers' RSS with them" "$(awk -v k="$(v rss_nginx_kib)" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
echo "with them attached, 10 more sockets (one per account) and $SAMPLES pushes:"
printf '%-48s %s\n' "push answer (after the commit) -> message, p50 / p99" "$(l latency_answer_ms_p50) / $(l latency_answer_ms_p99) ms"
printf '%-48s %s\n' "push sent -> message, p50 / p99" "$(l latency_request_ms_p50) / $(l latency_request_ms_p99) ms"
printf '%-48s %s\n' "messages measured (missing)" "$(l latency_messages) ($(l latency_missing))"
printf '%-48s %s\n' "idle sockets still open at the end" "$(v still_open)"
echo "a restart of blindsync-live (SIGTERM, a new one at once) with them attached:"
printf '%-48s %s\n' "sockets back within 60 s (close codes seen)" "$(v reconnected) ($(v reconnect_codes))"
printf '%-48s %s\n' "back after the close: p50 / p99 / last" "$(v reconnect_s_p50) / $(v reconnect_s_p99) / $(v reconnect_s_max) s"
printf '%-48s %s\n' "most reconnections in one second" "$(v reconnect_busiest_second)"
printf '%-48s %s\n' "5xx answers seen while reconnecting" "$(v reconnect_5xx)"
printf '%-48s %s\n' "the old program gone after its SIGTERM" "$(((t_gone - t_term) / 1000000)) ms"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
