#!/usr/bin/env bats
# The account routes (API section 3) through the real nginx: register,
# prelogin, login, refresh, logout, the account, devices, keyring, password
# change, activity and deletion, and token revocation across the handler's
# worker processes. Registration is open and rate limits are off in this
# file; account_invite.bats, account_closed.bats and ratelimit*.bats cover
# those configurations, secrets.bats what reaches the disk.
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'tokens = { access_ttl = 120, refresh_ttl = 3600 }' \
		'prelogin_fake_kdf = { alg = "argon2id", memory = 65536, iterations = 3, parallelism = 4 }'
}
teardown_file() { bs_stop; }

# prelogin NAME
prelogin() { jreq POST /v1/account/prelogin "$(jq -cn --arg u "$1" '{username: $u}')"; }

# activity TOKEN [QUERY]: GET the activity log, expecting 200
activity() { areq GET "/v1/account/activity${2:-}" "$1"; assert_equal "$status" 200; }

# wait_failed ACCESS N: until the account's activity holds N login_failed
# events. A failed login's event is written just after its 401 has gone out
# (so that a wrong key and an unknown name take the same time), so a client
# can see the 401 a moment before the event.
failed_count() {
	activity "$1" "?limit=1000"
	n=$(jb '[.events[] | select(.type == "login_failed")] | length')
	[ "$n" -ge "$2" ]
}
wait_failed() {
	local n=0
	bs_wait 60 failed_count "$1" "$2" || fail "$n login_failed events of $2 after 60 s"
}

# ---- register ----

@test "register answers 201 with an opaque account_id" {
	register "$(new_username)" "$(new_key)"
	assert_equal "$status" 201
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["account_id"]'
	assert_equal "$(jb '.account_id | type')" string
	id=$(jb .account_id)
	[ -n "$id" ]
	register "$(new_username)" "$(new_key)"
	assert_equal "$status" 201
	[ "$(jb .account_id)" != "$id" ]
}

@test "a taken username is 409 username_taken, in any case" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	register "$u" "$(new_key)"
	assert_err 409 username_taken
	register "${u^^}" "$(new_key)"
	assert_err 409 username_taken
	# the first account is untouched
	login_ok "$u" "$k"
}

@test "usernames are case-insensitive and stored lowercased" {
	mixed="Mx.$(new_username)_A@b+C"
	lower=${mixed,,}
	k=$(new_key)
	register_ok "$mixed" "$k"
	id=$ACCOUNT_ID
	login_ok "$lower" "$k"
	assert_equal "$ACCOUNT_ID" "$id"
	areq GET /v1/account "$ACCESS"
	assert_equal "$(jb .username)" "$lower"
	login_ok "${mixed^^}" "$k"
	assert_equal "$ACCOUNT_ID" "$id"
}

@test "username: 3-64 chars of a-z 0-9 . _ - @ +, first a letter or digit" {
	long64="9$(printf 'a%.0s' $(seq 1 63))"
	for u in z9q "$long64" "0.a_b-c@d+e" "Q-up"; do
		register "$u" "$(new_key)"
		assert_equal "$status" 201
	done
	long65="\"$(printf 'b%.0s' $(seq 1 65))\""
	for u in '"ab"' "$long65" '".abc"' '"_abc"' '"-abc"' '"@abc"' '"+abc"' '"a b c"' \
		'"abc/d"' '"abc:d"' '"abc#d"' '"\u00e5lice"' '"abc\u0000d"' '"abc\n"' '""' 123 null '["abc"]' '{}'; do
		jreq POST /v1/account/register "$(printf '{"username":%s,"auth_key":"%s","kdf":%s}' "$u" "$(new_key)" "$(kdf_json)")"
		assert_err 400 invalid_request
	done
	assert_regex "$(jb .error.message)" username
	jreq POST /v1/account/register "$(jq -cn --arg k "$(new_key)" --argjson kdf "$(kdf_json)" \
		'{auth_key: $k, kdf: $kdf}')"
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" username
}

@test "auth_key: standard padded base64 of 32 to 64 bytes" {
	register "$(new_username)" "$(b64_random 32)"
	assert_equal "$status" 201
	register "$(new_username)" "$(b64_random 64)"
	assert_equal "$status" 201
	urlsafe=$(head -c 33 /dev/zero | tr '\0' '\377' | base64 -w0 | tr '/+' '_-')
	unpadded=$(b64_random 32 | tr -d =)
	for k in "$(b64_random 31)" "$(b64_random 65)" "" "not base64!" "$urlsafe" "$unpadded" "$(b64_random 32)AA"; do
		register "$(new_username)" "$k"
		assert_err 400 invalid_request
	done
	assert_regex "$(jb .error.message)" auth_key
	for v in 12345 null '["x"]' '{}' true; do
		register "$(new_username)" x "{\"auth_key\": $v}"
		assert_err 400 invalid_request
	done
	jreq POST /v1/account/register "$(jq -cn --arg u "$(new_username)" --argjson kdf "$(kdf_json)" '{username: $u, kdf: $kdf}')"
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" auth_key
}

