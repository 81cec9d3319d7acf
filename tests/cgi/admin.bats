#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# blindsync-admin, run directly: help and usage errors, config check, invites
# (created, stored only as a hash, used through the account handler run as a
# CGI program, expired), the account list, and disabling/enabling accounts
# (login, refresh and existing tokens refused, then restored). Fast: no web
# server; each test has its own data directory and config.
load ../lib

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}'
	DB=$BS_DATA/blindsync.db
}

# admin ARGS...: run blindsync-admin; $output is stdout, $stderr stderr
admin() {
	run --separate-stderr "$BIN/blindsync-admin" "$@"
}

# every command of the table, as its words
COMMANDS=("config check" "invite create" "invite list" "user list" "user disable" "user enable" "help")

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

# ---- help and usage ----

@test "--help, -h and help list every command on stdout" {
	for opt in --help -h help; do
		admin $opt
		assert_success
		assert_line --index 0 --partial "usage: blindsync-admin COMMAND"
		for c in "${COMMANDS[@]}"; do
			assert_line --regexp "^  $c( |\$)"
		done
		[ -z "$stderr" ]
	done
}

@test "CMD --help, CMD -h and help CMD print the usage of each command" {
	for c in "${COMMANDS[@]}"; do
		for form in "$c --help" "$c -h" "help $c"; do
			admin $form
			assert_success
			assert_line --index 0 --regexp "^usage: blindsync-admin $c( |\$)"
			[ "${#lines[@]}" -ge 3 ] || fail "'$form' printed too little: $output"
			[ -z "$stderr" ]
		done
	done
	# --help wins over the other arguments and touches no store
	admin user disable alice --help
	assert_success
	assert_line --index 0 "usage: blindsync-admin user disable NAME"
	[ ! -e "$DB" ]
	admin help user
	assert_success
	assert_output "$(printf 'usage: blindsync-admin user list\nusage: blindsync-admin user disable NAME\nusage: blindsync-admin user enable NAME')"
}

@test "no command, an unknown command or subcommand exit 2 with a usage line on stderr" {
	admin
	assert_equal "$status" 2
	[[ $stderr == *"usage: blindsync-admin"* ]]
	for form in "frobnicate" "help frobnicate" "--frob" "user" "user frob" "invite revoke-all" "config"; do
		admin $form
		assert_equal "$status" 2
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
		[[ $stderr == *"usage: blindsync-admin"* ]] || fail "'$form': no usage line in: $stderr"
	done
	admin frobnicate
	[[ $stderr == "blindsync-admin: unknown command: frobnicate"* ]]
	[ ! -e "$DB" ]
}

@test "wrong arguments exit 2 before the store is touched" {
	for form in "config check extra" "invite list extra" "user list extra" "user disable" \
		"user disable alice bob" "user enable" "invite create --expires" "invite create --expires 0" \
		"invite create --expires 3651" "invite create --expires abc" "invite create --expires=-1" \
		"invite create --expires 7x" "invite create --bogus" "user disable a!b" "user disable ab"; do
		admin $form
		assert_equal "$status" 2
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
		[[ $stderr == "blindsync-admin: "*$'\n'"usage: blindsync-admin "* ]] || fail "'$form': $stderr"
	done
	[ ! -e "$DB" ]
}

