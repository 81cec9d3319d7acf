#!/usr/bin/env bats
# The blindsync CLI under valgrind (memcheck) against the real stack behind
# nginx: register, login, put, sync, get, a conflict, a failure path, a
# backup put and get, export and import, and logout; a recovery key made
# and used (recover), two-factor login confirmed and a login without its
# code; sharing (keys, share, invitations, accept, a member's put and get,
# unshare with its rotation, leave, a fresh home's put rotating first, an
# admin's unshare rotating and its other home reading); watch over the live socket until its
# device is revoked (4401); each run with no memory error and no definite
# or indirect leak.
load ../lib

setup_file() {
	export VG_DIR=$BATS_FILE_TMPDIR/vg
	mkdir -p "$VG_DIR"
	bs_setup_stack 'rate_limits = {}'
	export PWFILE=$BATS_FILE_TMPDIR/pw
	echo 'valgrind password' >"$PWFILE"
	export BSUSER=vg$RANDOM$RANDOM
}
teardown_file() { bs_stop; }

# vcli HOME ARGS...: the CLI under valgrind, with the password file $PWF (default
# $PWFILE) and no terminal; fails on any error or leak
vcli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="${PWF:-$PWFILE}" setsid -w valgrind -q --leak-check=full \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$VG_DIR/vg.%p.log" "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/$h" "$@"
	[ "$status" -ne 99 ] || { cat "$VG_DIR"/vg.*.log >&2; return 1; }
}

@test "login, put, sync, get, conflict and logout under valgrind: no error, no leak" {
	vcli a register "$BSUSER"
	assert_success
	vcli a login "$BSUSER"
	assert_success
	echo one >"$BATS_TEST_TMPDIR/in"
	vcli a put vg r "$BATS_TEST_TMPDIR/in"
	assert_success
	vcli a sync
	assert_success
	vcli a get vg r
	assert_success
	assert_output one
	# a second device makes the first one's next put a conflict
	vcli b login "$BSUSER"
	assert_success
	vcli b sync
	assert_success
	echo two >"$BATS_TEST_TMPDIR/in2"
	vcli b put vg r "$BATS_TEST_TMPDIR/in2"
	assert_success
	vcli a put vg r "$BATS_TEST_TMPDIR/in"
	assert_failure 3
	vcli a sync
	assert_failure 3
	vcli a ls
	assert_success
	vcli a get vg nope
	assert_failure 2
	# a backup both ways (stream writer and reader through libcurl)
	head -c 150000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	vcli a backup put main "$BATS_TEST_TMPDIR/blob"
	assert_success
	vcli b backup get main "$BATS_TEST_TMPDIR/blob.out"
	assert_success
	cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/blob.out"
	# export, and its import into a second account (the same password)
	vcli a export "$BATS_TEST_TMPDIR/export.json"
	assert_success
	vcli c register "${BSUSER}x"
	assert_success
	vcli c login "${BSUSER}x"
	assert_success
	vcli c import "$BATS_TEST_TMPDIR/export.json"
	assert_success
	vcli c get vg r
	assert_output two
	vcli a logout
	assert_success
	# valgrind itself found nothing in any run
	assert_equal "$(cat "$VG_DIR"/vg.*.log 2>/dev/null | wc -c)" 0
}

