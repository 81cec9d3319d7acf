#!/bin/bash
# migrate.sh: the migrate-store benchmark (issue 12). Never part of `make test`.
#
# Fills an SQLite store through the real stack (scripts/run.sh) with one
# account of BENCH_MIGRATE_RECORDS (default 100,000) records of 1 KiB, pushed
# in batches of 1,000, stops it, then times `blindsync-admin migrate-store`:
# SQLite -> an empty PostgreSQL database (a cluster of its own, scripts/pg.sh,
# with fsync on, as a real server), and that database -> a new SQLite file;
# each with the admin tool's peak RSS (it must not grow with the store) and
# the rows per second. Every move verifies itself (counts, digests, check).
# Environment: BIN (default ./build).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
NREC=${BENCH_MIGRATE_RECORDS:-100000}
[ -x scripts/pg.sh ] || { echo "migrate-store bench skipped: no scripts/pg.sh for a PostgreSQL cluster"; exit 0; }
work=$(mktemp -d /tmp/blindsync-bench-migrate.XXXXXX)
pgdir=
stack=
cleanup() {
	[ -n "$stack" ] && kill -TERM "$stack" 2>/dev/null
	wait 2>/dev/null
	[ -n "$pgdir" ] && scripts/pg.sh destroy "$pgdir"
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
tokens = { access_ttl = 86400 }
plans = { default = { bytes = 1024 * GiB } }
LUA
start_bench_stack || exit 1

key=$(head -c 32 /dev/urandom | base64)
curl -sf -H 'Content-Type: application/json' "$url/v1/account/register" \
	--data "{\"username\":\"mover\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}" >/dev/null ||
	{ echo "cannot register"; exit 1; }
tok=$(curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" \
	--data "{\"username\":\"mover\",\"auth_key\":\"$key\"}" | jq -r .access_token)
python3 - "$work" "$NREC" <<'PY'
import base64, os, sys
work, n = sys.argv[1], int(sys.argv[2])
for b in range(0, n, 1000):
    recs = ",".join('{"id":"r%d","base_version":0,"payload":"%s"}' % (i, base64.b64encode(os.urandom(1024)).decode())
                    for i in range(b, min(b + 1000, n)))
    with open("%s/push.%06d.json" % (work, b // 1000), "w") as f:
        f.write('{"records":[%s]}' % recs)
PY
for f in "$work"/push.*.json; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		--data-binary @"$f" "$url/v1/collections/bench/push")
	[ "$code" = 200 ] || { echo "push failed: $code"; exit 1; }
done
rm -f "$work"/push.*.json
kill -TERM "$stack"
wait "$stack" 2>/dev/null
stack=

pgdir=$(mktemp -d /tmp/bs-pg.XXXXXX)
PG_FSYNC=on scripts/pg.sh start "$pgdir" >/dev/null || { echo "cannot start PostgreSQL"; exit 1; }
uri=$(scripts/pg.sh createdb "$pgdir" bench_migrate) || exit 1

# move LABEL CONFIG TARGET: time migrate-store and its peak RSS
move() {
	local label=$1 config=$2 target=$3 secs rss
	/usr/bin/time -o "$work/time" -f '%e %M' env BLINDSYNC_CONFIG="$config" "$BIN/blindsync-admin" migrate-store \
		--to "$target" >"$work/move.out" 2>"$work/move.err"
	read -r secs rss <"$work/time"
	grep -q '^check: ok' "$work/move.out" || { echo "$label failed:"; cat "$work/move.out" "$work/move.err"; exit 1; }
	printf 'migrate-store %-26s %7.1f s  %8.0f records/s  peak RSS %5.1f MiB  (verified: counts, digests, check)\n' \
		"$label" "$secs" "$(awk -v n="$NREC" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
}
echo "migrate-store of $NREC records of 1 KiB (one account, one collection; PostgreSQL 15 with fsync on):"
move "SQLite -> PostgreSQL" "$work/bench.lua" "$uri"
sed "s|^database = .*|database = \"$uri\"|" "$work/bench.lua" >"$work/pg.lua"
move "PostgreSQL -> new SQLite" "$work/pg.lua" "$work/data/back.db"
