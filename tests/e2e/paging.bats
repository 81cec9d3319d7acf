#!/usr/bin/env bats
# The paging invariant of pull (api.md §4: a pull by `since` never skips a
# record that commits late): 16 writers push new records only (so every
# committed version stays a current record) while one reader pages through
# the collection with since = next_since and limits of 1 to 20 (mostly 1 to
# 5; now and then 20, so that it keeps up and reads at the head), then once
# more after the last push. The reader sees every committed version exactly
# once, in increasing order, and nothing else. On SQLite the write lock
# makes commit order the version order; on PostgreSQL the collection's row
# lock held from the version's allocation to the commit does
# (docs/ARCHITECTURE.md). Runs on both backends (BACKEND, tests/lib.bash).
# The load and its checks: tests/tools/sync_load.py paging.
load ../lib
load account_helpers
load ../tools/sync_checks

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'plans = { default = { bytes = 1 * GiB } }'
}
teardown_file() { bs_stop; }

@test "16 writers and a reader paging with since and small limits: every committed version seen exactly once" {
	new_account
	out=$BATS_TEST_TMPDIR/paging.json
	run python3 "$SYNC_LOAD" paging "$BS_URL" "$ACCESS" paged "$out" --writers 16 --pushes 40 --limits 1,2,3,5,20 --pace 50 --min-heads 10
	echo "$output"
	[ "$status" -eq 0 ] || fail "the reader skipped, repeated or invented a version"
	echo "# $(grep '^paging:' <<<"$output")" >&3
	# a test that cannot fail is not a test: the writers did overlap (more
	# versions than any one writer made) and the reader paged many times
	# (one writer goes on, slowly, until it was at the head 10 times)
	n=$(jq '.accepted | length' "$out")
	[ "$n" -ge 640 ] || fail "only $n versions committed"
	heads=$(sed -n 's/.*at the head \([0-9]*\) times.*/\1/p' <<<"$output")
	[ "$heads" -ge 10 ] || fail "the reader reached the head only $heads times while versions committed"
	assert_equal "$(jq -c '.seen' "$out")" "$(jq -c '.accepted' "$out")"
	# the store agrees: the collection's version is the last one committed
	assert_equal "$(sql "SELECT version FROM collections WHERE name = 'paged'")" "$n"
	assert_no_drift
}
