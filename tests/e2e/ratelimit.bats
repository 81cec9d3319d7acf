#!/usr/bin/env bats
# Rate limits per client address, without trusted proxies: one bucket shared
# by both worker processes of the account handler, 429 rate_limited with
# Retry-After, and X-Forwarded-For (or any other header) cannot pick another
# bucket. ratelimit_proxy.bats covers trusted proxies, per-username and
# per-account rules; ratelimit_default.bats the default rules.
#
# The rules below are the only ones (the list replaces the default list).
# Each rule serves one test: account.login -> the parallel test (and the
# Retry-After test after it), account.prelogin -> the X-Forwarded-For test.
load ../lib
load account_helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	bs_setup_stack \
		'rate_limits = {' \
		'  { route = "account.login",    per = "ip", limit = 7, window = 3600 },' \
		'  { route = "account.prelogin", per = "ip", limit = 3, window = 3600 },' \
		'}'
}
teardown_file() { bs_stop; }

@test "a rate_limits list replaces the default list: registration is not limited here" {
	for i in $(seq 1 7); do
		register "$(new_username)" "$(new_key)"
		assert_equal "$status" 201
	done
}

@test "exactly 7 of 40 parallel logins pass: one bucket across both worker processes" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	par 40 POST /v1/account/login "$(jq -cn --arg u "$u" --arg k "$k" '{username: $u, auth_key: $k}')" \
		>"$BATS_TEST_TMPDIR/out"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/out")" 40
	assert_equal "$(grep -c '^200 ' "$BATS_TEST_TMPDIR/out")" 7
	assert_equal "$(grep -c '^429 ' "$BATS_TEST_TMPDIR/out")" 33
	# the 40 requests were spread over both processes
	for rid in $(awk '{ print $2 }' "$BATS_TEST_TMPDIR/out"); do
		pid_of "$rid"
	done | sort -u >"$BATS_TEST_TMPDIR/pids"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/pids")" -ge 2 ] ||
		fail "all 40 logins were served by one process: $(cat "$BATS_TEST_TMPDIR/pids")"
}

@test "a 429 is a JSON rate_limited error with Retry-After in whole seconds >= 1; the limit is per address" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	for i in $(seq 1 50); do
		login "$u" "$k"
		[ "$status" = 429 ] && break
		assert_equal "$status" 200
	done
	assert_err 429 rate_limited
	ra=$(header Retry-After)
	assert_regex "$ra" '^[0-9]+$'
	[ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] || fail "Retry-After: $ra"
	# another name from the same address: the same bucket
	login "$(new_username)" "$k"
	assert_err 429 rate_limited
}

@test "without trusted proxies, X-Forwarded-For does not escape the ip limit" {
	for i in 1 2 3 4 5 6; do
		jreq POST /v1/account/prelogin "{\"username\": \"$(new_username)\"}" -H "X-Forwarded-For: 10.1.0.$i"
		echo "$status" >>"$BATS_TEST_TMPDIR/codes"
	done
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/codes")" "200 200 200 429 429 429 "
	for h in "X-Forwarded-For: 10.1.9.9" "X-Forwarded-For: 10.1.9.8, 127.0.0.1" "X-Real-IP: 10.1.9.7" \
		"Forwarded: for=10.1.9.6" "Client-IP: 10.1.9.5" ""; do
		jreq POST /v1/account/prelogin "{\"username\": \"$(new_username)\"}" ${h:+-H "$h"}
		assert_err 429 rate_limited
	done
}
