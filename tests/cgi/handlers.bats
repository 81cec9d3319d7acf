#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The handler programs run directly, as CGI programs (one request per
# process, like cgit's tests) and from the command line: config checks,
# migrations, health. Fast: no web server.
load ../lib

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BLINDSYNC_CONFIG"
}

# cgi METHOD URI [body]: run blindsync-status as CGI; sets $output
cgi() {
	local method=$1 uri=$2 body=${3:-}
	run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD="$method" REQUEST_URI="$uri" QUERY_STRING="${uri#*\?}" \
		REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=${#body} CONTENT_TYPE=application/json \
		${CGI_EXTRA:-} "$BIN/blindsync-status" <<<"$body"
	unix_lines
}

# CGI answers use CRLF: strip the CRs from $output and $lines
unix_lines() {
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
}

# remote_get URI [VAR=VALUE...]: GET URI from blindsync-status as CGI, from
# the non-loopback address 192.0.2.7; sets $output and $lines
remote_get() {
	local uri=$1
	shift
	run --separate-stderr env -i BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		REQUEST_URI="$uri" REMOTE_ADDR=192.0.2.7 "$@" "$BIN/blindsync-status" </dev/null
	unix_lines
}

@test "-n accepts a valid config and exits 0" {
	run "$BIN/blindsync-status" -n
	assert_success
	assert_output --partial "is valid"
}

@test "--threads, --processes and --connections take a whole number in their range; anything else exits 2 naming it" {
	local opt v
	for opt in "threads 0 257" "processes 0 65" "connections -1 257"; do
		set -- $opt
		for v in "$2" "$3" "" x 4x " 4" 2147483648; do
			run --separate-stderr "$BIN/blindsync-status" "--$1" "$v" -n
			assert_equal "$status" 2
			assert_equal "$stderr" "blindsync-status: --$1 takes $(($2 + 1)) to $(($3 - 1))"
		done
		run "$BIN/blindsync-status" "--$1" "$(($2 + 1))" -n
		assert_success
		run "$BIN/blindsync-status" "--$1" "$(($3 - 1))" -n
		assert_success
	done
}

@test "-n accepts the shipped lua/blindsync.lua" {
	BLINDSYNC_CONFIG=$BS_ROOT/lua/blindsync.lua run "$BIN/blindsync-status" -n
	assert_success
}

@test "an unknown key is refused at start, naming the key and the line" {
	printf 'registration = "open"\n\ndatabsae = "x.db"\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	assert_output --partial "blindsync.lua:3:"
	assert_output --partial "databsae"
	run "$BIN/blindsync-status" --listen "$BATS_TEST_TMPDIR/s.sock"
	assert_failure
	assert_output --partial "databsae"
	[ ! -S "$BATS_TEST_TMPDIR/s.sock" ]
}

@test "an unknown nested key is refused with its line" {
	printf 'limits = {\n  max_body_bytes = 1024,\n  max_pushrecords = 5,\n}\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	assert_output --partial "blindsync.lua:3:"
	assert_output --partial "max_pushrecords"
}

@test "a wrong type is refused, naming the key and the line" {
	printf -- '-- comment\nlimits = {\n  max_push_records = "many",\n}\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	assert_output --partial "blindsync.lua:3:"
	assert_output --partial "limits.max_push_records"
}

@test "a value out of range is refused" {
	printf 'limits = { max_push_records = 0 }\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	assert_output --partial "limits.max_push_records"
}

@test "a syntax error is refused with file and line" {
	printf 'registration = "open"\nlimits = { max_body_bytes = }\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	assert_output --partial "blindsync.lua:2:"
}

@test "the sandbox has no io, os or require" {
	printf 'x = io.open("/etc/passwd")\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	printf 'os.execute("touch %s/pwned")\n' "$BATS_TEST_TMPDIR" >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	printf 'require("os")\n' >"$BLINDSYNC_CONFIG"
	run "$BIN/blindsync-status" -n
	assert_failure
}

@test "a runaway config is stopped by the instruction limit" {
	printf 'while true do end\n' >"$BLINDSYNC_CONFIG"
	run timeout 20 "$BIN/blindsync-status" -n
	assert_failure
	[ "$status" -ne 124 ]
}

@test "CGI: GET /v1/info answers 200 JSON with the common headers" {
	cgi GET /v1/info
	assert_success
	assert_line --index 0 "Status: 200 OK"
	assert_output --partial "Cache-Control: no-store"
	assert_output --partial "X-Content-Type-Options: nosniff"
	assert_output --regexp "X-Request-Id: [0-9a-f]{32}"
	assert_output --partial '"api":1'
}

@test "CGI: X-Request-Id is taken from REQUEST_ID when it is sane" {
	CGI_EXTRA="REQUEST_ID=abc123" cgi GET /v1/health
	assert_output --partial "X-Request-Id: abc123"
	CGI_EXTRA="REQUEST_ID=bad\"id" cgi GET /v1/health
	refute_output --partial 'bad"id'
}

@test "CGI: 404 and 405 carry the exact error bodies" {
	cgi GET /v1/nope
	assert_line --index 0 "Status: 404 Not Found"
	assert_output --partial '{"error":{"code":"not_found","message":"Not found."}}'
	cgi PUT /v1/health
	assert_line --index 0 "Status: 405 Method Not Allowed"
	assert_output --partial "Allow: GET, HEAD, OPTIONS"
	assert_output --partial '"code":"method_not_allowed"'
}

@test "CGI: a malformed or repeated query parameter is a 400" {
	cgi GET "/v1/info?a=%zz"
	assert_line --index 0 "Status: 400 Bad Request"
	assert_output --partial '"code":"invalid_request"'
	cgi GET "/v1/info?a=1&a=2"
	assert_line --index 0 "Status: 400 Bad Request"
}

@test "require_https: plain HTTP from a non-loopback address is refused" {
	bs_config "$BLINDSYNC_CONFIG" 'require_https = true'
	remote_get /v1/info
	assert_line --index 0 "Status: 403 Forbidden"
	assert_output --partial '"code":"https_required"'
	remote_get /v1/info HTTPS=on
	assert_line --index 0 "Status: 200 OK"
}

@test "migrations applied twice are harmless" {
	cgi GET /v1/health
	assert_line --index 0 "Status: 200 OK"
	v1=$(sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA user_version')
	cgi GET /v1/health
	assert_line --index 0 "Status: 200 OK"
	v2=$(sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA user_version')
	[ "$v1" -ge 1 ]
	assert_equal "$v1" "$v2"
	assert_equal "$(sqlite3 "$BS_DATA/blindsync.db" "SELECT count(*) FROM meta WHERE key='schema'")" 1
	assert_equal "$(sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA journal_mode')" wal
}

@test "migrations run by 8 processes at once are applied exactly once" {
	for i in $(seq 1 8); do
		env -i BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
			REQUEST_URI=/v1/health REMOTE_ADDR=127.0.0.1 "$BIN/blindsync-status" \
			</dev/null >"$BATS_TEST_TMPDIR/out.$i" 2>/dev/null &
	done
	wait
	for i in $(seq 1 8); do
		run bash -c "head -n 1 '$BATS_TEST_TMPDIR/out.$i' | tr -d '\\r'"
		assert_output "Status: 200 OK"
	done
	assert_equal "$(sqlite3 "$BS_DATA/blindsync.db" "SELECT count(*) FROM meta WHERE key='schema'")" 1
	run sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA integrity_check'
	assert_output ok
}

@test "a store newer than the program is refused at start" {
	cgi GET /v1/health
	sqlite3 "$BS_DATA/blindsync.db" 'PRAGMA user_version = 9999'
	cgi GET /v1/health
	assert_failure
	[[ "$stderr" == *"newer than this program"* ]]
}

@test "CGI: health is 503 with Retry-After when the store is not a database" {
	cgi GET /v1/health
	assert_line --index 0 "Status: 200 OK"
	rm -f "$BS_DATA"/blindsync.db-*
	head -c 8192 /dev/urandom >"$BS_DATA/blindsync.db"
	cgi GET /v1/health
	# the handler refuses to start on a store that is not one: it cannot serve
	assert_failure
}

@test "CGI: /v1/metrics only for metrics.allow, a 404 for everyone else" {
	cgi GET /v1/metrics
	assert_line --index 0 "Status: 200 OK"
	assert_output --partial "blindsync_accounts"
	remote_get /v1/metrics HTTPS=on
	assert_line --index 0 "Status: 404 Not Found"
	assert_output --partial '{"error":{"code":"not_found","message":"Not found."}}'
	refute_output --partial "blindsync_"
	bs_config "$BLINDSYNC_CONFIG" 'metrics = { allow = { "192.0.2.0/24" } }'
	remote_get /v1/metrics HTTPS=on
	assert_line --index 0 "Status: 200 OK"
	cgi GET /v1/metrics
	assert_line --index 0 "Status: 404 Not Found"
}

# unread_answer HANDLER METHOD URI [VAR=VALUE...]: run HANDLER as CGI for
# one request that announces a 4 MiB JSON body but sends none of it yet: its
# stdin is a FIFO held open with nothing written. A handler that reads the
# body first blocks and never answers; one that answers without it writes
# its whole answer while the FIFO is still empty (then, as CGI, it drains
# the declared body, which ends when the FIFO is closed). Sets $output (the
# answer, CRs stripped) and fails unless the answer came with nothing sent.
unread_answer() {
	local handler=$1 method=$2 uri=$3 out=$BATS_TEST_TMPDIR/out fifo=$BATS_TEST_TMPDIR/fifo pid wfd answered=0 still_waiting=0
	shift 3
	rm -f "$fifo" "$out"
	mkfifo "$fifo"
	env -i BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$method" \
		REQUEST_URI="$uri" REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=4194304 CONTENT_TYPE=application/json \
		"$@" "$BIN/blindsync-$handler" <"$fifo" >"$out" 2>/dev/null &
	pid=$!
	exec {wfd}>"$fifo"
	# generous: the answer needs one process start, not a fast machine
	for _ in $(seq 1 300); do
		if grep -q '^{' "$out" 2>/dev/null; then
			answered=1
			break
		fi
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && still_waiting=1 || still_waiting=0
	exec {wfd}>&-
	wait "$pid" || true
	output=$(tr -d '\r' <"$out")
	[ "$answered" = 1 ] || { echo "$method $uri: no answer while the body was withheld"; return 1; }
	# it answered, and was still waiting for the body it had not read
	[ "$still_waiting" = 1 ] || { echo "$method $uri: exited before the body came"; return 1; }
}

@test "CGI: a bearer route announcing 4 MiB without a valid token answers 401 having read none of it" {
	for r in "account POST /v1/account/password" "account PUT /v1/account/keyring" \
		"account DELETE /v1/account" "account POST /v1/account/import" \
		"push POST /v1/collections/notes/push" "push PUT /v1/collections/notes" \
		"backups PUT /v1/backups/main"; do
		read -r handler method uri <<<"$r"
		unread_answer "$handler" "$method" "$uri"
		[[ "$output" == "Status: 401 Unauthorized"* ]] || { echo "$r: $output"; false; }
		unread_answer "$handler" "$method" "$uri" HTTP_AUTHORIZATION="Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		[[ "$output" == "Status: 401 Unauthorized"* ]] || { echo "$r: $output"; false; }
		[[ "$output" == *'"message":"The access token is not valid."'* ]]
	done
}

@test "CGI: a slot PUT without a valid key answers having read none of its body" {
	bs_config "$BLINDSYNC_CONFIG" 'slots = { enabled = true }'
	id=$(printf 'a%.0s' $(seq 64))
	unread_answer backups PUT "/v1/slots/$id"
	[[ "$output" == "Status: 403 Forbidden"* ]]
	unread_answer backups PUT "/v1/slots/$id" HTTP_X_SLOT_KEY=short
	[[ "$output" == "Status: 400 Bad Request"* ]]
}

@test "CGI: the unauthenticated account routes refuse a body over their cap before reading it" {
	for uri in /v1/account/prelogin /v1/account/login /v1/account/refresh /v1/account/register; do
		unread_answer account POST "$uri"
		[[ "$output" == "Status: 413 Content Too Large"* ]] || { echo "$uri: $output"; false; }
	done
}

@test "every handler's route table names only routes of the one list (-n checks it)" {
	for h in "$BIN"/blindsync-*; do
		[ "$(basename "$h")" = blindsync-admin ] && continue
		[ "$(basename "$h")" = blindsync-hello ] && continue
		run "$h" -n
		assert_success
	done
}
