#!/usr/bin/env bats
# The default rate limits (config.md), with a config that sets none:
# registration 5 per hour and login 10 per minute per address, and 600
# requests per minute per account on every route. The tests run in order
# and share the address's buckets: setup_file registers two accounts.
load ../lib
load account_helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	bs_setup_stack
	local i u k
	for i in 1 2; do
		u=$(new_username)
		k=$(new_key)
		code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary "$(jq -cn --arg u "$u" --arg k "$k" --argjson kdf "$(kdf_json)" \
			'{username: $u, auth_key: $k, kdf: $kdf}')" "$BS_URL/v1/account/register")
		[ "$code" = 201 ] || { echo "setup: register answered $code" >&2; return 1; }
		export U$i="$u" K$i="$k"
	done
	T0=$(date +%s)
	export T0
}
teardown_file() { bs_stop; }

@test "default: 5 registrations per hour per address" {
	for i in 3 4 5; do
		register "$(new_username)" "$(new_key)"
		assert_equal "$status" 201
	done
	register "$(new_username)" "$(new_key)"
	assert_err 429 rate_limited
	ra=$(header Retry-After)
	assert_regex "$ra" '^[0-9]+$'
	[ "$ra" -ge 1 ] && [ "$ra" -le 3600 ]
}

@test "default: 600 requests per minute per account, on any route" {
	login_ok "$U1" "$K1"
	a=$ACCESS
	t=$(date +%s)
	: >"$BATS_TEST_TMPDIR/out"
	# A burst of 700, then more rounds until the bucket runs dry: behind a
	# slow front (plain CGI forks a handler per request, ~30 requests/s on
	# a busy 2-core machine) the refill of 10/s keeps up with much of the
	# first burst. The bounds below account for the time it all took.
	sent=0
	for n in 700 300 300 300 300 300; do
		par "$n" GET /v1/account - -H "Authorization: Bearer $a" >>"$BATS_TEST_TMPDIR/out"
		sent=$((sent + n))
		grep -q '^429 ' "$BATS_TEST_TMPDIR/out" && break
	done
	elapsed=$(($(date +%s) - t + 1))
	ok=$(grep -c '^200 ' "$BATS_TEST_TMPDIR/out" || true)
	limited=$(grep -c '^429 ' "$BATS_TEST_TMPDIR/out" || true)
	assert_equal "$((ok + limited))" "$sent"
	# 600 at once, plus the refill of 10 per second while the burst ran
	[ "$ok" -ge 600 ] && [ "$ok" -le $((600 + 10 * elapsed)) ] ||
		fail "$ok of $sent passed in about $elapsed s"
	[ "$limited" -ge 1 ]
	areq GET /v1/account/devices "$a"
	if [ "$status" = 429 ]; then
		assert_err 429 rate_limited
		[ "$(header Retry-After)" -ge 1 ]
	fi
	# another account is not affected
	login_ok "$U2" "$K2"
	token_works "$ACCESS"
}

@test "default: 10 logins per minute per address, known names or not" {
	# the previous test logged in twice from this address
	n=0
	for i in $(seq 1 20); do
		login "$(new_username)" "$K1"
		[ "$status" = 429 ] && break
		assert_401 invalid_credentials
		n=$((n + 1))
	done
	assert_err 429 rate_limited
	[ "$(header Retry-After)" -ge 1 ]
	refill=$((($(date +%s) - T0) / 6 + 1))
	[ "$n" -ge 8 ] && [ "$n" -le $((10 + refill)) ] || fail "$n logins passed"
	# a known name is limited alike; the bucket refills one login every 6 s,
	# so one may have come back since the 429 (CI once saw it), never two
	login "$U2" "$K2"
	[ "$status" = 200 ] && login "$U2" "$K2"
	assert_err 429 rate_limited
}
