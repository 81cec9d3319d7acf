#!/bin/bash
# sharing.sh: the sharing benchmark of `make bench` (issue 14), through
# nginx on its own stack. Two figures, each the handler's own server time
# (its log line, at log level info) with curl's total beside it, median of
# BENCH_SHARE_RUNS (default 9) runs, interleaved so that the machine's
# drift hits both sides alike:
#   - a pull of a collection of BENCH_SHARE_RECORDS (10,000) records x 256
#     bytes in one page, by a member (?owner=) against the owner's pull of
#     the same collection (target: within 10%);
#   - a push of 10 records x 1 KiB by the owner to a collection with
#     BENCH_SHARE_MEMBERS (64) members against a push to an unshared one
#     (the members' account_version bump is one statement).
# The grants are random bytes (the server never opens them).
# BENCH_SHARE_BACKEND=pg runs it on PostgreSQL instead of a new SQLite
# file: a cluster of its own (scripts/pg.sh, fsync on, as backends.sh runs
# it), removed at the end; or BENCH_SHARE_DATABASE=postgresql://... names
# an empty database to use.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_SHARE_RUNS:-9}
NREC=${BENCH_SHARE_RECORDS:-10000}
NMEM=${BENCH_SHARE_MEMBERS:-64}
work=$(mktemp -d /tmp/blindsync-share.XXXXXX)
pgdir=
trap 'kill -TERM $stack 2>/dev/null; wait 2>/dev/null; [ -z "$pgdir" ] || scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1; rm -rf "$work"' EXIT
backend="SQLite"
if [ "${BENCH_SHARE_BACKEND:-sqlite}" = pg ] && [ -z "${BENCH_SHARE_DATABASE:-}" ]; then
	pgdir=$(mktemp -d /tmp/bs-bench-pg.XXXXXX)
	PG_FSYNC=on scripts/pg.sh start "$pgdir" >/dev/null || { echo "sharing.sh: cannot start PostgreSQL" >&2; exit 1; }
	BENCH_SHARE_DATABASE=$(scripts/pg.sh createdb "$pgdir" share) || { echo "sharing.sh: no database" >&2; exit 1; }
fi
if [ -n "${BENCH_SHARE_DATABASE:-}" ]; then
	backend="PostgreSQL"
	# the side files (long-poll counters, limits) of this stack alone
	export BLINDSYNC_RUNTIME_DIR=$work/side
	mkdir -m 700 "$work/side"
fi

# bench_config LEVEL: replaced in one rename (the handlers reload a changed file)
bench_config() {
	cat >"$work/bench.lua.new" <<LUA
database = "${BENCH_SHARE_DATABASE:-$work/data/blindsync.db}"
secret_file = "$work/data/secret"
rate_limits = {}
password_hash = { iterations = 1000 }
log = { level = "$1" }
tokens = { access_ttl = 86400 }
limits = { max_pull_records = $NREC, max_push_records = $NREC, max_body_bytes = 64 * MiB }
plans = { default = { bytes = 1024 * GiB, collections = 10000 } }
sharing = { max_members = $((NMEM + 1)), max_pending_invitations = $((NMEM + 1)) }
LUA
	mv "$work/bench.lua.new" "$work/bench.lua"
}
mkdir -p "$work/data" # the secret's directory (an SQLite store would make it)
bench_config error
start_bench_stack || exit 1

b64r() { head -c "$1" /dev/urandom | base64 -w0; }

# user NAME: register and log in; prints the access token
user() {
	local key
	key=$(b64r 32)
	curl -sf -o /dev/null -H 'Content-Type: application/json' "$url/v1/account/register" \
		--data "{\"username\":\"$1\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}" || return 1
	curl -sf -H 'Content-Type: application/json' "$url/v1/account/login" \
		--data "{\"username\":\"$1\",\"auth_key\":\"$key\"}" | jq -r .access_token
}
# keys TOKEN: publish random public keys
keys() {
	curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		"$url/v1/account/keys" --data "{\"x25519\":\"$(b64r 32)\",\"ed25519\":\"$(b64r 32)\"}"
}
# share OWNER_TOKEN COLLECTION NAME TOKEN ROLE: invite and accept
share() {
	local id
	id=$(curl -sf -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		"$url/v1/collections/$2/invitations" \
		--data "{\"to\":\"$3\",\"role\":\"$5\",\"key_version\":1,\"sealed\":\"$(b64r 80)\",\"signature\":\"$(b64r 64)\"}" |
		jq -r .id) || return 1
	curl -sf -o /dev/null -X POST -H "Authorization: Bearer $4" "$url/v1/invitations/$id/accept"
}
# timed NAME TOKEN curl-args...: one request (timed_request); "server_ms curl_ms"
# appended to $work/NAME.times, the body in $work/NAME.body
timed() {
	local name=$1 tok=$2
	shift 2
	timed_request "$work/handlers.log" "$work/$name" 5 -H "Authorization: Bearer $tok" "$@"
}

