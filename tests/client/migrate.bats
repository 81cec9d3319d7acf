#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# blindsync-admin migrate-store against the real stack: a store with every
# kind of row (accounts, devices, tokens, invites, events, collections,
# records with history, a tombstone, backups with two versions, a slot,
# two-factor login with its recovery codes, a recovery key; the sharing
# tables' rows written into the store directly) made
# through the CLI on SQLite, moved into a new SQLite file, and into
# PostgreSQL and back into a new SQLite file (on the cluster of $BS_PG_DIR
# when the tests run with one, else on one of its own made by
# scripts/pg.sh). After each move the stack runs on the copy and the homes logged in
# before it read, write and sync without logging in again; the counts,
# digests and `check` are printed and equal; progress went to stderr. Then
# the refusals: a target that is not empty or exists, a URI with a
# password, a store in use, a missing --to.
load ../lib

setup_file() {
	# the source is SQLite whatever the BACKEND of the run
	export BS_DATA=$BATS_FILE_TMPDIR/data BS_CONFIG=$BATS_FILE_TMPDIR/blindsync.lua
	mkdir -p "$BS_DATA"
	printf '%s\n' "database = \"$BS_DATA/blindsync.db\"" "secret_file = \"$BS_DATA/secret\"" \
		'password_hash = { iterations = 1000 }' 'rate_limits = {}' 'slots = { enabled = true, max_bytes = 1 * MiB }' \
		>"$BS_CONFIG"
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo "migrate password" >"$PWFILE"
	export BSUSER=mv$RANDOM$RANDOM
	export ORIG_DB=$BS_DATA/blindsync.db
	# the cluster to move into: the run's ($BS_PG_DIR), else one of our own
	# directly under /tmp (the server's user must reach it; bats' are 0700)
	if [ -z "${BS_PG_DIR:-}" ] && [ -x "$BS_ROOT/scripts/pg.sh" ]; then
		OWN_PG=$(mktemp -d /tmp/bs-pg.XXXXXX) && "$BS_ROOT/scripts/pg.sh" start "$OWN_PG" >/dev/null &&
			export OWN_PG BS_PG_DIR=$OWN_PG
	fi
}
# every test starts and stops the stacks it uses (a stack started in a test
# is that test's: teardown_file cannot see it)
teardown() { bs_stop; }
teardown_file() {
	[ -z "${OWN_PG:-}" ] || "$BS_ROOT/scripts/pg.sh" destroy "$OWN_PG"
}

admin() { run --separate-stderr env BLINDSYNC_CONFIG="$BS_CONFIG" "$BIN/blindsync-admin" "$@"; }
cli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@"
}
cli_in() {
	local h=$1 in=$2; shift 2
	run bash -c 'printf "%s" "$1" | BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$2" "${@:3}"' _ "$in" "$h" "$@"
}
# use_store LOCATION: the stack stopped, the config pointed at LOCATION, the stack started again
use_store() {
	bs_stop
	point_to "$1"
	bs_start
}
point_to() { sed -i "s|^database = .*|database = \"$1\"|" "$BS_CONFIG"; }
# pg_new NAME: a new empty PostgreSQL database; prints its URI
pg_new() { "$BS_ROOT/scripts/pg.sh" createdb "$BS_PG_DIR" "$1"; }
# what the homes see: records of notes (with the tombstone gone), the backup, the slot
clients_see_everything() {
	local tag=$1
	cli a get notes r1
	assert_success
	assert_output "one, again"
	cli b get notes r2
	assert_success
	assert_output "two"
	cli a get notes r3
	assert_failure
	cli a history notes r1
	assert_success
	assert_output --partial "one"
	cli a backup get bk "$BATS_FILE_TMPDIR/bk.out"
	assert_success
	cmp "$BATS_FILE_TMPDIR/bk.out" "$BATS_FILE_TMPDIR/bk2"
	run env "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/anon" \
		--password-file "$BATS_FILE_TMPDIR/pp" --app mv slot pull
	assert_success
	assert_output "a slot's content"
	# and they write and sync as before, without logging in
	cli_in a "after $tag" put notes "r-$tag"
	assert_success
	cli b sync
	assert_success
	cli b get notes "r-$tag"
	assert_success
	assert_output "after $tag"
	cli a whoami
	assert_success
	assert_output --partial "$BSUSER"
	cli a 2fa
	assert_success
	assert_output --partial 'two-factor login: on'
}
# sharing_equal FILE: the sharing rows of the SQLite store FILE are those of the original, value for value
sharing_equal() {
	local q
	for q in "SELECT account_id, hex(x25519), hex(ed25519), updated_at FROM account_keys ORDER BY 1" \
		"SELECT id, key_version, members_version, rotate_due FROM collections ORDER BY 1" \
		"SELECT * FROM members ORDER BY 1, 2" \
		"SELECT id, public_id, collection_id, from_id, to_id, role, key_version, hex(sealed), hex(signature),
			created_at, expires_at FROM invitations ORDER BY 1" \
		"SELECT collection_id, account_id, key_version, from_name, hex(from_x25519), hex(from_ed25519),
			hex(sealed), hex(signature), created_at FROM grants ORDER BY 1, 2, 3"; do
		assert_equal "$(sqlite3 "$1" "$q")" "$(sqlite3 "$ORIG_DB" "$q")"
	done
	[ "$(sqlite3 "$1" 'SELECT key_version FROM collections ORDER BY id LIMIT 1')" = 2 ]
	[ "$(sqlite3 "$1" "SELECT rotate_due FROM collections WHERE name = 'left-by-a-member'")" = 1 ]
	[ "$(sqlite3 "$1" 'SELECT count(*) FROM grants')" = 2 ]
}

