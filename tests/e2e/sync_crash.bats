#!/usr/bin/env bats
# Crash safety of the push path (api.md §4: "the answer is sent only after
# the commit"): 6 clients push without pause (new records, updates, deletes;
# batches of 1 to 60 records) to two collections while the push worker
# processes are killed with SIGKILL 12 times (one worker, or all of them);
# blindsync-push's supervisor restarts them. Only writes answered 200 count
# as acknowledged. Then, on the running stack and again after a restart of
# the whole stack on the same data: every acknowledged write is stored with
# its version and payload (history keeps every version here), an id that no
# failed request touched is current at exactly its last acknowledged
# version, versions are unique, PRAGMA integrity_check is ok and every
# counter equals a recount. The load and its checks: tests/tools/sync_load.py.
load ../lib
load account_helpers
load ../tools/sync_checks
load crash_helpers

KILL_ROUNDS=12

# one stack per test (restarted inside the test), in the test's directory
setup() {
	# the push handler must be run.sh's: a supervisor with worker processes
	case ${FRONT:-nginx} in
	nginx | apache) ;;
	*) skip "FRONT=$FRONT starts the handlers itself: no blindsync-push supervisor to kill the workers of" ;;
	esac
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	# a rate rule that is never reached: the limiter's shared lock is taken on
	# every push, so kills also land while a worker holds it
	bs_config "$BS_CONFIG" \
		'rate_limits = { { route = "push", per = "account", limit = 10000000, window = 60 } }' \
		'plans = { default = { bytes = 1 * GiB, history_depth = 1000 } }'
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	LOAD_PID=
}

teardown() {
	[ -n "${BS_RUN:-}" ] || return 0 # skipped
	touch "$BATS_TEST_TMPDIR/stop"
	if [ -n "${LOAD_PID:-}" ]; then
		kill "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
	fi
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}

# verify_acked WHEN: every acknowledged write is in the store
verify_acked() {
	run python3 "$SYNC_LOAD" verify-acked "$(bs_database "$BS_DATA")" "$USERNAME" "$out"
	echo "$output"
	[ "$status" -eq 0 ] || fail "$1: acknowledged writes are missing or wrong"
	checked=$(sed -n 's/^checked //p' <<<"$output")
	unknown=$(sed -n 's/^ids with an unknown outcome (failed requests): \([0-9]*\); .*: \([0-9]*\)$/\1 ids written by failed requests, \2 of them acknowledged before: checked at or above that version/p' <<<"$output")
}

@test "SIGKILL of the push workers 12 times under a push load: every acknowledged write survives" {
	new_account
	out=$BATS_TEST_TMPDIR/acks.jsonl
	python3 "$SYNC_LOAD" load "$BS_URL" "$ACCESS" crash-a,crash-b "$out" "$BATS_TEST_TMPDIR/stop" \
		--clients 6 >"$BATS_TEST_TMPDIR/load.out" 2>&1 &
	LOAD_PID=$!
	bs_wait 60 acks_over 49 "$out" || true
	[ "$(acks "$out")" -ge 50 ] || fail "the load does not get going: $(cat "$BATS_TEST_TMPDIR/load.out")"

	sup=$(push_supervisor "$BS_PID" "$BS_RUN")
	[ -n "$sup" ] && [ "$(wc -w <<<"$sup")" -eq 1 ] || fail "no single blindsync-push supervisor: '$sup'"
	nworkers=$(push_workers "$sup" | wc -l)
	[ "$nworkers" -ge 2 ] || fail "blindsync-push has $nworkers workers"
	killed=0
	for round in $(seq 1 $KILL_ROUNDS); do
		wait_workers "$sup" "$nworkers"
		# let the load reach the new workers, then kill while it runs
		before=$(acks "$out")
		bs_wait 60 acks_over "$before" "$out" || true
		[ "$(acks "$out")" -gt "$before" ] || fail "round $round: no write acknowledged since the last kill"
		sleep "0.$((RANDOM % 4 + 1))"
		kill_workers "$round" "$sup"
		echo "round $round: killed $(echo $VICTIMS) at $(date +%T.%N | cut -c1-12), acks $(acks "$out")" >&2
	done
	wait_workers "$sup" "$nworkers"
	before=$(acks "$out")
	bs_wait 60 acks_over "$before" "$out" || true
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$LOAD_PID"
	LOAD_PID=
	cat "$BATS_TEST_TMPDIR/load.out"
	[ "$(acks "$out")" -gt "$before" ] || fail "no write acknowledged after the last restart"
	# the supervisor saw every kill (and the same supervisor still runs)
	assert_equal "$(push_supervisor "$BS_PID" "$BS_RUN")" "$sup"
	restarts=$(grep -c "blindsync-push\[$sup\].*exited (status 9); restarting it" "$BS_LOG" || true)
	[ "$restarts" -eq "$killed" ] || fail "$killed workers killed, $restarts restarts logged"
	# and no worker ended on its own
	run grep "blindsync-push\[$sup\].*exited" "$BS_LOG"
	[ -z "$(grep -v 'exited (status 9)' <<<"$output")" ] || fail "workers that were not killed exited: $output"

	verify_acked "on the running stack"
	assert_integrity
	assert_no_drift
	admin_check

	# the whole stack again, on the same data
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	verify_acked "after a restart"
	assert_integrity
	assert_no_drift
	admin_check
	assert_status_usage "$USERNAME" "$ACCESS"
	# and it takes writes: an update of the last acknowledged write of an untouched id
	read -r col rid ver < <(python3 - "$out" <<-'PY'
		import json, sys
		acked, tainted = {}, set()
		for line in open(sys.argv[1]):
		    e = json.loads(line)
		    if "tainted" in e:
		        tainted.add((e["collection"], e["tainted"]))
		    elif e["version"] > acked.get((e["collection"], e["id"]), 0):
		        acked[(e["collection"], e["id"])] = e["version"]
		c, r = next(k for k in sorted(acked) if k not in tainted)
		print(c, r, acked[(c, r)])
	PY
	)
	ajreq POST "/v1/collections/$col/push" "$ACCESS" \
		"{\"records\":[{\"id\":\"$rid\",\"base_version\":$ver,\"payload\":\"aGVsbG8=\"}]}"
	assert_equal "$status" 200
	assert_equal "$(jb '.accepted[0].id')" "$rid"
	[ "$(jb '.accepted[0].version')" -gt "$ver" ]
	assert_no_drift
	echo "# $killed push workers killed in $KILL_ROUNDS rounds; $(grep '^push answers' <<<"$(cat "$BATS_TEST_TMPDIR/load.out")")" >&3
	echo "# checked $checked acknowledged writes ($unknown)" >&3
}
