#!/usr/bin/env bats
# The sync routes (API sections 4 and 5) through the real nginx: collections,
# push, pull and paging (also while another client writes), long-polls,
# single records and history, tombstones, status with its ETag and long-poll,
# account_version, and isolation between accounts. Quotas, the collection
# limit and the wait cap are in sync_quota.bats (another plan).
#
# Limits of this file: 256 KiB bodies, 30 records per push, 2048-byte
# records, 100 records per pull, waits up to 20 s, and a default plan that
# keeps 2 older versions of each record. Every test uses fresh accounts
# (from a pool registered in setup_file).
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' \
		'limits = { max_body_bytes = 262144, max_push_records = 30, max_record_bytes = 2048, max_pull_records = 100, max_wait_seconds = 20 }' \
		'plans = { default = { history_depth = 2 } }'
	sync_pool 45
}
teardown_file() { bs_stop; }
# a failed test must not leave the background writer running
teardown() { touch "$BATS_TEST_TMPDIR/stop" 2>/dev/null || true; }

# ---- collections: PUT, GET, DELETE ----

@test "PUT a collection: 201 when created, 200 when updated; meta round-trips" {
	new_token
	v0=$(acct_version "$TOKEN")
	areq PUT /v1/collections/notes "$TOKEN"
	assert_equal "$status" 201
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["bytes","key_version","meta","modified_at","name","records","rotate_due","version"]'
	assert_equal "$(jbc '[.name, .version, .records, .bytes, .meta]')" '["notes",0,0,0,null]'
	assert_time "$(jb .modified_at)"
	v1=$(acct_version "$TOKEN")
	[ "$v1" -gt "$v0" ]

	meta=$(b64 'encrypted collection name')
	ajreq PUT /v1/collections/notes "$TOKEN" "{\"meta\":\"$meta\"}"
	assert_equal "$status" 200
	assert_equal "$(jb .meta)" "$meta"
	assert_equal "$(jbc '[.name, .version, .records, .bytes]')" '["notes",0,0,0]'
	v2=$(acct_version "$TOKEN")
	[ "$v2" -gt "$v1" ]
	areq GET /v1/collections "$TOKEN"
	assert_equal "$(jbc '.collections | map([.name, .meta])')" "[[\"notes\",\"$meta\"]]"

	# the meta is stored as sent (decoded bytes), and a PUT keeps the records
	assert_equal "$(sql "SELECT $(bs_hex meta) FROM collections WHERE name = 'notes' AND account_id = $(account_db_id)")" \
		"$(printf 'encrypted collection name' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
	push_ok "$TOKEN" notes "$(rec a 0 "$(payload 5)")"
	ajreq PUT /v1/collections/notes "$TOKEN" "{\"meta\":\"$meta\"}"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.version, .records, .bytes]')" '[1,1,5]'

	# PUT replaces the meta: null, {} and no body all clear it
	for b in '{"meta":null}' '{}' ''; do
		ajreq PUT /v1/collections/notes "$TOKEN" "{\"meta\":\"$meta\"}"
		assert_equal "$(jb .meta)" "$meta"
		if [ -n "$b" ]; then ajreq PUT /v1/collections/notes "$TOKEN" "$b"; else areq PUT /v1/collections/notes "$TOKEN"; fi
		assert_equal "$status" 200
		assert_equal "$(jb .meta)" null
		areq GET /v1/collections "$TOKEN"
		assert_equal "$(jb '.collections[0].meta')" null
	done
	# 65536 bytes of meta is the most
	big=$(payload 65536)
	ajreq PUT /v1/collections/notes "$TOKEN" "{\"meta\":\"$big\"}"
	assert_equal "$status" 200
	assert_equal "$(sql "SELECT length(meta) FROM collections WHERE name = 'notes' AND account_id = $(account_db_id)")" 65536
}

@test "PUT a collection: a bad body is 400/415 and changes nothing" {
	new_token
	areq PUT /v1/collections/keep "$TOKEN"
	ajreq PUT /v1/collections/keep "$TOKEN" '{"meta":"AAAA"}'
	before=$(state "$TOKEN")
	# (the state is compared once after each table: account_version only
	# ever grows, so no request of the table moved it)
	rows=$(for b in '{"meta":"AAA"}' '{"meta":"A==="}' '{"meta":"@@@@"}' '{"meta":" AAAA"}' '{"meta":"QR=="}' \
		'{"meta":5}' '{"meta":true}' '{"meta":["AAAA"]}' '{"meta":"AAAA","name":"x"}' \
		"{\"meta\":\"$(payload 65537)\"}"; do
		w=meta
		[[ $b == *name* ]] && w=name
		echo "PUT|/v1/collections/keep|$b|$w"
		# nor does it create a collection
		echo "PUT|/v1/collections/other|$b|$w"
	done)
	err_table 400 invalid_request "$TOKEN" <<<"$rows"
	err_table 400 invalid_request "$TOKEN" <<'EOF'
PUT|/v1/collections/keep|[]|
PUT|/v1/collections/other|"AAAA"|
PUT|/v1/collections/other|5|
EOF
	err_table 400 invalid_json "$TOKEN" <<'EOF'
PUT|/v1/collections/keep|{"meta":|
PUT|/v1/collections/other|{"meta":"AAAA"} x|
PUT|/v1/collections/other|{meta:"AAAA"}|
EOF
	unchanged "$TOKEN" "$before" "PUT with a bad body"
	areq PUT /v1/collections/other "$TOKEN" -H 'Content-Type: text/plain' --data-binary '{"meta":"AAAA"}'
	assert_err 415 unsupported_media_type
	unchanged "$TOKEN" "$before" "PUT text/plain"
}

@test "collection names: 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~; others are 404 everywhere" {
	new_token
	long64=$(printf 'N%.0s' $(seq 1 64))
	names=(a 0 Z "$long64" "a.b_c-d~e" "x~" "x." "_u" "-d" A)
	# created by PUT (201: "A" is not "a"), written by push, read by pull
	err_table 201 - "$TOKEN" < <(for c in "${names[@]}"; do echo "PUT|/v1/collections/$c|-|"; done)
	err_table 200 - "$TOKEN" < <(for c in "${names[@]}"; do
		echo "POST|/v1/collections/$c/push|{\"records\":[$(rec r 0 AAAA)]}|"
		echo "GET|/v1/collections/$c/pull|-|"
		echo "GET|/v1/collections/$c/records/r|-|"
	done)
	areq GET /v1/collections "$TOKEN"
	assert_equal "$(jb '[.collections[] | [.name, .version, .records] | @json] | join(" ")')" \
		"$(for c in "${names[@]}"; do printf '["%s",1,1]\n' "$c"; done | LC_ALL=C sort | paste -sd' ')"
	before=$(state "$TOKEN")
	long65=${long64}N
	err_table 404 not_found "$TOKEN" < <(
		for c in "$long65" .a "~a" a%20b "a+b" "a%21" "a%2Fb" "%C3%A5" "a:b" "a@b" "a%2C" "%2Ea"; do
			echo "PUT|/v1/collections/$c|-|"
			echo "PUT|/v1/collections/$c|{\"meta\":\"AAAA\"}|"
			echo "DELETE|/v1/collections/$c|-|"
			echo "POST|/v1/collections/$c/push|{\"records\":[$(rec r 0 AAAA)]}|"
			echo "GET|/v1/collections/$c/pull|-|"
			echo "GET|/v1/collections/$c/pull?wait=1|-|"
			echo "GET|/v1/collections/$c/records/r|-|"
			echo "GET|/v1/collections/$c/records/r/history|-|"
			echo "GET|/v1/collections/$c/records/r/history/1|-|"
		done)
	unchanged "$TOKEN" "$before" "requests with invalid collection names"
}

@test "GET /v1/collections lists only the account's collections, sorted by name, with counters" {
	new_token
	areq GET /v1/collections "$TOKEN"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$body" '{"collections":[]}'
	for c in b a.b C a; do areq PUT "/v1/collections/$c" "$TOKEN"; done
	push_ok "$TOKEN" a "$(rec x 0 "$(payload 7)"),$(rec y 0 "$(payload 3)"),$(tomb z 0)"
	push_ok "$TOKEN" b "$(rec x 0 "$(payload 11)")"
	push_ok "$TOKEN" b "$(rec x 1 "$(payload 2)")"
	areq GET /v1/collections "$TOKEN"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.collections[].name]')" '["C","a","a.b","b"]'
	# version: the last given; records: not tombstones; bytes: current + history
	assert_equal "$(jbc '[.collections[] | [.version, .records, .bytes]]')" '[[0,0,0],[3,2,10],[0,0,0],[2,1,13]]'
	for t in $(jb '.collections[].modified_at'); do assert_time "$t"; done
	assert_equal "$(jbc '[.collections[] | keys] | unique')" '[["bytes","key_version","meta","modified_at","name","records","rotate_due","version"]]'
	# another account sees none of them
	new_token
	areq GET /v1/collections "$TOKEN"
	assert_equal "$body" '{"collections":[]}'
}

