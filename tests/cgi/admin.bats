#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# blindsync-admin, run directly: help and usage errors, config check, invites
# (created, stored only as a hash, used through the account handler run as a
# CGI program, expired), the account list, and disabling/enabling accounts
# (login, refresh and existing tokens refused, then restored), turning
# two-factor login off (user mfa-off). Fast: no web
# server; each test has its own data directory and config.
load ../lib

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}'
	DB=$BS_DATA/blindsync.db
}

# every command of the table, as its words
COMMANDS=("config check" "invite create" "invite list" "invite revoke" "user list" "user show" "user disable"
	"user enable" "user mfa-off" "user delete" "user quota" "user plan" "sessions revoke" "init" "migrate" "stats" "backup"
	"restore" "check" "purge" "help")

load admin_helpers

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
	assert_output "$(printf 'usage: blindsync-admin user list\nusage: blindsync-admin user disable NAME\nusage: blindsync-admin user enable NAME\nusage: blindsync-admin user mfa-off NAME\nusage: blindsync-admin user quota NAME BYTES|none\nusage: blindsync-admin user plan NAME PLAN\nusage: blindsync-admin user show NAME\nusage: blindsync-admin user delete NAME [--yes]')"
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
	usage_refused "config check extra" "invite list extra" "user list extra" "user disable" \
		"user disable alice bob" "user enable" "invite create --expires" "invite create --expires 0" \
		"invite create --expires 3651" "invite create --expires abc" "invite create --expires=-1" \
		"invite create --expires 7x" "invite create --bogus" "user disable a!b" "user disable ab"
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
	bad_config_refused "invite create" "invite list" "user list" "user disable alice" "user enable alice"
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
	hold_write_lock
	admin_waits user disable alice
	assert_success
	assert_equal "$(sqlite3 "$DB" "SELECT disabled FROM accounts WHERE username = 'alice'")" 1
	assert_equal "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
}

# ---- quotas, plans, check and purge ----

@test "user mfa-off: two-factor login off without a code, logged in the activity log" {
	mfa_off_check
}

@test "user quota, user plan, check, purge: wrong arguments exit 2 before the store is touched" {
	usage_refused "user quota" "user quota alice" "user quota alice 1 2" "user quota alice -1" "user quota alice +1" \
		"user quota alice 1.5M" "user quota alice 1KB" "user quota alice 1T" "user quota alice 0x10" \
		"user quota alice K" "user quota alice 9223372036854775808" "user quota alice 8589934592G" \
		"user quota alice NONE" "user quota a!b 1" "user plan" "user plan alice" "user plan alice default x" \
		"user plan a!b default" "check extra" "check --fix" "check --repair now" "purge extra" "purge --all"
	admin user quota alice ""
	assert_equal "$status" 2
	admin user quota alice " 1"
	assert_equal "$status" 2
	[ ! -e "$DB" ]
	# and a bad config stops them with exit 1
	bad_config_refused "user quota alice 1K" "user plan alice default" "check" "check --repair" "purge"
}

@test "user quota: BYTES, K, M and G suffixes, none; the name in any case; an unknown user exits 1" {
	new_user alice
	for pair in "0 0" "1 1" "1K 1024" "1k 1024" "2M 2097152" "3G 3221225472" "10g 10737418240" \
		"9223372036854775807 9223372036854775807" "8589934591G 9223372035781033984"; do
		set -- $pair
		admin user quota Alice "$1"
		assert_success
		[ -z "$output" ]
		assert_equal "$(q "SELECT quota_bytes FROM accounts WHERE username = 'alice'")" "$2"
	done
	admin user quota alice none
	assert_success
	[[ $stderr == "blindsync-admin: user alice: quota 10485760 bytes, plan default (was "* ]] || fail "$stderr"
	assert_equal "$(q "SELECT quota_bytes IS NULL FROM accounts WHERE username = 'alice'")" 1
	admin user quota nobody 1K
	assert_equal "$status" 1
	[ -z "$output" ]
	assert_equal "$stderr" "blindsync-admin: no such user: nobody"
}

