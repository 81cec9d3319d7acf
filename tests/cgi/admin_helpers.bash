# tests/cgi/admin_helpers.bash: the helpers shared by admin.bats,
# admin_ops.bats and rehash.bats (admin, the handlers run as CGI programs,
# users and sessions, records, the last answer's status, body and code).

# admin ARGS...: run blindsync-admin; $output is stdout, $stderr stderr
admin() {
	run --separate-stderr "$BIN/blindsync-admin" "$@"
}

# acked N FILE: FILE has at least N lines
acked() { [ "$(wc -l <"$2")" -ge "$1" ]; }

# hold_write_lock: in the background, sqlite3 takes the store's write lock
# (BEGIN IMMEDIATE) and keeps it until the test releases it (touch
# $RELEASE; 60 s at most); returns once the lock is held. Sets LOCKER.
hold_write_lock() {
	HELD=$BATS_TEST_TMPDIR/held RELEASE=$BATS_TEST_TMPDIR/release
	rm -f "$HELD" "$RELEASE"
	sqlite3 "$DB" "BEGIN IMMEDIATE" \
		".shell touch $HELD; i=0; while [ ! -e $RELEASE ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done" \
		"COMMIT" &
	LOCKER=$!
	bs_wait 60 test -e "$HELD" || fail "the lock was never taken"
}

# admin_waits FORM...: blindsync-admin FORM while hold_write_lock holds the
# lock: it must wait (still running half a second later: it neither failed
# nor went past the lock), then, the lock released, finish. Sets status,
# output and stderr as admin does. No clock: a slow machine only waits more.
admin_waits() {
	local apid
	"$BIN/blindsync-admin" "$@" >"$BATS_TEST_TMPDIR/aw.out" 2>"$BATS_TEST_TMPDIR/aw.err" &
	apid=$!
	sleep 0.5
	if bs_gone "$apid"; then
		touch "$RELEASE"
		fail "blindsync-admin $* did not wait for the lock: $(cat "$BATS_TEST_TMPDIR/aw.err")"
	fi
	touch "$RELEASE"
	wait "$apid" && status=0 || status=$?
	wait "$LOCKER"
	output=$(cat "$BATS_TEST_TMPDIR/aw.out")
	stderr=$(cat "$BATS_TEST_TMPDIR/aw.err")
}

# usage_refused FORM...: each FORM (words of blindsync-admin) exits 2 with
# nothing on stdout and the error then the usage on stderr
usage_refused() {
	local form
	for form in "$@"; do
		admin $form
		assert_equal "$status" 2
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
		[[ $stderr == "blindsync-admin: "*$'\n'"usage: blindsync-admin "* ]] || fail "'$form': $stderr"
	done
}

# bad_config_refused FORM...: with a config whose line 1 is wrong, each FORM
# exits 1 with nothing on stdout and the file, line and key on stderr
bad_config_refused() {
	local form
	printf 'registration = 5\n' >"$BLINDSYNC_CONFIG"
	for form in "$@"; do
		admin $form
		assert_equal "$status" 1
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
		[[ $stderr == *"blindsync.lua:1: registration"* ]] || fail "'$form': $stderr"
	done
}

# handler PROG METHOD URI [BODY] [TOKEN]: run build/blindsync-PROG as a CGI
# program (QUERY_STRING from the URI); sets $cgi_status (the HTTP status)
# and $cgi_body (the body, CRs removed)
handler() {
	local prog=$1 method=$2 uri=$3 body=${4:-} token=${5:-} query=
	local auth=()
	[ -n "$token" ] && auth=(HTTP_AUTHORIZATION="Bearer $token")
	[[ $uri == *\?* ]] && query=${uri#*\?}
	run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD="$method" REQUEST_URI="$uri" QUERY_STRING="$query" CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body} REMOTE_ADDR=127.0.0.1 "${auth[@]}" "$BIN/blindsync-$prog" <<<"$body"
	[ "$status" -eq 0 ] || fail "blindsync-$prog exited $status: $stderr"
	output=${output//$'\r'/}
	cgi_status=$(printf '%s\n' "$output" | sed -n '1s/^Status: \([0-9]*\).*/\1/p')
	cgi_body=$(printf '%s\n' "$output" | sed '1,/^$/d')
	[ -n "$cgi_status" ] || fail "no Status line in: $output"
}

# account METHOD URI [BODY] [TOKEN]: the account handler, as handler above
account() { handler account "$@"; }

# a fixed client key per user (32 bytes, standard base64)
key_of() { printf '%-32s' "key of $1" | base64 -w0; }

# register NAME [INVITE]: POST /v1/account/register
register() {
	local inv=
	[ -n "${2:-}" ] && inv=$(printf ',"invite":"%s"' "$2")
	account POST /v1/account/register "$(printf '{"username":"%s","auth_key":"%s","kdf":{"alg":"pbkdf2-sha256","iterations":600000,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="}%s}' \
		"$1" "$(key_of "$1")" "$inv")"
}