@test "DELETE a collection: 204, then 404; its records, history and bytes are gone" {
	new_token
	aid=$(account_db_id)
	push_ok "$TOKEN" keep "$(rec k 0 "$(payload 100)")"
	push_ok "$TOKEN" gone "$(rec a 0 "$(payload 200)"),$(rec b 0 "$(payload 300)")"
	push_ok "$TOKEN" gone "$(rec a 1 "$(payload 50)")"
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":650,"records":3}'
	cid=$(sql "SELECT id FROM collections WHERE account_id = $aid AND name = 'gone'")
	[ "$(sql "SELECT count(*) FROM history WHERE collection_id = $cid")" = 1 ]
	v0=$(acct_version "$TOKEN")
	areq DELETE /v1/collections/gone "$TOKEN"
	assert_empty_204
	[ "$(acct_version "$TOKEN")" -gt "$v0" ]
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":100,"records":1}'
	assert_equal "$(jbc '[.collections[].name]')" '["keep"]'
	areq GET /v1/account "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":100,"records":1}'
	assert_equal "$(store_bytes "$aid")" 100
	assert_equal "$(sql "SELECT (SELECT count(*) FROM records WHERE collection_id = $cid) +
		(SELECT count(*) FROM history WHERE collection_id = $cid)")" 0
	# now absent: 404 on every route, and a second DELETE changes nothing
	before=$(state "$TOKEN")
	err_table 404 not_found "$TOKEN" <<'EOF'
DELETE|/v1/collections/gone|-|
DELETE|/v1/collections/never|-|
GET|/v1/collections/gone/pull|-|
GET|/v1/collections/gone/records/a|-|
GET|/v1/collections/gone/records/a/history|-|
GET|/v1/collections/gone/records/a/history/1|-|
EOF
	unchanged "$TOKEN" "$before" "DELETE of an absent collection"
	# the other collection is untouched
	pull_ok "$TOKEN" keep
	assert_equal "$(jbc '[.records[] | [.id, .version]]')" '[["k",1]]'
}

# ---- push ----

@test "push creates the collection and gives each accepted record the next version" {
	new_token
	pa=$(payload 10 a)
	pb=$(payload 20 b)
	pc=$(payload 1 c)
	v0=$(acct_version "$TOKEN")
	push "$TOKEN" vault "$(rec b 0 "$pb"),$(rec a 0 "$pa"),$(rec c 0 "$pc")"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["accepted","collection_version","conflicts","rejected"]'
	# versions in request order
	assert_equal "$(jbc .accepted)" '[{"id":"b","version":1},{"id":"a","version":2},{"id":"c","version":3}]'
	assert_equal "$(jbc '[.collection_version, .conflicts, .rejected]')" '[3,[],[]]'
	[ "$(acct_version "$TOKEN")" -gt "$v0" ]
	areq GET /v1/collections "$TOKEN"
	assert_equal "$(jbc '.collections | map([.name, .version, .records, .bytes, .meta])')" '[["vault",3,3,31,null]]'
	# the payloads are stored decoded, as sent
	areq GET /v1/collections/vault/records/a "$TOKEN"
	assert_equal "$(jb .payload)" "$pa"
	assert_equal "$(sql "SELECT length(payload), $(bs_hex payload) FROM records WHERE rid = 'a' AND
		collection_id = (SELECT id FROM collections WHERE name = 'vault' AND account_id = $(account_db_id))")" \
		"10|$(printf '61%.0s' $(seq 1 10))"
	# an update and a new record take the next versions
	push_ok "$TOKEN" vault "$(rec a 2 "$pb"),$(rec d 0 "$pc")"
	assert_equal "$(jbc .accepted)" '[{"id":"a","version":4},{"id":"d","version":5}]'
	assert_equal "$(jb .collection_version)" 5
	# versions belong to the collection: another one starts at 1
	push_ok "$TOKEN" other "$(rec a 0 "$pa")"
	assert_equal "$(jbc .accepted)" '[{"id":"a","version":1}]'
	# an empty payload is a record of 0 bytes, not a tombstone
	push_ok "$TOKEN" vault "$(rec e 0 '')"
	areq GET /v1/collections/vault/records/e "$TOKEN"
	assert_equal "$(jbc '[.deleted, .payload]')" '[false,""]'
	# a charset parameter is fine
	areq POST /v1/collections/vault/push "$TOKEN" -H 'Content-Type: application/json; charset=utf-8' \
		--data-binary "{\"records\":[$(rec f 0 AAAA)]}"
	assert_equal "$status" 200
	assert_equal "$(jbc .accepted)" '[{"id":"f","version":7}]'
	# an empty push creates the collection (and writes nothing else)
	push_ok "$TOKEN" empty ''
	assert_equal "$(jbc .)" '{"collection_version":0,"accepted":[],"conflicts":[],"rejected":[]}'
	pull_ok "$TOKEN" empty
	assert_equal "$(jbc '[.collection_version, .records]')" '[0,[]]'
}

@test "base_version: 0 means must not exist, an old one conflicts; a conflict returns the server's copy" {
	new_token
	p1=$(payload 10 1)
	p2=$(payload 20 2)
	push_ok "$TOKEN" c "$(rec r 0 "$p1"),$(rec s 0 "$p1")"
	push_ok "$TOKEN" c "$(rec r 1 "$p2")"
	assert_equal "$(jbc .accepted)" '[{"id":"r","version":3}]'
	v=$(acct_version "$TOKEN")
	before=$(state "$TOKEN")
	# r is at 3: base 0 and base 1 both conflict; nothing written
	push "$TOKEN" c "$(rec r 0 "$p1")"
	assert_equal "$status" 200
	assert_equal "$(jbc .accepted)" '[]'
	assert_equal "$(jb .collection_version)" 3
	assert_equal "$(jbc .conflicts)" "[{\"id\":\"r\",\"server_version\":3,\"deleted\":false,\"payload\":\"$p2\"}]"
	push "$TOKEN" c "$(rec r 1 "$p1"),$(rec s 5 "$p1")"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.conflicts[] | [.id, .server_version]]')" '[["r",3],["s",2]]'
	# a push where everything conflicts changes nothing, account_version included
	unchanged "$TOKEN" "$before" "an all-conflict push"
	assert_equal "$(acct_version "$TOKEN")" "$v"
	# partly accepted: the good ones are written, the others come back
	push "$TOKEN" c "$(rec s 2 "$p2"),$(rec r 2 "$p1"),$(rec t 0 "$p1")"
	assert_equal "$status" 200
	assert_equal "$(jbc .accepted)" '[{"id":"s","version":4},{"id":"t","version":5}]'
	assert_equal "$(jbc .conflicts)" "[{\"id\":\"r\",\"server_version\":3,\"deleted\":false,\"payload\":\"$p2\"}]"
	assert_equal "$(jb .collection_version)" 5
	[ "$(acct_version "$TOKEN")" -gt "$v" ]
	# the client merges and retries with the server's version
	push_ok "$TOKEN" c "$(rec r 3 "$p1")"
	assert_equal "$(jbc .accepted)" '[{"id":"r","version":6}]'
	areq GET /v1/collections/c/records/r "$TOKEN"
	assert_equal "$(jbc '[.version, .payload]')" "[6,\"$p1\"]"
}