@test "-V prints the version" {
	admin -V
	assert_success
	assert_output --regexp '^blindsync-admin [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- config check ----

@test "config check: ok, then the effective config, which loads back" {
	admin config check
	assert_success
	assert_line --index 0 "config $BLINDSYNC_CONFIG: ok"
	assert_line 'registration = "invite"'
	assert_output --partial "database = \"$DB\""
	assert_output --partial "max_push_records"
	[ -z "$stderr" ]
	[ ! -e "$DB" ]
	printf '%s\n' "$output" | sed 1d >"$BATS_TEST_TMPDIR/again.lua"
	local first=$output
	BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/again.lua admin config check
	assert_success
	# the same values (the comment line names the file it came from)
	assert_equal "$(printf '%s\n' "$output" | sed 1d | grep -v '^--')" "$(printf '%s\n' "$first" | sed 1d | grep -v '^--')"
}

@test "config check: built-in defaults without BLINDSYNC_CONFIG" {
	[ ! -e /usr/local/etc/blindsync/blindsync.lua ] || skip "a compiled-in default config exists"
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr env -u BLINDSYNC_CONFIG "$BIN/blindsync-admin" config check
	assert_success
	assert_line --index 0 "config (built-in defaults): ok"
	assert_line 'registration = "open"'
}

@test "config check: an error names the file, the line and the key, exit 1" {
	printf 'registration = "invite"\n\nlimits = {\n  max_push_records = "many",\n}\n' >"$BLINDSYNC_CONFIG"
	admin config check
	assert_equal "$status" 1
	[ -z "$output" ]
	[[ $stderr == "blindsync-admin: "*"blindsync.lua:4: limits.max_push_records: "* ]] || fail "$stderr"
	printf 'registration = "open"\ndatabsae = "x.db"\n' >"$BLINDSYNC_CONFIG"
	admin config check
	assert_equal "$status" 1
	[[ $stderr == *"blindsync.lua:2: "*"databsae"* ]] || fail "$stderr"
	rm "$BLINDSYNC_CONFIG"
	admin config check
	assert_equal "$status" 1
	[[ $stderr == "blindsync-admin: "*"blindsync.lua"* ]] || fail "$stderr"
}

@test "a bad config stops every store command with exit 1" {
	printf 'registration = 5\n' >"$BLINDSYNC_CONFIG"
	for form in "invite create" "invite list" "user list" "user disable alice" "user enable alice"; do
		admin $form
		assert_equal "$status" 1
		[ -z "$output" ] || fail "'$form' wrote to stdout: $output"
		[[ $stderr == *"blindsync.lua:1: registration"* ]] || fail "'$form': $stderr"
	done
}

# ---- invites ----

@test "invite create prints only the code, stored only as its SHA-256" {
	admin invite create
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^[A-Za-z0-9_-]{22}$'
	[[ $stderr == *"expires"* ]]
	local code=$output
	admin invite create --expires 30
	assert_success
	assert_output --regexp '^[A-Za-z0-9_-]{22}$'
	[ "$output" != "$code" ]
	# the hash of the code text, exactly as a client sends it
	hash=$(printf '%s' "$code" | sha256sum | cut -d' ' -f1)
	assert_equal "$(sqlite3 "$DB" "SELECT count(*) FROM invites WHERE lower(hex(hash)) = '$hash'")" 1
	# and nowhere the code itself, in any file of the store
	for f in "$DB" "$DB-wal" "$DB-shm" "$BS_DATA"/*; do
		[ -f "$f" ] || continue
		! grep -q -a -F -- "$code" "$f" || fail "the invite code is in $f"
	done
}

@test "invite create --expires DAYS sets the expiry (default 7 days)" {
	admin invite create
	assert_success
	admin invite create --expires=1
	assert_success
	admin invite create --expires 3650
	assert_success
	assert_equal "$(sqlite3 "$DB" 'SELECT group_concat(expires_at - created_at) FROM invites ORDER BY id')" \
		"$((7 * 86400)),86400,$((3650 * 86400))"
}

@test "invite list: unused, then used by the account the handler registered" {
	admin invite list
	assert_success
	assert_output --regexp '^ID +CREATED +EXPIRES +STATE$'
	new_invite
	admin invite list
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^1 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z +[0-9-]{10}T[0-9:]{8}Z +unused$'
	refute_output --partial "$CODE"
	# registration through the CGI account handler consumes it
	register alice "$CODE"
	assert_equal "$cgi_status" 201
	admin invite list
	assert_success
	assert_line --index 1 --regexp '^1 .* used by alice at [0-9-]{10}T[0-9:]{8}Z$'
	# once only
	register bob "$CODE"
	assert_equal "$cgi_status" 403
	assert_equal "$(cgi_code)" invalid_invite
	# without an invite, and with a wrong one
	register bob
	assert_equal "$cgi_status" 403
	register bob "${CODE}x"
	assert_equal "$cgi_status" 403
}

@test "invite list: an expired invite shows expired and is refused" {
	new_invite
	sqlite3 "$DB" 'UPDATE invites SET expires_at = 0'
	admin invite list
	assert_success
	assert_line --index 1 --regexp '^1 .* 1970-01-01T00:00:00Z +expired$'
	register alice "$CODE"
	assert_equal "$cgi_status" 403
	assert_equal "$(cgi_code)" invalid_invite
	new_invite
	admin invite list
	assert_line --index 1 --partial expired
	assert_line --index 2 --partial unused
}

# ---- users ----

@test "user list: a header, then each account by name" {
	admin user list
	assert_success
	assert_output --regexp '^USERNAME +CREATED +PLAN +BYTES +RECORDS +STATE$'
	new_user bob
	new_user Alice
	admin user list
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 --regexp '^alice +[0-9-]{10}T[0-9:]{8}Z +default +0 +0 +enabled$'
	assert_line --index 2 --regexp '^bob +[0-9-]{10}T[0-9:]{8}Z +default +0 +0 +enabled$'
	[ -z "$stderr" ]
}

@test "user disable: login 403, refresh and existing tokens 401; enable restores" {
	new_user alice
	new_user bob
	login alice
	assert_equal "$cgi_status" 200
	access=$(printf '%s' "$cgi_body" | jq -r .access_token)
	refresh=$(printf '%s' "$cgi_body" | jq -r .refresh_token)
	account GET /v1/account "" "$access"
	assert_equal "$cgi_status" 200

	admin user disable alice
	assert_success
	[ -z "$output" ]
	[[ $stderr == *"alice disabled"* ]]
	admin user list
	assert_line --index 1 --regexp '^alice .* disabled$'
	assert_line --index 2 --regexp '^bob .* enabled$'

	login alice
	assert_equal "$cgi_status" 403
	account GET /v1/account "" "$access"
	assert_equal "$cgi_status" 401
	account POST /v1/account/refresh "{\"refresh_token\":\"$refresh\"}"
	assert_equal "$cgi_status" 401
	# other accounts are untouched
	login bob
	assert_equal "$cgi_status" 200

	admin user disable alice
	assert_success
	[[ $stderr == *"already disabled"* ]]

	admin user enable alice
	assert_success
	[ -z "$output" ]
	[[ $stderr == *"alice enabled"* ]]
	login alice
	assert_equal "$cgi_status" 200
	account GET /v1/account "" "$access"
	assert_equal "$cgi_status" 200
	admin user list
	assert_line --index 1 --regexp '^alice .* enabled$'
}

@test "user disable/enable take the name in any case; an unknown user exits 1" {
	new_user alice
	admin user disable ALICE
	assert_success
	assert_equal "$(sqlite3 "$DB" "SELECT disabled FROM accounts WHERE username = 'alice'")" 1
	admin user enable Alice
	assert_success
	assert_equal "$(sqlite3 "$DB" "SELECT disabled FROM accounts WHERE username = 'alice'")" 0
	for c in disable enable; do
		admin user $c nobody
		assert_equal "$status" 1
		[ -z "$output" ]
		assert_equal "$stderr" "blindsync-admin: no such user: nobody"
	done
}

@test "a write waits for the handlers' write lock instead of failing" {
	new_user alice
	local held=$BATS_TEST_TMPDIR/held
	sqlite3 "$DB" "BEGIN IMMEDIATE" ".shell touch $held; sleep 1" "COMMIT" &
	local locker=$!
	for _ in $(seq 1 100); do [ -e "$held" ] && break; sleep 0.02; done
	[ -e "$held" ] || fail "the lock was never taken"
	local t0=$(date +%s%N)
	admin user disable alice
	local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	wait "$locker"
	assert_success
	[ "$ms" -ge 300 ] || fail "user disable did not wait for the lock (${ms}ms)"
	assert_equal "$(sqlite3 "$DB" "SELECT disabled FROM accounts WHERE username = 'alice'")" 1
	assert_equal "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
}
