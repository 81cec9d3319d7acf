#!/bin/bash
# client.sh: the client part of `make bench` (issue 10). Never part of
# `make test`.
#
# Starts the real stack (scripts/run.sh, nginx + handlers) on a free port,
# as bench.sh does, and measures the blindsync CLI against it. Every figure
# is the median of BENCH_RUNS runs (default 3), wall time of the whole
# process (start-up included), with a baseline measured in this same run:
#   - first `blindsync sync` of BENCH_RECORDS (default 10,000) records of
#     1 KiB into an empty home, login included (the records written first
#     by another home through the library: tests/bench/client_tool.c);
#     baseline: one curl pulling the same pages of 100 on one connection;
#   - a `sync` when nothing changed (one status request, 304); baseline:
#     curl asking the same status with the same If-None-Match;
#   - `backup put` and `backup get` of BENCH_CLIENT_MIB (default 200) MiB as
#     MiB/s; baseline: curl moving the same bytes through the same route
#     (the download into a file on the same disk, as the CLI writes it;
#     the CLI also fsyncs it, curl does not);
#   - Argon2id at the default parameters (bs1_master), in ms.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_RUNS:-3}
N=${BENCH_RECORDS:-10000}
MIB=${BENCH_CLIENT_MIB:-200}
work=$(mktemp -d /var/tmp/blindsync-client.XXXXXX)
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
plans = { default = { bytes = 4 * GiB, backup_bytes = 256 * MiB, backups = 4 } }
LUA
start_bench_stack || exit 1

pw=$work/pw
echo "bench password $RANDOM$RANDOM" >"$pw"
user=bench$RANDOM
bs() { local h=$1; shift; BLINDSYNC_PASSWORD_FILE=$pw "$BIN/blindsync" --server "$url" --home "$work/$h" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
token() { sqlite3 "$work/$1/blindsync.db" "SELECT CAST(v AS TEXT) FROM settings WHERE k = 'access'"; }
row() { printf '  %-44s %12s %14s %8s\n' "$@"; }

bs seed register "$user" >/dev/null 2>&1 || { echo "client bench: register failed"; exit 1; }
t0=$(ms)
"$work/client_tool" seed "$url" "$work/seed" "$user" "$pw" "$N" >/dev/null || exit 1
seed_ms=$(($(ms) - t0))

# first sync into an empty home, login included; baseline: curl pulling the same pages
: >"$work/first"; : >"$work/first.curl"
for i in $(seq 1 "$RUNS"); do
	rm -rf "$work/f$i"
	t0=$(ms)
	bs "f$i" login "$user" --device "f$i" >/dev/null 2>&1 && bs "f$i" sync >/dev/null 2>&1 ||
		{ echo "client bench: first sync failed"; exit 1; }
	echo $(($(ms) - t0)) >>"$work/first"
done
got=$(sqlite3 "$work/f1/blindsync.db" "SELECT count(*) FROM records")
sname=$(sqlite3 "$work/f1/blindsync.db" "SELECT sname FROM collections WHERE name = 'bench'")
A="Authorization: Bearer $(token f1)"
# the seeded collection's versions are 1..N, so the pages are known in advance:
# one curl on one connection fetches them all (checked below: N records)
urls=()
for ((since = 0; since < N; since += 100)); do urls+=("$url/v1/collections/$sname/pull?since=$since&limit=100"); done
for i in $(seq 1 "$RUNS"); do
	t0=$(ms); curl -s -H "$A" "${urls[@]}" >"$work/pages"
	echo $(($(ms) - t0)) >>"$work/first.curl"
done
curl_got=$(jq -s 'map(.records | length) | add' "$work/pages")

# a sync when nothing changed; baseline: the same status request by curl
etag=$(sqlite3 "$work/f1/blindsync.db" "SELECT CAST(v AS TEXT) FROM settings WHERE k = 'status_etag'")
: >"$work/nochange"; : >"$work/nochange.curl"
for i in $(seq 1 "$RUNS"); do
	t0=$(ms); bs f1 sync >/dev/null 2>&1 || { echo "client bench: sync failed"; exit 1; }
	echo $(($(ms) - t0)) >>"$work/nochange"
	t0=$(ms); code=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -H "If-None-Match: \"$etag\"" "$url/v1/status")
	echo $(($(ms) - t0)) >>"$work/nochange.curl"
done

# backup put and get; baseline: curl moving the same bytes through the same route
head -c $((MIB * 1048576)) /dev/urandom >"$work/blob"
bytes=$((MIB * 1048576))
: >"$work/put"; : >"$work/get"; : >"$work/put.curl"; : >"$work/get.curl"
version=0; same=yes
for i in $(seq 1 "$RUNS"); do
	t0=$(ms); bs f1 backup put big "$work/blob" >/dev/null 2>&1 || { echo "client bench: backup put failed"; exit 1; }
	echo $(($(ms) - t0)) >>"$work/put"
	rm -f "$work/blob.out"
	t0=$(ms); bs f1 backup get big "$work/blob.out" >/dev/null 2>&1 || { echo "client bench: backup get failed"; exit 1; }
	echo $(($(ms) - t0)) >>"$work/get"
	cmp -s "$work/blob" "$work/blob.out" || same=NO
	if [ $version = 0 ]; then cond=(); else cond=(-H "If-Match: \"$version\""); fi
	t0=$(ms); curl -s -o "$work/put.json" -X PUT -H "$A" "${cond[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$work/blob" "$url/v1/backups/raw"
	echo $(($(ms) - t0)) >>"$work/put.curl"
	version=$(jq -r .version "$work/put.json")
	# into a file of the same disk, as the CLI writes it (not /dev/null)
	rm -f "$work/raw.out"
	t0=$(ms); curl -s -o "$work/raw.out" -H "$A" "$url/v1/backups/raw"
	echo $(($(ms) - t0)) >>"$work/get.curl"
done
rm -f "$work/blob" "$work/blob.out" "$work/raw.out"
argon=$("$work/client_tool" argon "$RUNS")

first=$(median 1 <"$work/first"); firstc=$(median 1 <"$work/first.curl")
nc=$(median 1 <"$work/nochange"); ncc=$(median 1 <"$work/nochange.curl")
mibs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.1f", b / 1048576 / (t / 1000) }'; }
put=$(median 1 <"$work/put"); putc=$(median 1 <"$work/put.curl")
get=$(median 1 <"$work/get"); getc=$(median 1 <"$work/get.curl")
echo
echo "client (blindsync CLI): median of $RUNS, wall time with process start; seeded $N records in ${seed_ms} ms"
row "" "blindsync" "curl baseline" "target"
row "first sync, $N x 1 KiB, login included" "$first ms" "$firstc ms" "< 1500"
row "  (records: new home $got, curl $curl_got)" "" "" ""
row "sync with nothing changed (status 304: $code)" "$nc ms" "$ncc ms" "< 50"
row "backup put, $MIB MiB" "$(mibs "$put") MiB/s" "$(mibs "$putc") MiB/s" ""
row "  ratio to curl" "$(ratio "$putc" "$put")" "" ">= 0.7"
row "backup get, $MIB MiB (byte-exact: $same)" "$(mibs "$get") MiB/s" "$(mibs "$getc") MiB/s" ""
row "  ratio to curl" "$(ratio "$getc" "$get")" "" ">= 0.7"
row "Argon2id, default parameters (m 64 MiB, t 3)" "$argon ms" "" "~200"
