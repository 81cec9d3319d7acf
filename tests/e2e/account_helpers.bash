# tests/e2e/account_helpers.bash: helpers of the account end-to-end tests
# (account*.bats, ratelimit*.bats, secrets.bats). Load it after ../lib.
#
# Functions that call req (and so set $status, $body, $headers) or set the
# session variables below must be called directly, never inside $(...).
#
# Session variables set by login_ok / new_account:
#   USERNAME KEY   the account's name and current auth_key (base64)
#   ACCOUNT_ID     the account_id answered by register / login
#   ACCESS REFRESH DEVICE   the tokens and device id of the last login

# random bytes, standard base64 on one line
b64_random() { head -c "$1" /dev/urandom | base64 -w0; }
new_key() { b64_random 32; }

# a fresh, valid, lowercase username (unique within the run)
new_username() {
	printf 'u%s-%04x%04x%04x' "${BATS_TEST_NUMBER:-0}" $RANDOM $RANDOM $RANDOM
}

# a client-chosen kdf object, compact JSON
kdf_json() {
	printf '{"alg":"pbkdf2-sha256","iterations":600000,"salt":"%s"}' "$(b64_random 16)"
}

# jreq METHOD PATH JSON [curl args...]: a request with a JSON body
jreq() {
	local m=$1 p=$2 d=$3
	shift 3
	printf '%s' "$d" >"$BATS_TEST_TMPDIR/req.json"
	req "$m" "$p" -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/req.json" "$@"
}

# areq METHOD PATH TOKEN [curl args...]: an authenticated request
areq() {
	local m=$1 p=$2 t=$3
	shift 3
	req "$m" "$p" -H "Authorization: Bearer $t" "$@"
}

# ajreq METHOD PATH TOKEN JSON [curl args...]: authenticated, with a JSON body
ajreq() {
	local m=$1 p=$2 t=$3 d=$4
	shift 4
	jreq "$m" "$p" "$d" -H "Authorization: Bearer $t" "$@"
}

# jb [jq args] FILTER: jq -r over the last response body
jb() { printf '%s' "$body" | jq -r "$@"; }
# jbc [jq args] FILTER: jq -c over the last response body
jbc() { printf '%s' "$body" | jq -c "$@"; }

# with_extra JSON [EXTRA_JSON]: the object JSON with the members of
# EXTRA_JSON added (overriding its own); JSON itself when there are none
with_extra() {
	if [ -n "${2:-}" ] && [ "$2" != '{}' ]; then
		jq -cn --argjson b "$1" --argjson x "$2" '$b + $x'
	else
		printf '%s' "$1"
	fi
}

# register NAME KEY [EXTRA_JSON]: POST register with a fresh kdf, plus the
# members of EXTRA_JSON (which override the defaults). NAME and KEY are put
# into the JSON as they are (test names and keys need no escaping).
register() {
	local data
	data=$(with_extra "$(printf '{"username":"%s","auth_key":"%s","kdf":%s}' "$1" "$2" "$(kdf_json)")" "${3:-}")
	jreq POST /v1/account/register "$data"
}

# register_ok NAME KEY [EXTRA_JSON]: register and expect 201; sets ACCOUNT_ID
register_ok() {
	register "$@"
	assert_equal "$status" 201
	ACCOUNT_ID=$(jb .account_id)
	[ -n "$ACCOUNT_ID" ] && [ "$ACCOUNT_ID" != null ]
}

# login NAME KEY [EXTRA_JSON]: POST login with a device, plus EXTRA_JSON
login() {
	local data
	data=$(with_extra "$(printf '{"username":"%s","auth_key":"%s","device":{"name":"test device","type":"cli"}}' "$1" "$2")" "${3:-}")
	jreq POST /v1/account/login "$data"
}

