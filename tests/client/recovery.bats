#!/usr/bin/env bats
# Account security through the CLI (issue 15) against the real stack
# through nginx. The recovery key: records written, the password
# "forgotten", `blindsync recover` with the recovery key (typed in lower
# case with spaces), every old record decrypts in a new home; the old
# password and the old devices no longer work, nor does the used recovery
# key; a malformed key (exit 1) and a wrong one (exit 5). Two-factor login
# with codes from Debian's oathtool: turned on (2fa enable --json, 2fa
# confirm), a login without a code refused (mfa_required: no terminal),
# with --totp accepted, the same code replayed refused, a recovery code
# (BLINDSYNC_TOTP) good once, new codes, a recover that still needs the
# second factor, turned off; five wrong codes locking the codes, the next
# login refused at once (429, exit 2) rather than retried for minutes.
#
# TOTP codes are taken for a step not used before (the server refuses a
# replay) and never more than one step ahead of the clock (its drift
# window): a test that needs more waits for the clock's next step, at most
# 30 s, rather than depend on a fast clock.
load ../lib

setup_file() {
	bs_setup_stack 'rate_limits = {}'
	export PW='the old password, forgotten soon'
	export NEWPW='the new password after recovery'
	export PWFILE=$BATS_FILE_TMPDIR/pw
	printf '%s\n' "$PW" >"$PWFILE"
}
teardown_file() { bs_stop; }

# cli HOME ARGS...: the CLI with that home (under the file's tmpdir), the password file
# $PWF (default $PWFILE), and no terminal
cli() {
	local h=$1; shift
	run env BLINDSYNC_PASSWORD_FILE="${PWF:-$PWFILE}" setsid -w "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@" </dev/null
}
# out HOME ARGS...: the CLI's standard output only (stderr dropped), for values
out() {
	local h=$1; shift
	env BLINDSYNC_PASSWORD_FILE="${PWF:-$PWFILE}" setsid -w "$BIN/blindsync" --server "$BS_URL" \
		--home "$BATS_FILE_TMPDIR/$h" "$@" </dev/null 2>/dev/null
}

# next_code SECRET: a TOTP code of the step after the last one given (file
# $BATS_TEST_TMPDIR/step), at least one before now and at most one after
next_code() {
	local last now step
	last=$(cat "$BATS_TEST_TMPDIR/step" 2>/dev/null || echo -1)
	for _ in 1 2 3; do
		now=$(( $(date +%s) / 30 ))
		step=$(( last + 1 > now - 1 ? last + 1 : now - 1 ))
		[ "$step" -le $((now + 1)) ] && break
		sleep $(( (now + 1) * 30 - $(date +%s) + 1 ))
	done
	echo "$step" >"$BATS_TEST_TMPDIR/step"
	oathtool --totp -b -N "@$((step * 30))" "$1"
}

@test "recover: a new password with the recovery key; every old record decrypts; the old ways in are gone" {
	local u=r$RANDOM$RANDOM key
	cli a register "$u"
	assert_success
	cli a login "$u" --device old-laptop
	assert_success
	cli old-phone login "$u" --device old-phone
	assert_success
	for i in 1 2 3; do
		printf 'note %s\n' "$i" >"$BATS_TEST_TMPDIR/n$i"
		cli a put notes "n$i" "$BATS_TEST_TMPDIR/n$i"
		assert_success
	done
	printf 'buy milk' >"$BATS_TEST_TMPDIR/milk"
	cli a put todo milk "$BATS_TEST_TMPDIR/milk"
	assert_success
	cli a 2fa
	assert_success
	assert_output --partial 'recovery key: none'
	# a wrong password makes no key
	printf 'not the password\n' >"$BATS_TEST_TMPDIR/wrong"
	PWF=$BATS_TEST_TMPDIR/wrong cli a recovery-key
	assert_failure 5
	assert_output --partial invalid_credentials
	# the key, on stdout alone, once
	key=$(out a recovery-key)
	[[ $key =~ ^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$ ]]
	cli a 2fa
	assert_output --partial 'recovery key: set'

	# the password is forgotten: a new home recovers, the key typed in lower case with spaces
	printf '%s\n%s\n' "$(echo "$key" | tr 'A-Z-' 'a-z ')" "$NEWPW" >"$BATS_TEST_TMPDIR/rec"
	printf 'AAAA-not-a-key\n%s\n' "$NEWPW" >"$BATS_TEST_TMPDIR/bad"
	PWF=$BATS_TEST_TMPDIR/bad cli b recover "$u"
	assert_failure 1
	assert_output --partial 'not a recovery key'
	printf '%s\n%s\n' "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" "$NEWPW" >"$BATS_TEST_TMPDIR/other"
	PWF=$BATS_TEST_TMPDIR/other cli b recover "$u"
	assert_failure 5
	assert_output --partial invalid_credentials
	PWF=$BATS_TEST_TMPDIR/rec cli b recover "$u" --device new-laptop
	assert_success
	assert_output --partial 'new password set'
	for i in 1 2 3; do
		cli b get notes "n$i"
		assert_success
		assert_output "note $i"
	done
	cli b get todo milk
	assert_success
	assert_output 'buy milk'
	cli b devices
	assert_success
	assert_output --partial new-laptop
	refute_output --partial old-laptop
	refute_output --partial old-phone
	cli b 2fa
	assert_output --partial 'recovery key: none'

	# the old password, the old devices and the used key no longer work
	cli c login "$u"
	assert_failure 5
	assert_output --partial invalid_credentials
	cli a sync
	assert_failure 2
	cli old-phone get notes n1
	assert_failure 2
	PWF=$BATS_TEST_TMPDIR/rec cli d recover "$u"
	assert_failure 5
	assert_output --partial invalid_credentials
	# the new password works anywhere, and writes go on
	printf '%s\n' "$NEWPW" >"$BATS_TEST_TMPDIR/new"
	PWF=$BATS_TEST_TMPDIR/new cli e login "$u"
	assert_success
	printf 'after the reset' >"$BATS_TEST_TMPDIR/n4"
	cli b put notes n4 "$BATS_TEST_TMPDIR/n4"
	assert_success
	PWF=$BATS_TEST_TMPDIR/new cli e get notes n4
	assert_success
	assert_output 'after the reset'
}

