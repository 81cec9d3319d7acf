#!/usr/bin/env bats
# Rate limits with a trusted proxy (127.0.0.1, where nginx sees the tests
# come from): each X-Forwarded-For address gets its own bucket. Also the
# per-username rule (case-insensitive, the same for unknown names) and the
# per-account rule on account.* (one account limited, another not).
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'trusted_proxies = { "127.0.0.1" }' \
		'rate_limits = {' \
		'  { route = "account.prelogin", per = "ip",       limit = 2, window = 3600 },' \
		'  { route = "account.login",    per = "username", limit = 3, window = 3600 },' \
		'  { route = "account.*",        per = "account",  limit = 4, window = 3600 },' \
		'}'
}
teardown_file() { bs_stop; }

# prelogin_from ADDRESS|-: one prelogin, with X-Forwarded-For ADDRESS unless "-"
prelogin_from() {
	local h=()
	[ "$1" != - ] && h=(-H "X-Forwarded-For: $1")
	jreq POST /v1/account/prelogin "{\"username\": \"$(new_username)\"}" "${h[@]}"
}

@test "with a trusted proxy, each X-Forwarded-For address has its own bucket" {
	for a in 10.2.0.1 10.2.0.2 2001:db8::7 -; do
		prelogin_from "$a"
		assert_equal "$status" 200
		prelogin_from "$a"
		assert_equal "$status" 200
		prelogin_from "$a"
		assert_err 429 rate_limited
		[ "$(header Retry-After)" -ge 1 ]
	done
	prelogin_from 10.2.0.1
	assert_err 429 rate_limited
	prelogin_from 10.2.0.3
	assert_equal "$status" 200
}

@test "per-username login limit: case-insensitive, other names unaffected, unknown names alike" {
	a=$(new_username)
	ka=$(new_key)
	register_ok "$a" "$ka"
	b=$(new_username)
	kb=$(new_key)
	register_ok "$b" "$kb"
	login "$a" "$ka"
	assert_equal "$status" 200
	login "${a^^}" "$ka"
	assert_equal "$status" 200
	login "$a" "$(new_key)"
	assert_401 invalid_credentials
	login "$a" "$ka"
	assert_err 429 rate_limited
	ra=$(header Retry-After)
	assert_regex "$ra" '^[0-9]+$'
	[ "$ra" -ge 1 ]
	login "${a^^}" "$ka"
	assert_err 429 rate_limited
	login "$b" "$kb"
	assert_equal "$status" 200
	# an unknown name is limited exactly like a known one
	g=$(new_username)
	for i in 1 2 3; do
		login "$g" "$ka"
		assert_401 invalid_credentials
	done
	login "$g" "$ka"
	assert_err 429 rate_limited
}

@test "per-account rule on account.*: one account is limited, on every device; another is not" {
	new_account
	a1=$ACCESS
	login_ok "$USERNAME" "$KEY"
	a2=$ACCESS
	new_account
	b=$ACCESS
	for i in 1 2 3 4; do
		token_works "$a1"
	done
	areq GET /v1/account "$a1"
	assert_err 429 rate_limited
	[ "$(header Retry-After)" -ge 1 ]
	areq GET /v1/account/devices "$a1"
	assert_err 429 rate_limited
	areq GET /v1/account/keyring "$a2"
	assert_err 429 rate_limited
	token_works "$b"
	areq GET /v1/account/devices "$b"
	assert_equal "$status" 200
}
