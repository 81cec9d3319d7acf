#!/bin/bash
# page.sh: the page's part of `make bench` (issue 11). Never part of
# `make test`.
#
# Starts the real stack (scripts/run.sh, nginx + handlers, the page at /)
# on a free port, registers one account and fills it with BENCH_RECORDS
# (default 10,000) records of 1 KiB through the C library in one
# transaction (tests/bench/client_tool.c seed, as client.sh does), then
# drives headless Debian chromium through web/app/bench/page.js,
# BENCH_RUNS times (default 3), each in a fresh browser context (empty
# cache). Prints the medians of:
#   - the sign-in: from the click on "Sign in" to every record decrypted
#     and listed, Argon2id included (target < 2 s), and the longest task
#     that held the page's thread meanwhile (how long it froze at worst);
#   - Argon2id alone in the page (the SDK's, as the page runs it), beside
#     the C library's (libsodium, client_tool argon) at the same default
#     parameters (m 64 MiB, t 3, p 1);
#   - the first load: the encoded (gzip) bodies of every answer, and with
#     the headers (target < 200 KiB).
# Needs chromium and web/sdk's packages (scripts/deps.sh node browser).
# FRONT=apache|apache-fcgid|cgi measures the page behind that Apache front
# end instead (scripts/run.sh).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_RUNS:-3}
N=${BENCH_RECORDS:-10000}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "page bench: no $CHROMIUM (scripts/deps.sh browser)"; exit 1; }
[ -d web/sdk/node_modules/playwright-core ] || { echo "page bench: no playwright-core (scripts/deps.sh node)"; exit 1; }
work=$(mktemp -d /var/tmp/blindsync-page.XXXXXX)
stack=
trap 'kill -TERM $stack 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cc -std=c11 -D_GNU_SOURCE -O2 -Iclient/lib -Ifcgi/crypto tests/bench/client_tool.c -o "$work/client_tool" \
	"$BIN/libblindsync-client.a" "$BIN/libbscrypto.a" \
	$(pkg-config --libs libcrypto json-c libsodium libcurl sqlite3) -lunistring -lm || exit 1

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
log = { level = "error" }
tokens = { access_ttl = 86400 }
plans = { default = { bytes = 4 * GiB } }
LUA
start_bench_stack FRONT="${FRONT:-nginx}" || exit 1
curl -sf -o /dev/null "$url/" || { echo "page bench: the page is not served"; cat "$work/run.log"; exit 1; }

pw=$work/pw
echo "bench password $RANDOM$RANDOM" >"$pw"
user=page$RANDOM
ms() { echo $(($(date +%s%N) / 1000000)); }
row() { printf '  %-52s %14s %14s %8s\n' "$@"; }

BLINDSYNC_PASSWORD_FILE=$pw "$BIN/blindsync" --server "$url" --home "$work/seed" register "$user" >/dev/null 2>&1 ||
	{ echo "page bench: register failed"; exit 1; }
t0=$(ms)
"$work/client_tool" seed "$url" "$work/seed" "$user" "$pw" "$N" >/dev/null || exit 1
seed_ms=$(($(ms) - t0))

node web/app/bench/page.js "$url" "$user" "$pw" "$N" "$RUNS" >"$work/runs.json" 2>"$work/page.err" ||
	{ echo "page bench: the browser part failed:"; cat "$work/page.err"; exit 1; }
argon_c=$("$work/client_tool" argon "$RUNS")

field() { jq -r ".$1" "$work/runs.json" | median 1; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
echo
echo "page behind ${FRONT:-nginx} (headless chromium $("$CHROMIUM" --version 2>/dev/null | awk '{ print $2 }')): median of $RUNS fresh visits; seeded $N records of 1 KiB in ${seed_ms} ms"
row "" "page" "C (libsodium)" "target"
row "sign-in click to $N records decrypted and listed" "$(field signin) ms" "" "< 2000"
row "  to the login's answer (prelogin, Argon2id, login)" "$(field login) ms" "" ""
row "  then to the last pull's answer (the sync)" "$(field sync) ms" "" ""
row "  then decrypted for the list and shown" "$(field show) ms" "" ""
row "  (records listed: $(jq -r .listed "$work/runs.json" | sort -n | head -n 1) at least)" "" "" ""
row "  longest task holding the page's thread" "$(field longest) ms" "" ""
row "Argon2id alone, m 64 MiB, t 3, p 1" "$(field argon) ms" "$argon_c ms" ""
row "first load, gzip bodies ($(field requests) requests)" "$(kib "$(field load)")" "" "< 200 KiB"
row "  with the headers" "$(kib "$(field loadHeaders)")" "" ""