@test "conflicts on tombstones and on records that do not exist" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA)"
	push_ok "$TOKEN" c "$(tomb r 1)"
	assert_equal "$(jbc .accepted)" '[{"id":"r","version":2}]'
	# a tombstone is a version like any other: base 0 conflicts with it
	push "$TOKEN" c "$(rec r 0 BBBB)"
	assert_equal "$(jbc .conflicts)" '[{"id":"r","server_version":2,"deleted":true,"payload":null}]'
	push "$TOKEN" c "$(tomb r 1)"
	assert_equal "$(jbc .conflicts)" '[{"id":"r","server_version":2,"deleted":true,"payload":null}]'
	# base = the tombstone's version brings it back
	push_ok "$TOKEN" c "$(rec r 2 BBBB)"
	assert_equal "$(jbc '[.accepted, .conflicts]')" '[[{"id":"r","version":3}],[]]'
	# a record that never existed, pushed with a base > 0: server_version 0
	push "$TOKEN" c "$(rec ghost 7 AAAA),$(tomb ghost2 1)"
	assert_equal "$status" 200
	assert_equal "$(jbc .conflicts)" '[{"id":"ghost","server_version":0,"deleted":false,"payload":null},{"id":"ghost2","server_version":0,"deleted":false,"payload":null}]'
	areq GET /v1/collections/c/records/ghost "$TOKEN"
	assert_err 404 not_found
	# to a collection that does not exist: the conflicts come back, and the
	# (non-atomic) push still creates the collection, empty (see API-sync.md)
	push "$TOKEN" newc "$(rec x 3 AAAA)"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.collection_version, .accepted, .conflicts]')" \
		'[0,[],[{"id":"x","server_version":0,"deleted":false,"payload":null}]]'
	pull_ok "$TOKEN" newc
	assert_equal "$(jbc '[.collection_version, .records]')" '[0,[]]'
}

@test "force skips the version check (last write wins); base_version is optional with it" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA),$(rec s 0 AAAA)"
	push_ok "$TOKEN" c "$(frec r BBBB),$(frec n CCCC)"
	assert_equal "$(jbc '[.accepted, .conflicts]')" '[[{"id":"r","version":3},{"id":"n","version":4}],[]]'
	# with a wrong base_version too
	push_ok "$TOKEN" c '{"id":"s","base_version":99,"force":true,"payload":"DDDD"},{"id":"r","force":true,"deleted":true}'
	assert_equal "$(jbc '[.accepted, .conflicts]')" '[[{"id":"s","version":5},{"id":"r","version":6}],[]]'
	# force: false is the same as no force
	push "$TOKEN" c '{"id":"s","base_version":1,"force":false,"payload":"EEEE"}'
	assert_equal "$(jbc '[.accepted, (.conflicts | map(.id))]')" '[[],["s"]]'
	pull_ok "$TOKEN" c
	assert_equal "$(jbc '[.records[] | [.id, .version, .deleted, .payload]]')" \
		'[["n",4,false,"CCCC"],["s",5,false,"DDDD"],["r",6,true,null]]'
}

@test "atomic: any conflict is 409 conflict with the conflicts, and nothing is written" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA),$(rec s 0 AAAA)"
	before=$(state "$TOKEN")
	push "$TOKEN" c "$(rec n 0 BBBB),$(frec s CCCC),$(rec r 0 BBBB),$(rec m 9 BBBB)" true
	assert_err 409 conflict
	assert_equal "$(jbc keys)" '["conflicts","error"]'
	assert_equal "$(jbc .conflicts)" '[{"id":"r","server_version":1,"deleted":false,"payload":"AAAA"},{"id":"m","server_version":0,"deleted":false,"payload":null}]'
	unchanged "$TOKEN" "$before" "an atomic push with conflicts"
	areq GET /v1/collections/c/records/n "$TOKEN"
	assert_err 404 not_found
	areq GET /v1/collections/c/records/s "$TOKEN"
	assert_equal "$(jbc '[.version, .payload]')" '[2,"AAAA"]'
	# nor is a collection created by a refused atomic push
	push "$TOKEN" newone "$(rec n 0 BBBB),$(rec m 3 BBBB)" true
	assert_err 409 conflict
	unchanged "$TOKEN" "$before" "an atomic push with conflicts to a new collection"
	# atomic without conflicts: all written; atomic: false is the default
	push "$TOKEN" c "$(rec n 0 BBBB),$(rec r 1 BBBB),$(frec s CCCC)" true
	assert_equal "$status" 200
	assert_equal "$(jbc '[.accepted, .conflicts, .rejected]')" '[[{"id":"n","version":3},{"id":"r","version":4},{"id":"s","version":5}],[],[]]'
	push "$TOKEN" c "$(rec x 0 BBBB),$(rec r 0 BBBB)" false
	assert_equal "$status" 200
	assert_equal "$(jbc '[.accepted, (.conflicts | map(.id))]')" '[[{"id":"x","version":6}],["r"]]'
}

@test "atomic 409: conflicts lists only the records that conflict, wherever they are in the push" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA),$(rec s 0 AAAA)"
	# r conflicts; s (right base), t (new) and u (forced) do not
	push "$TOKEN" c "$(rec r 0 BBBB),$(rec s 2 BBBB),$(rec t 0 BBBB),$(frec u BBBB)" true
	assert_err 409 conflict
	assert_equal "$(jbc '[.conflicts[] | [.id, .server_version]]')" '[["r",1]]'
}

@test "push: every malformed body or record is 400 and writes nothing" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA)"
	ok=$(rec ok1 0 AAAA)
	long129=$(printf 'i%.0s' $(seq 1 129))
	before=$(state "$TOKEN")
	# each bad body to an existing and to a new collection; WORD: what the
	# message must name
	rows=$(while IFS='|' read -r what b; do
		echo "POST|/v1/collections/c/push|$b|$what"
		echo "POST|/v1/collections/fresh/push|$b|$what"
	done <<EOF
records|{}
records|{"records":{}}
records|{"records":"x"}
records|{"records":null}
atomic|{"records":[$ok],"atomic":"yes"}
atomic|{"records":[$ok],"atomic":1}
extra|{"records":[$ok],"extra":1}
records[1]|{"records":[$ok,5]}
records[1]|{"records":[$ok,[]]}
records[1].id|{"records":[$ok,{"base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"$long129","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":".x","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"~x","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"a/b","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"a b","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"\u00e5","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":"a\u0000","base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":5,"base_version":0,"payload":"AAAA"}]}
records[1].id|{"records":[$ok,{"id":null,"base_version":0,"payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","base_version":-1,"payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","base_version":"1","payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","base_version":1.5,"payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","base_version":null,"payload":"AAAA"}]}
records[1].base_version|{"records":[$ok,{"id":"x","force":false,"payload":"AAAA"}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":null}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"deleted":false}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":5}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"AAA"}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"A==="}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"@@@@"}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"QR=="}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"AA AA"}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"AAAA\n"}]}
records[1].payload|{"records":[$ok,{"id":"x","base_version":0,"payload":"AA-_"}]}
records[1].payload|{"records":[$ok,{"id":"r","base_version":1,"deleted":true,"payload":"AAAA"}]}
records[1].deleted|{"records":[$ok,{"id":"r","base_version":1,"deleted":"true"}]}
records[1].force|{"records":[$ok,{"id":"r","force":1,"payload":"AAAA"}]}
records[1]|{"records":[$ok,{"id":"r","base_version":1,"payload":"AAAA","meta":"x"}]}
ok1|{"records":[$ok,$(rec r 1 BBBB),$ok]}
EOF
	)
	err_table 400 invalid_request "$TOKEN" <<<"$rows"
	[ "$ERR_TABLE_N" -gt 80 ]
	# not an object; not JSON
	err_table 400 invalid_request "$TOKEN" <<'EOF'
POST|/v1/collections/c/push|[]|
POST|/v1/collections/c/push|"x"|
POST|/v1/collections/fresh/push|5|
EOF
	err_table 400 invalid_json "$TOKEN" <<EOF
