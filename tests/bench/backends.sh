#!/bin/bash
# backends.sh: SQLite against PostgreSQL, same machine, same load, in one
# run (part of `make bench`, never of `make test`).
#
# For each backend a stack of its own (scripts/run.sh, nginx + handlers,
# BENCH_WORKERS (1) processes x 8 threads a handler; on PostgreSQL each
# process's threads share BENCH_PG_CONNECTIONS (2) connections, the set-up
# docs/CONFIG.md recommends and measures: BENCH_WORKERS=2
# BENCH_PG_CONNECTIONS=0 runs session 7's stack, 2 processes with one
# connection per thread) with the same bench config but for
# `database`: a file, or a database in a PostgreSQL 15 cluster of this run
# (scripts/pg.sh, fsync on, as a store of record would run; its defaults
# otherwise but shared_buffers 64 MiB). Then, per backend:
#   - push of 1,000 records x 1 KiB in one request, and pull of them in one
#     page: the handler's own logged duration (median of BENCH_SYNC_RUNS,
#     default 7), curl's total beside it;
#   - the mixed load of tests/bench/mixed.lua (35% status, 35% pull of 50,
#     30% push of 10 x 256 B) at 64 connections, BENCH_MIXED_SECONDS (20)
#     a run, median of BENCH_RUNS (3): requests/s and p99; the two
#     backends' runs alternate (SQLite, PostgreSQL, SQLite, ...).
# And two nodes on one PostgreSQL against one: a second stack on the same
# database, the same mixed load with 32 connections on each node at once
# (two wrk processes), against the one node's 64.
# Beside each mixed run, the CPU time the stack's handlers, its nginx and
# PostgreSQL's server took a request (cpu_ticks of lib.sh: /proc, no
# profiler). Where both runs keep the cores busy, the requests/s ratio
# follows SQLite's stack's CPU a request over PostgreSQL's (SQLite's runs
# leave some idle: its writers wait on its one write lock).
# Targets (issue 12): push < 60 ms and pull < 20 ms on PostgreSQL; mixed at
# c64: PostgreSQL >= 0.6 x SQLite's requests/s, p99 < 80 ms.
# BENCH_PG_SETTINGS: lines added to the cluster's postgresql.conf (e.g.
# "commit_delay = 500" on one line and "commit_siblings = 2" on the next), to try a
# tuning of docs/CONFIG.md. The load average is printed before and after:
# on a shared machine, compare the ratios of one run rather than figures.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/bench/lib.sh
BIN=${BIN:-$root/build}
RUNS=${BENCH_RUNS:-3}
WORKERS=${BENCH_WORKERS:-1}
PG_CONNECTIONS=${BENCH_PG_CONNECTIONS-2}
SYNC_RUNS=${BENCH_SYNC_RUNS:-7}
MIXED_SECS=${BENCH_MIXED_SECONDS:-20}
work=$(mktemp -d /tmp/bs-bench-be.XXXXXX)
# the cluster beside it: as root it runs as postgres, who cannot enter $work (0700)
pgdir=$(mktemp -d /tmp/bs-bench-pg.XXXXXX)
stacks=()
cleanup() {
	local p
	for p in "${stacks[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "backends.sh: $*" >&2; exit 1; }

PG_FSYNC=on scripts/pg.sh start "$pgdir" >/dev/null || die "cannot start PostgreSQL"
if [ -n "${BENCH_PG_SETTINGS:-}" ]; then
	printf '# backends.sh: BENCH_PG_SETTINGS\n%s\n' "$BENCH_PG_SETTINGS" >>"$pgdir/data/postgresql.conf"
	scripts/pg.sh stop "$pgdir" && PG_FSYNC=on scripts/pg.sh start "$pgdir" >/dev/null || die "cannot restart PostgreSQL"
fi
pg_uri=$(scripts/pg.sh createdb "$pgdir" bench) || die "cannot create the database"

# bench_config NAME DATABASE LEVEL: NAME's config; replaced in one rename (the
# handlers reload a changed file and must never read half of one)
bench_config() {
	mkdir -p "$work/$1"
	cat >"$work/$1/bench.lua.new" <<LUA
database = "$2"
secret_file = "$work/secret"
rate_limits = {}
log = { level = "$3" }
tokens = { access_ttl = 86400 }
plans = { default = { bytes = 1024 * GiB, collections = 10000 } }
LUA
	mv "$work/$1/bench.lua.new" "$work/$1/bench.lua"
}
# start_stack NAME DATABASE: a stack on a free port; sets URL and STACK (its
# session, cpu_ticks) (another
# program may take the port before nginx binds it: then again on another)
start_stack() {
	local port by try pid conns
	bench_config "$1" "$2" error
	for try in 1 2 3; do
		port=$((20000 + RANDOM % 20000))
		(echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && continue
		URL=http://127.0.0.1:$port
		conns=
		case "$2" in postgres*) conns=$PG_CONNECTIONS ;; esac
		BIN=$BIN PORT=$port BLINDSYNC_CONFIG=$work/$1/bench.lua RUN_DIR=$work/$1/run HANDLER_LOG=$work/$1/handlers.log \
			WORKERS=$WORKERS CONNECTIONS=$conns ACCESS_LOG=off setsid scripts/run.sh >"$work/$1/run.log" 2>&1 &
		pid=$!
		by=$((SECONDS + 120))
		until curl -sf "$URL/v1/health" >/dev/null || ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$by" ]; do
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null && curl -sf "$URL/v1/health" >/dev/null; then
			stacks+=("$pid")
			STACK=$pid
			return 0
		fi
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	cat "$work/$1/run.log" >&2
	die "the $1 stack does not start"
}

field() { sed "s/.*$1=\\([^ ]*\\).*/\\1/"; }

# account URL: register and log in one user; sets TOKEN
account() {
	local key user
	key=$(head -c 32 /dev/urandom | base64)
	user=bench$RANDOM$RANDOM
	curl -sf -o /dev/null -H 'Content-Type: application/json' "$1/v1/account/register" \
		--data "{\"username\":\"$user\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}" ||
		die "cannot register"
	local body="{\"username\":\"$user\",\"auth_key\":\"$key\"}"
	TOKEN=$(curl -sf -H 'Content-Type: application/json' "$1/v1/account/login" --data "$body" | jq -r .access_token)
	[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || die "cannot log in"
}

# timed NAME WHAT curl-args...: one request (timed_request, the log line
# waited for 30 s); appends "server_ms curl_ms" to $work/NAME/WHAT.times,
# the body in $work/NAME/WHAT.body
timed() {
	local name=$1 what=$2
	shift 2
	timed_request "$work/$name/handlers.log" "$work/$name/$what" 30 -H "Authorization: Bearer $TOKEN" "$@" ||
		die "$name: no timing of the $what requests"
}

# sync NAME DATABASE URL: push and pull of 1,000 x 1 KiB; sets PUSH PULL (server ms) and PUSHC PULLC (curl ms)
sync() {
	local name=$1 i p1k
	p1k=$(head -c 1024 /dev/urandom | base64 -w0)
	bench_config "$name" "$2" info
	wait_level "$work/$name/handlers.log" "$3" info || die "$name: the handlers did not take log level info"
	: >"$work/$name/push.times"; : >"$work/$name/pull.times"
	for i in $(seq 1 "$SYNC_RUNS"); do
		records_json 1000 "$p1k" "r$i-" >"$work/push.json"
		timed "$name" push -H 'Content-Type: application/json' --data-binary @"$work/push.json" \
			"$3/v1/collections/bpush$i/push"
		[ "$(jq '.accepted | length' "$work/$name/push.body")" = 1000 ] || die "$name: a push did not take 1000 records"
	done
	for i in $(seq 1 "$SYNC_RUNS"); do
		timed "$name" pull "$3/v1/collections/bpush1/pull?since=0&limit=1000"
		[ "$(jq '.records | length' "$work/$name/pull.body")" = 1000 ] || die "$name: a pull did not give 1000 records"
	done
	bench_config "$name" "$2" error
	wait_level "$work/$name/handlers.log" "$3" error || die "$name: the handlers did not take log level error"
	PUSH=$(awk '{ print $1 }' "$work/$name/push.times" | median); PUSHC=$(awk '{ print $2 }' "$work/$name/push.times" | median)
	PULL=$(awk '{ print $1 }' "$work/$name/pull.times" | median); PULLC=$(awk '{ print $2 }' "$work/$name/pull.times" | median)
}

# fill URL: the pull collection of the mixed load (1,000 x 256 B)
fill() {
	records_json 1000 "$(head -c 256 /dev/urandom | base64 -w0)" m >"$work/mixpull.json"
	curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary @"$work/mixpull.json" "$1/v1/collections/mixpull/push" || die "cannot fill the pull collection"
}
# mixed_run OUT CONNS URL...: one run of the mixed load, CONNS connections
# spread over the URLs (one wrk each, at once); appends "rps p99 bad" to OUT
# (rps summed over the URLs, p99 the worst, bad: non-2xx + socket errors);
# with CPU_SID (a stack's session) and CPU_PG (its cluster's data directory,
# or empty) set, " handlers nginx server": the CPU time each took a request
# (us) during the run (cpu_ticks)
mixed_run() {
	local out=$1 conns=$2 n u wpids c0="0 0 0" c1="0 0 0"
	shift 2
	n=$#
	wpids=()
	[ -z "${CPU_SID:-}" ] || c0=$(cpu_ticks "$CPU_SID" "$CPU_PG")
	for u in "$@"; do
		BENCH_TOKEN=$TOKEN BENCH_PUSH_COLLECTION=mix BENCH_PULL_COLLECTION=mixpull BENCH_PULL_MAX=950 \
			wrk -t$((2 / n > 0 ? 2 / n : 1)) -c$((conns / n)) -d"${MIXED_SECS}s" --latency -s tests/bench/mixed.lua "$u" \
			2>/dev/null | grep '^RESULT' >"$out.run.${u##*:}" &
		wpids+=($!)
	done
	wait "${wpids[@]}"
	[ -z "${CPU_SID:-}" ] || c1=$(cpu_ticks "$CPU_SID" "$CPU_PG")
	cat "$out.run".* | awk -v c0="$c0" -v c1="$c1" -v cpu="${CPU_SID:-}" -v hz="$(getconf CLK_TCK)" -v secs="$MIXED_SECS" '
		{ for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
		rps += v["rps"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"]; bad += v["non2xx"] + v["errors"] }
		END { printf "%.1f %.3f %d", rps, p99, bad
			if (cpu != "" && rps > 0) {
				split(c0, a); split(c1, b)
				for (i = 1; i <= 3; i++) printf " %.0f", (b[i] - a[i]) * 1e6 / hz / (rps * secs)
			}
			printf "\n" }' >>"$out"
	rm -f "$out.run".*
}
# mixed_sum OUT: the runs of OUT summed up: sets M_RPS M_P99 (medians) M_BAD
# (total), and M_CPU "handlers nginx server" (medians, us a request) when
# the runs measured it
mixed_sum() {
	M_RPS=$(col_median 1 "$1"); M_P99=$(col_median 2 "$1")
	M_BAD=$(awk '{ s += $3 } END { print s + 0 }' "$1")
	M_CPU=
	[ "$(awk '{ print NF; exit }' "$1")" != 6 ] ||
		M_CPU="$(col_median 4 "$1" 0) $(col_median 5 "$1" 0) $(col_median 6 "$1" 0)"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "blindsync backends bench: $(nproc) cores, SQLite against PostgreSQL 15 (fsync on), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(loadavg)"
case "$PG_CONNECTIONS" in
"") pgc="the handlers' defaults (2 for push, pull and status)" ;;
0) pgc="one per thread" ;;
*) pgc=$PG_CONNECTIONS ;;
esac
echo "each handler: $WORKERS process(es) x 8 threads; PostgreSQL connections per process: $pgc"
[ -z "${BENCH_PG_SETTINGS:-}" ] || echo "PostgreSQL settings added: $(tr '\n' ';' <<<"$BENCH_PG_SETTINGS")"
declare -A R URLS TOKENS SIDS
for be in sqlite pg; do
	if [ $be = sqlite ]; then db=$work/sqlite/data/blindsync.db; mkdir -p "$work/sqlite/data"; else db=$pg_uri; fi
	start_stack "$be" "$db"
	url=$URL SIDS[$be]=$STACK
	account "$url"
	sync "$be" "$db" "$url"
	R[$be.push]=$PUSH R[$be.pushc]=$PUSHC R[$be.pull]=$PULL R[$be.pullc]=$PULLC
	fill "$url"
	URLS[$be]=$url TOKENS[$be]=$TOKEN
	: >"$work/$be/mixed"
done
# the mixed runs of the two backends alternate, so that a machine that
# speeds up or slows down during the bench moves both alike
for i in $(seq 1 "$RUNS"); do
	for be in sqlite pg; do
		TOKEN=${TOKENS[$be]}
		CPU_PG=
		[ $be = sqlite ] || CPU_PG=$pgdir/data
		CPU_SID=${SIDS[$be]} CPU_PG=$CPU_PG mixed_run "$work/$be/mixed" 64 "${URLS[$be]}"
	done
done
for be in sqlite pg; do
	mixed_sum "$work/$be/mixed"
	R[$be.rps]=$M_RPS R[$be.p99]=$M_P99 R[$be.bad]=$M_BAD
	read -r R[$be.cpuh] R[$be.cpun] R[$be.cpus] <<<"$M_CPU"
done
# node B on the same database (its own run dir, log and side files)
mkdir -p "$work/pg-b"
start_stack pg-b "$pg_uri"
TOKEN=${TOKENS[pg]}
: >"$work/pg/mixed2"
for i in $(seq 1 "$RUNS"); do
	mixed_run "$work/pg/mixed2" 64 "${URLS[pg]}" "$URL"
done
mixed_sum "$work/pg/mixed2"
R[pg2.rps]=$M_RPS R[pg2.p99]=$M_P99 R[pg2.bad]=$M_BAD

printf '\n%-40s %18s %18s\n' "" SQLite PostgreSQL
printf '%-40s %18s %18s   %s\n' "push 1,000 x 1 KiB, server ms (curl ms)" "${R[sqlite.push]} (${R[sqlite.pushc]})" "${R[pg.push]} (${R[pg.pushc]})" "[PostgreSQL < 60 ms]"
printf '%-40s %18s %18s   %s\n' "pull 1,000 x 1 KiB, server ms (curl ms)" "${R[sqlite.pull]} (${R[sqlite.pullc]})" "${R[pg.pull]} (${R[pg.pullc]})" "[PostgreSQL < 20 ms]"
printf '%-40s %18s %18s   %s\n' "mixed c64, requests/s" "${R[sqlite.rps]}" "${R[pg.rps]}" "[PostgreSQL / SQLite >= 0.6: $(ratio "${R[pg.rps]}" "${R[sqlite.rps]}")]"
printf '%-40s %s\n' "  run by run, PostgreSQL / SQLite" "$(paste -d' ' <(cut -d' ' -f1 "$work/pg/mixed") <(cut -d' ' -f1 "$work/sqlite/mixed") |
	awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), ($2 > 0 ? $1 / $2 : 0) }')"
