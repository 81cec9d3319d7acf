#!/bin/bash
# bench.sh: what `make bench` runs. Never part of `make test`.
#
# Starts the real stack (scripts/run.sh, nginx + handlers, plus the libfcgi
# hello ceiling) on a free port with a bench config, and measures with wrk
# (-t2, the load generator on the same 2 cores). Every figure is the median
# of BENCH_RUNS runs (default 3) of BENCH_SECONDS (default 10) each, and every
# target is a ratio to a baseline measured in this same run.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
BIN=${BIN:-$root/build}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECONDS:-10}
work=$(mktemp -d /tmp/blindsync-bench.XXXXXX)
trap 'kill -TERM $stack 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cc -std=c11 -D_GNU_SOURCE -O2 -Ifcgi/lib tests/bench/pbkdf2.c -o "$work/pbkdf2" "$BIN/libblindsync.a" \
	$(pkg-config --libs fcgi sqlite3 libcrypto json-c lua5.4) -lpthread -lm || exit 1

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
log = { level = "error" }
LUA
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port
BIN=$BIN PORT=$port BLINDSYNC_CONFIG=$work/bench.lua RUN_DIR=$work/run HANDLER_LOG=$work/handlers.log \
	ACCESS_LOG=off EXTRA_HANDLERS=hello setsid scripts/run.sh >"$work/run.log" 2>&1 &
stack=$!
for _ in $(seq 1 100); do curl -sf "$url/v1/health" >/dev/null && break; sleep 0.1; done
curl -sf "$url/v1/health" >/dev/null || { cat "$work/run.log"; exit 1; }

# median of the RESULT field $2 over runs of: wrk args...
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
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
# peak RSS (VmHWM, KiB) over the processes of one handler
peak_rss() { local m=0 v; for p in $(pgrep -f -- "$work/run/$1.sock"); do v=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null); [ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v; done; echo $m; }

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
pbkdf2_ms=$("$work/pbkdf2" 100000)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "ratios (targets in brackets):"
echo "  health / hello ceiling   c64: $(ratio "${RPS[health.64]}" "${RPS[hello.64]}")  c256: $(ratio "${RPS[health.256]}" "${RPS[hello.256]}")   [>= 0.7]"
echo "  account / health         c64: $(ratio "${RPS[account.64]}" "${RPS[health.64]}")   [>= 0.8]"
echo "  hello / nginx static     c64: $(ratio "${RPS[hello.64]}" "${RPS[static.64]}")"
echo "  logins/s: ${RPS[login]}; one PBKDF2 (100,000 iterations) alone: ${pbkdf2_ms} ms, so 2 cores bound logins at $(awk -v m="$pbkdf2_ms" 'BEGIN { printf "%.0f", 2000 / m }')/s"
echo "peak RSS of one handler process: status $((rss_status / 1024)).$(((rss_status % 1024) * 10 / 1024)) MiB, account $((rss_account / 1024)).$(((rss_account % 1024) * 10 / 1024)) MiB   [< 8 MiB]"
