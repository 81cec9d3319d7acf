#!/usr/bin/env bats
# Registration by invite (registration = "invite"): invites made with
# `blindsync-admin invite create` admit exactly one account, expire, are not
# used up by a failed registration, and are stored only as a hash. Also: the
# quota of GET /v1/account comes from the config's default plan.
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'registration = "invite"' 'rate_limits = {}' 'plans = { default = { bytes = 3 * MiB } }'
}
teardown_file() { bs_stop; }

# new_invite: create an invite with the admin tool; sets CODE (its stdout:
# the code alone, on one line)
new_invite() {
	[ -x "$BIN/blindsync-admin" ] || fail "$BIN/blindsync-admin is missing"
	CODE=$(BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-admin" invite create)
	assert_equal "$(printf '%s\n' "$CODE" | wc -l)" 1
	assert_regex "$CODE" '^[^[:space:]]{8,}$'
}

# with_invite CODE: the extra register member
with_invite() { jq -cn --arg c "$1" '{invite: $c}'; }

@test "invite mode: without a valid invite, registration is 403 invalid_invite" {
	u=$(new_username)
	k=$(new_key)
	register "$u" "$k"
	assert_err 403 invalid_invite
	register "$u" "$k" "$(with_invite nonsense-invite-code)"
	assert_err 403 invalid_invite
	register "$u" "$k" "$(with_invite "$(b64_random 24)")"
	assert_err 403 invalid_invite
	for v in 5 true '["x"]' '{}'; do
		register "$u" "$k" "{\"invite\": $v}"
		assert_err 400 invalid_request
	done
	login "$u" "$k"
	assert_401 invalid_credentials
}

@test "a made-up invite answers the same for a taken and a free name" {
	new_invite
	taken=$(new_username)
	register_ok "$taken" "$(new_key)" "$(with_invite "$CODE")"
	made_up=$(with_invite "$(b64_random 24)")
	register "$taken" "$(new_key)" "$made_up"
	assert_err 403 invalid_invite
	taken_body=$body
	register "$(new_username)" "$(new_key)" "$made_up"
	assert_err 403 invalid_invite
	assert_equal "$body" "$taken_body"
	# and with no invite at all
	register "$taken" "$(new_key)"
	assert_err 403 invalid_invite
	assert_equal "$body" "$taken_body"
}

@test "an invite admits exactly one registration" {
	new_invite
	u=$(new_username)
	k=$(new_key)
	register_ok "$u" "$k" "$(with_invite "$CODE")"
	login_ok "$u" "$k"
	areq GET /v1/account "$ACCESS"
	assert_equal "$status" 200
	assert_equal "$(jb .username)" "$u"
	assert_equal "$(jbc .quota)" '{"bytes":3145728}'
	register "$(new_username)" "$(new_key)" "$(with_invite "$CODE")"
	assert_err 403 invalid_invite
}

@test "a registration that fails does not use up its invite" {
	new_invite
	taken=$(new_username)
	register_ok "$taken" "$(new_key)" "$(with_invite "$CODE")"
	new_invite
	register "$taken" "$(new_key)" "$(with_invite "$CODE")"
	assert_err 409 username_taken
	register "$(new_username)" "$(new_key)" "$(jq -cn --arg c "$CODE" '{invite: $c, kdf: "bad"}')"
	assert_err 400 invalid_request
	register "$(new_username)" "$(b64_random 8)" "$(with_invite "$CODE")"
	assert_err 400 invalid_request
	register_ok "$(new_username)" "$(new_key)" "$(with_invite "$CODE")"
}

@test "an expired invite is 403 invalid_invite" {
	new_invite
	n=$(sql "UPDATE invites SET expires_at = $(($(date +%s) - 10)) WHERE id = (SELECT max(id) FROM invites) AND used_at IS NULL RETURNING 1" | wc -l)
	assert_equal "$n" 1
	register "$(new_username)" "$(new_key)" "$(with_invite "$CODE")"
	assert_err 403 invalid_invite
}

@test "one invite used by 8 registrations at once admits exactly one" {
	new_invite
	for i in $(seq 1 8); do
		body=$(jq -cn --arg u "$(new_username)" --arg k "$(new_key)" --argjson kdf "$(kdf_json)" --arg c "$CODE" \
			'{username: $u, auth_key: $k, kdf: $kdf, invite: $c}')
		curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "$body" \
			"$BS_URL/v1/account/register" >"$BATS_TEST_TMPDIR/code.$i" &
	done
	wait
	cat "$BATS_TEST_TMPDIR"/code.* | sort >"$BATS_TEST_TMPDIR/codes"
	assert_equal "$(grep -c '^201$' "$BATS_TEST_TMPDIR/codes")" 1
	assert_equal "$(grep -c '^403$' "$BATS_TEST_TMPDIR/codes")" 7
}

@test "an invite code is stored only as a hash and never logged" {
	new_invite
	register_ok "$(new_username)" "$(new_key)" "$(with_invite "$CODE")"
	new_invite # and one never used
	register "$(new_username)" "$(new_key)" "$(with_invite "${CODE}x")"
	assert_err 403 invalid_invite
	mapfile -t files < <(bs_store_files)
	[ "${#files[@]}" -ge 1 ] || fail "no store files"
	for f in "${files[@]}" "$BS_LOG" "$BS_RUN"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -a -F -- "${CODE}" "$f"; then
			fail "an invite code is in $f"
		fi
	done
}