@test "kdf: a JSON object of at most 1 KiB" {
	# compact sizes: 18 + padding; 1018 bytes is under the limit however it
	# is measured (compact or spaced), 1025 over it
	kdf_of() { printf '{"alg":"x","p":"%s"}' "$(head -c "$1" /dev/zero | tr '\0' a)"; }
	small=$(kdf_of 1000)
	[ ${#small} = 1018 ]
	u=$(new_username)
	register "$u" "$(new_key)" "{\"kdf\": $small}"
	assert_equal "$status" 201
	prelogin "$u"
	assert_equal "$(jb .kdf.p | wc -c)" 1001
	big=$(kdf_of 1007)
	[ ${#big} = 1025 ]
	register "$(new_username)" "$(new_key)" "{\"kdf\": $big}"
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" kdf
	for v in '"pbkdf2"' 600000 '[1,2]' null true; do
		register "$(new_username)" "$(new_key)" "{\"kdf\": $v}"
		assert_err 400 invalid_request
	done
	jreq POST /v1/account/register "$(jq -cn --arg u "$(new_username)" --arg k "$(new_key)" '{username: $u, auth_key: $k}')"
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" kdf
}

@test "keyring: optional base64 of at most 65536 bytes, returned at login" {
	u=$(new_username)
	k=$(new_key)
	kr=$(b64_random 65536)
	register_ok "$u" "$k" "$(jq -cn --arg kr "$kr" '{keyring: $kr}')"
	login_ok "$u" "$k"
	[ "$(jb .keyring)" = "$kr" ] || fail "login did not return the registered keyring"
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jb .version)" 1
	[ "$(jb .keyring)" = "$kr" ]
	register "$(new_username)" "$(new_key)" "$(jq -cn --arg kr "$(b64_random 65537)" '{keyring: $kr}')"
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" keyring
	for v in '"not base64!"' 42 '["AAAA"]' '{}'; do
		register "$(new_username)" "$(new_key)" "{\"keyring\": $v}"
		assert_err 400 invalid_request
	done
}

@test "register: an unknown member is 400 invalid_request that names it, and creates nothing" {
	u=$(new_username)
	k=$(new_key)
	register "$u" "$k" '{"colour": "blue"}'
	assert_err 400 invalid_request
	assert_regex "$(jb .error.message)" colour
	register_ok "$u" "$k"
}

@test "register: wrong Content-Type is 415, malformed JSON is 400 invalid_json, nothing is created" {
	u=$(new_username)
	k=$(new_key)
	good=$(jq -cn --arg u "$u" --arg k "$k" --argjson kdf "$(kdf_json)" '{username: $u, auth_key: $k, kdf: $kdf}')
	req POST /v1/account/register -H 'Content-Type: text/plain' --data-binary "$good"
	assert_err 415 unsupported_media_type
	req POST /v1/account/register --data-binary "$good"
	assert_err 415 unsupported_media_type
	req POST /v1/account/register -H 'Content-Type:' --data-binary "$good"
	assert_err 415 unsupported_media_type
	for bad in '{"username": ' "$good trailing" '{"username": "x",}' "{'username': 'x'}" "${good%\}}"; do
		jreq POST /v1/account/register "$bad"
		assert_err 400 invalid_json
	done
	# valid JSON that is not an object, an empty body, invalid UTF-8: 400
	for bad in '[]' '"text"' 42 '' "$(printf '{"username":"\xff\xfe","auth_key":"%s"}' "$k")"; do
		jreq POST /v1/account/register "$bad"
		assert_equal "$status" 400
		assert_regex "$(jb .error.code)" '^(invalid_json|invalid_request)$'
	done
	# nothing was created by any of them; the charset parameter is accepted
	req POST /v1/account/register -H 'Content-Type: application/json; charset=utf-8' --data-binary "$good"
	assert_equal "$status" 201
}

# ---- prelogin ----

@test "prelogin answers the registered kdf verbatim, for any case of the name" {
	u=$(new_username)
	kdf='{"alg":"argon2id","salt":"c2FsdHNhbHRzYWx0c2FsdA==","m":65536,"t":3,"p":4,"f":1.5,"ok":true,"none":null,"nested":{"a":[1,2,{"b":"\u00fcn\u00efc\u00f8d\u00e9 \"q\""}]}}'
	register_ok "$u" "$(new_key)" "{\"kdf\": $kdf}"
	for name in "$u" "${u^^}"; do
		prelogin "$name"
		assert_equal "$status" 200
		assert_common_headers
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$(jbc keys)" '["kdf"]'
		assert_equal "$(jb '.kdf' | jq -S -c .)" "$(printf '%s' "$kdf" | jq -S -c .)"
	done
}

@test "prelogin of an unknown name answers a stable fake built from the config template" {
	g=$(new_username)
	prelogin "$g"
	assert_equal "$status" 200
	assert_common_headers
	f1=$(jbc .kdf)
	assert_equal "$(jbc '.kdf | keys')" '["alg","iterations","memory","parallelism","salt"]'
	assert_equal "$(jbc -S '.kdf | del(.salt)')" '{"alg":"argon2id","iterations":3,"memory":65536,"parallelism":4}'
	salt=$(jb .kdf.salt)
	assert_regex "$salt" '^[A-Za-z0-9+/]{22}==$'
	assert_equal "$(printf '%s' "$salt" | base64 -d | wc -c)" 16
	# the same answer every time, in any case of the name
	prelogin "$g"
	assert_equal "$(jbc .kdf)" "$f1"
	prelogin "${g^^}"
	assert_equal "$(jbc .kdf)" "$f1"
	# another name, another salt
	prelogin "$(new_username)"
	[ "$(jb .kdf.salt)" != "$salt" ]
	# once the name is taken, the real kdf
	kdf=$(kdf_json)
	register_ok "$g" "$(new_key)" "{\"kdf\": $kdf}"
	prelogin "$g"
	assert_equal "$(jb .kdf | jq -S -c .)" "$(printf '%s' "$kdf" | jq -S -c .)"
}

@test "prelogin validates its body" {
	for b in '{"username": "a"}' '{"username": "Bad Name"}' '{"username": ".dot"}' '{}' '{"username": 5}' \
		"{\"username\": \"$(new_username)\", \"extra\": 1}"; do
		jreq POST /v1/account/prelogin "$b"
		assert_err 400 invalid_request
	done
	jreq POST /v1/account/prelogin '{"username": '
	assert_err 400 invalid_json
	req POST /v1/account/prelogin -H 'Content-Type: text/plain' --data-binary '{"username": "abc"}'
	assert_err 415 unsupported_media_type
}

# ---- login ----

@test "login answers a token pair for a new device" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	id=$ACCOUNT_ID
	login "$u" "$k" '{"device": {"name": "Alice laptop", "type": "desktop"}}'
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["access_token","account_id","device_id","expires_in","keyring","keyring_version","refresh_token","token_type"]'
	assert_equal "$(jb .token_type)" Bearer
	assert_equal "$(jbc .expires_in)" 120
	assert_equal "$(jbc .keyring)" null
	assert_equal "$(jbc .keyring_version)" 0
	assert_equal "$(jb .account_id)" "$id"
	assert_equal "$(jb '.device_id | type')" string
	a=$(jb .access_token)
	r=$(jb .refresh_token)
	d=$(jb .device_id)
	assert_regex "$a" '^[A-Za-z0-9_-]{43}$'
	assert_regex "$r" '^[A-Za-z0-9_-]{43}$'
	[ "$a" != "$r" ]
	# the token works and the device carries its name and type
	areq GET /v1/account/devices "$a"
	assert_equal "$status" 200
	assert_equal "$(jbc --arg d "$d" '.devices[] | select(.device_id == $d) | [.name, .type]')" '["Alice laptop","desktop"]'
	# a second login is another device with other tokens
	login_ok "$u" "$k"
	[ "$DEVICE" != "$d" ] && [ "$ACCESS" != "$a" ] && [ "$REFRESH" != "$r" ]
	token_works "$a"
	token_works "$ACCESS"
}

@test "login returns the keyring stored at registration" {
	u=$(new_username)
	k=$(new_key)
	kr=$(b64_random 200)
	register_ok "$u" "$k" "{\"keyring\": \"$kr\"}"
	login_ok "$u" "$k"
	assert_equal "$(jb .keyring)" "$kr"
}

@test "login: the device is optional; its name and type are checked" {
	new_account
	jreq POST /v1/account/login "$(jq -cn --arg u "$USERNAME" --arg k "$KEY" '{username: $u, auth_key: $k}')"
	assert_equal "$status" 200
	n64=$(printf 'n%.0s' $(seq 1 64))
	t32=$(printf 't%.0s' $(seq 1 32))
	login "$USERNAME" "$KEY" "{\"device\": {\"name\": \"$n64\", \"type\": \"$t32\"}}"
	assert_equal "$status" 200
	for dev in "{\"name\": \"${n64}x\", \"type\": \"cli\"}" "{\"name\": \"pc\", \"type\": \"${t32}x\"}" \
		'{"name": "", "type": "cli"}' '{"name": "pc", "type": ""}' '{"name": 5, "type": "cli"}' \
		'{"name": "pc", "type": "cli", "os": "linux"}' '"laptop"' '[]'; do
		login "$USERNAME" "$KEY" "{\"device\": $dev}"
		assert_err 400 invalid_request
	done
}

@test "wrong key and unknown user answer the same 401 invalid_credentials" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	login "$u" "$(new_key)"
	assert_401 invalid_credentials
	wrong=$body
	login "$(new_username)" "$k"
	assert_401 invalid_credentials
	assert_equal "$body" "$wrong"
	login_ok "$u" "$k"
}

@test "login validates its body" {
	new_account
	for b in "{\"username\": \"$USERNAME\"}" "{\"username\": \"$USERNAME\", \"auth_key\": \"not base64!\"}" \
		"{\"username\": \"$USERNAME\", \"auth_key\": 7}" "{\"auth_key\": \"$KEY\"}" \
		"{\"username\": \"no spaces\", \"auth_key\": \"$KEY\"}" \
		"{\"username\": \"$USERNAME\", \"auth_key\": \"$KEY\", \"remember\": true}"; do
		jreq POST /v1/account/login "$b"
		assert_err 400 invalid_request
	done
	jreq POST /v1/account/login "{\"username\": \"$USERNAME\", "
	assert_err 400 invalid_json
	req POST /v1/account/login -H 'Content-Type: text/plain' \
		--data-binary "{\"username\": \"$USERNAME\", \"auth_key\": \"$KEY\"}"
	assert_err 415 unsupported_media_type
}

# ---- authentication ----

@test "account routes without a valid access token answer 401 unauthorized and do nothing" {
	new_account
	login_ok "$USERNAME" "$KEY"
	last=${ACCESS: -1}
	[ "$last" = A ] && flip=B || flip=A
	bad=("" "Basic dXNlcjpwYXNz" "Bearer" "Bearer " "Bearer not a token" "Bearer $(b64_random 32 | tr '+/' '-_' | tr -d =)"
		"Bearer $REFRESH" "Token $ACCESS" "Bearer ${ACCESS%?}$flip" "Bearer $ACCESS$ACCESS" "Bearer $ACCESS x")
	routes=("GET /v1/account" "GET /v1/account/devices" "DELETE /v1/account/devices/$DEVICE"
		"GET /v1/account/keyring" "PUT /v1/account/keyring" "POST /v1/account/password"
		"GET /v1/account/activity" "POST /v1/account/logout" "DELETE /v1/account")
	# every route without a token and with a refresh token; one route with every bad header
	for r in "${routes[@]}"; do
		m=${r%% *}
		p=${r#* }
		case "$r" in
		"PUT /v1/account/keyring") data="{\"keyring\": \"$(b64_random 40)\", \"version\": 0}" ;;
		"POST /v1/account/password") data="{\"auth_key\": \"$KEY\", \"new_auth_key\": \"$(new_key)\", \"new_kdf\": $(kdf_json)}" ;;
		"DELETE /v1/account") data="{\"auth_key\": \"$KEY\"}" ;;
		*) data= ;;
		esac
		if [ "$r" = "GET /v1/account" ]; then auths=("${bad[@]}"); else auths=("" "Bearer $REFRESH"); fi
		for a in "${auths[@]}"; do
			args=()
			[ -n "$a" ] && args+=(-H "Authorization: $a")
			[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
			req "$m" "$p" "${args[@]}"
			assert_401 unauthorized
		done
	done
	# nothing happened
	token_works "$ACCESS"
	areq GET /v1/account/devices "$ACCESS"
	assert_equal "$(jbc '.devices | length')" 2
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jb .version)" 0
	login_ok "$USERNAME" "$KEY"
}

