#!/usr/bin/env bats
# Quotas and limits of the sync routes (API section 4) through the real
# nginx, with a small plan: 4096 bytes, no history, 3 collections; a plan
# "deep" that keeps 2 older versions; and waits capped at 1 s. What counts:
# the decoded payload bytes of current records plus kept history; tombstones
# count nothing. Also: the quota under 8 concurrent pushers.
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'limits = { max_wait_seconds = 1 }' \
		'plans = { default = { bytes = 4096, history_depth = 0, collections = 3 }, deep = { history_depth = 2 } }'
	sync_pool 10
}
teardown_file() { bs_stop; }

# usage_is TOKEN BYTES RECORDS: status, /v1/account and the store agree on it
usage_is() {
	status_of "$1"
	assert_equal "$(jbc .usage)" "{\"bytes\":$2,\"records\":$3}"
	areq GET /v1/account "$1"
	assert_equal "$(jbc .usage)" "{\"bytes\":$2,\"records\":$3}"
	assert_equal "$(store_bytes "$(account_db_id)")" "$2"
	assert_equal "$(store_records "$(account_db_id)")" "$3"
}

@test "pushes up to the quota pass; one byte more is 507 quota_exceeded and writes nothing" {
	new_token
	status_of "$TOKEN"
	assert_equal "$(jbc .quota)" '{"bytes":4096}'
	areq GET /v1/account "$TOKEN"
	assert_equal "$(jbc .quota)" '{"bytes":4096}'
	push_ok "$TOKEN" c "$(rec a 0 "$(payload 1000)"),$(rec b 0 "$(payload 1000)"),$(rec c 0 "$(payload 1000)")"
	push_ok "$TOKEN" c "$(rec d 0 "$(payload 1096)")"
	usage_is "$TOKEN" 4096 4
	before=$(state "$TOKEN")
	# one byte more, in every shape
	push "$TOKEN" c "$(rec e 0 AA==)"
	assert_err 507 quota_exceeded
	push "$TOKEN" c "$(frec d "$(payload 1097)")"
	assert_err 507 quota_exceeded
	push "$TOKEN" c "$(rec d 4 "$(payload 1097)")" true
	assert_err 507 quota_exceeded
	# the whole push's net change counts: +11 -10 is over
	push "$TOKEN" c "$(rec g 0 "$(payload 11)"),$(rec a 1 "$(payload 990)")"
	assert_err 507 quota_exceeded
	# a conflict does not make an over-quota push a 200
	push "$TOKEN" c "$(rec e 0 AA==),$(rec a 0 AAAA)"
	assert_err 507 quota_exceeded
	# nor is a new collection created by a refused push
	push "$TOKEN" other "$(rec e 0 AA==)"
	assert_err 507 quota_exceeded
	unchanged "$TOKEN" "$before" "pushes over the quota"
	usage_is "$TOKEN" 4096 4
	areq GET /v1/collections/c/records/a "$TOKEN"
	assert_equal "$(jbc '[.version, (.payload | @base64d | length)]')" '[1,1000]'
	# at the quota, what does not grow the usage passes: +10 -10, a tombstone,
	# an empty record
	push_ok "$TOKEN" c "$(rec f 0 "$(payload 10)"),$(rec a 1 "$(payload 990)")"
	assert_equal "$(jbc '[.accepted[].id]')" '["f","a"]'
	push_ok "$TOKEN" c "$(tomb ghost 0),$(rec empty 0 '')"
	usage_is "$TOKEN" 4096 6
	# collection meta does not count
	ajreq PUT /v1/collections/c "$TOKEN" "{\"meta\":\"$(payload 5000)\"}"
	assert_equal "$status" 200
	usage_is "$TOKEN" 4096 6
}

@test "deleting records and collections frees their bytes" {
	new_token
	push_ok "$TOKEN" x "$(for i in 1 2 3 4; do rec "r$i" 0 "$(payload 1024)"; echo; done | paste -sd,)"
	usage_is "$TOKEN" 4096 4
	push "$TOKEN" x "$(rec r5 0 AA==)"
	assert_err 507 quota_exceeded
	# a tombstone frees its record's bytes (no history on this plan)
	push_ok "$TOKEN" x "$(tomb r1 1)"
	usage_is "$TOKEN" 3072 3
	push_ok "$TOKEN" x "$(rec r5 0 "$(payload 1024)")"
	usage_is "$TOKEN" 4096 4
	# so does a smaller version
	push_ok "$TOKEN" x "$(rec r2 2 "$(payload 24)")"
	usage_is "$TOKEN" 3096 4
	# deleting the collection frees all of it
	areq DELETE /v1/collections/x "$TOKEN"
	assert_empty_204
	usage_is "$TOKEN" 0 0
	status_of "$TOKEN"
	assert_equal "$(jbc .collections)" '[]'
	push_ok "$TOKEN" y "$(rec one 0 "$(payload 4096)")"
	usage_is "$TOKEN" 4096 1
}

