#!/usr/bin/env bats
# A waiting long-poll (GET /v1/status with If-None-Match, a pull with
# wait) of a device whose session ends meanwhile answers 401 within a few
# seconds, not when its wait runs out: the device deleted from another
# device, the other devices logged out by a password change, the account
# disabled or all its sessions revoked by blindsync-admin (another
# process). The end is learnt from the caller's account slot of the
# notifier (the signal blindsync-live closes its sockets on). A long-poll
# of a device that stays logged in goes on.
#
# Config: waits up to 30 s. Each test starts its waits with wait=30 and
# bounds the answer at 10 s (generous on a loaded machine; without the
# check the answer would come at 30 s with 200/304).
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'limits = { max_wait_seconds = 30 }'
}
teardown_file() { bs_stop; }

# lp_401 NAME: the background long-poll NAME answered 401 within 10 s
lp_401() {
	bg_wait "$1"
	assert_equal "$status" 401
	assert_equal "$(jb .error.code)" unauthorized
	secs_between "$elapsed" 0 10
}

@test "a device deleted by another: its waiting status and pull answer 401 at once; the other's pull waits on" {
	new_account
	local phone=$ACCESS phone_dev=$DEVICE
	login_ok "$USERNAME" "$KEY"
	local laptop=$ACCESS
	areq PUT /v1/collections/c "$laptop"
	bg_get st "/v1/status?wait=30" "$phone" -H "If-None-Match: $(etag_of "$phone")"
	bg_get pl "/v1/collections/c/pull?since=0&wait=30" "$phone"
	# long enough to be still waiting when all three are counted, however
	# slowly a busy machine starts them
	bg_get keep "/v1/collections/c/pull?since=0&wait=10" "$laptop"
	bs_wait 30 lp_waiting 3 || fail "the long-polls never waited: $(cat "$BATS_TEST_TMPDIR"/*.meta)"
	areq DELETE "/v1/account/devices/$phone_dev" "$laptop"
	assert_equal "$status" 204
	lp_401 st
	lp_401 pl
	# the laptop's session goes on: its pull answers empty when its wait is up
	bg_wait keep
	assert_equal "$status" 200
	assert_equal "$(jbc .records)" '[]'
	secs_between "$elapsed" 9.5 30
}

@test "a password change revoking the other devices: their waiting pull answers 401" {
	new_account
	local other=$ACCESS
	login_ok "$USERNAME" "$KEY"
	local me=$ACCESS
	areq PUT /v1/collections/c "$me"
	bg_get pl "/v1/collections/c/pull?since=0&wait=30" "$other"
	bs_wait 30 lp_waiting 1 || fail "the pull never waited: $(cat "$BATS_TEST_TMPDIR/pl.meta")"
	ajreq POST /v1/account/password "$me" "{\"auth_key\":\"$KEY\",\"new_auth_key\":\"$(new_key)\",\"new_kdf\":$(kdf_json),\"revoke_other_devices\":true}"
	assert_equal "$status" 204
	lp_401 pl
}

@test "blindsync-admin user disable: the account's waiting status answers 401" {
	new_account
	bg_get st "/v1/status?wait=30" "$ACCESS" -H "If-None-Match: $(etag_of "$ACCESS")"
	bs_wait 30 lp_waiting 1 || fail "the status never waited: $(cat "$BATS_TEST_TMPDIR/st.meta")"
	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" user disable "$USERNAME"
	assert_success
	lp_401 st
}

@test "blindsync-admin sessions revoke (every device logged out): the account's waiting pull answers 401" {
	new_account
	areq PUT /v1/collections/c "$ACCESS"
	bg_get pl "/v1/collections/c/pull?since=0&wait=30" "$ACCESS"
	bs_wait 30 lp_waiting 1 || fail "the pull never waited: $(cat "$BATS_TEST_TMPDIR/pl.meta")"
	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" sessions revoke "$USERNAME"
	assert_success
	lp_401 pl
}