printf '%-40s %18s %18s   %s\n' "mixed c64, p99 ms" "${R[sqlite.p99]}" "${R[pg.p99]}" "[PostgreSQL < 80 ms]"
printf '%-40s %18s %18s\n' "mixed c64, failed answers (all runs)" "${R[sqlite.bad]}" "${R[pg.bad]}"
printf '%-40s %18s %18s\n' "mixed c64, CPU us a request: handlers" "${R[sqlite.cpuh]}" "${R[pg.cpuh]}"
printf '%-40s %18s %18s\n' "  nginx" "${R[sqlite.cpun]}" "${R[pg.cpun]}"
printf '%-40s %18s %18s\n' "  PostgreSQL's server" "-" "${R[pg.cpus]}"
# each stack's CPU a request without wrk (SQLite's has no server of its own)
sqlite_cpu=$((${R[sqlite.cpuh]:-0} + ${R[sqlite.cpun]:-0}))
pg_cpu=$((${R[pg.cpuh]:-0} + ${R[pg.cpun]:-0} + ${R[pg.cpus]:-0}))
printf '%-40s %18s %18s\n' "  the stack (without wrk)" "$sqlite_cpu" "$pg_cpu"
echo "  (PostgreSQL's server alone / SQLite's whole stack: $(ratio "${R[pg.cpus]:-0}" "$sqlite_cpu");" \
	"SQLite's stack / PostgreSQL's: $(ratio "$sqlite_cpu" "$pg_cpu"))"
echo
echo "two nodes on one PostgreSQL (32 + 32 connections) against one node (64), mixed load:"
echo "  one node:  ${R[pg.rps]} req/s, p99 ${R[pg.p99]} ms"
echo "  two nodes: ${R[pg2.rps]} req/s, p99 ${R[pg2.p99]} ms, ${R[pg2.bad]} failed answers; two / one: $(ratio "${R[pg2.rps]}" "${R[pg.rps]}")"
echo "  (one machine of $(nproc) cores runs both nodes, PostgreSQL and wrk: a second node adds processes, not cores)"
echo "load average at the end: $(loadavg)"