owner=$(user owner) && keys "$owner" || { echo "sharing.sh: cannot make the owner" >&2; exit 1; }
member=$(user member) && keys "$member" || exit 1
# the pulled collection: NREC records x 256 bytes, one member with read
records_json "$NREC" "$(b64r 256)" r >"$work/fill.json"
curl -sf -o /dev/null -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' \
	--data-binary @"$work/fill.json" "$url/v1/collections/big/push" || { echo "sharing.sh: cannot fill" >&2; exit 1; }
share "$owner" big member "$member" read || { echo "sharing.sh: cannot share" >&2; exit 1; }
# the pushed collections: one with NMEM members, one without
for c in wide alone; do
	curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $owner" "$url/v1/collections/$c" || exit 1
done
for i in $(seq 1 "$NMEM"); do
	t=$(user "member-$i") && keys "$t" && share "$owner" wide "member-$i" "$t" write ||
		{ echo "sharing.sh: cannot add member $i" >&2; exit 1; }
done
[ "$(curl -sf -H "Authorization: Bearer $owner" "$url/v1/collections/wide/members" | jq '.members | length')" = $((NMEM + 1)) ] ||
	{ echo "sharing.sh: the wide collection lacks members" >&2; exit 1; }
p1k=$(b64r 1024)
for i in $(seq 1 "$RUNS"); do
	records_json 10 "$p1k" "w$i-" >"$work/wide$i.json"
	records_json 10 "$p1k" "a$i-" >"$work/alone$i.json"
done

bench_config info
wait_level "$work/handlers.log" "$url" info || exit 1
: >"$work/own.times"; : >"$work/shared.times"; : >"$work/wide.times"; : >"$work/alone.times"
for i in $(seq 1 "$RUNS"); do
	timed own "$owner" "$url/v1/collections/big/pull?since=0" || exit 1
	[ "$(jq '.records | length' "$work/own.body")" = "$NREC" ] || { echo "sharing.sh: short pull" >&2; exit 1; }
	timed shared "$member" "$url/v1/collections/big/pull?since=0&owner=owner" || exit 1
	[ "$(jq '.records | length' "$work/shared.body")" = "$NREC" ] || { echo "sharing.sh: short shared pull" >&2; exit 1; }
	timed alone "$owner" -H 'Content-Type: application/json' --data-binary @"$work/alone$i.json" \
		"$url/v1/collections/alone/push" || exit 1
	timed wide "$owner" -H 'Content-Type: application/json' --data-binary @"$work/wide$i.json" \
		"$url/v1/collections/wide/push" || exit 1
done
bench_config error

own=$(col_median 1 "$work/own.times"); own_c=$(col_median 2 "$work/own.times")
shared=$(col_median 1 "$work/shared.times"); shared_c=$(col_median 2 "$work/shared.times")
alone=$(col_median 1 "$work/alone.times"); alone_c=$(col_median 2 "$work/alone.times")
wide=$(col_median 1 "$work/wide.times"); wide_c=$(col_median 2 "$work/wide.times")
echo
echo "sharing on $backend (server time: the handler's logged duration, median of $RUNS; curl's total beside it):"
echo "  pull of $NREC records x 256 B, one page: owner $own ms (curl $own_c ms), member (?owner=) $shared ms (curl $shared_c ms); member / owner: $(ratio "$shared" "$own")   [<= 1.10]"
echo "  push of 10 x 1 KiB: unshared $alone ms (curl $alone_c ms), with $NMEM members $wide ms (curl $wide_c ms); shared / unshared: $(ratio "$wide" "$alone")"