# login NAME: POST /v1/account/login
login() {
	account POST /v1/account/login "$(printf '{"username":"%s","auth_key":"%s","device":{"name":"t","type":"cli"}}' \
		"$1" "$(key_of "$1")")"
}

# new_invite [ARGS]: invite create; sets CODE
new_invite() {
	admin invite create "$@"
	assert_success
	CODE=$output
}

# new_user NAME: an invite, then a registration with it (201)
new_user() {
	new_invite
	register "$1" "$CODE"
	assert_equal "$cgi_status" 201
}

# the error code of the last CGI answer
cgi_code() { printf '%s' "$cgi_body" | jq -r .error.code; }

# session NAME: a new user, logged in; sets TOKEN (its access token)
session() {
	new_user "$1"
	login "$1"
	assert_equal "$cgi_status" 200
	TOKEN=$(printf '%s' "$cgi_body" | jq -r .access_token)
}

# push COLLECTION RECORDS_JSON: POST /v1/collections/C/push as $TOKEN
push() { handler push POST "/v1/collections/$1/push" "{\"records\":$2}" "$TOKEN"; }
# pull COLLECTION SINCE: GET /v1/collections/C/pull?since=SINCE as $TOKEN
pull() { handler pull GET "/v1/collections/$1/pull?since=$2" "" "$TOKEN"; }
# payload N: N bytes (of 'x') as standard base64
payload() { head -c "$1" /dev/zero | tr '\0' x | base64 -w0; }
# rec ID BASE BYTES: one record of a push; rec_del ID BASE: a tombstone
rec() { printf '{"id":"%s","base_version":%s,"payload":"%s"}' "$1" "$2" "$(payload "$3")"; }
rec_del() { printf '{"id":"%s","base_version":%s,"deleted":true}' "$1" "$2"; }

# q SQL: one value from the store
q() { sqlite3 "$DB" "$1"; }

# mfa_off_check: user mfa-off, the same on either backend (admin.bats,
# admin_pg.bats): carol turns TOTP on (a code from oathtool), so her login
# asks for a code; she has lost the authenticator and the codes; the admin
# turns it off (the name in any case); she logs in with her key alone, her
# account says no TOTP and no codes, her activity log says who did it, she
# can turn TOTP on again; a second mfa-off changes nothing, an unknown
# user exits 1, wrong arguments exit 2.
mfa_off_check() {
	session carol
	local key secret
	key=$(key_of carol)
	account POST /v1/account/mfa/totp "{\"auth_key\":\"$key\"}" "$TOKEN"
	assert_equal "$cgi_status" 200
	secret=$(printf '%s' "$cgi_body" | jq -r .secret)
	account POST /v1/account/mfa/totp/confirm "{\"code\":\"$(oathtool --totp -b "$secret")\"}" "$TOKEN"
	assert_equal "$cgi_status" 200
	login carol
	assert_equal "$cgi_status" 401
	assert_equal "$(cgi_code)" mfa_required

	admin user mfa-off CaRoL
	assert_success
	assert_output "two-factor login of carol turned off: it logs in with its password alone"
	[ -z "$stderr" ]
	login carol
	assert_equal "$cgi_status" 200
	account GET /v1/account "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq -c .mfa)" '{"totp":false,"recovery_codes":0}'
	account GET "/v1/account/activity?limit=100" "" "$TOKEN"
	# newest first: the login after it, then the admin's act (no device did it)
	assert_equal "$(printf '%s' "$cgi_body" | jq -c '[.events[:2][] | [.type, .device_id != null]]')" \
		'[["login",true],["mfa_disabled_by_admin",false]]'
	# the session that was open stays open, and TOTP can be turned on again
	account POST /v1/account/mfa/totp "{\"auth_key\":\"$key\"}" "$TOKEN"
	assert_equal "$cgi_status" 200

	# begun but not confirmed: the begun secret goes too; then nothing is left to do
	admin user mfa-off carol
	assert_success
	admin user mfa-off carol
	assert_success
	assert_output ""
	assert_equal "$stderr" "blindsync-admin: user carol has no two-factor login; nothing changed"
	account GET "/v1/account/activity?limit=100" "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq -c '[.events[].type | select(. == "mfa_disabled_by_admin")] | length')" 2
	admin user mfa-off nobody
	assert_equal "$status" 1
	[[ $stderr == *"no such user"* ]] || fail "$stderr"
	admin user mfa-off
	assert_equal "$status" 2
	admin user mfa-off carol extra
	assert_equal "$status" 2
}