# login_ok NAME KEY [EXTRA_JSON]: login and expect 200; sets ACCESS REFRESH DEVICE ACCOUNT_ID
login_ok() {
	login "$@"
	assert_equal "$status" 200
	{ read -r ACCESS; read -r REFRESH; read -r DEVICE; read -r ACCOUNT_ID; } < <(jb '.access_token, .refresh_token, .device_id, .account_id')
	[[ $ACCESS =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "bad access_token: $ACCESS"
	[[ $REFRESH =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "bad refresh_token: $REFRESH"
	[ -n "$DEVICE" ] && [ "$DEVICE" != null ]
}

# new_account [REGISTER_EXTRA_JSON]: register a fresh account and log in once
new_account() {
	local extra=${1:-'{}'}
	USERNAME=$(new_username)
	KEY=$(new_key)
	register_ok "$USERNAME" "$KEY" "$extra"
	local id=$ACCOUNT_ID
	login_ok "$USERNAME" "$KEY"
	assert_equal "$ACCOUNT_ID" "$id"
}

# refresh TOKEN: POST refresh
refresh() { jreq POST /v1/account/refresh "{\"refresh_token\":\"$1\"}"; }

# assert_err STATUS CODE: what lib.bash's assert_error checks (status, JSON
# error code and message, Content-Type: application/json, the common
# headers), with one jq and no other process, for use in loops; on a 401
# also the challenge WWW-Authenticate: Bearer realm="blindsync".
assert_err() {
	[ "$status" = "$1" ] || fail "expected status $1, got $status: $body"
	local c h
	c=$(printf '%s' "$body" | jq -r 'if (.error.message | type) == "string" and .error.message != ""
		then .error.code else "(no message)" end' 2>/dev/null) || c="(not JSON)"
	[ "$c" = "$2" ] || fail "expected error $2, got $c: $body"
	h=$'\n'"${headers,,}"$'\n'
	[[ $h == *$'\ncontent-type: application/json\n'* ]] || fail "no Content-Type: application/json in: $headers"
	[[ $h == *$'\ncache-control: no-store\n'* && $h == *$'\nx-content-type-options: nosniff\n'* &&
		$h == *$'\nx-request-id: '?* ]] || fail "common headers missing in: $headers"
	if [ "$1" = 401 ]; then
		[[ $h == *$'\nwww-authenticate: bearer realm="blindsync"'* ]] || fail "401 without the Bearer challenge: $headers"
	fi
	return 0
}

# assert_401 CODE: a JSON 401 error with the Bearer challenge
assert_401() { assert_err 401 "$1"; }

# token_works TOKEN / token_fails TOKEN [CODE]: GET /v1/account with TOKEN
token_works() {
	areq GET /v1/account "$1"
	assert_equal "$status" 200
}
token_fails() {
	areq GET /v1/account "$1"
	assert_401 "${2:-unauthorized}"
}

# assert_time VALUE: an RFC 3339 UTC time within 10 minutes of now
assert_time() {
	assert_regex "$1" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
	local t now
	t=$(date -u -d "$1" +%s)
	now=$(date -u +%s)
	[ $((now - t)) -lt 600 ] && [ $((t - now)) -lt 600 ] || fail "time $1 is not close to now"
}

# assert_empty_204: the last response is a 204 without a body
assert_empty_204() {
	assert_equal "$status" 204
	[ -z "$body" ] || fail "204 with a body: $body"
	assert_common_headers
}

# pid_of RID: the pid of the account process that served request RID,
# from its line in $BS_LOG (waits briefly for the line to be written)
pid_of() {
	local rid=$1 line= end=$((SECONDS + 30))
	while :; do
		line=$(grep -F "req=$rid " "$BS_LOG" | head -1)
		[ -z "$line" ] && [ "$SECONDS" -le "$end" ] || break
		sleep 0.02
	done
	[[ $line =~ blindsync-account\[([0-9]+)\] ]] || {
		echo "no blindsync-account[PID] line for req=$rid in $BS_LOG: '$line'" >&2
		return 1
	}
	echo "${BASH_REMATCH[1]}"
}

# one METHOD PATH [curl args...]: one request, prints "STATUS REQUEST_ID"
one() {
	local m=$1 p=$2
	shift 2
	curl -s -o /dev/null -X "$m" -w '%{http_code} %header{x-request-id}\n' "$@" "$BS_URL$p"
}

# par N METHOD PATH JSON|- [curl args...]: N requests at once (16 connections),
# prints one "STATUS REQUEST_ID" line per request; JSON "-" sends no body
par() {
	local n=$1 m=$2 p=$3 d=$4 i
	shift 4
	local args=()
	if [ "$d" != - ]; then
		printf '%s' "$d" >"$BATS_TEST_TMPDIR/par.json"
		args+=(-H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/par.json")
	fi
	for i in $(seq 1 "$n"); do args+=(-o /dev/null "$BS_URL$p"); done
	curl -s --parallel --parallel-immediate --parallel-max 16 -X "$m" \
		-w '%{http_code} %header{x-request-id}\n' "$@" "${args[@]}" 2>/dev/null
}

# sql QUERY: one query against the store (waits for SQLite locks)
sql() { bs_sql "$1"; }