@test "an expired access token is 401 token_expired; the refresh token still works" {
	new_account
	n=$(sql "UPDATE tokens SET expires_at = $(($(date +%s) - 10)) WHERE kind = 1 AND device_id = (SELECT id FROM devices WHERE public_id = '$DEVICE') RETURNING 1" | wc -l)
	[ "$n" -ge 1 ] || fail "no access token row of device $DEVICE in the store"
	token_fails "$ACCESS" token_expired
	refresh "$REFRESH"
	assert_equal "$status" 200
	a2=$(jb .access_token)
	r2=$(jb .refresh_token)
	token_works "$a2"
	# an expired refresh token is refused
	n=$(sql "UPDATE tokens SET expires_at = $(($(date +%s) - 10)) WHERE kind = 2 AND device_id = (SELECT id FROM devices WHERE public_id = '$DEVICE') RETURNING 1" | wc -l)
	[ "$n" -ge 1 ]
	refresh "$r2"
	assert_equal "$status" 401
	assert_regex "$(jb .error.code)" '^(token_expired|unauthorized)$'
}

# ---- refresh ----

@test "refresh rotates the token pair of the same device" {
	new_account
	a0=$ACCESS r0=$REFRESH d=$DEVICE id=$ACCOUNT_ID
	refresh "$r0"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc keys)" '["access_token","account_id","device_id","expires_in","refresh_token","token_type"]'
	assert_equal "$(jb .token_type)" Bearer
	assert_equal "$(jbc .expires_in)" 120
	assert_equal "$(jb .device_id)" "$d"
	assert_equal "$(jb .account_id)" "$id"
	a1=$(jb .access_token)
	r1=$(jb .refresh_token)
	assert_regex "$a1" '^[A-Za-z0-9_-]{43}$'
	assert_regex "$r1" '^[A-Za-z0-9_-]{43}$'
	[ "$a1" != "$a0" ] && [ "$r1" != "$r0" ] && [ "$a1" != "$r1" ]
	token_works "$a1"
	# the access token from before the refresh lives out its own TTL
	token_works "$a0"
	refresh "$r1"
	assert_equal "$status" 200
	a2=$(jb .access_token)
	token_works "$a2"
	# still one device
	areq GET /v1/account/devices "$a2"
	assert_equal "$(jbc '[.devices[].device_id]')" "[\"$d\"]"
}

