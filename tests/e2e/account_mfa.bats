#!/usr/bin/env bats
# Two-factor login and the recovery key (issue 15, docs/API-account.md)
# through the real front end: TOTP begun and confirmed with a code from
# oathtool, login asking for it, replay refused, the wrong-code lockout
# (429 with Retry-After, even for a right code), recovery codes used once
# and renewed, TOTP turned off; login and prelogin alike for an unknown
# name, an account with TOTP and one without until the key is proven; the
# recovery key stored, used to reset the password (the old key, devices and
# recovery key then refused), and every bad input a 4xx that changes
# nothing. secrets.bats checks that none of these secrets reach the disk.
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'mfa = { issuer = "Test Sync", lockout_seconds = 900 }' \
		'prelogin_fake_kdf = { alg = "pbkdf2-sha256", iterations = 600000 }'
}
teardown_file() { bs_stop; }

# totp SECRET [OFFSET_SECONDS]: the code oathtool computes for now + offset
totp() { oathtool --totp -b "$1" --now "@$(($(date +%s) + ${2:-0}))"; }

# mfa_on: TOTP on for the current account (SECRET, CODES[] set), confirmed with the current step
mfa_on() {
	ajreq POST /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_equal "$status" 200
	SECRET=$(jb .secret)
	[[ $SECRET =~ ^[A-Z2-7]{32}$ ]] || fail "bad secret: $SECRET"
	ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" "{\"code\":\"$(totp "$SECRET")\"}"
	assert_equal "$status" 200
	mapfile -t CODES < <(jb '.recovery_codes[]')
	assert_equal "${#CODES[@]}" 10
}

# events TOKEN: the activity log's event types, oldest first, one line
events() {
	areq GET "/v1/account/activity?limit=1000" "$1"
	assert_equal "$status" 200
	jb '[.events[].type] | reverse | join(" ")'
}

# account_state TOKEN: what GET /v1/account says about the second factor
account_state() {
	areq GET /v1/account "$1"
	assert_equal "$status" 200
	jbc '{mfa, recovery_key}'
}

@test "TOTP: begin answers a secret and an otpauth URI; confirm with an oathtool code turns it on with 10 codes" {
	new_account
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":false,"recovery_codes":0},"recovery_key":false}'
	ajreq POST /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_equal "$status" 200
	SECRET=$(jb .secret)
	assert_equal "$(jb .uri)" "otpauth://totp/Test%20Sync:$USERNAME?secret=$SECRET&issuer=Test%20Sync&algorithm=SHA1&digits=6&period=30"
	# begun, not yet on: login needs no code
	login_ok "$USERNAME" "$KEY"
	ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" "{\"code\":\"$(totp "$SECRET")\"}"
	assert_equal "$status" 200
	assert_equal "$(jb '.recovery_codes | length')" 10
	assert_equal "$(jb '[.recovery_codes[] | test("^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")] | all')" true
	assert_equal "$(jb '.recovery_codes | unique | length')" 10
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":true,"recovery_codes":10},"recovery_key":false}'
	run events "$ACCESS"
	assert_output --partial "mfa_enabled"
}

@test "login with TOTP: mfa_required without a code, an oathtool code accepted, its replay refused, one step of drift accepted" {
	new_account
	mfa_on
	login "$USERNAME" "$KEY"
	assert_401 mfa_required
	# the confirm used the current step: the next step's code (drift +1) logs in
	code=$(totp "$SECRET" 30)
	login "$USERNAME" "$KEY" "{\"totp\":\"$code\"}"
	assert_equal "$status" 200
	[ "$(jb .access_token)" != null ]
	# the same code again: replayed
	login "$USERNAME" "$KEY" "{\"totp\":\"$code\"}"
	assert_401 invalid_mfa
	# and the current step, now older than the last one used
	login "$USERNAME" "$KEY" "{\"totp\":\"$(totp "$SECRET")\"}"
	assert_401 invalid_mfa
	# two steps ahead: outside the drift
	login "$USERNAME" "$KEY" "{\"totp\":\"$(totp "$SECRET" 90)\"}"
	assert_401 invalid_mfa
	run events "$ACCESS"
	assert_output --partial "mfa_failed mfa_failed mfa_failed"
}

@test "a wrong code is 401 invalid_mfa; after 5 the next attempt, right or wrong, is 429 with Retry-After" {
	new_account
	mfa_on
	right=$(totp "$SECRET" 30)
	wrong=$(printf '%06d' $(((10#$right + 1) % 1000000)))
	for i in 1 2 3 4 5; do
		login "$USERNAME" "$KEY" "{\"totp\":\"$wrong\"}"
		assert_401 invalid_mfa
	done
	login "$USERNAME" "$KEY" "{\"totp\":\"$right\"}"
	assert_err 429 rate_limited
	ra=$(header Retry-After)
	[ "$ra" -ge 800 ] && [ "$ra" -le 900 ] || fail "Retry-After $ra"
	# a recovery code too, and the MFA routes of a signed-in device
	login "$USERNAME" "$KEY" "{\"recovery_code\":\"${CODES[0]}\"}"
	assert_err 429 rate_limited
	ajreq POST /v1/account/mfa/recovery-codes "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"${CODES[0]}\"}"
	assert_err 429 rate_limited
	[ -n "$(header Retry-After)" ]
	# a wrong auth_key is still the same 401 as ever (the key first)
	login "$USERNAME" "$(new_key)" "{\"totp\":\"$right\"}"
	assert_401 invalid_credentials
	# the lockout is in the store: every worker sees it
	for i in 1 2 3 4 5 6; do
		login "$USERNAME" "$KEY" "{\"totp\":\"$right\"}"
		assert_err 429 rate_limited
	done
	# nothing used up meanwhile: the recovery code still counts 10
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":true,"recovery_codes":10},"recovery_key":false}'
}

@test "a recovery code logs in once; renew makes a new set and the old one stops working; disable turns TOTP off" {
	new_account
	mfa_on
	# as typed: upper case, spaces for dashes
	typed=$(printf '%s' "${CODES[0]}" | tr 'a-z-' 'A-Z ')
	login "$USERNAME" "$KEY" "{\"recovery_code\":\"$typed\"}"
	assert_equal "$status" 200
	login "$USERNAME" "$KEY" "{\"recovery_code\":\"${CODES[0]}\"}"
	assert_401 invalid_mfa
	login_ok "$USERNAME" "$KEY" "{\"recovery_code\":\"${CODES[1]}\"}"
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":true,"recovery_codes":8},"recovery_key":false}'
	# renew with a recovery code as the code (the authenticator is lost)
	ajreq POST /v1/account/mfa/recovery-codes "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"${CODES[2]}\"}"
	assert_equal "$status" 200
	mapfile -t NEW < <(jb '.recovery_codes[]')
	assert_equal "${#NEW[@]}" 10
	login "$USERNAME" "$KEY" "{\"recovery_code\":\"${CODES[3]}\"}"
	assert_401 invalid_mfa
	login_ok "$USERNAME" "$KEY" "{\"recovery_code\":\"${NEW[0]}\"}"
	# disable: auth_key and a TOTP code
	ajreq DELETE /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"$(totp "$SECRET" 30)\"}"
	assert_empty_204
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":false,"recovery_codes":0},"recovery_key":false}'
	login_ok "$USERNAME" "$KEY"
	run events "$ACCESS"
	assert_output --partial "mfa_enabled"
	assert_output --partial "recovery_code_used"
	assert_output --partial "recovery_codes_renewed"
	assert_output --partial "mfa_disabled"
}

@test "before the key is proven, login and prelogin answer an unknown name, an account with TOTP and one without alike" {
	new_account
	mfa_on
	local with=$USERNAME
	new_account
	local without=$USERNAME unknown
	unknown=$(new_username)
	shapes=()
	for u in "$unknown" "$with" "$without"; do
		login "$u" "$(new_key)"
		assert_401 invalid_credentials
		shapes+=("$(jbc '[paths | map(tostring) | join(".")] | join(",")')|$(jb .error.message)")
		login "$u" "$(new_key)" '{"totp":"123456"}'
		assert_401 invalid_credentials
		shapes+=("$(jbc '[paths | map(tostring) | join(".")] | join(",")')|$(jb .error.message)")
		jreq POST /v1/account/prelogin "{\"username\":\"$u\"}"
		assert_equal "$status" 200
		shapes+=("$(jbc '[paths | map(tostring) | join(".")] | join(",")')")
	done
	for i in 0 1 2; do
		assert_equal "${shapes[$i]}" "${shapes[$((i + 3))]}"
		assert_equal "${shapes[$i]}" "${shapes[$((i + 6))]}"
	done
}

@test "every bad input of the MFA routes is a clear 4xx and changes nothing" {
	new_account
	mfa_on
	before=$(account_state "$ACCESS")
	login "$USERNAME" "$KEY" '{"totp":"12345"}'
	assert_err 400 invalid_request
	login "$USERNAME" "$KEY" '{"totp":"12345a"}'
	assert_err 400 invalid_request
	login "$USERNAME" "$KEY" "{\"totp\":\"123456\",\"recovery_code\":\"${CODES[0]}\"}"
	assert_err 400 invalid_request
	login "$USERNAME" "$KEY" '{"recovery_code":"not-a-code"}'
	assert_err 400 invalid_request
	login "$USERNAME" "$KEY" '{"totp":123456}'
	assert_err 400 invalid_request
	ajreq POST /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_err 409 conflict
	ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" "{\"code\":\"$(totp "$SECRET" 30)\"}"
	assert_err 409 conflict
	ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" "{\"code\":\"${CODES[0]}\"}"
	assert_err 400 invalid_request
	ajreq DELETE /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$(new_key)\",\"code\":\"${CODES[0]}\"}"
	assert_401 invalid_credentials
	ajreq DELETE /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_err 400 invalid_request
	ajreq DELETE /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"x\",\"more\":1}"
	assert_err 400 invalid_request
	ajreq POST /v1/account/mfa/recovery-codes "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"1234567\"}"
	assert_err 400 invalid_request
	areq POST /v1/account/mfa/totp "not-a-token" -H 'Content-Type: application/json' -d "{\"auth_key\":\"$KEY\"}"
	assert_401 unauthorized
	assert_equal "$(account_state "$ACCESS")" "$before"
	# a plain account: nothing to confirm, disable or renew
	new_account
	ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" '{"code":"123456"}'
	assert_err 409 conflict
	ajreq DELETE /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"123456\"}"
	assert_err 409 conflict
	ajreq POST /v1/account/mfa/recovery-codes "$ACCESS" "{\"auth_key\":\"$KEY\",\"code\":\"123456\"}"
	assert_err 409 conflict
	ajreq POST /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$(new_key)\"}"
	assert_401 invalid_credentials
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":false,"recovery_codes":0},"recovery_key":false}'
	# a code sent to an account without TOTP is ignored
	login_ok "$USERNAME" "$KEY" '{"totp":"123456"}'
}

# ---- the recovery key ----

@test "recovery key: stored, then a reset keeps the data: new credentials and keyring, old key, devices and recovery key refused" {
	new_account '{"keyring":"b2xkLWtleXJpbmc="}'
	local old_access=$ACCESS old_refresh=$REFRESH
	mfa_on
	ra=$(new_key)
	blob=$(b64_random 300)
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra\",\"blob\":\"$blob\"}"
	assert_empty_204
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":true,"recovery_codes":10},"recovery_key":true}'
	# wrong key, unknown name, account without a key: one answer
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$(new_key)\"}"
	assert_401 invalid_credentials
	wrong_msg=$(jb .error.message)
	jreq POST /v1/account/recover "{\"username\":\"$(new_username)\",\"recovery_auth\":\"$ra\"}"
	assert_401 invalid_credentials
	assert_equal "$(jb .error.message)" "$wrong_msg"
	local owner=$USERNAME
	new_account
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$ra\"}"
	assert_401 invalid_credentials
	assert_equal "$(jb .error.message)" "$wrong_msg"
	# the right one: the blob as stored and a reset token
	jreq POST /v1/account/recover "{\"username\":\"$owner\",\"recovery_auth\":\"$ra\"}"
	assert_equal "$status" 200
	assert_equal "$(jb .blob)" "$blob"
	assert_equal "$(jb .expires_in)" 300
	# the keyring's version, which the client seals the new keyring for (+ 1)
	assert_equal "$(jb .keyring_version)" 1
	reset=$(jb .reset_token)
	[[ $reset =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "bad reset_token: $reset"
	newkey=$(new_key)
	done_json=$(printf '{"reset_token":"%s","new_auth_key":"%s","new_kdf":%s,"new_keyring":"bmV3LWtleXJpbmc="}' \
		"$reset" "$newkey" "$(kdf_json)")
	jreq POST /v1/account/recover/complete "$done_json"
	assert_empty_204
	# single use
	jreq POST /v1/account/recover/complete "$done_json"
	assert_401 unauthorized
	# old credentials, tokens and the recovery key: gone
	login "$owner" "$KEY"
	assert_401 invalid_credentials
	token_fails "$old_access"
	refresh "$old_refresh"
	assert_401 unauthorized
	jreq POST /v1/account/recover "{\"username\":\"$owner\",\"recovery_auth\":\"$ra\"}"
	assert_401 invalid_credentials
	# the new key, and TOTP still asked for
	login "$owner" "$newkey"
	assert_401 mfa_required
	login_ok "$owner" "$newkey" "{\"recovery_code\":\"${CODES[0]}\"}"
	assert_equal "$(jb .keyring)" "bmV3LWtleXJpbmc="
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":true,"recovery_codes":9},"recovery_key":false}'
	areq GET /v1/account/devices "$ACCESS"
	assert_equal "$(jb '.devices | length')" 1
	run events "$ACCESS"
	assert_output --partial "recovery_key_set"
	assert_output --partial "account_recovered"
}

@test "recovery key: replaced by a second PUT, removed by DELETE; bad inputs are 4xx and change nothing" {
	new_account
	ra1=$(new_key) ra2=$(new_key)
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra1\",\"blob\":\"$(b64_random 64)\"}"
	assert_empty_204
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra2\",\"blob\":\"$(b64_random 64)\"}"
	assert_empty_204
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$ra1\"}"
	assert_401 invalid_credentials
	# bad inputs
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$(new_key)\",\"recovery_auth\":\"$ra1\",\"blob\":\"AAAA\"}"
	assert_401 invalid_credentials
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"c2hvcnQ=\",\"blob\":\"AAAA\"}"
	assert_err 400 invalid_request
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra1\",\"blob\":\"not base64\"}"
	assert_err 400 invalid_request
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra1\"}"
	assert_err 400 invalid_request
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\"}"
	assert_err 400 invalid_request
	jreq POST /v1/account/recover/complete '{"reset_token":"x","new_auth_key":"AAAA","new_kdf":{},"new_keyring":"AAAA"}'
	assert_err 400 invalid_request
	jreq POST /v1/account/recover/complete "{\"reset_token\":\"$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)\",\"new_auth_key\":\"$(new_key)\",\"new_kdf\":$(kdf_json),\"new_keyring\":\"AAAA\"}"
	assert_401 unauthorized
	# the key set by the second PUT still works after all that
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$ra2\"}"
	assert_equal "$status" 200
	# removed
	ajreq DELETE /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_empty_204
	ajreq DELETE /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\"}"
	assert_err 404 not_found
	jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$ra2\"}"
	assert_401 invalid_credentials
	run account_state "$ACCESS"
	assert_output '{"mfa":{"totp":false,"recovery_codes":0},"recovery_key":false}'
	run events "$ACCESS"
	assert_output --partial "recovery_failed"
	assert_output --partial "recovery_key_removed"
}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ms METHOD PATH JSON: the request's time in milliseconds (curl's total)
ms() {
	printf '%s' "$3" >"$BATS_TEST_TMPDIR/t.json"
	curl -s -o /dev/null -w '%{time_total}\n' -X "$1" -H 'Content-Type: application/json' \
		--data-binary @"$BATS_TEST_TMPDIR/t.json" "$BS_URL$2" | awk '{ printf "%.2f\n", $1 * 1000 }'
}

@test "timing, measured and reported (not asserted): login, prelogin and recover for the three kinds of name" {
	new_account
	mfa_on
	ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$(new_key)\",\"blob\":\"AAAA\"}"
	assert_equal "$status" 204
	local with=$USERNAME
	new_account
	local without=$USERNAME unknown
	unknown=$(new_username)
	local n=${MFA_TIMING_TRIES:-30} i u kind
	: >"$BATS_TEST_TMPDIR/times"
	# interleaved, so that the machine's load drifts over all three alike
	for i in $(seq 1 "$n"); do
		for kind in unknown with without; do
			u=${!kind}
			echo "login $kind $(ms POST /v1/account/login "{\"username\":\"$u\",\"auth_key\":\"$(new_key)\",\"totp\":\"123456\"}")"
			echo "prelogin $kind $(ms POST /v1/account/prelogin "{\"username\":\"$u\"}")"
			echo "recover $kind $(ms POST /v1/account/recover "{\"username\":\"$u\",\"recovery_auth\":\"$(new_key)\"}")"
		done >>"$BATS_TEST_TMPDIR/times"
	done
	for r in login prelogin recover; do
		line="$r median ms over $n:"
		for kind in unknown with without; do
			line+=" $kind $(awk -v r=$r -v k=$kind '$1 == r && $2 == k { print $3 }' "$BATS_TEST_TMPDIR/times" | median)"
		done
		echo "# $line (with: TOTP and a recovery key; without: neither)" >&3
	done
	[ "$(wc -l <"$BATS_TEST_TMPDIR/times")" -eq $((9 * n)) ]
}
