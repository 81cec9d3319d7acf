#!/usr/bin/env bats
# Crash safety on PostgreSQL with two nodes (docs/ARCHITECTURE.md): 6
# clients push without pause through both nodes of one store (new records,
# updates, deletes, tests/tools/sync_load.py load) while the push workers of
# both nodes are killed with SIGKILL 10 times (one worker of each node, or
# all of them), and PostgreSQL itself is stopped at once (immediate
# shutdown: no checkpoint, the next start replays the WAL, as after a
# crash) and started again. While it is down every handler answers 503 with
# Retry-After; afterwards they reconnect by themselves (nothing restarts
# them) and the load goes on. Only writes answered 200 count as
# acknowledged: every one is stored with its version and payload, versions
# are unique, the counters equal a recount and pg_amcheck finds nothing.
# PostgreSQL only (BACKEND=pg); this file runs a cluster of its own
# (scripts/pg.sh), so that stopping it touches no other test.
load ../lib
load account_helpers
load sync_helpers
load ../tools/sync_checks
load crash_helpers

KILL_ROUNDS=10
RESTART_ROUND=5

setup() {
	bs_backend pg || skip "a restart of PostgreSQL under load: BACKEND=pg (tests/with-pg.sh)"
	# the push handler must be run.sh's: a supervisor with worker processes
	case ${FRONT:-nginx} in
	nginx | apache) ;;
	*) skip "FRONT=$FRONT starts the handlers itself: no blindsync-push supervisor to kill the workers of" ;;
	esac
	export BS_PG_DIR=
	BS_PG_DIR=$(mktemp -d /tmp/bs-pgc.XXXXXX)
	"$BS_ROOT/scripts/pg.sh" start "$BS_PG_DIR"
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	# a rate rule that is never reached (the limiter's lock is taken on every
	# push, so kills also land while a worker holds it)
	bs_config "$BS_CONFIG" \
		'rate_limits = { { route = "push", per = "account", limit = 10000000, window = 60 } }' \
		'plans = { default = { bytes = 1 * GiB, history_depth = 1000 } }'
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	A_PID=$BS_PID A_RUN=$BS_RUN A_URL=$BS_URL A_LOG=$BS_LOG A_RT=$BLINDSYNC_RUNTIME_DIR
	# node B: the same config but its own data directory (secret copied) and run directory
	mkdir -p "$BATS_TEST_TMPDIR/b/data"
	cp -p "$BS_DATA/secret" "$BATS_TEST_TMPDIR/b/data/secret"
	sed "s|^secret_file = .*|secret_file = \"$BATS_TEST_TMPDIR/b/data/secret\"|" "$BS_CONFIG" >"$BATS_TEST_TMPDIR/b/blindsync.lua"
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR/b BS_CONFIG=$BATS_TEST_TMPDIR/b/blindsync.lua bs_start
	B_PID=$BS_PID B_RUN=$BS_RUN B_URL=$BS_URL B_LOG=$BS_LOG
	BS_PID=$A_PID BS_RUN=$A_RUN BS_URL=$A_URL BS_LOG=$A_LOG BLINDSYNC_RUNTIME_DIR=$A_RT
	LOAD_PID=
}

teardown() {
	[ -n "${BS_PG_DIR:-}" ] || return 0 # skipped
	touch "$BATS_TEST_TMPDIR/stop"
	if [ -n "${LOAD_PID:-}" ]; then
		kill "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
	fi
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR/b BS_PID=${B_PID:-} BS_LOG=${B_LOG:-} bs_stop || true
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR BS_PID=${A_PID:-} BS_LOG=${A_LOG:-} bs_stop
	"$BS_ROOT/scripts/pg.sh" destroy "$BS_PG_DIR"
}

# down_503 URL: a push through URL answers 503 with Retry-After (the store is down)
down_503() {
	local h
	h=$(curl -s -o "$BATS_TEST_TMPDIR/down.body" -D - -w '%{http_code}' -H "Authorization: Bearer $ACCESS" \
		-H 'Content-Type: application/json' --data-binary '{"records":[{"id":"down","base_version":0,"payload":"AAAA"}]}' \
		"$1/v1/collections/crash-a/push" | tr -d '\r')
	printf '%s\n' "$h" >"$BATS_TEST_TMPDIR/down.headers"
	[ "${h##*$'\n'}" = 503 ] && grep -qi '^retry-after: [0-9]' <<<"$h" &&
		[ "$(jq -r .error.code "$BATS_TEST_TMPDIR/down.body")" = unavailable ]
}

# health_is URL STATUS
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1/v1/health")" = "$2" ]; }