@test "a reused refresh token is 401 token_reused and revokes that device's tokens" {
	new_account
	a0=$ACCESS r0=$REFRESH d0=$DEVICE
	login_ok "$USERNAME" "$KEY"
	other=$ACCESS
	refresh "$r0"
	assert_equal "$status" 200
	a1=$(jb .access_token)
	r1=$(jb .refresh_token)
	refresh "$r0"
	assert_401 token_reused
	token_fails "$a1"
	token_fails "$a0"
	refresh "$r1"
	assert_equal "$status" 401
	# the account's other device is not affected, and the log says why
	token_works "$other"
	activity "$other"
	assert_equal "$(jbc '[.events[] | select(.type == "refresh_reused") | .device_id]')" "[\"$d0\"]"
}

@test "refresh refuses unknown tokens and bad bodies" {
	new_account
	refresh "$(b64_random 32 | tr '+/' '-_' | tr -d =)"
	assert_401 unauthorized
	refresh "$ACCESS"
	assert_401 unauthorized
	for b in '{}' '{"refresh_token": 5}' '{"refresh_token": null}' "{\"refresh_token\": \"$REFRESH\", \"x\": 1}"; do
		jreq POST /v1/account/refresh "$b"
		assert_err 400 invalid_request
	done
	jreq POST /v1/account/refresh '{"refresh_token": "'
	assert_err 400 invalid_json
	# none of that used the refresh token up
	refresh "$REFRESH"
	assert_equal "$status" 200
}

# ---- logout ----

@test "logout answers 204 and revokes only this device's tokens" {
	new_account
	a0=$ACCESS r0=$REFRESH d0=$DEVICE
	login_ok "$USERNAME" "$KEY"
	a1=$ACCESS
	areq POST /v1/account/logout "$a0"
	assert_empty_204
	token_fails "$a0"
	refresh "$r0"
	assert_equal "$status" 401
	areq POST /v1/account/logout "$a0"
	assert_401 unauthorized
	token_works "$a1"
	activity "$a1"
	assert_equal "$(jbc '.events[0] | [.type, .device_id]')" "[\"logout\",\"$d0\"]"
}

# ---- the account ----

@test "GET /v1/account describes the account" {
	new_account
	areq GET /v1/account "$ACCESS"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["account_id","created_at","keyring_version","mfa","quota","recovery_key","usage","username"]'
	assert_equal "$(jbc .mfa)" '{"totp":false,"recovery_codes":0}'
	assert_equal "$(jbc .recovery_key)" false
	assert_equal "$(jb .account_id)" "$ACCOUNT_ID"
	assert_equal "$(jb .username)" "$USERNAME"
	assert_time "$(jb .created_at)"
	assert_equal "$(jbc .usage)" '{"bytes":0,"records":0}'
	assert_equal "$(jbc .quota)" '{"bytes":10485760}'
	assert_equal "$(jbc .keyring_version)" 0
}

# ---- devices ----

@test "GET /v1/account/devices lists this account's devices and marks the current one" {
	new_account
	a0=$ACCESS d0=$DEVICE
	login_ok "$USERNAME" "$KEY" '{"device": {"name": "phone", "type": "android"}}'
	a1=$ACCESS d1=$DEVICE
	new_account # another account's devices never show
	areq GET /v1/account/devices "$a1"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc keys)" '["devices"]'
	assert_equal "$(jbc '.devices | length')" 2
	assert_equal "$(jbc '[.devices[] | keys] | unique')" '[["created_at","current","device_id","last_seen_at","name","type"]]'
	assert_equal "$(jbc --arg d "$d1" '.devices[] | select(.device_id == $d) | [.name, .type, .current]')" '["phone","android",true]'
	assert_equal "$(jbc --arg d "$d0" '.devices[] | select(.device_id == $d) | [.name, .type, .current]')" '["test device","cli",false]'
	assert_time "$(jb '.devices[0].created_at')"
	assert_time "$(jb '.devices[0].last_seen_at')"
	areq GET /v1/account/devices "$a0"
	assert_equal "$(jbc '[.devices[] | select(.current) | .device_id]')" "[\"$d0\"]"
}