POST|/v1/collections/fresh/push|{"records":[|
POST|/v1/collections/fresh/push|{"records":[$ok]} {}|
POST|/v1/collections/fresh/push|{'records':[]}|
POST|/v1/collections/fresh/push|{"records":[],}|
POST|/v1/collections/c/push|{"records":[$ok,]}|
EOF
	unchanged "$TOKEN" "$before" "bad pushes"
	areq POST /v1/collections/c/push "$TOKEN" -H 'Content-Type: text/plain' --data-binary "{\"records\":[$ok]}"
	assert_err 415 unsupported_media_type
	unchanged "$TOKEN" "$before" "push as text/plain"
}

@test "push limits: 413 too_many_records, record_too_large and body_too_large beyond the limits" {
	new_token
	push_ok "$TOKEN" c "$(rec r 0 AAAA)"
	before=$(state "$TOKEN")
	recs31=$(for i in $(seq 1 31); do rec "i$i" 0 AAAA; echo; done | paste -sd,)
	push "$TOKEN" c "$recs31"
	assert_err 413 too_many_records
	unchanged "$TOKEN" "$before" "a push of 31 records"
	push "$TOKEN" fresh "$recs31"
	assert_err 413 too_many_records
	unchanged "$TOKEN" "$before" "a push of 31 records to a new collection"
	push "$TOKEN" c "$(rec ok 0 AAAA),$(rec big 0 "$(payload 2049)")"
	assert_err 413 record_too_large
	assert_regex "$(jb .error.message)" 'records\[1\]'
	unchanged "$TOKEN" "$before" "a push with a 2049-byte record"
	push "$TOKEN" c "$(frec r "$(payload 2049)")"
	assert_err 413 record_too_large
	unchanged "$TOKEN" "$before" "a forced update to 2049 bytes"
	# a body over max_body_bytes, whatever it holds
	push "$TOKEN" c "$(rec big 0 "$(payload 270000)")"
	assert_err 413 body_too_large
	ajreq PUT /v1/collections/c "$TOKEN" "{\"meta\":\"$(payload 200000)\"}"
	assert_err 413 body_too_large
	unchanged "$TOKEN" "$before" "bodies over max_body_bytes"
	# the limits themselves pass
	push_ok "$TOKEN" c "$(for i in $(seq 1 30); do rec "i$i" 0 AAAA; echo; done | paste -sd,)"
	assert_equal "$(jb '.accepted | length')" 30
	push_ok "$TOKEN" c "$(rec big 0 "$(payload 2048)")"
	areq GET /v1/collections/c/records/big "$TOKEN"
	assert_equal "$(jb .payload | base64 -d | wc -c)" 2048
}

@test "record ids: 1-128 of the name characters, case-sensitive, in pushes and paths" {
	new_token
	id128=$(printf 'k%.0s' $(seq 1 128))
	push_ok "$TOKEN" c "$(rec a 0 AAAA),$(rec A 0 BBBB),$(rec "$id128" 0 CCCC),$(rec 'x.y_z-w~' 0 DDDD),$(rec 9 0 EEEE)"
	assert_equal "$(jb '.accepted | length')" 5
	for pair in a:AAAA A:BBBB "$id128:CCCC" 'x.y_z-w~:DDDD' 9:EEEE; do
		areq GET "/v1/collections/c/records/${pair%%:*}" "$TOKEN"
		assert_equal "$status" 200
		assert_equal "$(jbc '[.id, .payload]')" "[\"${pair%%:*}\",\"${pair##*:}\"]"
	done
	# ids that cannot exist are 404 in a path
	err_table 404 not_found "$TOKEN" < <(
		for id in "${id128}k" .a "~a" "a%20b" "a%2Fb" "%C3%A5" "a:b"; do
			for sub in "" /history /history/1; do echo "GET|/v1/collections/c/records/$id$sub|-|"; done
		done)
}

# ---- pull ----

@test "pull: records after since, ascending, tombstones included; next_since and more" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 "$(payload 3 a)"),$(rec b 0 "$(payload 3 b)"),$(rec c 0 "$(payload 3 c)")"
	push_ok "$TOKEN" c "$(tomb a 1),$(rec b 2 "$(payload 4 B)")"
	pull_ok "$TOKEN" c
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["collection_version","more","next_since","records"]'
	assert_equal "$(jbc '[.collection_version, .more, .next_since]')" '[5,false,5]'
	# one row per record: its current version only, in version order
	assert_equal "$(jbc '[.records[] | [.id, .version, .deleted, .payload]]')" \
		"[[\"c\",3,false,\"$(payload 3 c)\"],[\"a\",4,true,null],[\"b\",5,false,\"$(payload 4 B)\"]]"
	assert_equal "$(jbc '[.records[] | keys] | unique')" '[["deleted","id","modified_at","payload","version"]]'
	for t in $(jb '.records[].modified_at'); do assert_time "$t"; done
	pull_ok "$TOKEN" c since=3
	assert_equal "$(jbc '[.records[] | [.id, .version]]')" '[["a",4],["b",5]]'
	pull_ok "$TOKEN" c since=3\&limit=1
	assert_equal "$(jbc '[[.records[] | [.id, .version]], .more, .next_since, .collection_version]')" '[[["a",4]],true,4,5]'
	pull_ok "$TOKEN" c 'limit=2&since=4'
	assert_equal "$(jbc '[[.records[] | .version], .more, .next_since]')" '[[5],false,5]'
	# nothing newer: empty, next_since is the collection's version
	pull_ok "$TOKEN" c since=5
	assert_equal "$(jbc '[.records, .more, .next_since]')" '[[],false,5]'
	# a cursor beyond the collection's version (see API-sync.md): empty, next_since = collection_version
	pull_ok "$TOKEN" c since=99
	assert_equal "$(jbc '[.records, .more, .next_since, .collection_version]')" '[[],false,5,5]'
	# a collection without records
	areq PUT /v1/collections/empty "$TOKEN"
	pull_ok "$TOKEN" empty
	assert_equal "$body" '{"collection_version":0,"records":[],"more":false,"next_since":0}'
	# an unknown collection
	pull "$TOKEN" nothing
	assert_err 404 not_found
	pull "$TOKEN" nothing wait=1
	assert_err 404 not_found
	# unknown parameters are ignored
	pull_ok "$TOKEN" c 'since=4&cursor=1'
	assert_equal "$(jbc '[.records[].version]')" '[5]'
	# HEAD is served like GET (nginx drops the body)
	areq HEAD /v1/collections/c/pull "$TOKEN" -I
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	areq HEAD /v1/collections/nothing/pull "$TOKEN" -I
	assert_equal "$status" 404
}

@test "pull: since, limit and wait are checked (400 invalid_request naming the parameter)" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	before=$(state "$TOKEN")
	err_table 400 invalid_request "$TOKEN" < <(
		for q in since=-1 since=x since=1.5 since= since=%2B1 since=99999999999999999999 since=0x10 \
			limit=0 limit=101 limit=-1 limit=x limit= limit=1e2 \
			wait=-1 wait=x wait=1.5 wait= wait=86401; do
			echo "GET|/v1/collections/c/pull?$q|-|${q%%=*}"
		done
		echo "GET|/v1/collections/c/pull?since=1&since=2|-|"
		echo "GET|/v1/collections/c/pull?limit=1&limit=1|-|")
	unchanged "$TOKEN" "$before" "bad pull parameters"
	# the bounds pass
	for q in since=0 limit=1 limit=100 wait=0 since=999999999999999999; do
		pull_ok "$TOKEN" c "$q"
	done
	# a wait longer than max_wait_seconds is allowed (capped; see sync_quota.bats)
	pull_ok "$TOKEN" c wait=86400
	assert_equal "$(jb '.records | length')" 1
}

