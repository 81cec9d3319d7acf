#!/usr/bin/env bats
# What the bs1 clients (docs/CLIENT.md) need of the account routes, with the
# built-in defaults: a fake prelogin answer that cannot be told from a real
# bs1 kdf by its members and their types, and a login answer that carries the
# keyring's version (its AAD binds it, client.md §3). Registration is open and
# rate limits are off in this file.
load ../lib
load account_helpers

setup_file() { bs_setup_stack 'rate_limits = {}'; }
teardown_file() { bs_stop; }

# a bs1 kdf object as a client registers it (client.md §2)
bs1_kdf() {
	printf '{"alg":"argon2id","suite":"bs1","m":65536,"t":3,"p":1,"salt":"%s"}' "$(b64_random 16)"
}
# the members of the answer's kdf with the JSON type of each, sorted by name
kdf_shape() { jbc '.kdf | to_entries | map({key, type: (.value | type)}) | sort_by(.key)'; }

@test "prelogin: a fake kdf has the members and value types of a real bs1 kdf" {
	u=$(new_username)
	register_ok "$u" "$(new_key)" "{\"kdf\": $(bs1_kdf)}"
	jreq POST /v1/account/prelogin "{\"username\": \"$u\"}"
	assert_equal "$status" 200
	real=$(kdf_shape)
	real_values=$(jbc -S '.kdf | del(.salt)')
	jreq POST /v1/account/prelogin "{\"username\": \"$(new_username)\"}"
	assert_equal "$status" 200
	fake=$(kdf_shape)
	assert_equal "$fake" "$real"
	assert_equal "$(jbc -S '.kdf | del(.salt)')" "$real_values"
	assert_equal "$(printf '%s' "$(jb .kdf.salt)" | base64 -d | wc -c)" 16
	# and the shape is the one client.md §2 gives
	assert_equal "$fake" "$(printf '%s' "$(bs1_kdf)" | jq -c 'to_entries | map({key, type: (.value | type)}) | sort_by(.key)')"
}

@test "login answers the keyring's version beside the keyring" {
	u=$(new_username)
	k=$(new_key)
	ring=$(b64_random 48)
	register_ok "$u" "$k" "{\"kdf\": $(bs1_kdf), \"keyring\": \"$ring\"}"
	login "$u" "$k"
	assert_equal "$status" 200
	assert_equal "$(jb .keyring)" "$ring"
	assert_equal "$(jbc .keyring_version)" 1
	# a replaced keyring is version 2, at the next login
	ring2=$(b64_random 48)
	ajreq PUT /v1/account/keyring "$(jb .access_token)" "{\"keyring\": \"$ring2\", \"version\": 1}"
	assert_equal "$status" 200
	login "$u" "$k"
	assert_equal "$(jb .keyring)" "$ring2"
	assert_equal "$(jbc .keyring_version)" 2
	# refresh answers no keyring and no version
	jreq POST /v1/account/refresh "{\"refresh_token\": \"$(jb .refresh_token)\"}"
	assert_equal "$status" 200
	assert_equal "$(jbc 'has("keyring") or has("keyring_version")')" false
}
