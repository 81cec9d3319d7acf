#!/usr/bin/env bats
# A changed password_hash.iterations applies at the account's next
# successful login: the stored hash is redone with the new count, and only
# then (a wrong key changes nothing). The account handler runs as CGI.
bats_require_minimum_version 1.5.0
load ../lib

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BLINDSYNC_CONFIG" 'rate_limits = {}'
	KEY=$(head -c 32 /dev/urandom | base64)
}

load admin_helpers

iterations() { sqlite3 "$BS_DATA/blindsync.db" "SELECT auth_iterations FROM accounts WHERE username = 'alice'"; }
hash_hex() { sqlite3 "$BS_DATA/blindsync.db" "SELECT hex(auth_hash) || hex(auth_salt) FROM accounts WHERE username = 'alice'"; }

@test "a changed iteration count applies at the next successful login, not at a failed one" {
	account POST /v1/account/register "{\"username\":\"alice\",\"auth_key\":\"$KEY\",\"kdf\":{}}"
	assert_equal "$cgi_status" 201
	assert_equal "$(iterations)" 1000
	before=$(hash_hex)
	bs_config "$BLINDSYNC_CONFIG" 'rate_limits = {}' 'password_hash = { iterations = 2000 }'
	# a wrong key: refused, nothing rehashed
	account POST /v1/account/login "{\"username\":\"alice\",\"auth_key\":\"$(head -c 32 /dev/urandom | base64)\"}"
	assert_equal "$cgi_status" 401
	assert_equal "$(iterations)" 1000
	assert_equal "$(hash_hex)" "$before"
	# the right key: in, and the hash is redone with the new count and a new salt
	account POST /v1/account/login "{\"username\":\"alice\",\"auth_key\":\"$KEY\"}"
	assert_equal "$cgi_status" 200
	assert_equal "$(iterations)" 2000
	[ "$(hash_hex)" != "$before" ]
	# and the new hash works
	account POST /v1/account/login "{\"username\":\"alice\",\"auth_key\":\"$KEY\"}"
	assert_equal "$cgi_status" 200
	assert_equal "$(iterations)" 2000
}