@test "paging: 25 records, limit=10, three pages following next_since; each record once, ascending" {
	new_token
	recs=$(for i in $(seq 1 25); do rec "p$i" 0 "$(b64 "payload $i")"; echo; done | paste -sd,)
	push_ok "$TOKEN" c "$recs"
	since=0
	seen=()
	for page in 1 2 3; do
		pull_ok "$TOKEN" c "since=$since&limit=10"
		n=$(jb '.records | length')
		more=$(jb .more)
		case $page in
		1 | 2) assert_equal "$n" 10; assert_equal "$more" true ;;
		3) assert_equal "$n" 5; assert_equal "$more" false ;;
		esac
		assert_equal "$(jb .next_since)" "$(jb '.records[-1].version')"
		assert_equal "$(jb .collection_version)" 25
		mapfile -t -O "${#seen[@]}" seen < <(jb '.records[] | "\(.version) \(.id) \(.payload | @base64d)"')
		since=$(jb .next_since)
	done
	assert_equal "${#seen[@]}" 25
	for i in $(seq 1 25); do
		assert_equal "${seen[$((i - 1))]}" "$i p$i payload $i"
	done
	# and then nothing more
	pull_ok "$TOKEN" c "since=$since&limit=10"
	assert_equal "$(jbc '[.records, .more, .next_since]')" '[[],false,25]'
}

@test "paging while another client writes: nothing skipped, nothing repeated, versions increasing" {
	new_token
	recs=$(for i in $(seq 1 25); do rec "r$i" 0 "$(payload 8 r)"; echo; done | paste -sd,)
	push_ok "$TOKEN" live "$recs"
	out=$BATS_TEST_TMPDIR/seen
	stop=$BATS_TEST_TMPDIR/stop
	: >"$out"
	writer "$TOKEN" live "$stop" 150 3>&- &
	wpid=$!
	# page while the writer writes (it has begun)
	bs_wait 60 test -s "$stop.log" || fail "the writer never wrote"
	PAGE_PAUSE=0.02
	page_all "$TOKEN" live 0 5 "$out"
	unset PAGE_PAUSE
	touch "$stop"
	wait "$wpid"
	first_cv=$(head -1 "$out.pages")
	last_cv=$(tail -1 "$out.pages")
	# the precondition: writes landed while paging
	[ "$last_cv" -gt "$first_cv" ] || fail "no write landed during paging ($first_cv, $last_cv)"
	[ "$PAGES" -gt 5 ]
	# every push of the writer was accepted
	[ "$(sort -u "$stop.log")" = 200 ] || fail "writer statuses: $(sort "$stop.log" | uniq -c)"
	# catch up with what was written after more=false
	page_all "$TOKEN" live "$NEXT_SINCE" 5 "$out"
	# across all pages: versions strictly increasing, no (id, version) twice
	awk 'NR > 1 && $2 <= prev { print "version " $2 " after " prev; bad = 1 } { prev = $2 } END { exit bad }' "$out" ||
		fail "versions not increasing across pages"
	[ -z "$(awk '{ print $1, $2 }' "$out" | sort | uniq -d)" ] || fail "repeated: $(awk '{ print $1, $2 }' "$out" | sort | uniq -d)"
	# never skipped: the last version seen of each id is the server's, for
	# every id it has; read to the end, from scratch (the writer may have
	# written more records than one page of max_pull_records holds)
	page_all "$TOKEN" live 0 100 "$BATS_TEST_TMPDIR/server"
	server=$(sort "$BATS_TEST_TMPDIR/server")
	client=$(awk '{ last[$1] = $0 } END { for (i in last) print last[i] }' "$out" | sort)
	assert_equal "$client" "$server"
	# and every id the writer created is there (the pushes all succeeded)
	nw=$(wc -l <"$stop.log")
	for i in $(seq 1 "$nw"); do grep -q "^n$i " "$out" || fail "n$i never seen"; done
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/server.pages")" $((25 + 2 * nw))
}

@test "a cursor of a deleted collection never silently skips records of a new one of the same name" {
	new_token
	recs=$(for i in 1 2 3 4 5 6; do rec "old$i" 0 AAAA; echo; done | paste -sd,)
	push_ok "$TOKEN" c "$recs"
	pull_ok "$TOKEN" c
	cursor=$(jb .next_since)
	assert_equal "$cursor" 6
	# another device deletes the collection and makes a new one, with more writes
	areq DELETE /v1/collections/c "$TOKEN"
	assert_empty_204
	recs=$(for i in 1 2 3 4 5 6 7 8; do rec "new$i" 0 BBBB; echo; done | paste -sd,)
	push_ok "$TOKEN" c "$recs"
	# the first device goes on from its cursor: it must either be told to
	# resync or be given every record of the new collection
	pull "$TOKEN" c "since=$cursor"
	if [ "$status" != 410 ]; then
		assert_equal "$status" 200
		assert_equal "$(jbc '[.records[].id]')" '["new1","new2","new3","new4","new5","new6","new7","new8"]'
	fi
}

@test "410 resync_required when since is older than the purged horizon" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA),$(rec b 0 AAAA),$(rec c 0 AAAA)"
	push_ok "$TOKEN" c "$(tomb a 1),$(rec d 0 AAAA)"
	# what `blindsync-admin purge` records after removing tombstones up to 4
	sql "UPDATE collections SET purged_version = 4 WHERE name = 'c' AND account_id = $(account_db_id)"
	before=$(state "$TOKEN")
	for s in 1 2 3; do
		pull "$TOKEN" c "since=$s"
		assert_err 410 resync_required
		assert_equal "$(jb .purged_version)" 4
		pull "$TOKEN" c "since=$s&wait=5"
		assert_err 410 resync_required
	done
	unchanged "$TOKEN" "$before" "a 410 pull"
	# since=0 (a full resync) and since >= the horizon are fine
	pull_ok "$TOKEN" c since=0
	assert_equal "$(jb '.records | length')" 4
	pull_ok "$TOKEN" c since=4
	assert_equal "$(jbc '[.records[].id]')" '["d"]'
	pull_ok "$TOKEN" c since=5
	assert_equal "$(jbc .records)" '[]'
}

# ---- long-poll ----

@test "long-poll: a waiting pull answers as soon as a push lands" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	bg_get lp "/v1/collections/c/pull?since=1&wait=20" "$TOKEN"
	# it waits (then a second more, for the lower bound of its time)
	bs_wait 30 lp_waiting 1 || fail "the pull never waited: $(cat "$BATS_TEST_TMPDIR/lp.meta")"
	sleep 1
	bg_done lp && fail "the pull answered before the push: $(cat "$BATS_TEST_TMPDIR/lp.body")"
	push_ok "$TOKEN" c "$(rec b 0 BBBB)"
	bg_wait lp
	assert_equal "$status" 200
	secs_between "$elapsed" 0.9 10
	assert_equal "$(jbc '[[.records[] | [.id, .version, .payload]], .more, .next_since, .collection_version]')" \
		'[[["b",2,"BBBB"]],false,2,2]'
	assert_common_headers
}

@test "long-poll: with nothing new it answers empty after wait; other collections and accounts do not wake it" {
	new_token
	other=$TOKEN
	push_ok "$other" c "$(rec a 0 AAAA)"
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	push_ok "$TOKEN" d "$(rec a 0 AAAA)"
	bg_get lp "/v1/collections/c/pull?since=1&wait=2" "$TOKEN"
	bs_wait 30 lp_waits_or_done lp || fail "the pull never arrived"
	# writes elsewhere: the same account's other collection, another account's "c"
	push_ok "$TOKEN" d "$(rec b 0 BBBB)"
	push_ok "$other" c "$(rec b 0 BBBB)"
	areq PUT /v1/collections/c "$other"
	bg_wait lp
	assert_equal "$status" 200
	secs_between "$elapsed" 1.9 8
	assert_equal "$body" '{"collection_version":1,"records":[],"more":false,"next_since":1}'
	# wait=0 answers at once
	t0=$(now_ms)
	pull_ok "$TOKEN" c since=1\&wait=0
	[ $(($(now_ms) - t0)) -lt 5000 ]
	assert_equal "$(jbc .records)" '[]'
}

@test "long-poll: a waiting pull ends with 404 when its collection is deleted" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	bg_get lp "/v1/collections/c/pull?since=1&wait=20" "$TOKEN"
	bs_wait 30 lp_waiting 1 || fail "the pull never waited: $(cat "$BATS_TEST_TMPDIR/lp.meta")"
	sleep 0.5
	areq DELETE /v1/collections/c "$TOKEN"
	assert_empty_204
	bg_wait lp
	assert_err 404 not_found
	secs_between "$elapsed" 0.4 10
}

