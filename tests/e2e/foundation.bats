#!/usr/bin/env bats
# The foundation through the real nginx: info, health, the error format,
# limits, routing, and the request id.
load ../lib

setup_file() {
	bs_setup_stack 'registration = "invite"' 'limits = { max_body_bytes = 4096, max_record_bytes = 1024, max_push_records = 77 }' \
		'plans = { default = { backups = 3 } }' 'slots = { enabled = true }'
}
teardown_file() { bs_stop; }

@test "GET /v1/info answers the values of the config" {
	req GET /v1/info
	assert_equal "$status" 200
	assert_common_headers
	assert_equal "$(header Content-Type)" "application/json"
	# live (blindsync-live, on by default) everywhere but plain CGI
	local live=false
	bs_front_supports live && live=true
	assert_equal "$(echo "$body" | jq -c .)" \
		'{"api":1,"version":"0.1.0","registration":"invite","slots":true,"live":'$live',"sharing":true,"limits":{"max_body_bytes":4096,"max_record_bytes":1024,"max_push_records":77,"max_pull_records":1000,"max_backup_bytes":2097152,"min_backup_bytes":32,"max_backups":3,"max_wait_seconds":60}}'
}

@test "GET /v1/health answers ok" {
	req GET /v1/health
	assert_equal "$status" 200
	assert_equal "$(echo "$body" | jq -c .)" '{"ok":true}'
	assert_common_headers
}

@test "HEAD /v1/info has the headers and no body" {
	req HEAD /v1/info -I
	assert_equal "$status" 200
	assert_common_headers
	# with -I curl writes the headers where the body would go: no JSON there
	[[ "$body" != *'{'* ]]
	[ "$(header Content-Length)" -gt 100 ]
}

@test "the API works under any prefix" {
	req GET /sync/v1/info
	assert_equal "$status" 200
	assert_equal "$(echo "$body" | jq .api)" 1
	req GET /a/b/c/v1/health
	assert_equal "$status" 200
}

@test "an unknown route is a JSON 404" {
	req GET /v1/nothing-here
	assert_error 404 not_found
	assert_equal "$(echo "$body" | jq -c .)" '{"error":{"code":"not_found","message":"Not found."}}'
	req GET /v1/info/extra
	assert_error 404 not_found
	req GET /v1//info
	assert_error 404 not_found
	req GET /not-the-api
	assert_equal "$status" 404
}

@test "a wrong method is a 405 with Allow" {
	req POST /v1/info -H 'Content-Type: application/json' --data '{}'
	assert_error 405 method_not_allowed
	assert_equal "$(header Allow)" "GET, HEAD, OPTIONS"
	req DELETE /v1/health
	assert_error 405 method_not_allowed
	assert_equal "$(header Allow)" "GET, HEAD, OPTIONS"
}

@test "OPTIONS answers 204 with Allow and no CORS headers by default" {
	req OPTIONS /v1/info -H 'Origin: https://evil.example'
	assert_equal "$status" 204
	assert_equal "$(header Allow)" "GET, HEAD, OPTIONS"
	[ -z "$(header Access-Control-Allow-Origin)" ]
}

@test "a body over max_body_bytes is a JSON 413 (nginx and handler agree)" {
	head -c 5000 /dev/zero | tr '\0' 'a' >"$BATS_TEST_TMPDIR/big"
	req POST /v1/account/register -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big"
	assert_error 413 body_too_large
	assert_equal "$(echo "$body" | jq -r .error.message)" "The request body is larger than 4096 bytes."
}

@test "X-Request-Id comes from nginx's \$request_id and differs per request" {
	req GET /v1/health
	a=$(header X-Request-Id)
	req GET /v1/health
	b=$(header X-Request-Id)
	[[ "$a" =~ ^[0-9a-f]{32}$ ]]
	[ "$a" != "$b" ]
	grep -q "req=$b GET status.health 200" "$BS_LOG"
}

@test "the handler log has one line per request and no query values" {
	req GET "/v1/health?secret=hunter2"
	rid=$(header X-Request-Id)
	run grep -c "req=$rid" "$BS_LOG"
	assert_output 1
	run grep -c hunter2 "$BS_LOG"
	assert_output 0
}