@test "user quota: a push over it answers 507, GET /v1/account shows it, none lifts it" {
	session alice
	v0=$(q "SELECT account_version FROM accounts WHERE username = 'alice'")
	admin user quota alice 1K
	assert_success
	[ -z "$output" ]
	assert_equal "$stderr" "blindsync-admin: user alice: quota 1024 bytes, set for the account (was 10485760 bytes, plan default)"
	# the quota is in /v1/status, whose ETag is the account version
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'alice'")" $((v0 + 1))
	account GET /v1/account "" "$TOKEN"
	assert_equal "$cgi_status" 200
	assert_equal "$(printf '%s' "$cgi_body" | jq .quota.bytes)" 1024

	push c "[$(rec a 0 1000)]"
	assert_equal "$cgi_status" 200
	push c "[$(rec b 0 100)]"
	assert_equal "$cgi_status" 507
	assert_equal "$(cgi_code)" quota_exceeded
	account GET /v1/account "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq -c '[.usage.bytes, .usage.records]')" "[1000,1]"

	# the same value again changes nothing
	v1=$(q "SELECT account_version FROM accounts WHERE username = 'alice'")
	admin user quota alice 1k
	assert_success
	assert_equal "$stderr" "blindsync-admin: user alice: quota already 1024 bytes, set for the account"
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'alice'")" "$v1"

	admin user quota alice none
	assert_success
	account GET /v1/account "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq .quota.bytes)" 10485760
	push c "[$(rec b 0 100)]"
	assert_equal "$cgi_status" 200

	# below what it stores: a warning, and pushes that add bytes are refused
	admin user quota alice 1000
	assert_success
	[[ $stderr == *"warning: user alice stores 1100 bytes, more than its quota of 1000"* ]] || fail "$stderr"
	push c "[$(rec d 0 1)]"
	assert_equal "$cgi_status" 507
}

@test "user plan: a configured plan only; the quota follows the plan, an override still wins" {
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}' \
		'plans = { premium = { bytes = 1 * GiB, collections = 1 } }'
	admin user plan alice gold
	assert_equal "$status" 1
	[ -z "$output" ]
	assert_equal "$stderr" "blindsync-admin: no such plan: gold (the configured plans: default premium)"
	[ ! -e "$DB" ]

	session alice
	push c "[$(rec a 0 10)]"
	push d "[$(rec a 0 10)]"
	assert_equal "$cgi_status" 200
	v0=$(q "SELECT account_version FROM accounts WHERE username = 'alice'")
	admin user plan ALICE premium
	assert_success
	[ -z "$output" ]
	[[ $stderr == "blindsync-admin: user alice: plan premium (was default); quota 1073741824 bytes, plan premium"$'\n'* ]] ||
		fail "$stderr"
	[[ $stderr == *"warning: user alice has 2 collections, more than the 1 of plan premium"* ]] || fail "$stderr"
	assert_equal "$(q "SELECT plan FROM accounts WHERE username = 'alice'")" premium
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'alice'")" $((v0 + 1))
	account GET /v1/account "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq .quota.bytes)" 1073741824
	admin user list
	assert_line --index 1 --regexp '^alice +[0-9-]{10}T[0-9:]{8}Z +premium +20 +2 +enabled$'
	# the plan's collection limit applies to the handlers at once
	push e "[$(rec a 0 10)]"
	assert_equal "$cgi_status" 403

	admin user plan alice premium
	assert_success
	[[ $stderr == "blindsync-admin: user alice: plan already premium;"* ]] || fail "$stderr"
	admin user quota alice 5K
	admin user plan alice default
	assert_success
	[[ $stderr == *"plan default (was premium); quota 5120 bytes, set for the account" ]] || fail "$stderr"
	account GET /v1/account "" "$TOKEN"
	assert_equal "$(printf '%s' "$cgi_body" | jq .quota.bytes)" 5120
	admin user plan nobody default
	assert_equal "$status" 1
	assert_equal "$stderr" "blindsync-admin: no such user: nobody"
}

