#!/usr/bin/env bats
# Closed registration, and the built-in defaults of the account routes: the
# default prelogin_fake_kdf template. The config sets nothing but
# registration = "closed" (so the default rate limits apply: this file makes
# fewer than 5 registration requests).
load ../lib
load account_helpers

setup_file() { bs_setup_stack 'registration = "closed"'; }
teardown_file() { bs_stop; }

@test "closed: registration is 403 registration_closed, with or without an invite" {
	u=$(new_username)
	k=$(new_key)
	register "$u" "$k"
	assert_err 403 registration_closed
	register "$u" "$k" '{"invite": "some-invite-code"}'
	assert_err 403 registration_closed
	login "$u" "$k"
	assert_401 invalid_credentials
}

@test "prelogin of an unknown name follows the default template" {
	u=$(new_username)
	jreq POST /v1/account/prelogin "{\"username\": \"$u\"}"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc '.kdf | keys')" '["alg","m","p","salt","suite","t"]'
	assert_equal "$(jbc -S '.kdf | del(.salt)')" '{"alg":"argon2id","m":65536,"p":1,"suite":"bs1","t":3}'
	salt=$(jb .kdf.salt)
	assert_equal "$(printf '%s' "$salt" | base64 -d | wc -c)" 16
	jreq POST /v1/account/prelogin "{\"username\": \"$u\"}"
	assert_equal "$(jb .kdf.salt)" "$salt"
}
