#!/bin/bash
# export.sh: the export/import benchmark (api.md §8). Never part of `make test`.
#
# Starts the real stack (scripts/run.sh: nginx + handlers) on a free port with
# a bench config, fills one account with BENCH_EXPORT_RECORDS (default
# 100,000) records of 1 KiB, pushed in batches of 1,000, then measures:
#   - GET /v1/account/export of it to /dev/null: seconds, document size, and
#     the peak RSS (VmHWM) of the account handler's processes;
#   - POST /v1/account/import of that document into a second, empty account;
#   - the same two with an account holding one backup of
#     BENCH_EXPORT_BACKUP_MIB MiB (default 200; 0 skips it).
# Memory must stay flat: neither route holds rows, a backup or the document.
# The import's log line gives how long its second pass held the write lock.
# Environment: BIN (default ./build).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
NREC=${BENCH_EXPORT_RECORDS:-100000}
BACKUP_MIB=${BENCH_EXPORT_BACKUP_MIB:-200}
work=$(mktemp -d /tmp/blindsync-bench-export.XXXXXX)
stack=
trap '[ -n "$stack" ] && kill -TERM $stack 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cat >"$work/bench.lua" <<LUA
database = "$work/data/blindsync.db"
secret_file = "$work/data/secret"
rate_limits = {}
log = { level = "info" }   -- the import's log line tells how long it held the write lock
tokens = { access_ttl = 86400 }
limits = { max_import_bytes = 2 * GiB }
plans = { default = { bytes = 1024 * GiB, backup_bytes = 512 * MiB } }
LUA
start_bench_stack || exit 1


# account NAME: register and log in; prints the access token
key=$(head -c 32 /dev/urandom | base64)
account() {
	curl -sf -H 'Content-Type: application/json' "$url/v1/account/register" \
		--data "{\"username\":\"$1\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}" >/dev/null || return 1
	curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" \
		--data "{\"username\":\"$1\",\"auth_key\":\"$key\"}" | jq -r .access_token
}

# the push bodies: batches of 1,000 records of 1 KiB of random bytes
python3 - "$work" "$NREC" <<'PY'
import base64, os, sys
work, n = sys.argv[1], int(sys.argv[2])
for b in range(0, n, 1000):
    recs = ",".join('{"id":"r%d","base_version":0,"payload":"%s"}' % (i, base64.b64encode(os.urandom(1024)).decode())
                    for i in range(b, min(b + 1000, n)))
    with open("%s/push.%06d.json" % (work, b // 1000), "w") as f:
        f.write('{"records":[%s]}' % recs)
PY

src=$(account source) || { echo "cannot register"; exit 1; }
t0=$(date +%s.%N)
for f in "$work"/push.*.json; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $src" -H 'Content-Type: application/json' \
		--data-binary @"$f" "$url/v1/collections/bench/push")
	[ "$code" = 200 ] || { echo "push failed: $code"; exit 1; }
done
t1=$(date +%s.%N)
rm -f "$work"/push.*.json
fill_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# run_pair LABEL SOURCE_TOKEN: export (timed, to /dev/null), export to a file,
# import into a fresh account (timed); RSS of the account handler after each
run_pair() {
	local label=$1 tok=$2 before out exp_s exp_bytes rss_exp dst imp imp_s rss_imp
	before=$(peak_rss account)
	out=$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}' -H "Authorization: Bearer $tok" \
		"$url/v1/account/export")
	read -r code exp_s exp_bytes <<<"$out"
	[ "$code" = 200 ] || { echo "export failed: $code"; exit 1; }
	rss_exp=$(peak_rss account)
	curl -s -o "$work/export.json" -H "Authorization: Bearer $tok" "$url/v1/account/export"
	jq -e '.format == "blindsync-export-1"' "$work/export.json" >/dev/null || { echo "export is not a document"; exit 1; }
	dst=$(account "dst$RANDOM$RANDOM") || exit 1
	imp=$(curl -s -o "$work/import.out" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $dst" \
		-H 'Content-Type: application/json' --data-binary @"$work/export.json" "$url/v1/account/import")
	read -r code imp_s <<<"$imp"
	[ "$code" = 204 ] || { echo "import failed: $code $(cat "$work/import.out")"; exit 1; }
	rss_imp=$(peak_rss account)
	# the copy is the same document, but for the account's own name and kdf,
	# and backup versions (this server gave the exported ones already, so the
	# copies got the next ones)
	local same='del(.username, .kdf) | .backups |= map(del(.version))'
	jq -c "$same" "$work/export.json" >"$work/a.json"
	curl -s -H "Authorization: Bearer $dst" "$url/v1/account/export" | jq -c "$same" >"$work/b.json"
	if ! cmp "$work/a.json" "$work/b.json"; then
		echo "the imported account does not export the same document"
		[ -n "${BENCH_KEEP:-}" ] && { cp "$work/a.json" "$work/b.json" "$work/export.json" "$BENCH_KEEP/"; cp "$work/handlers.log" "$BENCH_KEEP/"; }
		exit 1
	fi
	rm -f "$work/a.json" "$work/b.json"
	rm -f "$work/export.json"
	lock=$(grep -o 'written in [0-9]* ms' "$work/handlers.log" | tail -1 | grep -o '[0-9]*')
	printf 'export of %s: %.2f s, peak RSS %s MiB (a %s MiB document; the account handler had %s MiB before)\n' \
		"$label" "$exp_s" "$(kib_mib "$rss_exp")" "$(kib_mib $((exp_bytes / 1024)))" "$(kib_mib "$before")"
	printf 'import of that export into an empty account: %.2f s, peak RSS %s MiB (the write lock held %s s)\n' \
		"$imp_s" "$(kib_mib "$rss_imp")" "$(awk -v m="${lock:-0}" 'BEGIN { printf "%.2f", m / 1000 }')"
}

echo "blindsync export/import bench: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "(the account was filled with $NREC records in ${fill_s} s, by pushes of 1,000)"
run_pair "$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$NREC") records x 1 KiB" "$src"

if [ "$BACKUP_MIB" -gt 0 ]; then
	big=$(account bigbackup) || exit 1
	head -c $((BACKUP_MIB * 1048576)) /dev/urandom >"$work/backup.bin"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $big" \
		--data-binary @"$work/backup.bin" "$url/v1/backups/device")
	[ "$code" = 201 ] || { echo "backup upload failed: $code"; exit 1; }
	rm -f "$work/backup.bin"
	run_pair "an account with one $BACKUP_MIB MiB backup" "$big"
fi