@test "DELETE a device: 204, its tokens fail at once, it leaves the list" {
	new_account
	a0=$ACCESS d0=$DEVICE
	login_ok "$USERNAME" "$KEY"
	a1=$ACCESS r1=$REFRESH d1=$DEVICE
	areq DELETE "/v1/account/devices/$d1" "$a0"
	assert_empty_204
	token_fails "$a1"
	refresh "$r1"
	assert_equal "$status" 401
	token_works "$a0"
	areq GET /v1/account/devices "$a0"
	assert_equal "$(jbc '[.devices[].device_id]')" "[\"$d0\"]"
	activity "$a0"
	assert_equal "$(jbc '.events[0] | [.type, .device_id]')" "[\"device_revoked\",\"$d1\"]"
	# a second delete finds nothing
	areq DELETE "/v1/account/devices/$d1" "$a0"
	assert_err 404 not_found
}

@test "DELETE of an unknown or another account's device is 404 not_found" {
	new_account
	a=$ACCESS
	new_account
	b=$ACCESS db=$DEVICE
	areq DELETE "/v1/account/devices/$db" "$a"
	assert_err 404 not_found
	token_works "$b"
	for id in nosuchdevice "$(b64_random 16 | tr '+/' '-_' | tr -d =)" 1 0; do
		areq DELETE "/v1/account/devices/$id" "$a"
		assert_err 404 not_found
	done
	token_works "$a"
}

@test "DELETE of the current device revokes the caller's own tokens" {
	new_account
	a0=$ACCESS r0=$REFRESH d0=$DEVICE
	areq DELETE "/v1/account/devices/$d0" "$a0"
	assert_empty_204
	token_fails "$a0"
	refresh "$r0"
	assert_equal "$status" 401
}

# two_processes TOKEN: use TOKEN (expecting 200) until both account
# processes have served it, so that each has seen it valid
two_processes() {
	local code rid pid
	local -A seen=()
	for _ in $(seq 1 60); do
		read -r code rid < <(one GET /v1/account -H "Authorization: Bearer $1")
		assert_equal "$code" 200
		pid=$(pid_of "$rid")
		seen[$pid]=1
		[ ${#seen[@]} -ge 2 ] && return 0
	done
	fail "60 requests were all served by one process (${!seen[*]}): are there 2 workers?"
}

# refused_everywhere PID TOKEN: TOKEN is refused, until (at most 60 tries)
# a process other than PID has refused it too
refused_everywhere() {
	local code rid pid
	for _ in $(seq 1 60); do
		read -r code rid < <(one GET /v1/account -H "Authorization: Bearer $2")
		assert_equal "$code" 401
		pid=$(pid_of "$rid")
		[ "$pid" != "$1" ] && return 0
	done
	fail "60 requests were all served by process $1, which revoked the token"
}

@test "a device deleted through one worker process is refused at once by the other" {
	bs_front_skip worker-processes
	new_account
	a0=$ACCESS
	login_ok "$USERNAME" "$KEY"
	a1=$ACCESS r1=$REFRESH d1=$DEVICE
	two_processes "$a1"
	areq DELETE "/v1/account/devices/$d1" "$a0"
	assert_empty_204
	p=$(pid_of "$(header X-Request-Id)")
	refused_everywhere "$p" "$a1"
	refresh "$r1"
	assert_equal "$status" 401
}

@test "a logout served by one worker process is seen at once by the other" {
	bs_front_skip worker-processes
	new_account
	two_processes "$ACCESS"
	areq POST /v1/account/logout "$ACCESS"
	assert_empty_204
	p=$(pid_of "$(header X-Request-Id)")
	refused_everywhere "$p" "$ACCESS"
}

# ---- keyring ----

@test "GET keyring: null and version 0 until set; a registered keyring is version 1" {
	new_account
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc .)" '{"keyring":null,"version":0}'
	kr=$(b64_random 100)
	new_account "{\"keyring\": \"$kr\"}"
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr\",\"version\":1}"
	areq GET /v1/account "$ACCESS"
	assert_equal "$(jbc .keyring_version)" 1
}

@test "PUT keyring with the current version stores it and bumps the version" {
	new_account
	kr1=$(b64_random 300)
	ajreq PUT /v1/account/keyring "$ACCESS" "{\"keyring\": \"$kr1\", \"version\": 0}"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc .)" '{"version":1}'
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr1\",\"version\":1}"
	activity "$ACCESS"
	assert_equal "$(jbc '.events[0] | [.type, .device_id]')" "[\"keyring_changed\",\"$DEVICE\"]"
	kr2=$(b64_random 65536)
	ajreq PUT /v1/account/keyring "$ACCESS" "{\"keyring\": \"$kr2\", \"version\": 1}"
	assert_equal "$(jbc .)" '{"version":2}'
	areq GET /v1/account "$ACCESS"
	assert_equal "$(jbc .keyring_version)" 2
	login_ok "$USERNAME" "$KEY"
	[ "$(jb .keyring)" = "$kr2" ] || fail "login did not return the new keyring"
}

@test "PUT keyring with a stale or future version is 412 with current_version" {
	kr0=$(b64_random 64)
	new_account "{\"keyring\": \"$kr0\"}"
	for v in 0 2 99; do
		ajreq PUT /v1/account/keyring "$ACCESS" "{\"keyring\": \"$(b64_random 64)\", \"version\": $v}"
		assert_err 412 precondition_failed
		assert_equal "$(jbc .current_version)" 1
	done
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr0\",\"version\":1}"
}

