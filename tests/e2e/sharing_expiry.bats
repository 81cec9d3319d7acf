#!/usr/bin/env bats
# Invitation expiry (docs/API-sharing.md) without waiting days: with
# sharing.invitation_days = 0 every invitation expires the moment it is
# made (CONFIG.md), so the store's comparison with the clock is what is
# tested: an expired invitation is neither listed, accepted nor declined,
# counts against no limit, and a new one to the same account may be made;
# a rotation that still names it is a 412 (read again), not a 400;
# blindsync-admin purge deletes it as a withdrawal by time (the membership
# version moves; rotate_due when it carried the current key version).
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'sharing = { max_pending_invitations = 1, invitation_days = 0 }'
	sync_pool 6
}
teardown_file() { bs_stop; }

keys() {
	ajreq PUT /v1/account/keys "$1" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$(b64_random 32)\"}"
	assert_equal "$status" 204
}

# owner_and_member: two new accounts with public keys: o, o_t (the owner)
# and m, m_t (the one invited)
owner_and_member() {
	new_token
	o=$USERNAME o_t=$TOKEN
	keys "$o_t"
	new_token
	m=$USERNAME m_t=$TOKEN
	keys "$m_t"
}

@test "an expired invitation is gone: not listed, not accepted, not declined, not counted" {
	owner_and_member
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	g="\"sealed\":\"$(b64_random 48)\",\"signature\":\"$(b64_random 64)\""
	ajreq POST /v1/collections/c/invitations "$o_t" "{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,$g}"
	assert_equal "$status" 201
	id=$(jb .id)
	[ "$(date -d "$(jb .expires_at)" +%s)" -le "$(date +%s)" ]
	areq GET /v1/invitations "$m_t"
	assert_equal "$(jbc .invitations)" '[]'
	areq GET /v1/collections/c/invitations "$o_t"
	assert_equal "$(jbc .invitations)" '[]'
	areq POST "/v1/invitations/$id/accept" "$m_t"
	assert_error 404 not_found
	areq DELETE "/v1/invitations/$id" "$m_t"
	assert_error 404 not_found
	pull "$m_t" c "owner=$o"
	assert_error 404 not_found
	# not pending: the same account can be invited again, and the limit of 1 is not reached
	ajreq POST /v1/collections/c/invitations "$o_t" "{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,$g}"
	assert_equal "$status" 201
	[ "$(jb .id)" != "$id" ]
	# nor is a rotation asked for a grant to it; one that still names it (a
	# client that read the invitations before the expiry) is a 412, as for
	# any change it did not see, with the version to read again: nothing
	# rotated, and the retry without it goes through
	v=$(curl -s -o /dev/null -w '%header{etag}' -H "Authorization: Bearer $o_t" "$BS_URL/v1/collections/c/members")
	ajreq POST /v1/collections/c/rotate "$o_t" "{\"key_version\":2,\"grants\":[{\"to\":\"$m\",$g}]}" -H "If-Match: $v"
	assert_error 412 precondition_failed
	assert_equal "$(jb .current_version)" "${v//\"/}"
	[[ "$(jb .error.message)" == *"the invitation to $m has expired"* ]] || fail "$body"
	areq GET /v1/collections/c/members "$o_t"
	assert_equal "$(jb .key_version)" 1
	# a name never invited stays a 400
	ajreq POST /v1/collections/c/rotate "$o_t" '{"key_version":2,"grants":[{"to":"nobody-at-all",'"$g"'}]}' -H "If-Match: $v"
	assert_error 400 invalid_request
	ajreq POST /v1/collections/c/rotate "$o_t" '{"key_version":2,"grants":[]}' -H "If-Match: $v"
	assert_equal "$status" 200
}

# members_of TOKEN COLLECTION: the members listing into $body; its ETag into $etag
members_of() {
	areq GET "/v1/collections/$2/members" "$1"
	assert_equal "$status" 200
	etag=$(header ETag)
}

@test "purge deletes expired invitations as withdrawals: rotate_due where the invitee held the current key" {
	# what earlier tests left expired goes first
	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" purge
	assert_success
	owner_and_member
	push_ok "$o_t" held "$(rec a 0 "$(b64 x)")"
	push_ok "$o_t" rotated "$(rec a 0 "$(b64 x)")"
	g="\"sealed\":\"$(b64_random 48)\",\"signature\":\"$(b64_random 64)\""
	for c in held rotated; do
		ajreq POST "/v1/collections/$c/invitations" "$o_t" "{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,$g}"
		assert_equal "$status" 201
	done
	# "rotated" moves to key 2 without the expired invitee: it never gets that key
	members_of "$o_t" rotated
	ajreq POST /v1/collections/rotated/rotate "$o_t" '{"key_version":2,"grants":[]}' -H "If-Match: $etag"
	assert_equal "$status" 200
	members_of "$o_t" held
	held_v=$etag
	assert_equal "$(jbc '[.rotate_due, .key_version]')" '[false,1]'
	members_of "$o_t" rotated
	rotated_v=$etag
	assert_equal "$(jbc '[.rotate_due, .key_version]')" '[false,2]'
	oid=$(sql "SELECT id FROM accounts WHERE username = '$o'")
	assert_equal "$(sql "SELECT count(*) FROM invitations WHERE from_id = $oid")" 2
	st=$(etag_of "$o_t")

	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" purge
	assert_success
	assert_output --regexp '^purge: [0-9]+ expired tokens?, [0-9]+ expired invites?, 2 expired invitations, '
	assert_equal "$(sql "SELECT count(*) FROM invitations WHERE from_id = $oid")" 0
	# each membership version moved; "held" is due a rotation (the invitee
	# could open the grant of key 1), "rotated" is not
	members_of "$o_t" held
	[ "${etag//\"/}" -gt "${held_v//\"/}" ] || fail "held: $held_v -> $etag"
	assert_equal "$(jbc '[.rotate_due, .key_version, [.members[].username]]')" "[true,1,[\"$o\"]]"
	members_of "$o_t" rotated
	[ "${etag//\"/}" -gt "${rotated_v//\"/}" ] || fail "rotated: $rotated_v -> $etag"
	assert_equal "$(jbc '[.rotate_due, .key_version]')" '[false,2]'
	# the owner's status moved with it (its client learns rotate_due)
	[ "$(etag_of "$o_t")" != "$st" ]
	areq GET /v1/collections "$o_t"
	assert_equal "$(jbc '[.collections[] | [.name, .rotate_due]]')" '[["held",true],["rotated",false]]'
	# nothing left: a second purge finds none
	run env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" purge
	assert_success
	assert_output --regexp ', 0 expired invitations, '
}
