#!/usr/bin/env bats
# Sharing a collection between accounts (docs/API-sharing.md) through the
# real front end, on either backend: public keys, invitations, accepting,
# members and roles, ?owner= on every collection route, removal and leaving,
# rotation with If-Match, grants, limits, status and long-polls of members,
# the owner's quota, account deletion, and bad input that changes nothing.
# The server never opens a grant: the tests send random bytes where the
# clients send sealed grants and signatures. Expiry is in
# sharing_expiry.bats (another config).
#
# Limits of this file: 3 members per collection, 4 pending invitations per
# account, a default plan of 64 KiB.
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' \
		'limits = { max_body_bytes = 65536, max_record_bytes = 49152, max_wait_seconds = 20 }' \
		'plans = { default = { bytes = 65536 } }' \
		'sharing = { max_members = 3, max_pending_invitations = 4, invitation_days = 7 }'
	sync_pool 62
}
teardown_file() { bs_stop; }

# ---- helpers ----

# user VAR: a fresh account with published keys; sets VAR (its name) and VAR_t (its token)
user() {
	new_token
	printf -v "$1" '%s' "$USERNAME"
	printf -v "${1}_t" '%s' "$TOKEN"
	ajreq PUT /v1/account/keys "$TOKEN" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$(b64_random 32)\"}"
	assert_equal "$status" 204
}

# grant_json: the sealed grant and signature members (random bytes: the server never opens them)
grant_json() { printf '"sealed":"%s","signature":"%s"' "$(b64_random 80)" "$(b64_random 64)"; }

# invite TOKEN COLLECTION TO ROLE [QUERY] [KEY_VERSION]: POST an invitation; sets INV (its id) on 201
invite() {
	ajreq POST "/v1/collections/$2/invitations${5:+?$5}" "$1" \
		"{\"to\":\"$3\",\"role\":\"$4\",\"key_version\":${6:-1},$(grant_json)}"
	INV=
	[ "$status" != 201 ] || INV=$(jb .id)
}

# share TOKEN COLLECTION TO TO_TOKEN ROLE: invite and accept, expecting success
share() {
	invite "$1" "$2" "$3" "$5"
	[ "$status" = 201 ] || fail "invite $3: $status $body"
	areq POST "/v1/invitations/$INV/accept" "$4"
	[ "$status" = 200 ] || fail "accept by $3: $status $body"
}

# members TOKEN COLLECTION OWNER: GET the members listing
members() { areq GET "/v1/collections/$2/members?owner=$3" "$1"; }