@test "PUT keyring validates its body" {
	new_account
	for b in '{"keyring": "not base64!", "version": 0}' "{\"keyring\": \"$(b64_random 65537)\", \"version\": 0}" \
		"{\"keyring\": \"$(b64_random 10)\"}" "{\"keyring\": \"$(b64_random 10)\", \"version\": \"0\"}" \
		'{"version": 0}' "{\"keyring\": 5, \"version\": 0}" \
		"{\"keyring\": \"$(b64_random 10)\", \"version\": 0, \"extra\": 1}"; do
		ajreq PUT /v1/account/keyring "$ACCESS" "$b"
		assert_err 400 invalid_request
	done
	ajreq PUT /v1/account/keyring "$ACCESS" '{"keyring": '
	assert_err 400 invalid_json
	areq PUT /v1/account/keyring "$ACCESS" -H 'Content-Type: text/plain' \
		--data-binary "{\"keyring\": \"$(b64_random 10)\", \"version\": 0}"
	assert_err 415 unsupported_media_type
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jbc .)" '{"keyring":null,"version":0}'
}

# ---- password ----

# password TOKEN JSON
password() { ajreq POST /v1/account/password "$1" "$2"; }

@test "password change: new key, kdf and keyring apply at once; other devices keep working" {
	kr0=$(b64_random 64)
	new_account "{\"keyring\": \"$kr0\"}"
	u=$USERNAME k0=$KEY a0=$ACCESS d0=$DEVICE
	login_ok "$u" "$k0"
	a1=$ACCESS
	k1=$(new_key)
	kdf1=$(kdf_json)
	kr1=$(b64_random 80)
	password "$a0" "$(jq -cn --arg k "$k0" --arg n "$k1" --argjson kdf "$kdf1" --arg kr "$kr1" \
		'{auth_key: $k, new_auth_key: $n, new_kdf: $kdf, new_keyring: $kr}')"
	assert_empty_204
	login "$u" "$k0"
	assert_401 invalid_credentials
	login_ok "$u" "$k1"
	assert_equal "$(jb .keyring)" "$kr1"
	prelogin "$u"
	assert_equal "$(jb .kdf | jq -S -c .)" "$(printf '%s' "$kdf1" | jq -S -c .)"
	areq GET /v1/account/keyring "$a0"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr1\",\"version\":2}"
	token_works "$a0"
	token_works "$a1"
	activity "$a0"
	assert_equal "$(jbc '[.events[] | select(.type == "password_changed") | .device_id]')" "[\"$d0\"]"
}

@test "password change with revoke_other_devices revokes every other device" {
	kr0=$(b64_random 64)
	new_account "{\"keyring\": \"$kr0\"}"
	u=$USERNAME k0=$KEY a0=$ACCESS
	login_ok "$u" "$k0"
	a1=$ACCESS r1=$REFRESH
	login_ok "$u" "$k0"
	a2=$ACCESS r2=$REFRESH
	k1=$(new_key)
	password "$a0" "$(jq -cn --arg k "$k0" --arg n "$k1" --argjson kdf "$(kdf_json)" \
		'{auth_key: $k, new_auth_key: $n, new_kdf: $kdf, revoke_other_devices: true}')"
	assert_empty_204
	token_works "$a0"
	token_fails "$a1"
	token_fails "$a2"
	refresh "$r1"
	assert_equal "$status" 401
	refresh "$r2"
	assert_equal "$status" 401
	# no new_keyring: the keyring is unchanged
	areq GET /v1/account/keyring "$a0"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr0\",\"version\":1}"
	login_ok "$u" "$k1"
}

@test "password change with a wrong auth_key is 401 invalid_credentials and changes nothing" {
	kr0=$(b64_random 64)
	kdf0=$(kdf_json)
	new_account "{\"keyring\": \"$kr0\", \"kdf\": $kdf0}"
	u=$USERNAME k0=$KEY a0=$ACCESS
	login_ok "$u" "$k0"
	a1=$ACCESS
	k1=$(new_key)
	password "$a0" "$(jq -cn --arg k "$(new_key)" --arg n "$k1" --argjson kdf "$(kdf_json)" --arg kr "$(b64_random 64)" \
		'{auth_key: $k, new_auth_key: $n, new_kdf: $kdf, new_keyring: $kr, revoke_other_devices: true}')"
	assert_401 invalid_credentials
	token_works "$a0"
	token_works "$a1"
	login "$u" "$k1"
	assert_401 invalid_credentials
	login_ok "$u" "$k0"
	prelogin "$u"
	assert_equal "$(jb .kdf | jq -S -c .)" "$(printf '%s' "$kdf0" | jq -S -c .)"
	areq GET /v1/account/keyring "$a0"
	assert_equal "$(jbc .)" "{\"keyring\":\"$kr0\",\"version\":1}"
}

@test "password change validates its body and changes nothing on error" {
	kdf0=$(kdf_json)
	new_account "{\"kdf\": $kdf0}"
	u=$USERNAME k0=$KEY a0=$ACCESS
	k1=$(new_key)
	kdf1=$(kdf_json)
	base=$(jq -cn --arg k "$k0" --arg n "$k1" --argjson kdf "$kdf1" '{auth_key: $k, new_auth_key: $n, new_kdf: $kdf}')
	for f in 'del(.new_kdf)' 'del(.new_auth_key)' 'del(.auth_key)' '.new_auth_key = "'"$(b64_random 16)"'"' \
		'.new_auth_key = "not base64!"' '.new_kdf = "pbkdf2"' '.revoke_other_devices = "yes"' \
		'.new_keyring = "not base64!"' '.new_keyring = 3' '.extra = 1'; do
		password "$a0" "$(printf '%s' "$base" | jq -c "$f")"
		assert_err 400 invalid_request
	done
	password "$a0" '{"auth_key": '
	assert_err 400 invalid_json
	areq POST /v1/account/password "$a0" -H 'Content-Type: text/plain' --data-binary "$base"
	assert_err 415 unsupported_media_type
	login "$u" "$k1"
	assert_401 invalid_credentials
	login_ok "$u" "$k0"
	prelogin "$u"
	assert_equal "$(jb .kdf | jq -S -c .)" "$(printf '%s' "$kdf0" | jq -S -c .)"
}

# ---- activity ----