@test "long-poll: records newer than since answer at once, whatever the wait" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA),$(rec b 0 AAAA)"
	t0=$(now_ms)
	pull_ok "$TOKEN" c since=1\&wait=20
	[ $(($(now_ms) - t0)) -lt 5000 ] || fail "took $(($(now_ms) - t0)) ms"
	assert_equal "$(jbc '[.records[].id]')" '["b"]'
	pull_ok "$TOKEN" c wait=20
	[ $(($(now_ms) - t0)) -lt 10000 ] || fail "took $(($(now_ms) - t0)) ms"
	assert_equal "$(jb '.records | length')" 2
}

@test "long-poll: at most 4 requests wait per process (2 processes); the others answer at once, empty" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	for i in $(seq 1 12); do bg_get "w$i" "/v1/collections/c/pull?since=1&wait=15" "$TOKEN"; done
	# every one has answered or waits (mod_fcgid may hold one back for a
	# busy process: there, not more than the time below)
	bs_wait 30 lp_settled 12 w || [ "$(bs_front)" = apache-fcgid ] || fail "not all 12 pulls arrived"
	sleep 1.5
	if ! bs_front_supports wait-slots; then
		# mod_fcgid and CGI: one request per process, no per-process bound:
		# all 12 wait, and all get the push (docs/DEPLOY-apache.md)
		for i in $(seq 1 12); do ! bg_done "w$i" || fail "w$i answered before any write"; done
		push_ok "$TOKEN" c "$(rec b 0 BBBB)"
		for i in $(seq 1 12); do
			bg_wait "w$i"
			assert_equal "$status" 200
			assert_equal "$(jbc '[.records[].id]')" '["b"]'
			secs_between "$elapsed" 1.4 10
		done
		return
	fi
	early=0
	for i in $(seq 1 12); do
		if bg_done "w$i"; then
			early=$((early + 1))
			bg_wait "w$i"
			assert_equal "$status" 200
			assert_equal "$body" '{"collection_version":1,"records":[],"more":false,"next_since":1}'
			echo "$i" >>"$BATS_TEST_TMPDIR/early"
		fi
	done
	# 8 wait slots in all (4 per process): at least 4 answered at once; at
	# least 4 are waiting (a process answers at once only with 4 waiting)
	[ "$early" -ge 4 ] && [ "$early" -le 8 ] || fail "$early of 12 answered before any write"
	push_ok "$TOKEN" c "$(rec b 0 BBBB)"
	for i in $(seq 1 12); do
		grep -qx "$i" "$BATS_TEST_TMPDIR/early" && continue
		bg_wait "w$i"
		assert_equal "$status" 200
		# it waited for the push (which it returns), not for its 15 s
		assert_equal "$(jbc '[.records[].id]')" '["b"]'
		secs_between "$elapsed" 1.4 10
	done
}

# ---- single records and history ----

@test "GET a record: its current version; a tombstone has deleted true and payload null; 404s" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 "$(payload 12)"),$(rec b 0 AAAA)"
	push_ok "$TOKEN" c "$(rec a 1 "$(payload 5 q)"),$(tomb b 2)"
	areq GET /v1/collections/c/records/a "$TOKEN"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc 'del(.modified_at)')" "{\"id\":\"a\",\"version\":3,\"deleted\":false,\"payload\":\"$(payload 5 q)\"}"
	assert_time "$(jb .modified_at)"
	areq GET /v1/collections/c/records/b "$TOKEN"
	assert_equal "$status" 200
	assert_equal "$(jbc 'del(.modified_at)')" '{"id":"b","version":4,"deleted":true,"payload":null}'
	err_table 404 not_found "$TOKEN" <<'EOF'
GET|/v1/collections/c/records/zz|-|
GET|/v1/collections/c/records/A|-|
GET|/v1/collections/nope/records/a|-|
GET|/v1/collections/c/records|-|
GET|/v1/collections/c/records/|-|
GET|/v1/collections/c/records/a/|-|
GET|/v1/collections/c/records/a/b|-|
GET|/v1/collections/c/pull/|-|
EOF
}

@test "history: the current version and history_depth (2) older ones; pruned versions are 404; bytes count them" {
	new_token
	aid=$(account_db_id)
	for i in 1 2 3 4 5; do
		push_ok "$TOKEN" h "$(rec r $((i - 1)) "$(payload $((i * 10)) "$i")")"
		assert_equal "$(jbc .accepted)" "[{\"id\":\"r\",\"version\":$i}]"
	done
	areq GET /v1/collections/h/records/r/history "$TOKEN"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(jbc keys)" '["versions"]'
	assert_equal "$(jbc '[.versions[] | [.version, .deleted, .bytes]]')" '[[5,false,50],[4,false,40],[3,false,30]]'
	assert_equal "$(jbc '[.versions[] | keys] | unique')" '[["bytes","deleted","modified_at","version"]]'
	for t in $(jb '.versions[].modified_at'); do assert_time "$t"; done
	# each kept version, the current one included
	for v in 5 4 3; do
		areq GET "/v1/collections/h/records/r/history/$v" "$TOKEN"
		assert_equal "$status" 200
		assert_equal "$(jbc 'del(.modified_at)')" "{\"id\":\"r\",\"version\":$v,\"deleted\":false,\"payload\":\"$(payload $((v * 10)) "$v")\"}"
	done
	err_table 404 not_found "$TOKEN" < <(
		for v in 2 1 6 0 -1 x 1.0 %2B3 99999999999999999999; do echo "GET|/v1/collections/h/records/r/history/$v|-|"; done)
	# bytes: current + kept history, and the store agrees
	status_of "$TOKEN"
	assert_equal "$(jbc '[.usage, .collections[0].bytes]')" '[{"bytes":120,"records":1},120]'
	assert_equal "$(store_bytes "$aid")" 120
	assert_equal "$(sql "SELECT count(*) FROM history WHERE rid = 'r' AND collection_id IN
		(SELECT id FROM collections WHERE account_id = $aid)")" 2
	# delete: the tombstone is the current version, the deleted one history
	push_ok "$TOKEN" h "$(tomb r 5)"
	areq GET /v1/collections/h/records/r/history "$TOKEN"
	assert_equal "$(jbc '[.versions[] | [.version, .deleted, .bytes]]')" '[[6,true,0],[5,false,50],[4,false,40]]'
	areq GET /v1/collections/h/records/r/history/6 "$TOKEN"
	assert_equal "$(jbc '[.deleted, .payload]')" '[true,null]'
	areq GET /v1/collections/h/records/r/history/3 "$TOKEN"
	assert_err 404 not_found
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":90,"records":0}'
	# restoring is a push of an old payload
	areq GET /v1/collections/h/records/r/history/4 "$TOKEN"
	old=$(jb .payload)
	push_ok "$TOKEN" h "$(rec r 6 "$old")"
	areq GET /v1/collections/h/records/r "$TOKEN"
	assert_equal "$(jbc '[.version, .deleted, .payload]')" "[7,false,\"$old\"]"
	areq GET /v1/collections/h/records/r/history "$TOKEN"
	assert_equal "$(jbc '[.versions[] | [.version, .bytes]]')" '[[7,40],[6,0],[5,50]]'
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":90,"records":1}'
	assert_equal "$(store_bytes "$aid")" 90
	areq GET /v1/account "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":90,"records":1}'
	# a record that does not exist has no history
	areq GET /v1/collections/h/records/nope/history "$TOKEN"
	assert_err 404 not_found
	areq GET /v1/collections/h/records/nope/history/1 "$TOKEN"
	assert_err 404 not_found
}