# mversion TOKEN COLLECTION OWNER: prints the membership version (the listing's ETag)
mversion() {
	local e
	e=$(curl -s -o /dev/null -w '%header{etag}' -H "Authorization: Bearer $1" \
		"$BS_URL/v1/collections/$2/members?owner=$3")
	e=${e#\"}
	echo "${e%\"}"
}

# rotate TOKEN COLLECTION OWNER IF_MATCH KEY_VERSION NAME...: POST rotate with one grant per NAME
rotate() {
	local t=$1 c=$2 o=$3 m=$4 kv=$5 g='' n
	shift 5
	for n in "$@"; do g+="${g:+,}{\"to\":\"$n\",$(grant_json)}"; done
	local h=()
	[ "$m" = - ] || h=(-H "If-Match: \"$m\"")
	ajreq POST "/v1/collections/$c/rotate?owner=$o" "$t" "{\"key_version\":$kv,\"grants\":[$g]}" "${h[@]}"
}

# ---- public keys ----

@test "public keys: PUT 204, GET own, GET another's; 404 alike for unknown and keyless; a change is an event" {
	new_token
	a=$USERNAME a_t=$TOKEN
	areq GET /v1/account/keys "$a_t"
	assert_error 404 not_found
	x=$(b64_random 32) ed=$(b64_random 32)
	ajreq PUT /v1/account/keys "$a_t" "{\"x25519\":\"$x\",\"ed25519\":\"$ed\"}"
	assert_equal "$status" 204
	areq GET /v1/account/keys "$a_t"
	assert_equal "$status" 200
	assert_equal "$(jbc .)" "{\"x25519\":\"$x\",\"ed25519\":\"$ed\"}"
	user b
	areq GET "/v1/users/$a/keys" "$b_t"
	assert_equal "$(jbc .)" "{\"username\":\"$a\",\"x25519\":\"$x\",\"ed25519\":\"$ed\"}"
	# case folds like registration
	areq GET "/v1/users/$(echo "$a" | tr a-z A-Z)/keys" "$b_t"
	assert_equal "$status" 200
	new_token
	areq GET "/v1/users/$USERNAME/keys" "$b_t"
	assert_error 404 not_found
	keyless=$body
	areq GET "/v1/users/nobody-$RANDOM$RANDOM/keys" "$b_t"
	assert_error 404 not_found
	assert_equal "$body" "$keyless"
	# setting the same keys again is no event; new ones are
	ajreq PUT /v1/account/keys "$a_t" "{\"x25519\":\"$x\",\"ed25519\":\"$ed\"}"
	ajreq PUT /v1/account/keys "$a_t" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$ed\"}"
	assert_equal "$status" 204
	areq GET /v1/account/activity "$a_t"
	assert_equal "$(jbc '[.events[] | select(.type == "keys_changed")] | length')" 2
	# wrong lengths, missing and extra members: 400, nothing changed
	areq GET /v1/account/keys "$a_t"
	before=$body
	for bad in "{\"x25519\":\"$(b64_random 31)\",\"ed25519\":\"$ed\"}" \
		"{\"x25519\":\"$x\",\"ed25519\":\"$(b64_random 33)\"}" "{\"x25519\":\"$x\"}" \
		"{\"x25519\":\"$x\",\"ed25519\":\"$ed\",\"extra\":1}" "{\"x25519\":\"not base64!\",\"ed25519\":\"$ed\"}"; do
		ajreq PUT /v1/account/keys "$a_t" "$bad"
		assert_error 400 invalid_request
	done
	areq GET /v1/account/keys "$a_t"
	assert_equal "$body" "$before"
}

# ---- invite, accept, use ----

@test "invite -> accept: the member pulls what the owner pushed and the owner what the member pushed" {
	user o
	user m
	push_ok "$o_t" notes "$(rec a 0 "$(b64 from-owner)")"
	invite "$o_t" notes "$m" write
	assert_equal "$status" 201
	[[ $INV =~ ^[A-Za-z0-9_-]{22}$ ]]
	# sharing.invitation_days = 7 from now (within a generous minute)
	d=$(($(date -d "$(jb .expires_at)" +%s) - $(date +%s) - 7 * 86400))
	[ "$d" -gt -60 ] && [ "$d" -lt 60 ]
	# the invitee sees it with what it needs to check and open the grant
	areq GET /v1/invitations "$m_t"
	assert_equal "$status" 200
	assert_equal "$(jbc '.invitations | map([.id, .collection, .owner, .from, .role, .key_version])')" \
		"[[\"$INV\",\"notes\",\"$o\",\"$o\",\"write\",1]]"
	assert_equal "$(jbc '.invitations[0] | keys')" \
		'["collection","created_at","expires_at","from","from_keys","id","key_version","owner","role","sealed","signature"]'
	areq GET "/v1/users/$o/keys" "$m_t"
	assert_equal "$(jbc '[.x25519, .ed25519]')" "$(printf '%s' "$(curl -s -H "Authorization: Bearer $m_t" "$BS_URL/v1/invitations")" | jq -c '.invitations[0].from_keys | [.x25519, .ed25519]')"
	sealed=$(curl -s -H "Authorization: Bearer $m_t" "$BS_URL/v1/invitations" | jq -r '.invitations[0].sealed')
	# the owner sees it pending
	areq GET /v1/collections/notes/invitations "$o_t"
	assert_equal "$(jbc '.invitations | map([.id, .to, .role, .from, .key_version])')" "[[\"$INV\",\"$m\",\"write\",\"$o\",1]]"

	areq POST "/v1/invitations/$INV/accept" "$m_t"
	assert_equal "$status" 200
	assert_equal "$(jbc .)" "{\"collection\":\"notes\",\"owner\":\"$o\",\"role\":\"write\",\"key_version\":1}"
	areq GET /v1/invitations "$m_t"
	assert_equal "$(jbc .invitations)" '[]'
	# the grant is the invitation's
	areq GET "/v1/collections/notes/grant?owner=$o" "$m_t"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.key_version, .from, .role]')" "[1,\"$o\",\"write\"]"
	assert_equal "$(jb .sealed)" "$sealed"

	pull_ok "$m_t" notes "owner=$o"
	assert_equal "$(jbc '.records | map([.id, .payload])')" "[[\"a\",\"$(b64 from-owner)\"]]"
	ajreq POST "/v1/collections/notes/push?owner=$o" "$m_t" "{\"records\":[$(rec b 0 "$(b64 from-member)")]}"
	assert_equal "$status" 200
	pull_ok "$o_t" notes
	assert_equal "$(jbc '.records | map([.id, .payload])')" "[[\"a\",\"$(b64 from-owner)\"],[\"b\",\"$(b64 from-member)\"]]"
	areq GET "/v1/collections/notes/records/b?owner=$o" "$m_t"
	assert_equal "$(jb .payload)" "$(b64 from-member)"
	areq GET "/v1/collections/notes/records/b/history?owner=$o" "$m_t"
	assert_equal "$status" 200
	v=$(jb '.versions[0].version')
	areq GET "/v1/collections/notes/records/b/history/$v?owner=$o" "$m_t"
	assert_equal "$status" 200
	# ?owner= naming oneself is the own collection
	pull_ok "$o_t" notes "owner=$o"
	assert_equal "$(jbc '.records | length')" 2

	# listings: own ones then the shared ones with owner and role
	areq GET /v1/collections "$m_t"
	assert_equal "$(jbc '.collections | map([.name, .owner, .role, .version, .key_version])')" \
		"[[\"notes\",\"$o\",\"write\",2,1]]"
	# ?owner= narrows the listing to that owner's (an unknown or malformed one: empty)
	push_ok "$m_t" mine "$(rec a 0 "$(b64 x)")"
	areq GET "/v1/collections?owner=$o" "$m_t"
	assert_equal "$(jbc '.collections | map([.name, .owner])')" "[[\"notes\",\"$o\"]]"
	areq GET "/v1/collections?owner=$m" "$m_t"
	assert_equal "$(jbc '.collections | map([.name, .owner])')" '[["mine",null]]'
	for q in "nobody-$RANDOM" 'NOT%20A%20NAME'; do
		areq GET "/v1/collections?owner=$q" "$m_t"
		assert_equal "$status" 200
		assert_equal "$(jbc .collections)" '[]'
	done
	areq GET /v1/collections "$m_t"
	assert_equal "$(jbc '.collections | map([.name, .owner])')" "[[\"mine\",null],[\"notes\",\"$o\"]]"
	status_of "$m_t"
	assert_equal "$(jbc '.collections | map([.name, .owner, .role, .key_version])')" \
		"[[\"mine\",null,null,1],[\"notes\",\"$o\",\"write\",1]]"
	assert_equal "$(jbc '.usage.records')" 1
	members "$m_t" notes "$o"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.owner, .key_version, (.members | map([.username, .role]))]')" \
		"[\"$o\",1,[[\"$o\",\"owner\"],[\"$m\",\"write\"]]]"
	assert_equal "$(header ETag)" "\"$(jb .version)\""
}