@test "user list shows the usage the pushes counted" {
	session alice
	push c "[$(rec a 0 100),$(rec b 0 20)]"
	push c "[$(rec_del b 2)]"
	push d "[$(rec x 0 3)]"
	assert_equal "$cgi_status" 200
	admin user list
	assert_success
	# a and b's history (100 + 20) in c, x in d; records: a and x
	assert_line --index 1 --regexp '^alice +[0-9-]{10}T[0-9:]{8}Z +default +123 +2 +enabled$'
}

@test "check: ok, then a corrupted counter is named (exit 1), --repair fixes it, ok again" {
	admin check
	assert_success
	assert_output "$(printf 'integrity_check: ok\ncheck: ok (0 accounts, 0 collections)')"
	session alice
	push c "[$(rec a 0 100),$(rec b 0 20),$(rec x 0 5)]"
	push c "[$(rec_del a 1),$(rec b 2 30)]"
	push d "[$(rec y 0 7)]"
	assert_equal "$cgi_status" 200
	new_user bob
	admin check
	assert_success
	assert_output "$(printf 'integrity_check: ok\ncheck: ok (2 accounts, 2 collections)')"
	[ -z "$stderr" ]

	# c holds b (30) and x (5) with the history of a (100) and b (20)
	assert_equal "$(q "SELECT bytes FROM collections WHERE name = 'c'")" 155
	q "UPDATE collections SET bytes = bytes + 7 WHERE name = 'c'"
	admin check
	assert_equal "$status" 1
	assert_output "$(printf 'integrity_check: ok\ndiffers: account alice, collection c: bytes stored 162, actual 155')"
	assert_equal "$stderr" "blindsync-admin: check: 1 counter differs from the data (\`check --repair\` sets them right)"
	assert_equal "$(q "SELECT bytes FROM collections WHERE name = 'c'")" 162

	v0=$(q "SELECT account_version FROM accounts WHERE username = 'alice'")
	vb=$(q "SELECT account_version FROM accounts WHERE username = 'bob'")
	admin check --repair
	assert_success
	assert_output "$(printf '%s\n' 'integrity_check: ok' \
		'repaired: account alice, collection c: bytes stored 162, actual 155' \
		'check: repaired 1 counter of 1 account' 'check: ok (2 accounts, 2 collections)')"
	assert_equal "$(q "SELECT bytes FROM collections WHERE name = 'c'")" 155
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'alice'")" $((v0 + 1))
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'bob'")" "$vb"
	admin check
	assert_success
	assert_line --index 1 "check: ok (2 accounts, 2 collections)"
	# the handlers carry on from the repaired counters
	push c "[$(rec z 0 1)]"
	assert_equal "$cgi_status" 200
	admin check
	assert_success
}

@test "check: every field of collections and accounts; a version above the data is fine" {
	session alice
	push c "[$(rec a 0 10),$(rec b 0 20)]"
	assert_equal "$cgi_status" 200
	new_user bob
	q "UPDATE collections SET records = records + 1, version = version - 1 WHERE name = 'c';
	   UPDATE accounts SET usage_bytes = usage_bytes - 3, usage_records = 5 WHERE username = 'alice';
	   UPDATE accounts SET usage_bytes = 9 WHERE username = 'bob'"
	admin check
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'integrity_check: ok' \
		'differs: account alice, collection c: records stored 3, actual 2' \
		'differs: account alice, collection c: version stored 1, actual 2' \
		'differs: account alice: usage_bytes stored 27, actual 30' \
		'differs: account alice: usage_records stored 5, actual 2' \
		'differs: account bob: usage_bytes stored 9, actual 0')"
	[[ $stderr == *"check: 5 counters differ from the data"* ]] || fail "$stderr"
	vb=$(q "SELECT account_version FROM accounts WHERE username = 'bob'")
	admin check --repair
	assert_success
	assert_line "check: repaired 5 counters of 2 accounts"
	assert_equal "$(q "SELECT records || ' ' || bytes || ' ' || version FROM collections WHERE name = 'c'")" "2 30 2"
	assert_equal "$(q "SELECT usage_bytes || ' ' || usage_records FROM accounts ORDER BY username")" "$(printf '30 2\n0 0')"
	assert_equal "$(q "SELECT account_version FROM accounts WHERE username = 'bob'")" $((vb + 1))
	# a pull sees the repaired version
	pull c 0
	assert_equal "$(printf '%s' "$cgi_body" | jq .collection_version)" 2
	# a stored version above the highest in use is no difference (a purge leaves that)
	q "UPDATE collections SET version = version + 5"
	admin check
	assert_success
}