@test "SIGKILL of the push workers of both nodes 10 times and an immediate PostgreSQL restart under load: every acknowledged write survives" {
	new_account
	out=$BATS_TEST_TMPDIR/acks.jsonl
	python3 "$SYNC_LOAD" load "$A_URL,$B_URL" "$ACCESS" crash-a,crash-b "$out" "$BATS_TEST_TMPDIR/stop" \
		--clients 6 >"$BATS_TEST_TMPDIR/load.out" 2>&1 &
	LOAD_PID=$!
	bs_wait 60 acks_over 49 "$out" || true
	[ "$(acks "$out")" -ge 50 ] || fail "the load does not get going: $(cat "$BATS_TEST_TMPDIR/load.out")"

	sups=("$(push_supervisor "$A_PID" "$A_RUN")" "$(push_supervisor "$B_PID" "$B_RUN")")
	for s in "${sups[@]}"; do
		[ -n "$s" ] && [ "$(wc -w <<<"$s")" -eq 1 ] || fail "no single blindsync-push supervisor per node: '${sups[*]}'"
	done
	nworkers=$(push_workers "${sups[0]}" | wc -l)
	[ "$nworkers" -ge 2 ] || fail "blindsync-push has $nworkers workers"
	killed=0 restarted=0
	for round in $(seq 1 $KILL_ROUNDS); do
		for s in "${sups[@]}"; do wait_workers "$s" "$nworkers"; done
		before=$(acks "$out")
		bs_wait 60 acks_over "$before" "$out" || true
		[ "$(acks "$out")" -gt "$before" ] || fail "round $round: no write acknowledged since the last kill"
		sleep "0.$((RANDOM % 4 + 1))"
		kill_workers "$round" "${sups[@]}"
		echo "round $round: killed $(echo $VICTIMS) at $(date +%T.%N | cut -c1-12), acks $(acks "$out")" >&2
		if [ "$round" -eq "$RESTART_ROUND" ]; then
			for s in "${sups[@]}"; do wait_workers "$s" "$nworkers"; done
			"$BS_ROOT/scripts/pg.sh" kill "$BS_PG_DIR"
			echo "round $round: PostgreSQL stopped (immediate) at $(date +%T.%N | cut -c1-12), acks $(acks "$out")" >&2
			# while it is down, both nodes answer 503 with Retry-After
			for url in "$A_URL" "$B_URL"; do
				bs_wait 30 down_503 "$url" || fail "a push through $url while PostgreSQL is down: $(cat "$BATS_TEST_TMPDIR/down.headers" "$BATS_TEST_TMPDIR/down.body")"
				bs_wait 30 health_is "$url" 503 || fail "health through $url while PostgreSQL is down"
			done
			down_acks=$(acks "$out")
			sleep 1
			assert_equal "$(acks "$out")" "$down_acks"
			"$BS_ROOT/scripts/pg.sh" start "$BS_PG_DIR"
			restarted=1
			# the handlers reconnect by themselves
			for url in "$A_URL" "$B_URL"; do
				bs_wait 60 health_is "$url" 200 || fail "$url does not recover after PostgreSQL's restart"
			done
			bs_wait 60 acks_over "$down_acks" "$out" || fail "no write acknowledged after PostgreSQL's restart"
			echo "round $round: PostgreSQL back at $(date +%T.%N | cut -c1-12), acks $(acks "$out")" >&2
		fi
	done
	[ "$restarted" = 1 ]
	for s in "${sups[@]}"; do wait_workers "$s" "$nworkers"; done
	before=$(acks "$out")
	bs_wait 60 acks_over "$before" "$out" || fail "no write acknowledged after the last kill"
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$LOAD_PID"
	LOAD_PID=
	cat "$BATS_TEST_TMPDIR/load.out"
	echo "# $killed push workers killed over $KILL_ROUNDS rounds, one PostgreSQL restart; $(acks "$out") writes acknowledged" >&3
	# the supervisors saw every kill and still run
	assert_equal "$(push_supervisor "$A_PID" "$A_RUN") $(push_supervisor "$B_PID" "$B_RUN")" "${sups[*]}"
	restarts=$(cat "$A_LOG" "$B_LOG" | grep -c "blindsync-push\[[0-9]*\].*exited (status 9); restarting it" || true)
	[ "$restarts" -eq "$killed" ] || fail "$killed workers killed, $restarts restarts logged"

	run python3 "$SYNC_LOAD" verify-acked "$(bs_database "$BS_DATA")" "$USERNAME" "$out"
	echo "$output"
	[ "$status" -eq 0 ] || fail "acknowledged writes are missing or wrong"
	echo "# $(head -1 <<<"$output") acknowledged writes: present with their versions" >&3
	assert_integrity
	assert_no_drift
	assert_status_usage "$USERNAME" "$ACCESS"
	BS_URL=$B_URL assert_status_usage "$USERNAME" "$ACCESS"
}