@test "activity lists this account's events newest first" {
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k"
	login_ok "$u" "$k"
	a0=$ACCESS d0=$DEVICE
	login "$u" "$(new_key)"
	assert_equal "$status" 401
	wait_failed "$a0" 1
	login_ok "$u" "$k"
	a1=$ACCESS d1=$DEVICE
	ajreq PUT /v1/account/keyring "$a0" "{\"keyring\": \"$(b64_random 32)\", \"version\": 0}"
	assert_equal "$status" 200
	areq POST /v1/account/logout "$a1"
	assert_equal "$status" 204
	new_account # another account's events never show
	activity "$a0"
	assert_common_headers
	assert_equal "$(jbc keys)" '["events"]'
	assert_equal "$(jbc '[.events[].type]')" '["logout","keyring_changed","login","login_failed","login","register"]'
	assert_equal "$(jbc '[.events[].device_id]')" "[\"$d1\",\"$d0\",\"$d1\",null,\"$d0\",null]"
	assert_equal "$(jbc '[.events[] | keys] | unique')" '[["at","device_id","type"]]'
	for t in $(jb '.events[].at'); do assert_time "$t"; done
	assert_equal "$(jbc '[.events[].at] == ([.events[].at] | sort | reverse)')" true
}

# events_held: the lock of the test below is held (SQLite: the holder said
# so and lives; PostgreSQL: its lock on events is granted)
events_held() {
	if bs_backend sqlite; then
		grep -q held "$held" && kill -0 "$holder"
	else
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'events'::regclass AND mode = 'ExclusiveLock' AND granted")" = 1 ]
	fi
}

@test "a wrong key is answered before its login_failed event is written" {
	new_account
	# hold the store's write lock (for at most 20 s); on PostgreSQL, a lock
	# on the events table that lets readers through and stops writers
	held=$BATS_TEST_TMPDIR/held
	if bs_backend sqlite; then
		python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(20)' "$BS_DATA/blindsync.db" >"$held" 2>&1 3>&- &
	else
		PGAPPNAME=bs-events-holder bs_sql "BEGIN; LOCK TABLE events IN EXCLUSIVE MODE; SELECT pg_sleep(20);" \
			>"$held" 2>&1 3>&- &
	fi
	holder=$!
	bs_wait 60 events_held || true
	events_held || fail "could not take the write lock: $(cat "$held")"
	# a wrong key for an existing name writes nothing before its answer: it
	# is answered while the lock is held, as an unknown name is (before,
	# its event's commit waited for the lock)
	login "$USERNAME" "$(new_key)"
	assert_401 invalid_credentials
	events_held || fail "the lock was released before the answer"
	login "$(new_username)" "$(new_key)"
	assert_401 invalid_credentials
	# release it (PostgreSQL: end the holder's session; a killed psql alone
	# would leave its backend asleep with the lock)
	bs_backend sqlite || sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'bs-events-holder' AND datname = current_database()" >/dev/null
	kill "$holder" 2>/dev/null || true
	wait "$holder" || true
	# and the event is written once the lock is free
	wait_failed "$ACCESS" 1
}

@test "activity ?limit: 1 to 1000, default 50, else 400" {
	new_account
	wrong=$(jq -cn --arg u "$USERNAME" --arg k "$(new_key)" '{username: $u, auth_key: $k}')
	par 55 POST /v1/account/login "$wrong" >"$BATS_TEST_TMPDIR/codes"
	assert_equal "$(grep -c '^401 ' "$BATS_TEST_TMPDIR/codes")" 55
	wait_failed "$ACCESS" 55
	activity "$ACCESS"
	assert_equal "$(jbc '.events | length')" 50
	assert_equal "$(jbc '[.events[].type] | unique')" '["login_failed"]'
	activity "$ACCESS" "?limit=1000"
	assert_equal "$(jbc '.events | length')" 57
	assert_equal "$(jbc '[.events[-2:][].type]')" '["login","register"]'
	activity "$ACCESS" "?limit=2"
	assert_equal "$(jbc '[.events[].type]')" '["login_failed","login_failed"]'
	activity "$ACCESS" "?limit=1"
	assert_equal "$(jbc '.events | length')" 1
	for l in 0 1001 -1 abc "" 1.5 2x 99999999999999999999; do
		areq GET "/v1/account/activity?limit=$l" "$ACCESS"
		assert_err 400 invalid_request
	done
}

# ---- deleting the account ----

@test "DELETE /v1/account with a wrong or missing key changes nothing" {
	new_account
	ajreq DELETE /v1/account "$ACCESS" "{\"auth_key\": \"$(new_key)\"}"
	assert_401 invalid_credentials
	token_works "$ACCESS"
	ajreq DELETE /v1/account "$ACCESS" '{}'
	assert_err 400 invalid_request
	ajreq DELETE /v1/account "$ACCESS" "{\"auth_key\": \"$KEY\", \"force\": true}"
	assert_err 400 invalid_request
	areq DELETE /v1/account "$ACCESS" -H 'Content-Type: text/plain' --data-binary "{\"auth_key\": \"$KEY\"}"
	assert_err 415 unsupported_media_type
	token_works "$ACCESS"
	login_ok "$USERNAME" "$KEY"
}

