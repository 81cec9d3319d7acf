# crash_helpers.bash: what the crash tests (sync_crash.bats, pg_crash.bats)
# share: the worker processes of a stack's blindsync-push supervisor found,
# killed with SIGKILL and waited for again, and the writes that
# tests/tools/sync_load.py counts as acknowledged. Load it after ../lib
# (bs_wait, fail). It kills only the workers of the supervisors it is given.

# push_supervisor RUN_PID RUN_DIR: the pid of that stack's blindsync-push
# supervisor (the child of its run.sh)
push_supervisor() { pgrep -P "$1" -f -- "$2/push.sock"; }

# push_workers SUPERVISOR: its live worker processes: not the ones this test
# killed, which may still be exiting or be zombies the supervisor has yet to
# reap (KILLED: the pids killed so far, space-separated)
KILLED=" "
push_workers() {
	ps -o pid=,stat= --ppid "$1" | awk -v k="$KILLED" '$2 !~ /^Z/ && index(k, " " $1 " ") == 0 { print $1 }'
}

# has_workers SUPERVISOR N: the supervisor has N workers (or more)
has_workers() { [ "$(push_workers "$1" | wc -l)" -ge "$2" ]; }

# wait_workers SUPERVISOR N: until the supervisor has N workers again (60 s);
# else fails, after saying what runs, the supervisor's last lines and the
# errors of the test's handler logs, and keeping the test's logs in
# /tmp/crash_failure.PID
wait_workers() {
	local pgid logs
	bs_wait 60 has_workers "$1" "$2" && return 0
	pgid=$(ps -o pgid= -p "$1" | tr -d ' ')
	echo "processes of the run:" >&2
	[ -z "$pgid" ] || ps -o pid,ppid,stat,wchan:20,args --forest -g "$pgid" >&2 || true
	logs=$(find "$BATS_TEST_TMPDIR" -name handlers.log)
	echo "the handler logs' last lines of blindsync-push[$1]:" >&2
	cat $logs | grep -F "blindsync-push[$1]" | tail -5 >&2
	echo "the end of run.log:" >&2
	tail -5 "$BATS_TEST_TMPDIR/run.log" >&2
	echo "the handler logs' errors:" >&2
	cat $logs | grep -v ' info ' | tail -10 >&2
	mkdir -p "/tmp/crash_failure.$$" && cp "$BATS_TEST_TMPDIR"/*.log "$BATS_TEST_TMPDIR"/load.out "/tmp/crash_failure.$$" &&
		echo "(the logs are kept in /tmp/crash_failure.$$)" >&2
	fail "blindsync-push[$1] has $(push_workers "$1" | wc -l) workers, not $2, 60 s after a kill"
}

# kill_workers ROUND SUPERVISOR...: kill with SIGKILL one worker of each
# supervisor (an odd ROUND) or all of them (an even one); sets VICTIMS, adds
# them to KILLED and the number killed to $killed
kill_workers() {
	local round=$1 s v
	shift
	VICTIMS=
	for s in "$@"; do
		if [ $((round % 2)) -eq 1 ]; then
			VICTIMS="$VICTIMS $(push_workers "$s" | shuf -n 1)"
		else
			VICTIMS="$VICTIMS $(push_workers "$s")"
		fi
	done
	for v in $VICTIMS; do
		if kill -KILL "$v"; then
			killed=$((killed + 1))
			KILLED="$KILLED$v "
		else
			echo "round $round: kill $v failed" >&2
		fi
	done
}

# acks FILE: writes acknowledged so far (sync_load.py's lines with a version)
acks() { cat "$1" 2>/dev/null | grep -c '"version"' || true; }
# acks_over N FILE: more than N acknowledged writes in FILE
acks_over() { [ "$(acks "$2")" -gt "$1" ]; }