@test "tombstones count zero bytes and no record" {
	new_token
	aid=$(account_db_id)
	push_ok "$TOKEN" t "$(rec a 0 "$(payload 100)"),$(rec b 0 "$(payload 30)")"
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":130,"records":2}'
	# a tombstone for an id that never existed: a version, no bytes, no record
	push_ok "$TOKEN" t "$(tomb ghost 0)"
	assert_equal "$(jbc .accepted)" '[{"id":"ghost","version":3}]'
	status_of "$TOKEN"
	assert_equal "$(jbc '[.usage, .collections[0].records, .collections[0].bytes]')" '[{"bytes":130,"records":2},2,130]'
	areq GET /v1/collections/t/records/ghost "$TOKEN"
	assert_equal "$(jbc '[.version, .deleted, .payload]')" '[3,true,null]'
	areq GET /v1/collections/t/records/ghost/history "$TOKEN"
	assert_equal "$(jbc '[.versions[] | [.version, .deleted, .bytes]]')" '[[3,true,0]]'
	assert_equal "$(sql "SELECT deleted, CAST(payload IS NULL AS INTEGER) FROM records WHERE rid = 'ghost' AND collection_id IN
		(SELECT id FROM collections WHERE account_id = $aid)")" '1|1'
	# deleting b: one record less; its old version is kept history (depth 2)
	push_ok "$TOKEN" t "$(tomb b 2)"
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":130,"records":1}'
	# a tombstone of a tombstone changes nothing in bytes either
	push_ok "$TOKEN" t "$(tomb b 4),$(tomb ghost 3)"
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":130,"records":1}'
	# pushing b twice more pushes its 30 bytes out of the history
	push_ok "$TOKEN" t "$(tomb b 5)"
	status_of "$TOKEN"
	assert_equal "$(jbc .usage)" '{"bytes":100,"records":1}'
	assert_equal "$(store_bytes "$aid")" 100
	# tombstones are pulled
	pull_ok "$TOKEN" t
	assert_equal "$(jbc '[.records[] | [.id, .deleted, .payload]]')" '[["a",false,"'"$(payload 100)"'"],["ghost",true,null],["b",true,null]]'
}

# ---- status ----

@test "status: shape, ETag and usage, which agrees with /v1/account and the store" {
	new_token
	aid=$(account_db_id)
	status_of "$TOKEN"
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jbc keys)" '["account_version","backups","collections","quota","server_time","usage"]'
	assert_equal "$(jbc '[.usage, .quota, .collections, .backups]')" '[{"bytes":0,"records":0},{"bytes":10485760},[],[]]'
	assert_time "$(jb .server_time)"
	assert_equal "$(header ETag)" "\"$(jb .account_version)\""
	push_ok "$TOKEN" b "$(rec x 0 "$(payload 40)"),$(rec y 0 "$(payload 2)")"
	push_ok "$TOKEN" a "$(rec x 0 "$(payload 9)")"
	push_ok "$TOKEN" a "$(rec x 1 "$(payload 1)")"
	ajreq PUT /v1/collections/a "$TOKEN" '{"meta":"AAAA"}'
	status_of "$TOKEN"
	assert_equal "$status" 200
	assert_equal "$(header ETag)" "\"$(jb .account_version)\""
	assert_equal "$(jbc '[.collections[] | keys] | unique')" '[["bytes","key_version","modified_at","name","records","rotate_due","version"]]'
	assert_equal "$(jbc '[.collections[] | [.name, .version, .records, .bytes]]')" '[["a",2,1,10],["b",2,2,42]]'
	assert_equal "$(jbc .usage)" '{"bytes":52,"records":3}'
	usage=$(jbc .usage)
	areq GET /v1/account "$TOKEN"
	assert_equal "$(jbc .usage)" "$usage"
	assert_equal "$(jbc .quota)" '{"bytes":10485760}'
	assert_equal "$(store_bytes "$aid")" 52
	assert_equal "$(store_records "$aid")" 3
	# status does not accept a body route's methods
	areq POST /v1/status "$TOKEN"
	assert_err 405 method_not_allowed
	[[ $(header Allow) == *GET* ]]
	err_table 400 invalid_request "$TOKEN" <<'EOF'
GET|/v1/status?wait=-1|-|wait
GET|/v1/status?wait=x|-|wait
GET|/v1/status?wait=86401|-|wait
GET|/v1/status?wait=1&wait=2|-|
EOF
}

@test "status If-None-Match: the current ETag is 304 with the ETag and no body; others 200" {
	new_token
	status_of "$TOKEN"
	etag=$(header ETag)
	v=$(jb .account_version)
	for inm in "$etag" "W/$etag" '*' "\"zz\", $etag" "$etag,\"zz\"" " $etag "; do
		status_of "$TOKEN" "" -H "If-None-Match: $inm"
		assert_equal "$status" 304
		assert_equal "$(header ETag)" "$etag"
		[ -z "$body" ] || fail "304 with a body: $body"
		assert_equal "$(header Cache-Control)" no-store
	done
	for inm in "\"$((v - 1))\"" "\"$((v + 1))\"" "$v" '"x"' ''; do
		status_of "$TOKEN" "" -H "If-None-Match: $inm"
		assert_equal "$status" 200
		assert_equal "$(header ETag)" "$etag"
	done
	# a change makes the old tag stale
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	status_of "$TOKEN" "" -H "If-None-Match: $etag"
	assert_equal "$status" 200
	[ "$(header ETag)" != "$etag" ]
	assert_equal "$(header ETag)" "\"$(jb .account_version)\""
	# wait without a matching tag answers at once
	t0=$(now_ms)
	status_of "$TOKEN" wait=10
	assert_equal "$status" 200
	status_of "$TOKEN" wait=10 -H "If-None-Match: $etag"
	assert_equal "$status" 200
	[ $(($(now_ms) - t0)) -lt 5000 ]
}

@test "account_version moves on every accepted change and on nothing else" {
	new_token
	v=$(acct_version "$TOKEN")
	# step DESCRIPTION moved|same: account_version after the last request
	step() {
		local now
		now=$(acct_version "$TOKEN")
		if [ "$2" = moved ]; then
			[ "$now" -gt "$v" ] || fail "$1: account_version stayed at $v"
		else
			[ "$now" = "$v" ] || fail "$1: account_version moved from $v to $now"
		fi
		v=$now
	}
	areq PUT /v1/collections/c "$TOKEN"; step "PUT (created)" moved
	areq PUT /v1/collections/c "$TOKEN"; step "PUT (update)" moved
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"; step "push" moved
	push_ok "$TOKEN" c "$(rec a 1 AAAA),$(rec b 3 AAAA)"; step "a push with one accepted" moved
	push_ok "$TOKEN" c "$(rec a 0 AAAA),$(rec b 3 AAAA)"; step "a push where all conflict" same
	push "$TOKEN" c "$(rec z 0 AAAA),$(rec a 0 AAAA)" true; step "an atomic 409" same
	push "$TOKEN" c '{"id":".x","base_version":0,"payload":"AAAA"}'; step "a 400 push" same
	push "$TOKEN" c "$(rec big 0 "$(payload 2049)")"; step "a 413 push" same
	ajreq PUT /v1/collections/c "$TOKEN" '{"meta":"A"}'; step "a 400 PUT" same
	areq DELETE /v1/collections/nope "$TOKEN"; step "a 404 DELETE" same
	pull_ok "$TOKEN" c; step "a pull" same
	areq GET /v1/collections/c/records/a/history "$TOKEN"; step "history" same
	areq GET /v1/collections "$TOKEN"; step "the list" same
	push_ok "$TOKEN" c "$(tomb a 2)"; step "a delete" moved
	areq DELETE /v1/collections/c "$TOKEN"; step "DELETE" moved
	ajreq PUT /v1/account/keyring "$TOKEN" '{"keyring":"AAAA","version":0}'
	assert_equal "$status" 200
	step "a keyring change" moved
	ajreq PUT /v1/account/keyring "$TOKEN" '{"keyring":"AAAA","version":0}'
	assert_equal "$status" 412
	step "a refused keyring change" same
}

@test "status long-poll: a matching If-None-Match with wait answers 200 as soon as a push lands" {
	new_token
	status_of "$TOKEN"
	etag=$(header ETag)
	v=$(jb .account_version)
	bg_get st "/v1/status?wait=20" "$TOKEN" -H "If-None-Match: $etag"
	bs_wait 30 lp_waiting 1 || fail "status never waited: $(cat "$BATS_TEST_TMPDIR/st.meta")"
	sleep 1
	bg_done st && fail "status answered before the push: $(cat "$BATS_TEST_TMPDIR/st.meta")"
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	bg_wait st
	assert_equal "$status" 200
	secs_between "$elapsed" 0.9 10
	[ "$(jb .account_version)" -gt "$v" ]
	assert_equal "$(header ETag)" "\"$(jb .account_version)\""
	assert_equal "$(jbc '[.collections[] | [.name, .version]]')" '[["c",1]]'
}