@test "check: an integrity error is printed and fails; --repair refuses such a store" {
	session alice
	login alice
	# make an index disagree with its table, as a damaged file would
	q "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE INDEX devices_account ON devices(name)' WHERE name = 'devices_account'"
	admin check
	assert_equal "$status" 1
	assert_line --index 0 --regexp '^integrity_check: row [0-9]+ missing from index devices_account$'
	refute_line "integrity_check: ok"
	assert_equal "$stderr" "blindsync-admin: check: the store fails its integrity check"
	admin check --repair
	assert_equal "$status" 1
	refute_line --partial repaired
	[[ $stderr == "blindsync-admin: check: the store fails its integrity check: its counters are not repaired"* ]] ||
		fail "$stderr"
}

@test "purge: expired tokens and invites, old tombstones with their history, old events" {
	session alice
	old_token=$TOKEN
	login alice
	TOKEN=$(printf '%s' "$cgi_body" | jq -r .access_token)
	push c "[$(rec a 0 100),$(rec b 0 20),$(rec x 0 5)]"
	push c "[$(rec_del a 1),$(rec_del x 3)]"
	push c "[$(rec b 2 30)]"
	push d "[$(rec y 0 7)]"
	push d "[$(rec_del y 1)]"
	assert_equal "$cgi_status" 200
	# the first session's two tokens have expired; an unused invite has too, and
	# so has the used one (kept: it says who registered with it)
	q "UPDATE tokens SET expires_at = strftime('%s', 'now') - 10 WHERE device_id = (SELECT min(id) FROM devices)"
	new_invite
	new_invite
	q "UPDATE invites SET expires_at = 0 WHERE id IN (1, 2)"
	# one event is older than a year
	[ "$(q 'SELECT count(*) FROM events')" -ge 3 ]
	q "UPDATE events SET at = at - 400 * 86400 WHERE id = (SELECT min(id) FROM events)"
	# c's tombstones are 100 days old (beyond keep_days = 90), d's is new
	q "UPDATE records SET modified_at = modified_at - 100 * 86400
	   WHERE deleted = 1 AND collection_id = (SELECT id FROM collections WHERE name = 'c')"
	assert_equal "$(q "SELECT bytes FROM collections WHERE name = 'c'")" 155
	usage=$(q "SELECT usage_bytes FROM accounts")
	v0=$(q "SELECT account_version FROM accounts")
	events=$(q 'SELECT count(*) FROM events')

	admin purge
	assert_success
	assert_output "purge: 2 expired tokens, 1 expired invite, 0 expired invitations, 2 tombstones (collections: 1), 1 old event, 0 expired slots"
	[ -z "$stderr" ]
	# c keeps b (and b's history); a, x and their history are gone with their bytes
	assert_equal "$(q "SELECT group_concat(rid) FROM records WHERE collection_id = (SELECT id FROM collections WHERE name = 'c')")" b
	assert_equal "$(q "SELECT group_concat(v) FROM (SELECT rid || ':' || version AS v FROM history ORDER BY rid, version)")" "b:2,y:1"
	assert_equal "$(q "SELECT bytes || ' ' || records || ' ' || purged_version FROM collections WHERE name = 'c'")" "50 1 5"
	assert_equal "$(q "SELECT purged_version FROM collections WHERE name = 'd'")" 0
	assert_equal "$(q "SELECT usage_bytes FROM accounts")" $((usage - 105))
	[ "$(q "SELECT account_version FROM accounts")" -gt "$v0" ]
	assert_equal "$(q "SELECT count(*) FROM tokens WHERE expires_at <= strftime('%s', 'now')")" 0
	assert_equal "$(q 'SELECT count(*) FROM tokens')" 2
	assert_equal "$(q 'SELECT group_concat(id) FROM (SELECT id FROM invites ORDER BY id)')" "1,3"
	assert_equal "$(q 'SELECT count(*) FROM events')" $((events - 1))

	# a cursor below the purge must start again; from 0 it works
	pull c 1
	assert_equal "$cgi_status" 410
	assert_equal "$(cgi_code)" resync_required
	assert_equal "$(printf '%s' "$cgi_body" | jq .purged_version)" 5
	pull c 0
	assert_equal "$cgi_status" 200
	assert_equal "$(printf '%s' "$cgi_body" | jq -c '[.records[].id]')" '["b"]'
	pull d 1
	assert_equal "$cgi_status" 200
	# the remaining session works, the expired one is gone
	account GET /v1/account "" "$TOKEN"
	assert_equal "$cgi_status" 200
	account GET /v1/account "" "$old_token"
	assert_equal "$cgi_status" 401
	# the counters are exact after the purge
	admin check
	assert_success
	assert_line "check: ok (1 account, 2 collections)"
	# nothing left to purge
	admin purge
	assert_success
	assert_output "purge: 0 expired tokens, 0 expired invites, 0 expired invitations, 0 tombstones (collections: 0), 0 old events, 0 expired slots"
	admin invite list
	assert_line --index 1 --regexp '^1 .* used by alice at '
}