@test "kept history counts against the quota" {
	new_token
	# the admin tool sets plans; the store is what it writes
	sql "UPDATE accounts SET plan = 'deep' WHERE username = '$USERNAME'"
	push_ok "$TOKEN" h "$(rec r 0 "$(payload 2000 a)")"
	push_ok "$TOKEN" h "$(rec r 1 "$(payload 2000 b)")"
	usage_is "$TOKEN" 4000 1
	areq GET /v1/collections/h/records/r/history "$TOKEN"
	assert_equal "$(jbc '[.versions[] | [.version, .bytes]]')" '[[2,2000],[1,2000]]'
	# the record alone would be 97 bytes; with its history that is 4097
	before=$(state "$TOKEN")
	push "$TOKEN" h "$(rec r 2 "$(payload 97 c)")"
	assert_err 507 quota_exceeded
	unchanged "$TOKEN" "$before" "a push over the quota because of history"
	push_ok "$TOKEN" h "$(rec r 2 "$(payload 96 c)")"
	usage_is "$TOKEN" 4096 1
	# the next version pushes version 1 (2000 bytes) out of the history
	push_ok "$TOKEN" h "$(rec r 3 "$(payload 1000 d)")"
	usage_is "$TOKEN" 3096 1
	areq GET /v1/collections/h/records/r/history/1 "$TOKEN"
	assert_err 404 not_found
	# the same pushes on the default plan (no history) stay small
	new_token
	push_ok "$TOKEN" h "$(rec r 0 "$(payload 2000 a)")"
	push_ok "$TOKEN" h "$(rec r 1 "$(payload 2000 b)")"
	usage_is "$TOKEN" 2000 1
	areq GET /v1/collections/h/records/r/history "$TOKEN"
	assert_equal "$(jbc '[.versions[] | [.version, .bytes]]')" '[[2,2000]]'
	areq GET /v1/collections/h/records/r/history/1 "$TOKEN"
	assert_err 404 not_found
}

@test "a push that does not grow the usage passes even over the quota" {
	new_token
	push_ok "$TOKEN" c "$(rec a 0 "$(payload 1000)"),$(rec b 0 "$(payload 1000)"),$(rec c 0 "$(payload 1000)")"
	# a per-account quota below the usage (what the admin tool may set)
	sql "UPDATE accounts SET quota_bytes = 1000 WHERE username = '$USERNAME'"
	status_of "$TOKEN"
	assert_equal "$(jbc '[.usage.bytes, .quota.bytes]')" '[3000,1000]'
	before=$(state "$TOKEN")
	push "$TOKEN" c "$(rec d 0 AA==)"
	assert_err 507 quota_exceeded
	unchanged "$TOKEN" "$before" "a growing push over the quota"
	push_ok "$TOKEN" c "$(tomb a 1)"
	push_ok "$TOKEN" c "$(rec b 2 "$(payload 500)")"
	push_ok "$TOKEN" c "$(rec n 0 "$(payload 400)"),$(rec c 3 "$(payload 500)")"
	usage_is "$TOKEN" 1400 3
	areq DELETE /v1/collections/c "$TOKEN"
	assert_empty_204
	usage_is "$TOKEN" 0 0
}

@test "collection limit: a fourth collection is 403 collection_limit, by PUT or by push; nothing is created" {
	new_token
	areq PUT /v1/collections/a "$TOKEN"
	assert_equal "$status" 201
	push_ok "$TOKEN" b "$(rec r 0 AAAA)"
	push_ok "$TOKEN" c ''
	before=$(state "$TOKEN")
	areq PUT /v1/collections/d "$TOKEN"
	assert_err 403 collection_limit
	ajreq PUT /v1/collections/d "$TOKEN" '{"meta":"AAAA"}'
	assert_err 403 collection_limit
	push "$TOKEN" d "$(rec r 0 AAAA)"
	assert_err 403 collection_limit
	push "$TOKEN" d "$(rec r 0 AAAA)" true
	assert_err 403 collection_limit
	push "$TOKEN" d ''
	assert_err 403 collection_limit
	unchanged "$TOKEN" "$before" "a fourth collection"
	pull "$TOKEN" d
	assert_err 404 not_found
	# the three existing ones still take writes
	areq PUT /v1/collections/a "$TOKEN"
	assert_equal "$status" 200
	push_ok "$TOKEN" c "$(rec r 0 AAAA)"
	# the limit is per account
	mine=$TOKEN
	new_token
	for c in d e f; do push_ok "$TOKEN" "$c" "$(rec r 0 AAAA)"; done
	push "$TOKEN" g "$(rec r 0 AAAA)"
	assert_err 403 collection_limit
	# deleting one makes room
	areq DELETE /v1/collections/a "$mine"
	assert_empty_204
	push_ok "$mine" g "$(rec r 0 AAAA)"
	areq PUT /v1/collections/h "$mine"
	assert_err 403 collection_limit
	areq GET /v1/collections "$mine"
	assert_equal "$(jbc '[.collections[].name]')" '["b","c","g"]'
}

