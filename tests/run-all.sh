#!/bin/bash
# tests/run-all.sh: what `make test` runs.
#   1. deps (apt-get when missing), a warnings-as-errors build
#   2. unit tests of every core module + fuzz corpora replayed; then the
#      JavaScript SDK's tests (web/sdk, node --test: the bs1 vectors, and
#      the Client against its own stack of build/, so after the build);
#      then the page (web/app) in headless chromium (step "browser"; its
#      serving also behind the three Apache front ends)
#   3. the handlers driven directly as CGI programs (tests/cgi)
#   4. end-to-end tests through the real nginx (tests/e2e, whole); behind the
#      three Apache front ends (FRONT=apache, apache-fcgid, cgi:
#      tests/frontends.sh, side by side) the files where a front end shows
#      (E2E_FRONT) on each, and the rest but the load and crash files
#      (E2E_HEAVY) dealt among them; then the handlers under valgrind behind
#      nginx (tests/valgrind)
#   5. 2-4 again against an ASan+UBSan build (build-san/), behind nginx only
#      (the Apache front ends run the same handler code), e2e without
#      E2E_HEAVY
#   The blindsync CLI's tests (tests/client) run after the e2e step, behind
#   nginx only, in both passes.
#   PostgreSQL: a cluster of the run's own (scripts/pg.sh, in a temporary
#   directory, a unix socket only, removed at exit whatever happens). The
#   unit tests with a PostgreSQL part (tests/unit/pgtest.h) run it in both
#   passes (BS_TEST_PG: a database of the cluster, a schema per test; they
#   may stop and start the cluster: nothing else uses it meanwhile), and the
#   whole e2e suite runs once more with BACKEND=pg behind nginx, in the
#   first pass (step e2e-pg: a database per stack, tests/lib.bash).
# Prints one "N passed, N failed" line at the end; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh build run test apache || exit 1

pass=0
fail=0
times=
logdir=$root/build/test-logs
mkdir -p "$logdir"

# tally OUTFILE: add the counts of unit-test summary lines and TAP lines
tally() {
	local p f
	p=$(awk '/: [0-9]+ passed, [0-9]+ failed$/ { for (i = 1; i <= NF; i++) if ($i == "passed,") s += $(i-1) } END { print s + 0 }' "$1")
	f=$(awk '/: [0-9]+ passed, [0-9]+ failed$/ { for (i = 1; i <= NF; i++) if ($i == "failed") s += $(i-1) } END { print s + 0 }' "$1")
	p=$((p + $(grep -c '^ok ' "$1")))
	f=$((f + $(grep -c '^not ok ' "$1")))
	pass=$((pass + p))
	fail=$((fail + f))
}

# step NAME CMD...: run, show output, count; a non-zero exit with no counted failure counts as one
step() {
	local name=$1; shift
	local out=$logdir/$name.log
	echo "== $name"
	local before=$fail t0=$SECONDS
	"$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	tally "$out"
	times="$times $name=$((SECONDS - t0))s"
	if [ "$rc" -ne 0 ] && [ "$fail" -eq "$before" ]; then
		echo "!! $name exited $rc"
		fail=$((fail + 1))
	fi
}

jobs=$(nproc 2>/dev/null || echo 2)
# bats files run side by side (each starts its own stack on its own port and
# data directory); the tests of one file stay in order. Most of their time is
# waiting (long-polls, timeouts, process starts), so more files than cores.
BATS_JOBS=${BATS_JOBS:-$((jobs + 1))}
pbats() { local bin=$1; shift; BIN=$bin bats --tap --jobs "$BATS_JOBS" --no-parallelize-within-files "$@"; }