@test "purge: tombstones.keep_days decides which tombstones are old" {
	session alice
	push c "[$(rec a 0 10)]"
	push c "[$(rec_del a 1)]"
	assert_equal "$cgi_status" 200
	q "UPDATE records SET modified_at = modified_at - 2 * 86400 WHERE deleted = 1"
	admin purge
	assert_success
	assert_output --partial " 0 tombstones (collections: 0)"
	assert_equal "$(q 'SELECT count(*) FROM records')" 1
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}' 'tombstones = { keep_days = 1 }'
	admin purge
	assert_success
	assert_output --partial " 1 tombstone (collections: 1)"
	assert_equal "$(q 'SELECT count(*) FROM records')" 0
	assert_equal "$(q 'SELECT bytes || " " || purged_version FROM collections')" "0 2"
	admin check
	assert_success
	# the record can be made again, from 0
	push c "[$(rec a 0 4)]"
	assert_equal "$cgi_status" 200
	assert_equal "$(printf '%s' "$cgi_body" | jq -c '.accepted')" '[{"id":"a","version":3}]'
}

@test "purge and check --repair wait for the handlers' write lock" {
	session alice
	push c "[$(rec a 0 10)]"
	q "UPDATE collections SET bytes = 99"
	for form in "purge" "check --repair"; do
		hold_write_lock
		# shellcheck disable=SC2086
		admin_waits $form
		assert_success
	done
	assert_equal "$(q 'SELECT bytes FROM collections')" 10
	assert_equal "$(q 'PRAGMA integrity_check')" ok
}

@test "check and purge under valgrind: no error, no leak" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	! ldd "$BIN/blindsync-admin" | grep -q libasan || skip "a sanitizer build"
	session alice
	push c "[$(rec a 0 10),$(rec b 0 10)]"
	push c "[$(rec_del a 1)]"
	q "UPDATE records SET modified_at = 0 WHERE deleted = 1; UPDATE collections SET bytes = 1;
	   UPDATE tokens SET expires_at = 0"
	for form in "check" "check --repair" "purge" "check" "user quota alice 1M" "user plan alice default"; do
		run --separate-stderr valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$BIN/blindsync-admin" $form
		[ "$status" -ne 99 ] || fail "valgrind: $form: $stderr"
		case $form in
		"check") [ "$status" -le 1 ] ;;
		*) assert_success ;;
		esac
	done
}