# pusher TOKEN I: 6 pushes of a new 300-byte record p<I>-<j> each, to
# collection q<I % 2>; the statuses go to $BATS_TEST_TMPDIR/st.<I>
pusher() {
	local t=$1 i=$2 j
	for j in 1 2 3 4 5 6; do
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $t" \
			-H 'Content-Type: application/json' \
			--data-binary "{\"records\":[$(rec "p$i-$j" 0 "$(payload 300 "$i")")]}" \
			"$BS_URL/v1/collections/q$((i % 2))/push"
	done >>"$BATS_TEST_TMPDIR/st.$i"
}
# grower TOKEN I: 6 forced pushes that grow p<I>-1 by 50 bytes each, and
# add a 100-byte record g<I>-<j>; statuses to $BATS_TEST_TMPDIR/gr.<I>
grower() {
	local t=$1 i=$2 j
	for j in 1 2 3 4 5 6; do
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $t" \
			-H 'Content-Type: application/json' \
			--data-binary "{\"records\":[$(frec "p$i-1" "$(payload $((300 + 50 * j)) "$i")"),$(rec "g$i-$j" 0 "$(payload 100)")]}" \
			"$BS_URL/v1/collections/q$((i % 2))/push"
	done >>"$BATS_TEST_TMPDIR/gr.$i"
}

# by_eight FUNC TOKEN: FUNC TOKEN 1 .. FUNC TOKEN 8 in parallel, waiting for
# each (a failed one fails the test)
by_eight() {
	local i p pids=()
	for i in 1 2 3 4 5 6 7 8; do
		"$1" "$2" "$i" 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
}

@test "quota under concurrency: 8 parallel pushers never take the usage over it" {
	new_token
	aid=$(account_db_id)
	v0=$(acct_version "$TOKEN")
	# 8 pushers x 6 new records of 300 bytes: exactly 13 fit in 4096
	by_eight pusher "$TOKEN"
	cat "$BATS_TEST_TMPDIR"/st.* | sort | uniq -c >"$BATS_TEST_TMPDIR/counts"
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/st.* | wc -l)" 48
	assert_equal "$(grep -c '^200$' "$BATS_TEST_TMPDIR"/st.* | awk -F: '{ s += $2 } END { print s }')" 13
	assert_equal "$(grep -c '^507$' "$BATS_TEST_TMPDIR"/st.* | awk -F: '{ s += $2 } END { print s }')" 35
	usage_is "$TOKEN" 3900 13
	# one account_version step per accepted push, none for the refused ones
	assert_equal "$(acct_version "$TOKEN")" $((v0 + 13))
	# the collections' counters add up to the account's
	status_of "$TOKEN"
	assert_equal "$(jb '[.collections[].bytes] | add')" 3900
	assert_equal "$(jb '[.collections[].records] | add')" 13
	for c in q0 q1; do
		assert_equal "$(sql "SELECT CAST(bytes = (SELECT coalesce(sum(length(payload)), 0) FROM records WHERE collection_id = c.id)
			AND records = (SELECT count(*) FROM records WHERE collection_id = c.id AND deleted = 0) AS INTEGER)
			FROM collections c WHERE account_id = $aid AND name = '$c'")" 1
	done
	# then 8 parallel pushers that grow records and add new ones
	by_eight grower "$TOKEN"
	[ -z "$(cat "$BATS_TEST_TMPDIR"/gr.* | grep -vx -e 200 -e 507)" ] ||
		fail "statuses other than 200 and 507: $(cat "$BATS_TEST_TMPDIR"/gr.* | sort | uniq -c)"
	ok=$(cat "$BATS_TEST_TMPDIR"/gr.* | grep -c '^200$' || true)
	status_of "$TOKEN"
	bytes=$(jb .usage.bytes)
	records=$(jb .usage.records)
	[ "$bytes" -le 4096 ] || fail "usage $bytes over the quota"
	# nothing is left uncounted, nothing counted twice
	usage_is "$TOKEN" "$bytes" "$records"
	assert_equal "$(acct_version "$TOKEN")" $((v0 + 13 + ok))
	# and the pushers got as far as the quota allows: less than a 100-byte
	# record and a 50-byte growth are left
	[ $((4096 - bytes)) -lt 150 ] || fail "usage $bytes: the pushers stopped early ($ok accepted)"
}

@test "wait is capped at max_wait_seconds (1 s here), for pull and for status" {
	new_token
	req GET /v1/info
	assert_equal "$(jb .limits.max_wait_seconds)" 1
	push_ok "$TOKEN" c "$(rec a 0 AAAA)"
	bg_get lp "/v1/collections/c/pull?since=1&wait=30" "$TOKEN"
	etag=$(etag_of "$TOKEN")
	bg_get st "/v1/status?wait=3600" "$TOKEN" -H "If-None-Match: $etag"
	bg_wait lp
	assert_equal "$status" 200
	secs_between "$elapsed" 0.9 8
	assert_equal "$body" '{"collection_version":1,"records":[],"more":false,"next_since":1}'
	bg_wait st
	assert_equal "$status" 304
	secs_between "$elapsed" 0.9 8
	assert_equal "$(header ETag)" "$etag"
}
