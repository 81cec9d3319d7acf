#!/bin/bash
# blobs.sh: the backup benchmark of `make bench` (issue 5): upload and
# download of a 200 MiB backup through nginx, beside nginx serving a static
# file of the same size from the same disk in the same run, and the backups
# handler's peak RSS. Medians of BENCH_BLOB_RUNS (default 3).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_BLOB_RUNS:-3}
MIB=${BENCH_BLOB_MIB:-200}
work=$(mktemp -d /var/tmp/blindsync-blobs.XXXXXX)
stack=
trap 'kill -TERM $stack 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
password_hash = { iterations = 1000 }
log = { level = "error" }
plans = { default = { backup_bytes = 256 * MiB, bytes = 2 * GiB, backups = 2 } }
LUA
mkdir -p "$work/static"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$work/static/blob"
start_bench_stack STATIC_DIR="$work/static" || exit 1

key=$(head -c 32 /dev/urandom | base64)
curl -sf -H 'Content-Type: application/json' "$url/v1/account/register" \
	--data "{\"username\":\"bench\",\"auth_key\":\"$key\",\"kdf\":{}}" >/dev/null
tok=$(curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" \
	--data "{\"username\":\"bench\",\"auth_key\":\"$key\"}" | jq -r .access_token)
A="Authorization: Bearer $tok"

mibs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", b / 1048576 / t }'; }
bytes=$((MIB * 1024 * 1024))
: >"$work/up"; : >"$work/down"; : >"$work/static.t"
version=0
for i in $(seq 1 "$RUNS"); do
	if [ $version = 0 ]; then cond=(); else cond=(-H "If-Match: \"$version\""); fi
	t=$(curl -s -o "$work/put.json" -w '%{time_total}' -X PUT -H "$A" "${cond[@]}" \
		--data-binary @"$work/static/blob" "$url/v1/backups/big")
	version=$(jq -r .version "$work/put.json")
	echo "$t" >>"$work/up"
	curl -s -o /dev/null -w '%{time_total}\n' -H "$A" "$url/v1/backups/big" >>"$work/down"
	curl -s -o /dev/null -w '%{time_total}\n' "$url/bench/static-file/blob" >>"$work/static.t"
done
curl -s -H "$A" "$url/v1/backups/big" | cmp - "$work/static/blob" >/dev/null && same=yes || same=NO
up=$(median <"$work/up"); down=$(median <"$work/down"); st=$(median <"$work/static.t")
rss=$(peak_rss backups)
echo
echo "backups: ${MIB} MiB, median of $RUNS (round trip byte-exact: $same)"
printf '  %-34s %8s MiB/s  (%.2f s)\n' "upload (PUT /v1/backups/big)" "$(mibs $bytes "$up")" "$up"
printf '  %-34s %8s MiB/s  (%.2f s)\n' "download (GET /v1/backups/big)" "$(mibs $bytes "$down")" "$down"
printf '  %-34s %8s MiB/s  (%.2f s)\n' "nginx static file (baseline)" "$(mibs $bytes "$st")" "$st"
echo "  download / static: $(ratio "$st" "$down")   [>= 0.5]"
echo "  peak RSS of a backups handler process: $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB   [< 16 MiB]"