@test "check: an account's backups count in its usage_bytes; --repair keeps them" {
	[ -x "$BIN/blindsync-backups" ] || skip "no backups handler in this build"
	session alice
	push c "[$(rec a 0 10)]"
	assert_equal "$cgi_status" 200
	head -c 100 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=PUT REQUEST_URI=/v1/backups/main CONTENT_TYPE=application/octet-stream CONTENT_LENGTH=100 \
		REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $TOKEN" HTTP_IF_NONE_MATCH='*' \
		"$BIN/blindsync-backups" <"$BATS_TEST_TMPDIR/blob"
	assert_success
	assert_line --index 0 --partial "Status: 201"
	assert_equal "$(q 'SELECT usage_bytes FROM accounts')" 110
	admin check
	assert_success
	assert_line "check: ok (1 account, 1 collection)"
	q "UPDATE accounts SET usage_bytes = 10"
	admin check
	assert_equal "$status" 1
	assert_line "differs: account alice: usage_bytes stored 10, actual 110"
	admin check --repair
	assert_success
	assert_equal "$(q 'SELECT usage_bytes FROM accounts')" 110
}

@test "purge: a walk from 0 afterwards never gets 410; a cursor from before the purge does" {
	session alice
	push c "[$(rec p1 0 10),$(rec p2 0 10),$(rec p3 0 10),$(rec p4 0 10),$(rec p5 0 10)]"
	push c "[$(rec x 0 10)]"
	push c "[$(rec_del x 6)]"
	assert_equal "$cgi_status" 200
	q "UPDATE records SET modified_at = modified_at - 100 * 86400 WHERE deleted = 1"
	admin purge
	assert_success
	# the five survivors were below the horizon (7): they now stand above it, in order
	assert_equal "$(q "SELECT group_concat(rid || ':' || version) FROM (SELECT rid, version FROM records ORDER BY version)")" \
		"p1:8,p2:9,p3:10,p4:11,p5:12"
	assert_equal "$(q "SELECT version || ' ' || purged_version FROM collections")" "12 7"
	# a fresh device pages from 0 with limit 2: every page answers, nothing is lost
	seen=""
	since=0
	for _ in 1 2 3 4; do
		handler pull GET "/v1/collections/c/pull?since=$since&limit=2" "" "$TOKEN"
		assert_equal "$cgi_status" 200
		seen="$seen$(printf '%s' "$cgi_body" | jq -r '[.records[].id] | join(",")'),"
		since=$(printf '%s' "$cgi_body" | jq .next_since)
		[ "$(printf '%s' "$cgi_body" | jq .more)" = true ] || break
	done
	assert_equal "$seen" "p1,p2,p3,p4,p5,"
	assert_equal "$since" 12
	pull c 12
	assert_equal "$cgi_status" 200
	# a device whose cursor predates the purge may have missed the deletion of x
	pull c 6
	assert_equal "$cgi_status" 410
	admin check
	assert_success
}

