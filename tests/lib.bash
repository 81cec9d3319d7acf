# tests/lib.bash: shared by every bats file (CGI and end-to-end).
#
# BACKEND: the store every stack of the tests uses: sqlite (the default: a
#   file in the data directory) or pg (a database of its own in the
#   PostgreSQL cluster of $BS_PG_DIR, which tests/with-pg.sh and
#   tests/run-all.sh start: scripts/pg.sh). bs_backend NAME: true when that
#   is NAME. bs_database DATA_DIR: the config's `database` for a store
#   whose data directory is DATA_DIR (the database is created on first use).
#   bs_sql QUERY [DATA_DIR]: one query against the store of DATA_DIR
#   ($BS_DATA), rows as `a|b` lines on either backend; the SQL must run
#   on both (see bs_sql below). bs_pg_dbname [DATA_DIR]: its PostgreSQL
#   database's name. Each stack gets side files of its own
#   (BLINDSYNC_RUNTIME_DIR, in bs_start), as each machine would.
# bs_store_files [DATA_DIR]: the files that hold the store's bytes, one a
#   line, for the scans that no secret reaches the disk: SQLite's database
#   and its side files in DATA_DIR; on PostgreSQL, after a CHECKPOINT (every
#   page reaches its data file), the database's directory in the cluster and
#   the WAL (both hold every database of the cluster: the scans look for
#   values of their own test).
# bs_config FILE [lua lines...]: write a config for this test file: a fresh
#   data directory, fast password hashing, plus the given Lua lines.
# bs_start: start the real stack (scripts/run.sh: handlers + Debian's nginx,
#   or the Apache front end named by $FRONT: apache, apache-fcgid, cgi)
#   on a free port with $BS_CONFIG; sets BS_URL. bs_stop stops it and fails if
#   a sanitizer reported anything in the handlers' log.
# req METHOD PATH [curl args...]: one request; sets $status, $body, $headers.
# bs_wait SECONDS CMD...: run CMD until it succeeds; fails after SECONDS.
#   Tests wait for an outcome, never for a time: SECONDS is only a generous
#   bound for a loaded machine, scaled by $BS_WAIT_SCALE (default 1).
# bs_front: the front end in use ($FRONT, default nginx).
# bs_front_server: the Server header that front end sends on its own answers.
# bs_front_supports FEATURE: true when the front end has FEATURE (a table of
#   them, front end by feature, in docs/DEPLOY-apache.md); bs_front_skip
#   FEATURE skips a test whose whole subject does not exist on this front.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

BS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$BS_ROOT/build}

BACKEND=${BACKEND:-sqlite}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
case "$BACKEND" in
sqlite) ;;
pg)
	if [ -z "${BS_PG_DIR:-}" ] || ! "$BS_ROOT/scripts/pg.sh" running "$BS_PG_DIR"; then
		echo "BACKEND=pg needs a running cluster in \$BS_PG_DIR: run the tests through tests/with-pg.sh" >&2
		exit 1
	fi
	;;
*) echo "BACKEND is sqlite or pg, not '$BACKEND'" >&2; exit 1 ;;
esac

bs_backend() { [ "$BACKEND" = "$1" ]; }

# bs_database DATA_DIR: print the `database` value for DATA_DIR's store; on
# PostgreSQL the database is named after DATA_DIR, created empty the first
# time and its URI kept in DATA_DIR/database-uri (later calls reuse it)
bs_database() {
	local dir=$1 name
	mkdir -p "$dir" || return 1
	if bs_backend sqlite; then
		echo "$dir/blindsync.db"
		return 0
	fi
	if [ ! -s "$dir/database-uri" ]; then
		name=bs_$(printf '%s' "$(cd "$dir" && pwd)" | sha1sum | cut -c1-24)
		"$BS_ROOT/scripts/pg.sh" createdb "$BS_PG_DIR" "$name" >"$dir/database-uri.tmp" &&
			mv "$dir/database-uri.tmp" "$dir/database-uri" || return 1
	fi
	cat "$dir/database-uri"
}

# bs_pg_dbname [DATA_DIR]: the name of DATA_DIR's PostgreSQL database
bs_pg_dbname() { sed -n 's|^postgresql:///\([^?]*\)?.*|\1|p' "${1:-$BS_DATA}/database-uri"; }