@test "a read member's push is 403 and changes nothing; it reads" {
	user o
	user r
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$r" "$r_t" read
	before=$(state "$o_t")
	ajreq POST "/v1/collections/c/push?owner=$o" "$r_t" "{\"records\":[$(rec z 0 "$(b64 y)")]}"
	assert_error 403 forbidden
	unchanged "$o_t" "$before" "a read member's push"
	pull_ok "$r_t" c "owner=$o"
	assert_equal "$(jbc '.records | length')" 1
	# meta and deletion stay the owner's, whatever the role
	ajreq PUT "/v1/collections/c?owner=$o" "$r_t" '{"meta":null}'
	assert_error 403 forbidden
	areq DELETE "/v1/collections/c?owner=$o" "$r_t"
	assert_error 403 forbidden
	# below admin: no invitations, no role changes, no rotation
	user x
	invite "$r_t" c "$x" read "owner=$o"
	assert_error 403 forbidden
	areq GET "/v1/collections/c/invitations?owner=$o" "$r_t"
	assert_error 403 forbidden
	unchanged "$o_t" "$before" "a read member's refused requests"
}

@test "a non-member gets 404 on every collection route, exactly as for a missing collection" {
	user o
	user m
	user n
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$m" "$m_t" admin
	before=$(state "$o_t")
	r=$(printf '{"records":[%s]}' "$(rec z 0 "$(b64 y)")")
	inv="{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,$(grant_json)}"
	rows=""
	for q in "owner=$o" "owner=nobody-$RANDOM" "owner=NOT%20A%20NAME"; do
		for c in c missing; do
			rows+="GET|/v1/collections/$c/pull?$q|-|
GET|/v1/collections/$c/pull?$q&wait=1|-|
GET|/v1/collections/$c/records/a?$q|-|
GET|/v1/collections/$c/records/a/history?$q|-|
GET|/v1/collections/$c/records/a/history/1?$q|-|
POST|/v1/collections/$c/push?$q|$r|
PUT|/v1/collections/$c?$q|{}|
DELETE|/v1/collections/$c?$q|-|
GET|/v1/collections/$c/members?$q|-|
PATCH|/v1/collections/$c/members/$m?$q|{\"role\":\"read\"}|
DELETE|/v1/collections/$c/members/$m?$q|-|
POST|/v1/collections/$c/invitations?$q|$inv|
GET|/v1/collections/$c/invitations?$q|-|
POST|/v1/collections/$c/rotate?$q|{\"key_version\":2,\"grants\":[]}|
GET|/v1/collections/$c/grant?$q|-|
"
		done
	done
	err_table 404 not_found "$n_t" <<<"$rows"
	# the answers are the same body whatever the reason
	areq GET "/v1/collections/c/pull?owner=$o" "$n_t"
	a=$(jb .error.message)
	areq GET "/v1/collections/missing/pull?owner=$o" "$n_t"
	assert_equal "$(jb .error.message)" "$a"
	unchanged "$o_t" "$before" "a non-member's requests"
	areq GET /v1/collections "$n_t"
	assert_equal "$(jbc .collections)" '[]'
}

# ---- members ----

@test "roles: an admin invites and changes roles but cannot touch the owner; the owner cannot be removed" {
	user o
	user adm
	user w
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$adm" "$adm_t" admin
	# an admin invites (up to admin) on the owner's collection
	invite "$adm_t" c "$w" write "owner=$o"
	assert_equal "$status" 201
	areq POST "/v1/invitations/$INV/accept" "$w_t"
	assert_equal "$status" 200
	members "$w_t" c "$o"
	assert_equal "$(jbc '.members | map([.username, .role])')" \
		"$(jq -cn --arg o "$o" --arg a "$adm" --arg w "$w" '[[$o,"owner"]] + ([[$a,"admin"],[$w,"write"]] | sort)')"
	v0=$(jb .version)
	# role change: write -> read; the read member's push is refused at once
	ajreq PATCH "/v1/collections/c/members/$w?owner=$o" "$adm_t" '{"role":"read"}'
	assert_equal "$status" 200
	assert_equal "$(jbc '[.username, .role]')" "[\"$w\",\"read\"]"
	[ "$(jb .version)" -gt "$v0" ]
	ajreq POST "/v1/collections/c/push?owner=$o" "$w_t" "{\"records\":[$(rec z 0 "$(b64 y)")]}"
	assert_error 403 forbidden
	# nobody changes or removes the owner
	for t in "$adm_t" "$o_t"; do
		ajreq PATCH "/v1/collections/c/members/$o?owner=$o" "$t" '{"role":"read"}'
		assert_error 403 forbidden
		areq DELETE "/v1/collections/c/members/$o?owner=$o" "$t"
		assert_error 403 forbidden
	done
	# a read member removes nobody but itself
	areq DELETE "/v1/collections/c/members/$adm?owner=$o" "$w_t"
	assert_error 403 forbidden
	# bad roles and unknown members
	for role in owner none READ '' ; do
		ajreq PATCH "/v1/collections/c/members/$w?owner=$o" "$o_t" "{\"role\":\"$role\"}"
		assert_error 400 invalid_request
	done
	user x
	ajreq PATCH "/v1/collections/c/members/$x?owner=$o" "$o_t" '{"role":"read"}'
	assert_error 404 not_found
	areq DELETE "/v1/collections/c/members/$x" "$o_t"
	assert_error 404 not_found
}

@test "removal: the removed member's very next request is 404; leaving; old grants go with the member" {
	user o
	user m
	user l
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$m" "$m_t" write
	share "$o_t" c "$l" "$l_t" read
	v0=$(acct_version "$m_t")
	areq DELETE "/v1/collections/c/members/$m" "$o_t"
	assert_equal "$status" 204
	[ "$(acct_version "$m_t")" -gt "$v0" ]
	pull "$m_t" c "owner=$o"
	assert_error 404 not_found
	ajreq POST "/v1/collections/c/push?owner=$o" "$m_t" "{\"records\":[$(rec z 0 "$(b64 y)")]}"
	assert_error 404 not_found
	areq GET "/v1/collections/c/grant?owner=$o" "$m_t"
	assert_error 404 not_found
	areq GET /v1/collections "$m_t"
	assert_equal "$(jbc .collections)" '[]'
	# leave
	areq DELETE "/v1/collections/c/members/$l?owner=$o" "$l_t"
	assert_equal "$status" 204
	members "$l_t" c "$o"
	assert_error 404 not_found
	members "$o_t" c "$o"
	assert_equal "$(jbc '.members | map(.username)')" "[\"$o\"]"
	# gone is gone: a second removal is 404
	areq DELETE "/v1/collections/c/members/$l" "$o_t"
	assert_error 404 not_found
}

# ---- rotation ----

@test "rotation: If-Match, exactly one grant per member and invitee, 412 on a concurrent invitation, retry succeeds" {
	user o
	user a
	user b
	user p
	push_ok "$o_t" c "$(rec r1 0 "$(b64 x)")"
	share "$o_t" c "$a" "$a_t" admin
	share "$o_t" c "$b" "$b_t" read
	invite "$o_t" c "$p" write
	pinv=$INV
	v=$(mversion "$o_t" c "$o")
	# 428 without If-Match, with the current version
	rotate "$o_t" c "$o" - 2 "$a" "$b" "$p"
	assert_error 428 precondition_required
	assert_equal "$(jb .current_version)" "$v"
	# 400: missing, extra, twice, a wrong key_version
	rotate "$o_t" c "$o" "$v" 2 "$a" "$b"
	assert_error 400 invalid_request
	[[ $(jb .error.message) == *"$p"* ]]
	user x
	rotate "$o_t" c "$o" "$v" 2 "$a" "$b" "$p" "$x"
	assert_error 400 invalid_request
	rotate "$o_t" c "$o" "$v" 2 "$a" "$b" "$p" "$a"
	assert_error 400 invalid_request
	rotate "$o_t" c "$o" "$v" 2 "$a" "$b" "$p" "$o"
	assert_error 400 invalid_request
	rotate "$o_t" c "$o" "$v" 3 "$a" "$b" "$p"
	assert_error 400 invalid_request
	assert_equal "$(mversion "$o_t" c "$o")" "$v"
	# a concurrent invitation moves the membership version: 412, nothing rotated
	user q
	invite "$a_t" c "$q" read "owner=$o"
	assert_equal "$status" 201
	rotate "$o_t" c "$o" "$v" 2 "$a" "$b" "$p"
	assert_error 412 precondition_failed
	v2=$(jb .current_version)
	[ "$v2" -gt "$v" ]
	members "$o_t" c "$o"
	assert_equal "$(jb .key_version)" 1
	# the retry: read again, a grant for the new invitee too
	rotate "$o_t" c "$o" "$v2" 2 "$a" "$b" "$p" "$q"
	assert_equal "$status" 200
	assert_equal "$(jb .key_version)" 2
	[ "$(jb .version)" -gt "$v2" ]
	# grants: newest and by version; old ones kept
	areq GET "/v1/collections/c/grant?owner=$o" "$b_t"
	assert_equal "$(jbc '[.key_version, .from, .role]')" "[2,\"$o\",\"read\"]"
	areq GET "/v1/collections/c/grant?owner=$o&key_version=1" "$b_t"
	assert_equal "$(jb .key_version)" 1
	areq GET "/v1/collections/c/grant?owner=$o&key_version=3" "$b_t"
	assert_error 404 not_found
	# the pending invitation now carries the new key version
	areq GET /v1/invitations "$p_t"
	assert_equal "$(jbc '.invitations | map([.id, .key_version])')" "[[\"$pinv\",2]]"
	# key_version everywhere a collection is
	areq GET /v1/collections "$o_t"
	assert_equal "$(jbc '.collections | map([.name, .key_version])')" '[["c",2]]'
	areq GET /v1/collections "$b_t"
	assert_equal "$(jbc '.collections | map(.key_version)')" '[2]'
	# an invitation at the old key version is refused
	user y
	invite "$o_t" c "$y" read "" 1
	assert_error 400 invalid_request
	# an admin rotates too, with a grant for the owner
	v3=$(mversion "$o_t" c "$o")
	rotate "$a_t" c "$o" "$v3" 3 "$b" "$p" "$q"
	assert_error 400 invalid_request
	rotate "$a_t" c "$o" "$v3" 3 "$o" "$b" "$p" "$q"
	assert_equal "$status" 200
	areq GET "/v1/collections/c/grant?owner=$o" "$o_t"
	assert_equal "$(jbc '[.key_version, .from]')" "[3,\"$a\"]"
}

@test "rotate_due: set by a removal, a leave and a withdrawal, shown to the owner and admins, cleared by a rotation" {
	user o
	user a
	user b
	user w
	push_ok "$o_t" c "$(rec r1 0 "$(b64 x)")"
	share "$o_t" c "$a" "$a_t" admin
	share "$o_t" c "$b" "$b_t" read
	share "$o_t" c "$w" "$w_t" write
	# a new share is not due: invitations and role changes leave it so
	members "$o_t" c "$o"
	assert_equal "$(jb .rotate_due)" false
	ajreq PATCH "/v1/collections/c/members/$b" "$o_t" '{"role":"write"}'
	assert_equal "$status" 200
	areq GET /v1/collections "$o_t"
	assert_equal "$(jbc '.collections | map([.name, .rotate_due])')" '[["c",false]]'
	# a member who leaves by itself: due, in every place the owner and an admin look
	e0=$(etag_of "$o_t")
	areq DELETE "/v1/collections/c/members/$b?owner=$o" "$b_t"
	assert_equal "$status" 204
	[ "$(etag_of "$o_t")" != "$e0" ]
	members "$o_t" c "$o"
	assert_equal "$(jbc '[.rotate_due, .key_version]')" '[true,1]'
	members "$w_t" c "$o"
	assert_equal "$(jb .rotate_due)" true
	areq GET /v1/collections "$o_t"
	assert_equal "$(jbc '.collections | map([.name, .rotate_due])')" '[["c",true]]'
	status_of "$o_t"
	assert_equal "$(jbc '.collections | map([.name, .rotate_due])')" '[["c",true]]'
	areq GET /v1/collections "$a_t"
	assert_equal "$(jbc '.collections | map([.owner, .role, .rotate_due])')" "[[\"$o\",\"admin\",true]]"
	# a member below admin cannot rotate: its listings do not carry it
	areq GET /v1/collections "$w_t"
	assert_equal "$(jbc '.collections | map(has("rotate_due"))')" '[false]'
	status_of "$w_t"
	assert_equal "$(jbc '.collections | map(has("rotate_due"))')" '[false]'
	# a refused rotation leaves it due
	v=$(mversion "$o_t" c "$o")
	rotate "$o_t" c "$o" "$v" 2 "$a"
	assert_error 400 invalid_request
	members "$o_t" c "$o"
	assert_equal "$(jb .rotate_due)" true
	# a rotation clears it
	rotate "$o_t" c "$o" "$v" 2 "$a" "$w"
	assert_equal "$status" 200
	members "$o_t" c "$o"
	assert_equal "$(jbc '[.rotate_due, .key_version]')" '[false,2]'
	areq GET /v1/collections "$a_t"
	assert_equal "$(jbc '.collections | map(.rotate_due)')" '[false]'
	# a removal by an admin sets it again; a rotation by that admin clears it
	areq DELETE "/v1/collections/c/members/$w?owner=$o" "$a_t"
	assert_equal "$status" 204
	status_of "$o_t"
	assert_equal "$(jbc '.collections | map(.rotate_due)')" '[true]'
	v=$(mversion "$a_t" c "$o")
	rotate "$a_t" c "$o" "$v" 3 "$o"
	assert_equal "$status" 200
	status_of "$o_t"
	assert_equal "$(jbc '.collections | map([.rotate_due, .key_version])')" '[[false,3]]'
	# a removal that removes nobody sets nothing
	areq DELETE "/v1/collections/c/members/$w" "$o_t"
	assert_error 404 not_found
	members "$o_t" c "$o"
	assert_equal "$(jb .rotate_due)" false
	# a declined invitation leaves it; a withdrawn one (its grant was readable) sets it
	invite "$o_t" c "$b" read "" 3
	assert_equal "$status" 201
	areq DELETE "/v1/invitations/$INV" "$b_t"
	assert_equal "$status" 204
	members "$o_t" c "$o"
	assert_equal "$(jb .rotate_due)" false
	invite "$a_t" c "$b" read "owner=$o" 3
	assert_equal "$status" 201
	areq DELETE "/v1/invitations/$INV" "$o_t"
	assert_equal "$status" 204
	members "$o_t" c "$o"
	assert_equal "$(jb .rotate_due)" true
}

# ---- invitations: refusals, decline, withdraw, limits ----

@test "invitations: refusals (self, owner, member, pending, keyless, unknown), decline and withdraw" {
	user o
	user m
	user i
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$m" "$m_t" admin
	before=$(state "$o_t")
	invite "$o_t" c "$o" read
	assert_error 400 invalid_request
	invite "$m_t" c "$o" read "owner=$o"
	assert_error 400 invalid_request
	invite "$m_t" c "$m" read "owner=$o"
	assert_error 400 invalid_request
	invite "$o_t" c "$m" read
	assert_error 409 conflict
	new_token
	invite "$o_t" c "$USERNAME" read
	assert_error 404 not_found
	invite "$o_t" c "nobody-$RANDOM$RANDOM" read
	assert_error 404 not_found
	invite "$o_t" missing "$i" read
	assert_error 404 not_found
	unchanged "$o_t" "$before" "refused invitations"
	# pending: a second is 409; the invitee declines; then it can be invited again
	invite "$o_t" c "$i" write
	assert_equal "$status" 201
	first=$INV
	invite "$m_t" c "$i" read "owner=$o"
	assert_error 409 conflict
	user z
	areq DELETE "/v1/invitations/$first" "$z_t"
	assert_error 404 not_found
	areq POST "/v1/invitations/$first/accept" "$z_t"
	assert_error 404 not_found
	areq DELETE "/v1/invitations/$first" "$i_t"
	assert_equal "$status" 204
	areq POST "/v1/invitations/$first/accept" "$i_t"
	assert_error 404 not_found
	# an admin withdraws the owner's invitation
	invite "$o_t" c "$i" write
	assert_equal "$status" 201
	areq DELETE "/v1/invitations/$INV" "$m_t"
	assert_equal "$status" 204
	areq GET /v1/collections/c/invitations "$o_t"
	assert_equal "$(jbc .invitations)" '[]'
	# malformed ids are 404 too
	for id in short "$(printf 'a%.0s' $(seq 1 23))" 'bad!bad!bad!bad!bad!ba'; do
		areq POST "/v1/invitations/$id/accept" "$i_t"
		assert_error 404 not_found
	done
}

@test "limits: member_limit and invitation_limit" {
	user o
	user a
	user b
	user c
	user d
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$a" "$a_t" read
	share "$o_t" c "$b" "$b_t" read
	share "$o_t" c "$c" "$c_t" read
	invite "$o_t" c "$d" read
	assert_error 403 member_limit
	# pending invitations: 4 at most, all collections together
	user p1
	user p2
	user p3
	user p4
	user p5
	push_ok "$o_t" d "$(rec a 0 "$(b64 x)")"
	for u in "$p1" "$p2" "$p3" "$p4"; do
		invite "$o_t" d "$u" read
		assert_equal "$status" 201
	done
	invite "$o_t" d "$p5" read
	assert_error 403 invitation_limit
	# an acceptance frees a slot
	areq GET /v1/invitations "$p1_t"
	areq POST "/v1/invitations/$(jb '.invitations[0].id')/accept" "$p1_t"
	assert_equal "$status" 200
	invite "$o_t" d "$p5" read
	assert_equal "$status" 201
}

# ---- status, long-polls, quota ----

@test "a push to a shared collection moves every member's status and wakes their long-polls" {
	user o
	user m
	user w
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$m" "$m_t" read
	share "$o_t" c "$w" "$w_t" write
	etag=$(etag_of "$m_t")
	vo=$(acct_version "$o_t")
	# the member's status long-poll and pull long-poll both wake on the writer's push
	bg_get st "/v1/status?wait=15" "$m_t" -H "If-None-Match: $etag"
	pull_ok "$m_t" c "owner=$o"
	since=$(jb .next_since)
	bg_get pl "/v1/collections/c/pull?owner=$o&since=$since&wait=15" "$m_t"
	bs_wait 20 lp_waiting 2
	ajreq POST "/v1/collections/c/push?owner=$o" "$w_t" "{\"records\":[$(rec b 0 "$(b64 y)")]}"
	assert_equal "$status" 200
	bg_wait st
	assert_equal "$status" 200
	[ "$(echo "$body" | jq .account_version)" -gt "${etag//\"/}" ]
	secs_between "$elapsed" 0 10
	bg_wait pl
	assert_equal "$status" 200
	assert_equal "$(jbc '.records | map(.id)')" '["b"]'
	secs_between "$elapsed" 0 10
	[ "$(acct_version "$o_t")" -gt "$vo" ]
	# the owner's own push moves the members' status too
	vm=$(acct_version "$m_t")
	push_ok "$o_t" c "$(rec c 0 "$(b64 z)")"
	[ "$(acct_version "$m_t")" -gt "$vm" ]
	# membership changes move everyone's too
	vm=$(acct_version "$m_t")
	ajreq PATCH "/v1/collections/c/members/$w" "$o_t" '{"role":"read"}'
	[ "$(acct_version "$m_t")" -gt "$vm" ]
}

@test "quota: a member's push counts against the owner's quota" {
	user o
	user m
	push_ok "$o_t" c "$(rec a 0 "$(payload 40000)")"
	share "$o_t" c "$m" "$m_t" write
	before=$(state "$o_t")
	ajreq POST "/v1/collections/c/push?owner=$o" "$m_t" "{\"records\":[$(rec b 0 "$(payload 30000)")]}"
	assert_error 507 quota_exceeded
	unchanged "$o_t" "$before" "a push over the owner's quota"
	ajreq POST "/v1/collections/c/push?owner=$o" "$m_t" "{\"records\":[$(rec b 0 "$(payload 1000)")]}"
	assert_equal "$status" 200
	status_of "$o_t"
	assert_equal "$(jbc .usage)" '{"bytes":41000,"records":2}'
	status_of "$m_t"
	assert_equal "$(jbc .usage)" '{"bytes":0,"records":0}'
}

# ---- deletion ----

@test "deleting: a collection takes its members along; an owner's account deletion and a member's" {
	user o
	user m
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	share "$o_t" c "$m" "$m_t" write
	vm=$(acct_version "$m_t")
	areq DELETE /v1/collections/c "$o_t"
	assert_equal "$status" 204
	[ "$(acct_version "$m_t")" -gt "$vm" ]
	areq GET /v1/collections "$m_t"
	assert_equal "$(jbc .collections)" '[]'
	# a collection of the same name later is not shared
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	pull "$m_t" c "owner=$o"
	assert_error 404 not_found

	# the owner's account goes: the member's listing and status follow
	new_token
	o2=$USERNAME o2_t=$TOKEN o2_k=$KEY
	ajreq PUT /v1/account/keys "$o2_t" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$(b64_random 32)\"}"
	push_ok "$o2_t" s "$(rec a 0 "$(b64 x)")"
	share "$o2_t" s "$m" "$m_t" read
	user p
	invite "$o2_t" s "$p" read
	vm=$(acct_version "$m_t")
	ajreq DELETE /v1/account "$o2_t" "{\"auth_key\":\"$o2_k\"}"
	assert_equal "$status" 204
	[ "$(acct_version "$m_t")" -gt "$vm" ]
	areq GET /v1/collections "$m_t"
	assert_equal "$(jbc .collections)" '[]'
	areq GET /v1/invitations "$p_t"
	assert_equal "$(jbc .invitations)" '[]'

	# a member's account goes: the owner's members listing loses it
	new_token
	m3=$USERNAME m3_t=$TOKEN m3_k=$KEY
	ajreq PUT /v1/account/keys "$m3_t" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$(b64_random 32)\"}"
	share "$o_t" c "$m3" "$m3_t" write
	mv=$(mversion "$o_t" c "$o")
	vo=$(acct_version "$o_t")
	ajreq DELETE /v1/account "$m3_t" "{\"auth_key\":\"$m3_k\"}"
	assert_equal "$status" 204
	members "$o_t" c "$o"
	assert_equal "$(jbc '.members | map(.username)')" "[\"$o\"]"
	[ "$(jb .version)" -gt "$mv" ]
	[ "$(acct_version "$o_t")" -gt "$vo" ]
}

@test "a collection deleted and created again never repeats a membership version: the old If-Match is 412" {
	user o
	user m
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	# the first life: an invitation and a withdrawal move the version to 3
	invite "$o_t" c "$m" read
	areq DELETE "/v1/invitations/$INV" "$o_t"
	assert_equal "$status" 204
	old=$(mversion "$o_t" c "$o")
	assert_equal "$old" 3
	areq DELETE /v1/collections/c "$o_t"
	assert_equal "$status" 204
	# the second life: had it started again at 1, as many changes as the
	# first had would bring it to the first's last ETag (a loop that runs
	# only then); it starts above it, so that ETag never matches
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	for _ in $(seq 1 "$old"); do
		[ "$(mversion "$o_t" c "$o")" -lt "$old" ] || break
		invite "$o_t" c "$m" read
		areq DELETE "/v1/invitations/$INV" "$o_t"
	done
	new=$(mversion "$o_t" c "$o")
	rotate "$o_t" c "$o" "$old" 2
	assert_error 412 precondition_failed
	assert_equal "$(jb .current_version)" "$new"
	[ "$new" -gt "$old" ] || fail "the membership version restarted: $old -> $new"
	members "$o_t" c "$o"
	assert_equal "$(jbc '[.version, .key_version]')" "[$new,1]"
	# the current one rotates
	rotate "$o_t" c "$o" "$new" 2
	assert_equal "$status" 200
	# and again, after a second deletion
	last=$(mversion "$o_t" c "$o")
	areq DELETE /v1/collections/c "$o_t"
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	[ "$(mversion "$o_t" c "$o")" -gt "$last" ]
}

# ---- bad input ----

@test "bad input: 4xx and nothing changed" {
	user o
	user m
	push_ok "$o_t" c "$(rec a 0 "$(b64 x)")"
	before=$(state "$o_t")
	g=$(grant_json)
	rows="POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"owner\",\"key_version\":1,$g}|role
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,\"sealed\":\"$(b64_random 8)\",\"signature\":\"$(b64_random 63)\"}|signature
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,\"sealed\":\"\",\"signature\":\"$(b64_random 64)\"}|sealed
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,\"sealed\":\"$(b64_random 4097)\",\"signature\":\"$(b64_random 64)\"}|sealed
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",$g}|key_version
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",\"key_version\":0,$g}|key_version
POST|/v1/collections/c/invitations|{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,$g,\"extra\":true}|extra
POST|/v1/collections/c/invitations|{\"to\":\"not a name\",\"role\":\"read\",\"key_version\":1,$g}|to
POST|/v1/collections/c/invitations|{\"to\":5,\"role\":\"read\",\"key_version\":1,$g}|to
POST|/v1/collections/c/rotate|{\"key_version\":2}|grants
POST|/v1/collections/c/rotate|{\"key_version\":2,\"grants\":[{\"to\":\"$m\"}]}|sealed
POST|/v1/collections/c/rotate|{\"key_version\":2,\"grants\":[5]}|grants
PATCH|/v1/collections/c/members/$m|{}|role
GET|/v1/collections/c/grant?owner=$o&key_version=x|-|key_version
"
	err_table 400 invalid_request "$o_t" <<<"$rows"
	# a body over the cap of its route
	ajreq POST /v1/collections/c/invitations "$o_t" "{\"to\":\"$m\",\"role\":\"read\",\"key_version\":1,\"sealed\":\"$(b64_random 20000)\",\"signature\":\"$(b64_random 64)\"}"
	assert_error 413 body_too_large
	ajreq POST /v1/collections/c/rotate "$o_t" '{"key_version":2,"grants":[]}' -H 'If-Match: W/"1"'
	assert_error 400 invalid_request
	unchanged "$o_t" "$before" "bad sharing requests"
	areq GET /v1/invitations "$m_t"
	assert_equal "$(jbc .invitations)" '[]'
	# PATCH is allowed only where it is a route
	areq PATCH /v1/collections/c "$o_t"
	assert_error 405 method_not_allowed
}