@test "purge works in batches and removes everything: more rows of each kind than one batch holds" {
	session alice
	push c "[$(rec a 0 10)]"
	assert_equal "$cgi_status" 200
	# by hand, beyond one batch of each kind (tokens, invites and events by
	# 1,000, collections by 64, slots by 16): 2,500 expired tokens, 1,001
	# expired invites, 2,100 old events, 150 collections with an old tombstone
	# (each with an older version in its history), 40 slots unused for long
	q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
	   INSERT INTO tokens (hash, kind, account_id, device_id, expires_at)
	   SELECT randomblob(32), 1, (SELECT id FROM accounts), (SELECT min(id) FROM devices), 1000 FROM n;
	   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001)
	   INSERT INTO invites (hash, created_at, expires_at) SELECT randomblob(32), 1, 2 FROM n;
	   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2100)
	   INSERT INTO events (account_id, at, type) SELECT (SELECT id FROM accounts), 1000, 'login' FROM n;
	   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
	   INSERT INTO collections (account_id, name, version, bytes, created_at, modified_at)
	   SELECT (SELECT id FROM accounts), 'old' || i, 2, 3, 1000, 1000 FROM n;
	   INSERT INTO records (collection_id, rid, version, modified_at, deleted)
	   SELECT id, 'x', 2, 1000, 1 FROM collections WHERE name LIKE 'old%';
	   INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload)
	   SELECT id, 'x', 1, 1000, 0, x'010203' FROM collections WHERE name LIKE 'old%';
	   UPDATE accounts SET usage_bytes = usage_bytes + 450;
	   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
	   INSERT INTO slots (slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at, data)
	   SELECT printf('%064x', i), randomblob(32), 1, 1, randomblob(32), 1000, 1000, 1000, x'00' FROM n;"
	admin check
	assert_success
	admin purge
	assert_success
	assert_output "purge: 2500 expired tokens, 1001 expired invites, 0 expired invitations, 150 tombstones (collections: 150), 2100 old events, 40 expired slots"
	assert_equal "$(q "SELECT count(*) FROM tokens WHERE expires_at = 1")" 0
	assert_equal "$(q "SELECT count(*) FROM invites WHERE used_at IS NULL")" 0
	assert_equal "$(q "SELECT count(*) FROM events WHERE at = 1000")" 0
	assert_equal "$(q "SELECT count(*) || ' ' || sum(bytes) FROM collections WHERE name LIKE 'old%'")" "150 0"
	assert_equal "$(q "SELECT count(*) FROM slots")" 0
	# the live record and the session stay; the counters agree
	assert_equal "$(q "SELECT count(*) FROM records")" 1
	account GET /v1/account "" "$TOKEN"
	assert_equal "$cgi_status" 200
	admin check
	assert_success
	admin purge
	assert_success
	assert_output "purge: 0 expired tokens, 0 expired invites, 0 expired invitations, 0 tombstones (collections: 0), 0 old events, 0 expired slots"
}

@test "purge: slots neither read nor written for slots.expire_days go; a read keeps one" {
	bs_config "$BLINDSYNC_CONFIG" 'registration = "invite"' 'rate_limits = {}' \
		'slots = { enabled = true, expire_days = 30 }'
	key=$(head -c 32 /dev/urandom | base64)
	body=$(head -c 100 /dev/zero | tr '\0' x)
	slot() { # ID: create a slot through the backups handler as CGI
		run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
			REQUEST_METHOD=PUT REQUEST_URI="/v1/slots/$1" CONTENT_LENGTH=100 REMOTE_ADDR=127.0.0.1 \
			HTTP_X_SLOT_KEY="$key" "$BIN/blindsync-backups" <<<"$body"
		[[ "$output" == "Status: 201"* ]]
	}
	read_slot() {
		run --separate-stderr env -i PATH="$PATH" BLINDSYNC_CONFIG="$BLINDSYNC_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
			REQUEST_METHOD=GET REQUEST_URI="/v1/slots/$1" REMOTE_ADDR=127.0.0.1 "$BIN/blindsync-backups" </dev/null
		[[ "$output" == "Status: 200"* ]]
	}
	old=$(printf 'a%.0s' $(seq 64)); kept=$(printf 'b%.0s' $(seq 64)); fresh=$(printf 'c%.0s' $(seq 64))
	slot "$old"; slot "$kept"; slot "$fresh"
	# old and kept were last written 40 days ago; kept was read yesterday
	q "UPDATE slots SET accessed_at = accessed_at - 40 * 86400, modified_at = modified_at - 40 * 86400
	   WHERE slot_id IN ('$old', '$kept')"
	q "DELETE FROM slot_access"
	read_slot "$kept"
	assert_equal "$(q "SELECT count(*) FROM slot_access")" 1
	admin purge
	assert_success
	assert_output --partial ", 1 expired slot"
	assert_equal "$(q "SELECT group_concat(slot_id) FROM (SELECT slot_id FROM slots ORDER BY slot_id)")" "$kept,$fresh"
	assert_equal "$(q "SELECT count(*) FROM slot_access")" 1
	# the read was recorded beside the slot, not by rewriting its row
	[ "$(q "SELECT accessed_at FROM slots WHERE slot_id = '$kept'")" -lt "$(q "SELECT strftime('%s', 'now') - 30 * 86400")" ]
}