@test "status long-poll: woken by a collection PUT, a DELETE and a keyring change; 304 after wait otherwise" {
	new_token
	other=$TOKEN
	new_token
	# change_wakes WHAT CMD...: a status long-poll is answered 200 by CMD
	change_wakes() {
		local what=$1
		shift
		status_of "$TOKEN"
		local etag v
		etag=$(header ETag)
		v=$(jb .account_version)
		bg_get st "/v1/status?wait=20" "$TOKEN" -H "If-None-Match: $etag"
		bs_wait 30 lp_waiting 1 || fail "$what: status never waited"
		sleep 0.5
		bg_done st && fail "$what: status answered before the change"
		"$@"
		bg_wait st
		[ "$status" = 200 ] || fail "$what: status $status"
		secs_between "$elapsed" 0.4 10
		[ "$(jb .account_version)" -gt "$v" ] || fail "$what: account_version $v did not move"
	}
	change_wakes "PUT" areq PUT /v1/collections/c "$TOKEN"
	change_wakes "DELETE" areq DELETE /v1/collections/c "$TOKEN"
	change_wakes "keyring" ajreq PUT /v1/account/keyring "$TOKEN" '{"keyring":"AAAA","version":0}'
	# no change of this account (another account writes; a refused push; a
	# push where everything conflicts): 304 after the wait, with the ETag
	push_ok "$TOKEN" d "$(rec a 0 AAAA)"
	status_of "$TOKEN"
	etag=$(header ETag)
	bg_get st "/v1/status?wait=2" "$TOKEN" -H "If-None-Match: $etag"
	bs_wait 30 lp_waits_or_done st || fail "status never arrived"
	push_ok "$other" d "$(rec a 0 AAAA)"
	push "$TOKEN" d '{"id":".x","base_version":0,"payload":"AAAA"}'
	push_ok "$TOKEN" d "$(rec a 0 AAAA)"
	bg_wait st
	assert_equal "$status" 304
	secs_between "$elapsed" 1.9 8
	assert_equal "$(header ETag)" "$etag"
	[ -z "$body" ]
}

# ---- authentication, methods, isolation ----

@test "every sync route needs a valid token: 401" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	# a token logged out
	old=$TOKEN
	login_ok "$USERNAME" "$KEY"
	TOKEN=$ACCESS
	areq POST /v1/account/logout "$old"
	assert_equal "$status" 204
	before=$(state "$TOKEN")
	rows=$(cat <<EOF
GET|/v1/collections|-|
PUT|/v1/collections/c|-|
PUT|/v1/collections/c|{"meta":"AAAA"}|
DELETE|/v1/collections/c|-|
POST|/v1/collections/c/push|{"records":[$(frec a BBBB)]}|
GET|/v1/collections/c/pull|-|
GET|/v1/collections/c/pull?wait=5|-|
GET|/v1/collections/c/records/a|-|
GET|/v1/collections/c/records/a/history|-|
GET|/v1/collections/c/records/a/history/1|-|
GET|/v1/status|-|
EOF
	)
	# no token, a token that does not exist, a revoked one
	err_table 401 unauthorized - <<<"$rows"
	err_table 401 unauthorized AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA <<<"$rows"
	err_table 401 unauthorized "$old" <<<"$rows"
	# with If-None-Match and wait, status does not wait for a stranger
	t0=$(now_ms)
	req GET '/v1/status?wait=5' -H 'If-None-Match: *'
	assert_401 unauthorized
	[ $(($(now_ms) - t0)) -lt 4000 ]
	unchanged "$TOKEN" "$before" "unauthenticated requests"
}

@test "wrong methods are 405 with Allow" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	before=$(state "$TOKEN")
	err_table 405 method_not_allowed "$TOKEN" <<'EOF'
POST|/v1/collections|-|
DELETE|/v1/collections|-|
GET|/v1/collections/c|-|
POST|/v1/collections/c|-|
GET|/v1/collections/c/push|-|
PUT|/v1/collections/c/push|-|
DELETE|/v1/collections/c/push|-|
POST|/v1/collections/c/pull|-|
PUT|/v1/collections/c/records/a|-|
DELETE|/v1/collections/c/records/a|-|
POST|/v1/collections/c/records/a/history|-|
DELETE|/v1/collections/c/records/a/history/1|-|
PUT|/v1/status|-|
EOF
	areq GET /v1/collections/c "$TOKEN"
	assert_equal "$(header Allow)" "PUT, DELETE, OPTIONS"
	areq GET /v1/collections/c/push "$TOKEN"
	assert_equal "$(header Allow)" "POST, OPTIONS"
	areq POST /v1/collections/c/pull "$TOKEN"
	assert_equal "$(header Allow)" "GET, HEAD, OPTIONS"
	unchanged "$TOKEN" "$before" "wrong methods"
}

@test "another account's collections: 404 on every route; push and PUT make the caller's own" {
	new_token
	alice=$TOKEN
	push_ok "$alice" shared "$(rec r 0 "$(payload 50 a)"),$(rec s 0 AAAA)"
	push_ok "$alice" shared "$(rec r 1 "$(payload 60 a)")"
	ajreq PUT /v1/collections/shared "$alice" '{"meta":"QUxJQ0U="}'
	ajreq PUT /v1/collections/meta-only "$alice" '{"meta":"QUxJQ0U="}'
	pull_ok "$alice" shared
	alice_pull=$body
	alice_state=$(state "$alice")
	new_token
	bob=$TOKEN
	bob_state=$(state "$bob")
	# reads: as if nothing were there
	areq GET /v1/collections "$bob"
	assert_equal "$body" '{"collections":[]}'
	err_table 404 not_found "$bob" <<'EOF'
GET|/v1/collections/shared/pull|-|
GET|/v1/collections/shared/pull?since=0&wait=1|-|
GET|/v1/collections/shared/records/r|-|
GET|/v1/collections/shared/records/s|-|
GET|/v1/collections/shared/records/r/history|-|
GET|/v1/collections/shared/records/r/history/1|-|
GET|/v1/collections/shared/records/r/history/3|-|
GET|/v1/collections/meta-only/pull|-|
DELETE|/v1/collections/shared|-|
DELETE|/v1/collections/meta-only|-|
EOF
	unchanged "$bob" "$bob_state" "bob's reads"
	unchanged "$alice" "$alice_state" "bob's reads"
	# status shows bob only his own
	status_of "$bob"
	assert_equal "$(jbc '[.usage, .collections]')" '[{"bytes":0,"records":0},[]]'
	# writes: bob's own collection of the same name; alice's is untouched
	push "$bob" shared "$(rec r 0 BBBB),$(rec s 1 BBBB)"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.collection_version, .accepted, (.conflicts | map([.id, .server_version, .payload]))]')" \
		'[1,[{"id":"r","version":1}],[["s",0,null]]]'
	push_ok "$bob" shared "$(frec s CCCC)"
	areq PUT /v1/collections/meta-only "$bob"
	assert_equal "$status" 201
	assert_equal "$(jb .meta)" null
	pull_ok "$bob" shared
	assert_equal "$(jbc '[.records[] | [.id, .version, .payload]]')" '[["r",1,"BBBB"],["s",2,"CCCC"]]'
	pull_ok "$alice" shared
	assert_equal "$body" "$alice_pull"
	areq GET /v1/collections "$alice"
	assert_equal "$(jbc '[.collections[] | [.name, .meta, .version]]')" '[["meta-only","QUxJQ0U=",0],["shared","QUxJQ0U=",3]]'
	assert_equal "$(state "$alice" | head -1)" "$(head -1 <<<"$alice_state")"
	# bob deleting his collection leaves alice's
	areq DELETE /v1/collections/shared "$bob"
	assert_empty_204
	pull_ok "$alice" shared
	assert_equal "$body" "$alice_pull"
	areq GET /v1/collections/shared/records/r/history "$alice"
	assert_equal "$(jbc '[.versions[].version]')" '[3,1]'
}