@test "DELETE /v1/account removes the account, its devices, tokens and events" {
	u=$(new_username)
	k=$(new_key)
	prelogin "$u"
	fake=$(jbc .kdf)
	register_ok "$u" "$k" "{\"keyring\": \"$(b64_random 64)\"}"
	old_id=$ACCOUNT_ID
	login_ok "$u" "$k"
	a0=$ACCESS
	login_ok "$u" "$k"
	a1=$ACCESS r1=$REFRESH
	login "$u" "$(new_key)" # a login_failed event
	wait_failed "$a1" 1
	iid=$(sql "SELECT id FROM accounts WHERE public_id = '$old_id'")
	[ -n "$iid" ] || fail "account $old_id not found in the store"
	assert_equal "$(sql "SELECT count(*) FROM devices WHERE account_id = $iid")" 2
	[ "$(sql "SELECT count(*) FROM tokens WHERE account_id = $iid")" -ge 4 ]
	[ "$(sql "SELECT count(*) FROM events WHERE account_id = $iid")" -ge 4 ]
	ajreq DELETE /v1/account "$a0" "{\"auth_key\": \"$k\"}"
	assert_empty_204
	token_fails "$a0"
	token_fails "$a1"
	refresh "$r1"
	assert_equal "$status" 401
	login "$u" "$k"
	assert_401 invalid_credentials
	# prelogin is back to the fake it answered before the account existed
	prelogin "$u"
	assert_equal "$(jbc .kdf)" "$fake"
	for t in devices tokens events; do
		assert_equal "$(sql "SELECT count(*) FROM $t WHERE account_id = $iid")" 0
	done
	assert_equal "$(sql "SELECT count(*) FROM accounts WHERE id = $iid OR public_id = '$old_id' OR username = '$u'")" 0
	# the name is free again, for a new account with a fresh history
	k2=$(new_key)
	register_ok "$u" "$k2"
	[ "$ACCOUNT_ID" != "$old_id" ]
	login_ok "$u" "$k2"
	activity "$ACCESS"
	assert_equal "$(jbc '[.events[].type]')" '["login","register"]'
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jbc .)" '{"keyring":null,"version":0}'
}

# ---- across routes ----

@test "every JSON route answers 415 to another Content-Type and changes nothing" {
	new_account
	fresh=$(new_username)
	k1=$(new_key)
	bodies=(
		"POST /v1/account/register|$(jq -cn --arg u "$fresh" --arg k "$k1" --argjson kdf "$(kdf_json)" '{username: $u, auth_key: $k, kdf: $kdf}')"
		"POST /v1/account/prelogin|{\"username\": \"$USERNAME\"}"
		"POST /v1/account/login|{\"username\": \"$USERNAME\", \"auth_key\": \"$KEY\"}"
		"POST /v1/account/refresh|{\"refresh_token\": \"$REFRESH\"}"
		"PUT /v1/account/keyring|{\"keyring\": \"$(b64_random 20)\", \"version\": 0}"
		"POST /v1/account/password|{\"auth_key\": \"$KEY\", \"new_auth_key\": \"$k1\", \"new_kdf\": $(kdf_json)}"
		"DELETE /v1/account|{\"auth_key\": \"$KEY\"}"
	)
	# every route with text/plain; two routes with every other type too
	for entry in "${bodies[@]}"; do
		r=${entry%%|*}
		data=${entry#*|}
		cts=(text/plain)
		case "$r" in
		"POST /v1/account/login" | "DELETE /v1/account") cts+=(application/x-www-form-urlencoded application/jsonx text/json "") ;;
		esac
		for ct in "${cts[@]}"; do
			req "${r%% *}" "${r#* }" -H "Authorization: Bearer $ACCESS" -H "Content-Type: $ct" --data-binary "$data"
			assert_err 415 unsupported_media_type
		done
	done
	token_works "$ACCESS"
	areq GET /v1/account/keyring "$ACCESS"
	assert_equal "$(jb .version)" 0
	refresh "$REFRESH"
	assert_equal "$status" 200
	login_ok "$USERNAME" "$KEY"
	register_ok "$fresh" "$k1"
}

@test "account routes: 405 with Allow for a wrong method, 404 for unknown paths, any prefix" {
	new_account
	for r in "GET /v1/account/register:POST" "GET /v1/account/prelogin:POST" "GET /v1/account/login:POST" \
		"GET /v1/account/refresh:POST" "GET /v1/account/logout:POST" "POST /v1/account/devices:GET" \
		"POST /v1/account/keyring:GET PUT" "PATCH /v1/account:GET DELETE" "GET /v1/account/password:POST" \
		"POST /v1/account/activity:GET" "GET /v1/account/devices/$DEVICE:DELETE"; do
		mp=${r%%:*}
		areq "${mp%% *}" "${mp#* }" "$ACCESS"
		assert_err 405 method_not_allowed
		for m in ${r#*:}; do
			assert_regex "$(header Allow)" "(^|, )$m(,|\$)"
		done
	done
	for p in /v1/account/nothing /v1/account/devices/x/y /v1/account/keyring/1 /v1/accounts; do
		areq GET "$p" "$ACCESS"
		assert_err 404 not_found
	done
	jreq POST /sync/v1/account/prelogin "{\"username\": \"$USERNAME\"}"
	assert_equal "$status" 200
	areq GET /sync/v1/account "$ACCESS"
	assert_equal "$(jb .username)" "$USERNAME"
	token_works "$ACCESS"
}

# ---- the route contract: credentials and caps before the body ----

@test "prelogin, login, refresh and register refuse a body over their own cap with 413, before parsing it" {
	# not JSON at all: a 400 invalid_json would mean it was read and parsed
	head -c 4097 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/over"
	for r in prelogin login refresh; do
		req POST "/v1/account/$r" -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/over"
		assert_err 413 body_too_large
		assert_equal "$(jb .error.message)" "The request body is larger than 4096 bytes."
	done
	# exactly the cap is read and parsed as usual
	u=$(new_username)
	register_ok "$u" "$(new_key)"
	printf '{"username":"%s"}' "$u" >"$BATS_TEST_TMPDIR/at"
	n=$(wc -c <"$BATS_TEST_TMPDIR/at")
	head -c $((4096 - n)) /dev/zero | tr '\0' ' ' >>"$BATS_TEST_TMPDIR/at"
	req POST /v1/account/prelogin -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/at"
	assert_equal "$status" 200
	head -c 96601 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/over"
	req POST /v1/account/register -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/over"
	assert_err 413 body_too_large
	assert_equal "$(jb .error.message)" "The request body is larger than 96600 bytes."
}

@test "a bearer route sent 4 MiB without a valid token answers 401, not 400 or 413" {
	head -c 4194304 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/big"
	for r in "POST /v1/account/password" "PUT /v1/account/keyring" "DELETE /v1/account"; do
		read -r m p <<<"$r"
		req "$m" "$p" -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big"
		assert_err 401 unauthorized
		req "$m" "$p" -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
			-H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big"
		assert_err 401 unauthorized
	done
}