@test "recovery key, recover, two-factor login under valgrind: no error, no leak" {
	local u=${BSUSER}r key secret
	vcli r register "$u"
	assert_success
	vcli r login "$u"
	assert_success
	key=$(env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/r" recovery-key 2>/dev/null)
	printf '%s\nvalgrind new password\n' "$key" >"$BATS_TEST_TMPDIR/rec"
	PWF=$BATS_TEST_TMPDIR/rec vcli s recover "$u"
	assert_success
	# two-factor login: on (the library's enable and confirm), then a login with a code
	echo 'valgrind new password' >"$PWFILE.new"
	secret=$(env BLINDSYNC_PASSWORD_FILE="$PWFILE.new" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/s" --json 2fa enable </dev/null | jq -r .secret)
	vcli s 2fa confirm "$(oathtool --totp -b "$secret")"
	assert_success
	PWF=$PWFILE.new vcli t login "$u"
	assert_failure 2
	assert_output --partial mfa_required
	assert_equal "$(cat "$VG_DIR"/vg.*.log 2>/dev/null | wc -c)" 0
}

@test "sharing under valgrind: keys, share, invitations, accept, member put and get, unshare with its rotation, leave, an admin's rotation" {
	o=vo$RANDOM$RANDOM m=vm$RANDOM$RANDOM
	for u in "$o" "$m"; do
		vcli "s-$u" register "$u"
		assert_success
		vcli "s-$u" login "$u"
		assert_success
	done
	vcli "s-$o" keys
	assert_success
	echo shared >"$BATS_TEST_TMPDIR/sh"
	vcli "s-$o" put team r "$BATS_TEST_TMPDIR/sh"
	assert_success
	vcli "s-$o" share team "$m" --role write
	assert_success
	id=$(grep -v '^blindsync: ' <<<"$output" | head -1)
	vcli "s-$m" invitations
	assert_success
	vcli "s-$m" accept "$id"
	assert_success
	vcli "s-$m" get team r --owner "$o"
	assert_success
	assert_output shared
	vcli "s-$m" put team r2 "$BATS_TEST_TMPDIR/sh" --owner "$o"
	assert_success
	vcli "s-$m" members team --owner "$o"
	assert_success
	vcli "s-$m" ls
	assert_success
	assert_output --partial "$o"
	vcli "s-$m" history team r --owner "$o"
	assert_success
	vcli "s-$o" sync
	assert_success
	# a failure path: an invitation that does not exist
	vcli "s-$m" accept nosuchinvitation0000000
	assert_failure 2
	vcli "s-$o" unshare team "$m"
	assert_success
	vcli "s-$m" get team r --owner "$o"
	assert_failure 2
	vcli "s-$o" share team "$m"
	assert_success
	vcli "s-$m" accept "$(grep -v '^blindsync: ' <<<"$output" | head -1)"
	assert_success
	vcli "s-$m" leave team --owner "$o"
	assert_success
	# a put in a fresh home of the owner rotates first (the members answer says rotate_due)
	vcli "s2-$o" login "$o"
	assert_success
	vcli "s2-$o" put team r3 "$BATS_TEST_TMPDIR/sh"
	assert_success
	# an admin removes a member and rotates (a random key into its keyring)
	a=va$RANDOM$RANDOM
	vcli "s-$a" register "$a"
	assert_success
	vcli "s-$a" login "$a"
	assert_success
	vcli "s-$o" share team "$a" --role admin
	assert_success
	vcli "s-$a" accept "$(grep -v '^blindsync: ' <<<"$output" | head -1)"
	assert_success
	vcli "s-$o" share team "$m"
	assert_success
	vcli "s-$m" accept "$(grep -v '^blindsync: ' <<<"$output" | head -1)"
	assert_success
	vcli "s-$a" unshare team "$m" --owner "$o"
	assert_success
	vcli "s-$a" put team r4 "$BATS_TEST_TMPDIR/sh" --owner "$o"
	assert_success
	# the admin's other home finds the key in its keyring; the owner reads through the admin's grant
	vcli "s2-$a" login "$a"
	assert_success
	vcli "s2-$a" get team r4 --owner "$o"
	assert_success
	assert_output shared
	vcli "s-$o" get team r4
	assert_success
	assert_output shared
}

@test "watch over the live socket under valgrind: a change, then revoked (4401) it ends; no error, no leak" {
	bs_front_skip live
	PWF=$PWFILE
	vcli w register "${BSUSER}w"
	assert_success
	vcli w login "${BSUSER}w" --device watcher
	assert_success
	vcli x login "${BSUSER}w" --device writer
	assert_success
	local out=$BATS_TEST_TMPDIR/watch.out id pid rc=0
	env BLINDSYNC_PASSWORD_FILE="$PWFILE" setsid -w valgrind -q --leak-check=full \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$VG_DIR/vg.%p.log" "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/w" watch >"$out" 2>&1 &
	pid=$!
	bs_wait 60 grep -q synced "$out" || { kill "$pid"; fail "no first sync: $(cat "$out")"; }
	echo seen >"$BATS_TEST_TMPDIR/in"
	vcli x put vg r "$BATS_TEST_TMPDIR/in"
	assert_success
	bs_wait 60 grep -q '1 pulled' "$out" || { kill "$pid"; fail "the change did not come: $(cat "$out")"; }
	# the other device revokes the watcher: 4401, a 401 to the status, the end
	id=$(env BLINDSYNC_PASSWORD_FILE="$PWFILE" "$BIN/blindsync" --server "$BS_URL" --home "$BATS_FILE_TMPDIR/w" \
		devices | awk -F'\t' '/this device/ { print $1 }')
	[ -n "$id" ] || { kill "$pid"; fail "no device id"; }
	vcli x devices revoke "$id"
	assert_success
	bs_wait 60 bs_gone "$pid" || { kill "$pid"; fail "the watch did not end"; }
	wait "$pid" || rc=$?
	[ "$rc" -ne 99 ] || { cat "$VG_DIR"/vg.*.log >&2; fail "valgrind found errors"; }
	assert_equal "$rc" 2
	assert_equal "$(cat "$VG_DIR"/vg.*.log 2>/dev/null | wc -c)" 0
}
