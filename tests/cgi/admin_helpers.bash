# tests/cgi/admin_helpers.bash: the CGI helpers shared by admin.bats and
# admin_ops.bats (account, login, the last answer's status, body and code).
# account METHOD URI [BODY] [TOKEN]: run blindsync-account as a CGI program;
# sets $cgi_status (the HTTP status) and $cgi_body (the body, CRs removed)
account() {
	local method=$1 uri=$2 body=${3:-} token=${4:-}
	local auth=()
	[ -n "$token" ] && auth=(HTTP_AUTHORIZATION="Bearer $token")
	run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD="$method" REQUEST_URI="$uri" CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body} REMOTE_ADDR=127.0.0.1 "${auth[@]}" "$BIN/blindsync-account" <<<"$body"
	[ "$status" -eq 0 ] || fail "blindsync-account exited $status: $stderr"
	output=${output//$'\r'/}
	cgi_status=$(printf '%s\n' "$output" | sed -n '1s/^Status: \([0-9]*\).*/\1/p')
	cgi_body=$(printf '%s\n' "$output" | sed '1,/^$/d')
	[ -n "$cgi_status" ] || fail "no Status line in: $output"
}

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