# the report of a move: every table listed and equal, check ok
assert_moved() {
	assert_success
	for t in meta accounts devices tokens invites events collections collection_floors records history \
		backups slots slot_access account_mfa recovery_codes recovery_keys account_keys members invitations \
		grants; do
		assert_line --regexp "^  $t +[0-9]+ rows  sha256 [0-9a-f]{16}\.\.\. equal$"
	done
	assert_line --regexp "^check: ok \(2 accounts, [0-9]+ collections\)$"
	[[ $stderr == *"copy records: "*" of "*" rows"* ]] || fail "no progress on stderr: $stderr"
	[[ $stderr == *"verify records: "* ]] || fail "no verification on stderr: $stderr"
}

@test "a store with every kind of row, made through the CLI" {
	bs_start
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/a" \
		register "$BSUSER"
	cli a login "$BSUSER" --device a
	assert_success
	cli b login "$BSUSER" --device b
	assert_success
	cli_in a "one" put notes r1
	cli_in a "two" put notes r2
	cli_in a "three" put notes r3
	cli_in a "one, again" put notes r1
	assert_success
	cli a rm notes r3
	assert_success
	cli_in a "a list" put todo t1
	head -c 200000 /dev/urandom >"$BATS_FILE_TMPDIR/bk1"
	head -c 300000 /dev/urandom >"$BATS_FILE_TMPDIR/bk2"
	cli a backup put bk "$BATS_FILE_TMPDIR/bk1"
	assert_success
	cli a backup put bk "$BATS_FILE_TMPDIR/bk2"
	assert_success
	echo "slot pass phrase for the move" >"$BATS_FILE_TMPDIR/pp"
	run bash -c 'printf "a slot'"'"'s content" | "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/anon" \
		--password-file "$BATS_FILE_TMPDIR/pp" slot push - --app mv'
	assert_success
	# two-factor login on (a sealed secret, recovery codes), and a recovery key
	run bash -c 'env BLINDSYNC_PASSWORD_FILE="$1" setsid -w "$2" --server "$3" --home "$4" --json 2fa enable </dev/null' \
		_ "$PWFILE" "$BIN/blindsync" "$BS_URL" "$BATS_FILE_TMPDIR/a"
	assert_success
	local secret
	secret=$(jq -r .secret <<<"$output")
	cli a 2fa confirm "$(oathtool --totp -b "$secret")"
	assert_success
	run bash -c 'env BLINDSYNC_PASSWORD_FILE="$1" setsid -w "$2" --server "$3" --home "$4" recovery-key </dev/null' \
		_ "$PWFILE" "$BIN/blindsync" "$BS_URL" "$BATS_FILE_TMPDIR/a"
	assert_success
	# a second account, and an unused invite
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/c" \
		register "other$BSUSER"
	admin invite create
	assert_success
	# sharing (issue 14): the rows of its four tables and a collection's two
	# versions, written here as the store keeps them (the copy moves rows, not
	# API objects): both accounts' public keys (replacing the ones published at
	# registration); the second account a member of
	# the first collection (its name is opaque) with grants of key versions 1
	# and 2 (it was rotated once); a pending invitation of the second to it;
	# a collection of the second account, which no client syncs, rotate_due
	# as a leave leaves it (a client of its owner would rotate it)
	sqlite3 "$ORIG_DB" "
		INSERT OR REPLACE INTO account_keys SELECT id, randomblob(32), randomblob(32), 1700000000 FROM accounts;
		UPDATE collections SET key_version = 2, members_version = 5 WHERE id = (SELECT min(id) FROM collections);
		INSERT INTO collections (account_id, name, created_at, modified_at, rotate_due)
			SELECT id, 'left-by-a-member', 1700000004, 1700000004, 1 FROM accounts WHERE username = 'other$BSUSER';
		INSERT INTO members SELECT min(c.id), o.id, 2, 1700000001 FROM collections c, accounts o
			WHERE o.username = 'other$BSUSER';
		INSERT INTO grants SELECT (SELECT min(id) FROM collections), o.id, kv, '$BSUSER', randomblob(32),
			randomblob(32), randomblob(90), randomblob(64), 1700000002 + kv
			FROM accounts o, (SELECT 1 AS kv UNION SELECT 2) WHERE o.username = 'other$BSUSER';
		INSERT INTO invitations (public_id, collection_id, from_id, to_id, role, key_version, sealed, signature,
			created_at, expires_at) SELECT 'AbCdEfGhIjKlMnOpQrStUv', c.id, c.account_id, o.id, 1, 1,
			randomblob(90), randomblob(64), 1700000003, 4000000000 FROM collections c, accounts o
			WHERE c.id = (SELECT max(id) FROM collections) AND o.username = 'other$BSUSER';"
	for t in accounts devices tokens invites events collections records history backups slots account_mfa \
		recovery_codes recovery_keys account_keys members invitations grants; do
		[ "$(sqlite3 "$ORIG_DB" "SELECT count(*) FROM $t")" -gt 0 ] || fail "no row in $t"
	done
	[ "$(sqlite3 "$ORIG_DB" "SELECT count(*) FROM records WHERE deleted = 1")" -eq 1 ]
}

