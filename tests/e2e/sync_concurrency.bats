#!/usr/bin/env bats
# Pushes at once (api.md §4) through the real stack (2 push processes x 8
# threads): 8 clients push batches to one collection, half on shared ids
# with base_version guesses (conflicts, forced writes, deletes), half on ids
# of their own, every 4th push atomic. Afterwards every accepted id holds the
# last version accepted for it (payload included), versions are unique and
# 1..N, history holds exactly the newest history_depth older versions, a
# client that pulled meanwhile (since = next_since) ends with the same
# records, and the counters equal a recount. Answers are only 200 and 409
# (atomic conflicts), or 503 with Retry-After. Quota under concurrency:
# sync_quota.bats. The load generator and its checks: tests/tools/sync_load.py.
load ../lib
load account_helpers
load ../tools/sync_checks

HISTORY_DEPTH=4

setup_file() {
	bs_setup_stack 'rate_limits = {}' \
		"plans = { default = { bytes = 1 * GiB, history_depth = $HISTORY_DEPTH } }"
}
teardown_file() { bs_stop; }

@test "8 clients push to one collection at once: last accepted versions kept, versions unique, counters exact" {
	new_account
	out=$BATS_TEST_TMPDIR/pushes.jsonl
	run python3 "$SYNC_LOAD" concurrent "$BS_URL" "$ACCESS" shared "$out" --clients 8 --pushes 50 --follow
	echo "$output"
	[ "$status" -eq 0 ] || fail "the pushes or their answers failed the checks"
	echo "# $(grep '^pushes:' <<<"$output")" >&3
	# answers: only 200, 409 (atomic) and 503; real conflicts happened
	[ "$(jq -s '[.[] | select(.status == 409)] | length' "$out")" -gt 0 ] || fail "no atomic push conflicted"
	[ "$(jq -s '[.[] | select(.status == 200) | .response.conflicts[]] | length' "$out")" -gt 0 ] ||
		fail "no record conflicted"
	[ "$(jq -s '[.[] | select(.status != 200 and .status != 409 and .status != 503)] | length' "$out")" -eq 0 ]

	run python3 "$SYNC_LOAD" verify-concurrent "$(bs_database "$BS_DATA")" "$USERNAME" shared "$out" "$HISTORY_DEPTH"
	echo "$output"
	[ "$status" -eq 0 ] || fail "the store does not match the accepted writes"
	echo "# $(head -1 <<<"$output")" >&3

	# the collection as the API shows it
	areq GET /v1/collections "$ACCESS"
	assert_equal "$status" 200
	assert_equal "$(jb '.collections[] | select(.name == "shared") | "\(.version) \(.records) \(.bytes)"')" \
		"$(sql "SELECT version || ' ' || records || ' ' || bytes FROM collections WHERE name = 'shared'")"
	assert_no_drift
	assert_status_usage "$USERNAME" "$ACCESS"
	assert_integrity
	admin_check
}

@test "4 collections of one account pushed at once: collection and account counters exact" {
	new_account
	pids=()
	for c in a b c d; do
		python3 "$SYNC_LOAD" concurrent "$BS_URL" "$ACCESS" "col-$c" "$BATS_TEST_TMPDIR/$c.jsonl" \
			--clients 2 --pushes 25 >"$BATS_TEST_TMPDIR/$c.out" 2>&1 &
		pids+=($!)
	done
	rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	cat "$BATS_TEST_TMPDIR"/?.out
	[ "$rc" -eq 0 ] || fail "the pushes or their answers failed the checks"
	for c in a b c d; do
		run python3 "$SYNC_LOAD" verify-concurrent "$(bs_database "$BS_DATA")" "$USERNAME" "col-$c" \
			"$BATS_TEST_TMPDIR/$c.jsonl" "$HISTORY_DEPTH"
		echo "$output"
		[ "$status" -eq 0 ] || fail "col-$c does not match its accepted writes"
	done
	assert_no_drift
	assert_status_usage "$USERNAME" "$ACCESS"
	# the account's usage is the sum over its 4 collections
	assert_equal "$(sql "SELECT count(*) FROM collections c JOIN accounts a ON a.id = c.account_id
		WHERE a.username = lower('$USERNAME')")" 4
	assert_integrity
	admin_check
}
