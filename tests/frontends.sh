#!/bin/bash
# tests/frontends.sh: the end-to-end suite (tests/e2e, unchanged) behind each
# Apache front end of scripts/run.sh: FRONT=apache (mod_proxy_fcgi),
# apache-fcgid (mod_fcgid) and cgi (mod_cgid), in turn.
#
# Environment: BIN (the build dir, default ./build), FRONTENDS (the front ends
# to run, default "apache apache-fcgid cgi"), FRONTENDS_JOBS (how many run
# side by side, default 1: the suite mostly waits, so 3 fit on 2 cores, but
# its timing checks get less margin), BATS_ARGS (more bats options, e.g.
# "-f long-poll"; files after them: TESTS, default tests/e2e; TESTS_<front>,
# with "-" for "_" in its name, e.g. TESTS_apache_fcgid, overrides TESTS for
# that front end).
#
# Output: TAP per front end (with each test's time), each test name prefixed
# with [FRONT], then a "# FRONT=...: ... s" line with the time it took and the
# slowest tests, then one "N passed, N failed" line. Logs in
# $BIN/test-logs/frontend-FRONT.tap.
# Exits non-zero when a test failed.
set -u
cd "$(dirname "$0")/.."
root=$PWD
BIN=${BIN:-$root/build}
case "$BIN" in /*) ;; *) BIN=$root/$BIN ;; esac
FRONTENDS=${FRONTENDS:-apache apache-fcgid cgi}
FRONTENDS_JOBS=${FRONTENDS_JOBS:-1}
TESTS=${TESTS:-tests/e2e}
scripts/deps.sh build run test apache || exit 1
[ -x "$BIN/blindsync-status" ] || { echo "frontends.sh: no handlers in $BIN: run make first" >&2; exit 1; }
logdir=$BIN/test-logs
mkdir -p "$logdir"

# one front end: its TAP into the log, its seconds into the .time file
run_front() {
	local front=$1 t0 rc own
	own=TESTS_${front//-/_}
	t0=$(date +%s)
	# shellcheck disable=SC2086
	FRONT=$front BIN=$BIN bats --tap --timing ${BATS_ARGS:-} ${!own:-$TESTS} >"$logdir/frontend-$front.tap" 2>&1
	rc=$?
	echo "$(($(date +%s) - t0)) $rc" >"$logdir/frontend-$front.time"
}

report() {
	local front=$1 secs rc p f
	read -r secs rc <"$logdir/frontend-$front.time"
	echo "== e2e FRONT=$front"
	sed -E -e "s/^(ok|not ok) ([0-9]+) /\1 \2 [$front] /" "$logdir/frontend-$front.tap"
	p=$(grep -c '^ok ' "$logdir/frontend-$front.tap")
	f=$(grep -c '^not ok ' "$logdir/frontend-$front.tap")
	# bats failed without a failed test (a setup_file, a syntax error): count it
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - [$front] bats exited $rc"
		f=1
	fi
	echo "# FRONT=$front: $p ok, $f not ok, in $secs s; the slowest tests:"
	sed -nE 's/^(ok|not ok) [0-9]+ (.*) in ([0-9]+)ms$/\3 \2/p' "$logdir/frontend-$front.tap" |
		sort -rn | head -n 5 | awk '{ ms = $1; $1 = ""; printf "#   %6.1f s %s\n", ms / 1000, $0 }'
	pass=$((pass + p))
	fail=$((fail + f))
	summary="$summary  FRONT=$front: $p ok, $f not ok, $secs s;"
}

pass=0
fail=0
summary=""
t_all=$(date +%s)
if [ "$FRONTENDS_JOBS" -le 1 ]; then
	for front in $FRONTENDS; do
		run_front "$front"
		report "$front"
	done
else
	running=0
	for front in $FRONTENDS; do
		if [ "$running" -ge "$FRONTENDS_JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_front "$front" &
		running=$((running + 1))
	done
	wait
	for front in $FRONTENDS; do report "$front"; done
fi
echo "# front ends:$summary in all $(($(date +%s) - t_all)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