@test "two-factor login with oathtool's codes: on, asked, replay refused, recovery codes once, off" {
	local u=t$RANDOM$RANDOM secret code c1 c2 key
	cli t register "$u"
	assert_success
	cli t login "$u"
	assert_success
	run bash -c 'env BLINDSYNC_PASSWORD_FILE="$1" setsid -w "$2" --server "$3" --home "$4" --json 2fa enable </dev/null' \
		_ "$PWFILE" "$BIN/blindsync" "$BS_URL" "$BATS_FILE_TMPDIR/t"
	assert_success
	secret=$(jq -r .secret <<<"$output")
	[[ $secret =~ ^[A-Z2-7]{32}$ ]]
	[[ $(jq -r .uri <<<"$output") == otpauth://totp/* ]]
	# not on until confirmed
	cli u login "$u"
	assert_success
	out t 2fa confirm "$(next_code "$secret")" >"$BATS_TEST_TMPDIR/codes"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/codes")" 10
	c1=$(sed -n 1p "$BATS_TEST_TMPDIR/codes")
	c2=$(sed -n 2p "$BATS_TEST_TMPDIR/codes")
	cli t 2fa
	assert_output --partial 'two-factor login: on'

	# no code and no terminal: refused, and said so
	cli v login "$u"
	assert_failure 2
	assert_output --partial mfa_required
	# the wrong password is still invalid_credentials, code or not
	printf 'not the password\n' >"$BATS_TEST_TMPDIR/wrong"
	PWF=$BATS_TEST_TMPDIR/wrong cli v login "$u" --totp 123456
	assert_failure 5
	assert_output --partial invalid_credentials
	code=$(next_code "$secret")
	cli v login "$u" --totp "$code"
	assert_success
	cli w login "$u" --totp "$code"
	assert_failure 2
	assert_output --partial invalid_mfa
	# a recovery code, from the environment, once
	BLINDSYNC_TOTP=$c1 cli w login "$u"
	assert_success
	BLINDSYNC_TOTP=$c1 cli x login "$u"
	assert_failure 2
	assert_output --partial invalid_mfa

	# a new set of codes: the old ones stop working
	out t 2fa codes --totp "$(next_code "$secret")" >"$BATS_TEST_TMPDIR/codes2"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/codes2")" 10
	cli x login "$u" --totp "$c2"
	assert_failure 2
	assert_output --partial invalid_mfa

	# a recover with the key still needs the second factor for its login
	key=$(out t recovery-key)
	printf '%s\n%s\n' "$key" "$NEWPW" >"$BATS_TEST_TMPDIR/rec"
	PWF=$BATS_TEST_TMPDIR/rec BLINDSYNC_TOTP=$(sed -n 1p "$BATS_TEST_TMPDIR/codes2") cli y recover "$u"
	assert_success
	cli y 2fa
	assert_output --partial 'two-factor login: on'

	printf '%s\n' "$NEWPW" >"$BATS_TEST_TMPDIR/new"
	PWF=$BATS_TEST_TMPDIR/new cli y 2fa disable --totp "$(next_code "$secret")"
	assert_success
	PWF=$BATS_TEST_TMPDIR/new cli z login "$u"
	assert_success
	cli z 2fa
	assert_output --partial 'two-factor login: off'
}

@test "five wrong codes lock the codes: the next login is refused at once (429, exit 2), not retried" {
	local u=l$RANDOM$RANDOM secret bad before
	cli l register "$u"
	assert_success
	cli l login "$u"
	assert_success
	secret=$(out l --json 2fa enable | jq -r .secret)
	out l 2fa confirm "$(next_code "$secret")" >/dev/null
	cli l 2fa
	assert_output --partial 'two-factor login: on'
	bad=$(for c in 000000 111111 222222 333333; do
		for d in -2 -1 0 1 2; do oathtool --totp -b -N "@$(( ($(date +%s) / 30 + d) * 30 ))" "$secret"; done |
			grep -qx "$c" || { echo "$c"; break; }
	done)
	for _ in 1 2 3 4 5; do
		cli m login "$u" --totp "$bad"
		assert_failure 2
		assert_output --partial invalid_mfa
	done
	# locked: even the right code is refused, with one request and no wait of the server's 15 minutes
	before=$(grep -c 'POST /v1/account/login' "$BS_RUN/access.log")
	cli m login "$u" --totp "$(next_code "$secret")"
	assert_failure 2
	assert_output --partial 429
	assert_equal "$(grep -c 'POST /v1/account/login' "$BS_RUN/access.log")" $((before + 1))
}