# the PostgreSQL cluster: started once, destroyed on any exit; the e2e
# files see it (BS_PG_DIR) in the PostgreSQL pass only
pg_dir=$(mktemp -d /tmp/bs-pg.XXXXXX) || exit 1
unset BS_PG_DIR
trap 'scripts/pg.sh destroy "$pg_dir" || echo "run-all.sh: could not remove $pg_dir" >&2' EXIT
trap 'exit 130' INT TERM
# pgbats BIN FILES...: as pbats, every stack's store in the cluster, each
# process of every handler sharing PG_CONNECTIONS (2) connections among its
# threads (run.sh's CONNECTIONS, --connections: push, pull and status do by
# default, account and backups too here; PG_CONNECTIONS=0: one per thread)
pgbats() {
	scripts/pg.sh start "$pg_dir" && BACKEND=pg BS_PG_DIR=$pg_dir CONNECTIONS=${PG_CONNECTIONS-2} pbats "$@"
}
# pg_up: the cluster runs, with the unit tests' database
pg_up() {
	scripts/pg.sh start "$pg_dir" && BS_TEST_PG=$(scripts/pg.sh createdb "$pg_dir" unit) || return 1
	export BS_TEST_PG BS_TEST_PG_STOP="scripts/pg.sh kill $pg_dir" BS_TEST_PG_START="scripts/pg.sh start $pg_dir"
}
step build make -s -j"$jobs" all
# (not through step: its pipe would run pg_up in a subshell, losing the exports)
echo "== pg"
pg_up || { echo "!! pg: no PostgreSQL cluster: the PostgreSQL tests will fail"; fail=$((fail + 1)); }
step unit make -s -j"$jobs" unit
# the JavaScript SDK: Node 20+ and its pinned packages (deps.sh node), then
# node's test runner in TAP, whose top-level "ok"/"not ok" lines tally()
# counts (the tests are all top level: no subtest is counted twice);
# test/client.test.js starts scripts/run.sh with the handlers of $BIN;
# Node 20 has a WebSocket (test/live.test.js) only when asked for one
sdk() {
	local ws=()
	node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' || ws=(--experimental-websocket)
	scripts/deps.sh node && (cd web/sdk && BIN="$root/build" node "${ws[@]}" --test --test-reporter=tap test/*.test.js)
}
step sdk sdk
# the page (web/app) in headless chromium against the stack and the CLI,
# behind nginx; then the page as each Apache front end serves it
# (test/serve.test.js: its headers, gzip, a sign-in); where chromium cannot
# be installed the tests skip themselves with a message
browser() {
	local rc=0 front
	scripts/deps.sh node || return 1
	scripts/deps.sh browser || echo "browser: chromium could not be installed: the page's test will skip" >&2
	(cd web/app && BIN="$root/build" node --test --test-reporter=tap test/*.test.js) || rc=1
	for front in ${FRONTENDS:-apache apache-fcgid cgi}; do
		(cd web/app && FRONT=$front BIN="$root/build" node --test --test-reporter=tap test/serve.test.js) || rc=1
	done
	return $rc
}
step browser browser
step cgi pbats "$root/build" tests/cgi
step e2e pbats "$root/build" tests/e2e
step e2e-pg pgbats "$root/build" tests/e2e
# the blindsync CLI against the stack, behind nginx only (the client does not
# care which front end answers)
step client pbats "$root/build" tests/client
# The Apache front ends and the sanitizer pass run a representative part of
# the e2e suite (to keep make test under 30 minutes on 2 cores): every file
# but the store's load and crash tests, whose code paths are the handlers'
# and the store's, the same behind any front end, and which the nginx passes
# (SQLite and PostgreSQL) run in full: E2E_HEAVY below. E2E_ALL=1 runs all.
E2E_HEAVY='backups_big|sync_crash|sync_concurrency|sync_quota|paging|nodes|pg_crash|relay|sharing_nodes|ratelimit_default'
e2e_part=$(ls tests/e2e/*.bats | grep -vE "/($E2E_HEAVY)\.bats\$" | tr '\n' ' ')
[ "${E2E_ALL:-0}" = 1 ] && e2e_part=tests/e2e
# Behind Apache, each of the three front ends runs the files where the front
# end shows (E2E_FRONT: the protocol, request and error handling, uploads,
# long-polls, the sync routes, the WebSocket proxy) and a third of the rest
# of e2e_part, dealt in turn, so that every file of it runs behind one Apache
# front end at least (E2E_ALL=1: every front end runs all).
E2E_FRONT='foundation|frontend_errors|stack|slow_uploads|live|sync'
front_core=$(ls tests/e2e/*.bats | grep -E "/($E2E_FRONT)\.bats\$" | tr '\n' ' ')
i=0
TESTS_apache=$front_core TESTS_apache_fcgid=$front_core TESTS_cgi=$front_core
for f in $(ls tests/e2e/*.bats | grep -vE "/($E2E_HEAVY|$E2E_FRONT)\.bats\$"); do
	case $((i++ % 3)) in
	0) TESTS_apache+=" $f" ;;
	1) TESTS_cgi+=" $f" ;;
	*) TESTS_apache_fcgid+=" $f" ;;
	esac
done
[ "${E2E_ALL:-0}" = 1 ] && TESTS_apache=tests/e2e TESTS_apache_fcgid=tests/e2e TESTS_cgi=tests/e2e
export TESTS_apache TESTS_apache_fcgid TESTS_cgi
# the Apache front ends, all three at once, each with 2 files side by side
# (cgi, the slowest to start a request, is dealt the lighter files):
# the suite mostly waits, so 6 bats workers fit on 2 cores
step e2e-apache env BIN="$root/build" FRONTENDS="${FRONTENDS:-apache apache-fcgid cgi}" FRONTENDS_JOBS=3 \
	BATS_ARGS="--jobs ${FRONTENDS_BATS_JOBS:-2} --no-parallelize-within-files" TESTS="$e2e_part" tests/frontends.sh
step valgrind env BIN="$root/build" bats --tap tests/valgrind

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step san-build make -s -j"$jobs" SAN=1 all
step san-unit make -s -j"$jobs" SAN=1 unit
# the sanitizer pass stays behind nginx only (the handlers' code is the same
# behind Apache; the fronts' differences are covered above)
step san-cgi pbats "$root/build-san" tests/cgi
# shellcheck disable=SC2086
step san-e2e pbats "$root/build-san" $e2e_part
step san-client pbats "$root/build-san" tests/client

echo "step times:$times"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
