#!/usr/bin/env bats
# Every handler under valgrind (memcheck) behind the real nginx: a smoke set
# of requests to each (success and error paths), blindsync-live's sockets
# among them, then a clean stop; no error, no leak.
load ../lib

setup_file() {
	export VG_DIR=$BATS_FILE_TMPDIR/vg
	mkdir -p "$VG_DIR"
	export WORKERS=1 BS_START_SECONDS=300 START_SECONDS=300
	export HANDLER_WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --log-file=$VG_DIR/vg.%p.log"
	bs_setup_stack 'rate_limits = {}' 'slots = { enabled = true }' 'plans = { default = { backups = 2 } }'
	# valgrind is slow to start: wait for every handler to answer
	for path in /v1/health /v1/account /v1/collections /v1/backups /v1/live; do
		bs_wait 120 handler_answers "$path" || true
	done
}

# handler_answers PATH: the handler behind PATH answers (not a 503 of the
# front end, nor no answer at all)
handler_answers() {
	local code
	code=$(curl -s -o /dev/null --max-time 30 -w '%{http_code}' "$BS_URL$1")
	[ "$code" != 503 ] && [ "$code" != 000 ]
}

json() { req "$@" -H 'Content-Type: application/json'; }

@test "requests to every handler under valgrind" {
	key=$(head -c 32 /dev/urandom | base64)
	for i in 1 2; do
		req GET /v1/info; assert_equal "$status" 200
		req GET /v1/health; assert_equal "$status" 200
		req GET /v1/nope; assert_equal "$status" 404
		req DELETE /v1/info; assert_equal "$status" 405
		req GET "/v1/info?a=%zz"; assert_equal "$status" 400
	done
	json POST /v1/account/register --data "{\"username\":\"vguser\",\"auth_key\":\"$key\",\"kdf\":{\"alg\":\"x\"},\"keyring\":\"AAAA\"}"
	assert_equal "$status" 201
	json POST /v1/account/register --data '{"username":"vguser"'
	assert_equal "$status" 400
	json POST /v1/account/prelogin --data '{"username":"nobody"}'
	assert_equal "$status" 200
	json POST /v1/account/login --data "{\"username\":\"vguser\",\"auth_key\":\"$key\",\"device\":{\"name\":\"a\",\"type\":\"b\"}}"
	assert_equal "$status" 200
	tok=$(echo "$body" | jq -r .access_token)
	ref=$(echo "$body" | jq -r .refresh_token)
	A="Authorization: Bearer $tok"
	json POST /v1/account/login --data "{\"username\":\"vguser\",\"auth_key\":\"$(head -c 32 /dev/urandom | base64)\"}"
	assert_equal "$status" 401
	req GET /v1/account -H "$A"; assert_equal "$status" 200
	req GET /v1/account/devices -H "$A"; assert_equal "$status" 200
	req GET /v1/account/activity -H "$A"; assert_equal "$status" 200
	json PUT /v1/account/keyring -H "$A" --data '{"keyring":"AAAA","version":1}'; assert_equal "$status" 200
	json PUT /v1/account/keyring -H "$A" --data '{"keyring":"AAAA","version":1}'; assert_equal "$status" 412
	json POST /v1/account/refresh --data "{\"refresh_token\":\"$ref\"}"; assert_equal "$status" 200
	json POST /v1/account/refresh --data "{\"refresh_token\":\"$ref\"}"; assert_equal "$status" 401
	json POST /v1/account/login --data "{\"username\":\"vguser\",\"auth_key\":\"$key\"}"
	tok=$(echo "$body" | jq -r .access_token)
	A="Authorization: Bearer $tok"
	json POST /v1/collections/c1/push -H "$A" --data '{"records":[{"id":"a","base_version":0,"payload":"aGVsbG8="},{"id":"b","base_version":0,"payload":"aGVsbG8="}]}'
	assert_equal "$status" 200
	json POST /v1/collections/c1/push -H "$A" --data '{"records":[{"id":"a","base_version":0,"payload":"aGVsbG8="},{"id":"b","base_version":2,"deleted":true}]}'
	assert_equal "$status" 200
	json POST /v1/collections/c1/push -H "$A" --data '{"atomic":true,"records":[{"id":"a","base_version":0,"payload":"aGVsbG8="}]}'
	assert_equal "$status" 409
	json POST /v1/collections/c1/push -H "$A" --data '{"records":[{"id":"a"},{"id":"a"}]}'
	assert_equal "$status" 400
	json PUT /v1/collections/c2 -H "$A" --data '{"meta":"AAAA"}'; assert_equal "$status" 201
	req GET /v1/collections -H "$A"; assert_equal "$status" 200
	req GET "/v1/collections/c1/pull?since=0&limit=1" -H "$A"; assert_equal "$status" 200
	req GET "/v1/collections/c1/pull?since=9&wait=1" -H "$A"; assert_equal "$status" 200
	req GET /v1/collections/c1/records/a -H "$A"; assert_equal "$status" 200
	req GET /v1/collections/c1/records/b/history -H "$A"; assert_equal "$status" 200
	req GET /v1/collections/c1/records/b/history/2 -H "$A"; assert_equal "$status" 200
	req GET /v1/collections/c1/records/zz -H "$A"; assert_equal "$status" 404
	req DELETE /v1/collections/c2 -H "$A"; assert_equal "$status" 204
	req GET /v1/status -H "$A"; assert_equal "$status" 200
	etag=$(header ETag)
	req GET "/v1/status?wait=1" -H "$A" -H "If-None-Match: $etag"; assert_equal "$status" 304
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	req PUT /v1/backups/b1 -H "$A" --data-binary @"$BATS_TEST_TMPDIR/blob"; assert_equal "$status" 201
	req PUT /v1/backups/b1 -H "$A" --data-binary @"$BATS_TEST_TMPDIR/blob"; assert_equal "$status" 428
	req PUT /v1/backups/b1 -H "$A" -H 'If-Match: "1"' --data-binary @"$BATS_TEST_TMPDIR/blob"; assert_equal "$status" 200
	req GET /v1/backups/b1 -H "$A"; assert_equal "$status" 200
	req GET /v1/backups -H "$A"; assert_equal "$status" 200
	req DELETE /v1/backups/b1 -H "$A"; assert_equal "$status" 204
	sid=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
	sk=$(head -c 32 /dev/urandom | base64)
	req PUT "/v1/slots/$sid" -H "X-Slot-Key: $sk" --data-binary @"$BATS_TEST_TMPDIR/blob"; assert_equal "$status" 201
	req GET "/v1/slots/$sid"; assert_equal "$status" 200
	req DELETE "/v1/slots/$sid" -H "X-Slot-Key: $sk"; assert_equal "$status" 204
	# blindsync-live: a refused ticket, a socket with its hello and a
	# changed message, a bad frame; the logout below closes a second one
	run python3 "$BS_ROOT/tests/tools/live_client.py" "$BS_URL" --ticket=nope --timeout 60
	assert_line --index 0 --regexp '^http 401 '
	req POST /v1/live/ticket -H "$A"; assert_equal "$status" 200
	t=$(echo "$body" | jq -r .ticket)
	python3 "$BS_ROOT/tests/tools/live_client.py" "$BS_URL" --ticket="$t" --timeout 60 --max-messages 2 \
		>"$BATS_TEST_TMPDIR/ws" &
	bs_wait 60 grep -q hello "$BATS_TEST_TMPDIR/ws"
	json POST /v1/collections/c1/push -H "$A" --data '{"records":[{"id":"w","base_version":0,"payload":"aGVsbG8="}]}'
	bs_wait 60 grep -q changed "$BATS_TEST_TMPDIR/ws"
	wait
	req POST /v1/live/ticket -H "$A"; assert_equal "$status" 200
	run python3 "$BS_ROOT/tests/tools/live_client.py" "$BS_URL" --ticket="$(echo "$body" | jq -r .ticket)" \
		--timeout 60 --send-binary
	assert_line --regexp '^close 1003 '
	req POST /v1/live/ticket -H "$A"; assert_equal "$status" 200
	python3 "$BS_ROOT/tests/tools/live_client.py" "$BS_URL" --ticket="$(echo "$body" | jq -r .ticket)" \
		--timeout 60 >"$BATS_TEST_TMPDIR/ws2" &
	bs_wait 60 grep -q hello "$BATS_TEST_TMPDIR/ws2"
	req POST /v1/account/logout -H "$A"; assert_equal "$status" 204
	bs_wait 60 grep -q '^close 4401' "$BATS_TEST_TMPDIR/ws2"
	wait
	json POST /v1/account/login --data "{\"username\":\"vguser\",\"auth_key\":\"$key\"}"
	A="Authorization: Bearer $(echo "$body" | jq -r .access_token)"
	json DELETE /v1/account -H "$A" --data "{\"auth_key\":\"$key\"}"; assert_equal "$status" 204
}

@test "after a clean stop valgrind reports no error and no leak in any handler" {
	bs_stop
	n=$(ls "$VG_DIR"/vg.*.log | wc -l)
	# one supervisor and one worker per handler at least
	[ "$n" -ge 5 ]
	for f in "$VG_DIR"/vg.*.log; do
		if [ -s "$f" ]; then
			echo "valgrind report $f:" >&2
			cat "$f" >&2
			return 1
		fi
	done
}