# bs_sql QUERY [DATA_DIR]: run QUERY (one or more statements) against the
# store of DATA_DIR (default $BS_DATA); prints the rows, columns joined by
# "|", NULL as nothing (sqlite3's and psql's unaligned output agree).
# Portable SQL: the time as a number from the shell ($(date +%s)), not
# strftime; `UPDATE ... RETURNING 1` and count the lines, not changes();
# CAST(a = b AS INTEGER), not a bare comparison (PostgreSQL prints t/f);
# coalesce(sum(x), 0), not total(); CASE, not max(a, b); hex() of a blob
# is upper(encode(x, 'hex')) on PostgreSQL: bs_hex COLUMN writes either.
bs_sql() {
	local dir=${2:-$BS_DATA}
	if bs_backend sqlite; then
		sqlite3 -cmd '.timeout 5000' "$dir/blindsync.db" "$1"
	else
		"$PG_BINDIR/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$(cat "$dir/database-uri")" -f - <<<"$1"
	fi
}

bs_store_files() {
	local dir=${1:-$BS_DATA} oid f
	if bs_backend sqlite; then
		for f in "$dir"/*; do [ -f "$f" ] && echo "$f"; done
		return 0
	fi
	"$BS_ROOT/scripts/pg.sh" checkpoint "$BS_PG_DIR" || return 1
	oid=$(bs_sql "SELECT oid FROM pg_database WHERE datname = current_database()" "$dir") || return 1
	[ -d "$BS_PG_DIR/data/base/$oid" ] || return 1
	find "$BS_PG_DIR/data/base/$oid" "$BS_PG_DIR/data/pg_wal" -type f
}

# bs_hex EXPR: the SQL for EXPR's bytes in upper-case hex on the backend in use
bs_hex() { if bs_backend sqlite; then echo "hex($1)"; else echo "upper(encode($1, 'hex'))"; fi; }

bs_config() {
	local file=$1 db; shift
	mkdir -p "$BS_DATA"
	db=$(bs_database "$BS_DATA") || return 1
	{
		echo "database = \"$db\""
		echo "secret_file = \"$BS_DATA/secret\""
		echo "password_hash = { iterations = 1000 }"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

bs_free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		(echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return 0; }
	done
	return 1
}

# bs_wait SECONDS CMD...: tests/wait.bash
. "$BS_ROOT/tests/wait.bash"

# bs_answers URL: true once something answers HTTP there (any status)
bs_answers() { curl -s -o /dev/null --max-time 10 "$1" 2>/dev/null; }

# bs_faulty_proxy FAULTS DIR: start tests/client/faulty_proxy.py in front of
# $BS_URL on a port the kernel chooses; its pid goes to DIR/proxy.pid and its
# address to PURL once it listens (fails after 60 s of waiting)
bs_faulty_proxy() {
	rm -f "$1.port"
	python3 "$BS_ROOT/tests/client/faulty_proxy.py" 0 "$BS_URL" "$1" >"$2/proxy.log" 2>&1 &
	echo $! >"$2/proxy.pid"
	bs_wait 60 test -s "$1.port" || { echo "faulty_proxy did not start:" >&2; cat "$2/proxy.log" >&2; return 1; }
	PURL=http://127.0.0.1:$(cat "$1.port")
	export PURL
}

# bs_up: the stack of bs_start answers, and it is ours: its run.sh lives
# and its front end wrote its pid file (a stack of another test that took
# the port between bs_free_port and the start would answer as well)
bs_up() {
	bs_answers "$BS_URL/v1/health" && kill -0 "$BS_PID" 2>/dev/null &&
		{ [ -s "$BS_RUN/nginx.pid" ] || [ -s "$BS_RUN/httpd.pid" ]; }
}

# bs_settled: the start of bs_start is over: the stack is up, or run.sh exited
bs_settled() { bs_up || ! kill -0 "$BS_PID" 2>/dev/null; }

# bs_gone PID: the process PID has exited
bs_gone() { ! kill -0 "$1" 2>/dev/null; }

# setup_file helper: a data dir, a config and a running stack
bs_setup_stack() {
	export BS_DATA=${BATS_FILE_TMPDIR}/data
	export BS_CONFIG=${BATS_FILE_TMPDIR}/blindsync.lua
	[ -f "$BS_CONFIG" ] || bs_config "$BS_CONFIG" "$@"
	bs_start
}

bs_start() {
	local tries
	export BS_RUN=${BATS_FILE_TMPDIR}/run
	export BS_LOG=${BATS_FILE_TMPDIR}/handlers.log
	# a PostgreSQL store's side files (limits, metrics, long-poll counters)
	# are the machine's, not the database's: each stack gets its own, as
	# two machines would, and nothing is left in /tmp/blindsync-UID
	export BLINDSYNC_RUNTIME_DIR=${BATS_FILE_TMPDIR}/runtime
	mkdir -p -m 0700 "$BLINDSYNC_RUNTIME_DIR"
	for tries in 1 2 3; do
		export BS_PORT=$(bs_free_port)
		export BS_URL=http://127.0.0.1:$BS_PORT
		BIN=$BIN PORT=$BS_PORT BLINDSYNC_CONFIG=$BS_CONFIG RUN_DIR=$BS_RUN HANDLER_LOG=$BS_LOG \
			FRONT=${FRONT:-nginx} setsid "$BS_ROOT/scripts/run.sh" >>"$BATS_FILE_TMPDIR/run.log" 2>&1 &
		export BS_PID=$!
		# ready when it answers; run.sh exits when it cannot start (a port
		# taken meanwhile: then again on another port). The bound is only
		# for a stack that hangs: a loaded machine may take long.
		bs_wait "${BS_START_SECONDS:-120}" bs_settled || true
		bs_up && return 0
		bs_stop || true
	done
	echo "could not start the stack; run.log:" >&2
	cat "$BATS_FILE_TMPDIR/run.log" >&2
	return 1
}

bs_stop() {
	if [ -n "${BS_PID:-}" ]; then
		kill -TERM "$BS_PID" 2>/dev/null
		bs_wait 60 bs_gone "$BS_PID" || true
		# only a group that still has its leader: the pid may be reused later
		kill -0 "$BS_PID" 2>/dev/null && kill -KILL -- -"$BS_PID" 2>/dev/null || true
		BS_PID=
	fi
	bs_check_sanitizers
}

# fail if any handler printed a sanitizer report
bs_check_sanitizers() {
	local f
	for f in "${BS_LOG:-}" "$BATS_FILE_TMPDIR"/*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
			echo "sanitizer report in $f:" >&2
			grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" >&2
			return 1
		fi
	done
	return 0
}

# req METHOD PATH [curl args...]
req() {
	local method=$1 path=$2; shift 2
	local hf=${BATS_TEST_TMPDIR}/headers bf=${BATS_TEST_TMPDIR}/body
	# curl leaves -o untouched on a body-less answer (304, 204): start empty
	: >"$bf"
	status=$(curl -s -o "$bf" -D "$hf" -w '%{http_code}' -X "$method" "$@" "$BS_URL$path")
	body=$(cat "$bf")
	headers=$(tr -d '\r' <"$hf")
}

# header NAME: the value of a response header of the last req
header() {
	printf '%s\n' "$headers" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" \
		'BEGIN{FS=": "} { k=tolower($1); if (k==n) { sub(/^[^:]*: /, ""); print; exit } }'
}

# assert_error STATUS CODE: the last response is that JSON error, with the common headers
assert_error() {
	assert_equal "$status" "$1"
	assert_equal "$(echo "$body" | jq -r .error.code)" "$2"
	[ -n "$(echo "$body" | jq -r .error.message)" ]
	assert_equal "$(header Content-Type)" "application/json"
	assert_common_headers
}

assert_common_headers() {
	assert_equal "$(header Cache-Control)" "no-store"
	assert_equal "$(header X-Content-Type-Options)" "nosniff"
	[ -n "$(header X-Request-Id)" ]
}

bs_front() { echo "${FRONT:-nginx}"; }

# the Server header of the answers the front end writes itself (a 413)
bs_front_server() {
	case "$(bs_front)" in
	nginx) echo nginx ;;
	*) echo Apache ;; # ServerTokens Prod
	esac
}

# bs_front_supports FEATURE:
#   worker-processes  long-running handlers with --processes worker processes
#                     (several per handler, each serving many requests)
#   handler-socket    the handlers listen on unix sockets run.sh starts
#   length-required   a body without Content-Length (chunked, or none) is 411
#                     (mod_fcgid buffers and always passes a length)
#   body-streaming    the body streams to the handler as it arrives (a client
#                     that drops mid-upload reaches the handler)
#   store-vanish-503  /v1/health answers 503 when the store file goes away
#                     (a fresh handler process would create a new store)
#   wait-slots        the per-process long-poll bound (half the threads)
#   steady-timing     a request costs no process start (rate-limit refill
#                     margins of the timing tests hold)
bs_front_supports() {
	local front
	front=$(bs_front)
	case "$1" in
	worker-processes | handler-socket | wait-slots)
		[ "$front" = nginx ] || [ "$front" = apache ] ;;
	length-required | body-streaming)
		[ "$front" != apache-fcgid ] ;;
	store-vanish-503 | steady-timing | live)
		[ "$front" != cgi ] ;;
	*) echo "bs_front_supports: unknown feature '$1'" >&2; return 2 ;;
	esac
}

# bs_front_skip FEATURE: skip the test (with the reason) where the front end
# lacks FEATURE, the whole subject of the test
bs_front_skip() {
	bs_front_supports "$1" || skip "FRONT=$(bs_front) has no $1 (docs/DEPLOY-apache.md)"
}