@test "SQLite -> a new SQLite file: every row, and the clients keep their sessions" {
	local new=$BS_DATA/moved.db
	# refused while the handlers have the store open
	bs_start
	admin migrate-store --to "$new"
	assert_failure
	[[ $stderr == *"in use by another process"* ]] || fail "$stderr"
	[ ! -e "$new" ]
	bs_stop
	admin migrate-store --to "$new"
	assert_moved
	[ "$(stat -c %a "$new")" = 600 ]
	for t in accounts devices tokens invites events collections collection_floors records history backups slots; do
		assert_equal "$(sqlite3 "$new" "SELECT count(*) FROM $t")" "$(sqlite3 "$ORIG_DB" "SELECT count(*) FROM $t")"
	done
	# versions and times as they were (a record's rowid is the new file's
	# own: records are copied by their key, as PostgreSQL has no id)
	q='SELECT group_concat(collection_id || ":" || rid || ":" || version || ":" || modified_at || ":"
	   || deleted || ":" || hex(payload), ",") FROM (SELECT * FROM records ORDER BY collection_id, rid)'
	assert_equal "$(sqlite3 "$new" "$q")" "$(sqlite3 "$ORIG_DB" "$q")"
	sharing_equal "$new"
	# a target that exists is refused, and left as it was
	admin migrate-store --to "$new"
	assert_failure
	[[ $stderr == *"exists"* ]] || fail "$stderr"
	use_store "$new"
	clients_see_everything sqlite
	bs_stop
	point_to "$ORIG_DB"
}

@test "SQLite -> PostgreSQL -> a new SQLite file, the clients working on each" {
	[ -n "${BS_PG_DIR:-}" ] || skip "no PostgreSQL cluster (scripts/pg.sh)"
	local uri back=$BS_DATA/back.db
	uri=$(pg_new "bs_move_$$") || fail "cannot create a database"
	admin migrate-store --to "$uri"
	assert_moved
	# into a database that is not empty: refused
	admin migrate-store --to "$uri"
	assert_failure
	[[ $stderr == *"not empty"* ]] || fail "$stderr"
	use_store "$uri"
	clients_see_everything pg
	admin check
	assert_success
	bs_stop
	admin migrate-store --to "$back"
	assert_moved
	# back on SQLite: the sharing rows as they were before PostgreSQL
	sharing_equal "$back"
	use_store "$back"
	clients_see_everything back
	cli a get notes r-pg
	assert_success
	assert_output "after pg"
	bs_stop
	point_to "$ORIG_DB"
	"$BS_ROOT/scripts/pg.sh" dropdb "$BS_PG_DIR" "bs_move_$$"
}

@test "migrate-store: usage errors exit 2 before anything is touched" {
	admin migrate-store
	assert_equal "$status" 2
	[[ $stderr == *"--to is missing"* ]] || fail "$stderr"
	admin migrate-store --to 'postgresql://u:secret@localhost/db'
	assert_equal "$status" 2
	[[ $stderr == *"password"* ]] || fail "$stderr"
	admin migrate-store --to 'postgresql://localhost/db?password=secret'
	assert_equal "$status" 2
	admin migrate-store --to x --bogus
	assert_equal "$status" 2
	admin migrate-store --help
	assert_success
	assert_line --index 0 "usage: blindsync-admin migrate-store --to URI|FILE [--force]"
}
