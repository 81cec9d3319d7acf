#!/usr/bin/env bats
# JSON bodies under hostile clients, through the real nginx with the default
# limits (8 MiB bodies, 1000 records per push): repeated member names are
# refused on every JSON route; an 8 MiB body of tiny values is refused
# before json-c builds it, and the push workers' peak memory (VmHWM) stays
# within the bound of docs/ARCHITECTURE.md; a kdf round-trips byte-exact
# (register -> prelogin, export -> import); a garbage import is refused
# before it is stored.
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}'
}
teardown_file() { bs_stop; }

# ---- duplicate members ----

@test "a repeated member name is 400 invalid_json on every JSON route, and changes nothing" {
	new_token
	push_ok "$TOKEN" notes "$(rec a 0 "$(payload 3)")"
	v=$(acct_version "$TOKEN")

	# the record of the issue: {"id":"a","id":"b"} must not write b
	push "$TOKEN" notes "{\"id\":\"a\",\"id\":\"b\",\"base_version\":1,\"payload\":\"$(payload 4)\"}"
	assert_error 400 invalid_json
	[[ $(jb .error.message) == *"repeats a member name"* ]]
	# at the top level, nested, and with the name spelled with an escape
	ajreq POST /v1/collections/notes/push "$TOKEN" "{\"records\":[],\"records\":[$(rec b 0 "$(payload 4)")]}"
	assert_error 400 invalid_json
	ajreq POST /v1/collections/notes/push "$TOKEN" "{\"records\":[$(rec b 0 "$(payload 4)")],\"atomic\":true,\"\\u0061tomic\":false}"
	assert_error 400 invalid_json
	ajreq PUT /v1/collections/notes "$TOKEN" "{\"meta\":null,\"meta\":\"$(b64 x)\"}"
	assert_error 400 invalid_json
	assert_equal "$(acct_version "$TOKEN")" "$v"
	pull_ok "$TOKEN" notes
	assert_equal "$(jbc '[.records[] | .id]')" '["a"]'

	# unauthenticated routes too: nothing is registered
	u=$(new_username)
	jreq POST /v1/account/register "{\"username\":\"$u\",\"username\":\"x$u\",\"auth_key\":\"$(new_key)\",\"kdf\":$(kdf_json)}"
	assert_error 400 invalid_json
	jreq POST /v1/account/register "{\"username\":\"$u\",\"auth_key\":\"$(new_key)\",\"kdf\":{\"alg\":\"a\",\"alg\":\"b\"}}"
	assert_error 400 invalid_json
	assert_equal "$(sql "SELECT count(*) FROM accounts WHERE username IN ('$u', 'x$u')")" 0
	jreq POST /v1/account/prelogin "{\"username\":\"$u\",\"username\":\"$u\"}"
	assert_error 400 invalid_json

	# the same name in different objects is fine
	push_ok "$TOKEN" notes "$(rec b 0 "$(payload 4)"),$(rec c 0 "$(payload 4)")"
}

# ---- parse memory ----

# hwm_kb: the largest VmHWM (kB) among the push handler's processes
hwm_kb() {
	local p m max=0
	for p in $(pgrep -f -- "blindsync-push --listen $BS_RUN/push.sock"); do
		m=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
		[ -n "$m" ] && [ "$m" -gt "$max" ] && max=$m
	done
	echo "$max"
}

# body8 UNIT: {"records":[UNIT,UNIT,...]} of 8 MiB minus a few bytes
body8() {
	local unit=$1 n
	n=$(((8 * 1024 * 1024 - 64) / (${#unit} + 1)))
	{ printf '{"records":['; yes "$unit" | head -n "$n" | paste -sd, | tr -d '\n'; printf ']}'; } \
		>"$BATS_TEST_TMPDIR/big.json"
}

@test "an 8 MiB body of tiny values is 413 before it is parsed; the workers' peak stays within the bound" {
	new_token
	push_ok "$TOKEN" notes "$(rec a 0 "$(payload 3)")"
	before=$(hwm_kb)
	# behind mod_fcgid or as CGI, Apache starts the handlers, not run.sh
	[ "$before" -gt 0 ] || skip "no push handler started by run.sh on this front end ($(bs_front))"
	for unit in 0 '{}' '[]' '""' null '[0]'; do
		body8 "$unit"
		size=$(stat -c %s "$BATS_TEST_TMPDIR/big.json")
		[ "$size" -le $((8 * 1024 * 1024)) ] && [ "$size" -gt $((8 * 1024 * 1024 - 4096)) ]
		areq POST /v1/collections/notes/push "$TOKEN" -H 'Content-Type: application/json' \
			--data-binary @"$BATS_TEST_TMPDIR/big.json"
		assert_error 413 body_too_large
		[[ $(jb .error.message) == *"more than 9024 JSON values"* ]]
	done
	after=$(hwm_kb)
	# the bound of docs/ARCHITECTURE.md: 4 x the body + 1 KiB per value of
	# the cap (9024 values for max_push_records = 1000): 41 MiB over the
	# worker's peak before; json-c's tree of the same bodies took 228 MB
	grow=$(((after - before) / 1024))
	echo "push workers' VmHWM: $before kB -> $after kB (+$grow MiB)" >&3
	local limit=$((4 * 8 * 1024 + 9024))
	# under ASan freed memory waits in a quarantine instead of being reused:
	# the six refused bodies may all be there at once
	if grep -q __asan_init "$BIN/blindsync-push"; then limit=$((limit + 6 * 8 * 1024)); fi
	[ "$after" -le $((before + limit)) ] || fail "VmHWM grew by $grow MiB"
	# the worker lives on
	push_ok "$TOKEN" notes "$(rec b 0 "$(payload 3)")"
}

# ---- the kdf, verbatim ----

@test "a kdf round-trips byte-exact: register -> prelogin, export -> import; what an export cannot carry is 400" {
	# white space, member order, a huge integer, escapes (a pair, a BMP one,
	# an escaped slash), a fraction: json-c would rewrite every one of them
	local kdf='{ "salt":"AAAAAAAAAAAAAAAAAAAAAA==" ,"alg" : "pbkdf2-sha256","n":18446744073709551616,"s":"\ud83d\ude00\u00e9\/","f":-0.50e+1 , "x":[true,null,{}]}'
	u=$(new_username)
	k=$(new_key)
	jreq POST /v1/account/register "{\"username\":\"$u\",\"auth_key\":\"$k\",\"kdf\":$kdf}"
	assert_equal "$status" 201
	jreq POST /v1/account/prelogin "{\"username\":\"$u\"}"
	assert_equal "$status" 200
	assert_equal "$body" "{\"kdf\":$kdf}"
	login_ok "$u" "$k"
	a=$ACCESS

	# the export carries it as sent, and imports into another account
	areq GET /v1/account/export "$a"
	assert_equal "$status" 200
	printf '%s' "$body" >"$BATS_TEST_TMPDIR/export.json"
	grep -qF "\"kdf\":$kdf," "$BATS_TEST_TMPDIR/export.json" || fail "the export does not hold the kdf verbatim: $body"
	new_account
	areq POST /v1/account/import "$ACCESS" -H 'Content-Type: application/json' \
		--data-binary @"$BATS_TEST_TMPDIR/export.json"
	assert_equal "$status" 204

	# a password change keeps new_kdf verbatim too
	local kdf2='{"alg":"argon2id" , "m":65536,"salt":"\u0041QID"}'
	k2=$(new_key)
	ajreq POST /v1/account/password "$a" "{\"auth_key\":\"$k\",\"new_auth_key\":\"$k2\",\"new_kdf\":$kdf2}"
	assert_equal "$status" 204
	jreq POST /v1/account/prelogin "{\"username\":\"$u\"}"
	assert_equal "$body" "{\"kdf\":$kdf2}"

	# refused: what an import would not read back; nothing registered
	for bad in '{"e":"\u0000"}' '{"s":"\ud800"}' '{"s":"\udc00\ud800"}' \
		"{\"n\":1$(printf '0%.0s' $(seq 1 300))}" '"pbkdf2"' '[1]'; do
		u=$(new_username)
		jreq POST /v1/account/register "{\"username\":\"$u\",\"auth_key\":\"$(new_key)\",\"kdf\":$bad}"
		assert_error 400 invalid_request
		[[ $(jb .error.message) == *kdf* ]] || fail "message: $(jb .error.message)"
		assert_equal "$(sql "SELECT count(*) FROM accounts WHERE username = '$u'")" 0
	done
}

# ---- import: checked while it streams ----

# io_kb FIELD: FIELD (rchar or wchar) of /proc/PID/io summed over the
# account handler's processes, in KiB
io_kb() {
	local p v sum=0
	for p in $(pgrep -f -- "blindsync-account --listen $BS_RUN/account.sock"); do
		v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$p/io" 2>/dev/null) || continue
		[ -n "$v" ] && sum=$((sum + v / 1024))
	done
	echo "$sum"
}

@test "a garbage import of 50 MiB is refused at its first bytes: the handler reads and stages little of it" {
	new_token
	local f=$BATS_TEST_TMPDIR/garbage.json n=$((50 * 1024 * 1024))
	for start in 'x' '[' '{"format":"blindsync-export-1","colour":"'; do
		{ printf '%s' "$start"; head -c $((n - ${#start})) /dev/zero | tr '\0' 'x'; } >"$f"
		r0=$(io_kb rchar)
		w0=$(io_kb wchar)
		[ "$r0" -gt 0 ] || skip "no account handler started by run.sh on this front end ($(bs_front))"
		areq POST /v1/account/import "$TOKEN" -H 'Content-Type: application/json' --data-binary @"$f"
		r1=$(io_kb rchar)
		w1=$(io_kb wchar)
		echo "import of '$start...': $status; account handlers read $((r1 - r0)) KiB, wrote $((w1 - w0)) KiB" >&3
		case $start in
		x) assert_error 400 invalid_json ;;
		*) assert_error 400 invalid_request ;;
		esac
		[[ $(jb .error.message) == *"nothing was imported"* || $start != x ]]
		# before: the whole 50 MiB staged (written), then read back
		[ $((r1 - r0)) -lt 4096 ] || fail "the handler read $((r1 - r0)) KiB of a 50 MiB garbage body"
		[ $((w1 - w0)) -lt 4096 ] || fail "the handler staged $((w1 - w0)) KiB of a 50 MiB garbage body"
	done
	# nothing was imported, and a real import still works
	areq GET /v1/collections "$TOKEN"
	assert_equal "$(jbc .collections)" '[]'
	printf '{"format":"blindsync-export-1","collections":[{"name":"notes","version":1,"records":[%s]}]}' \
		'{"id":"a","version":1,"modified_at":"2026-01-01T00:00:00Z","deleted":false,"payload":"QUFBQQ==","history":[]}' >"$f"
	areq POST /v1/account/import "$TOKEN" -H 'Content-Type: application/json' --data-binary @"$f"
	assert_equal "$status" 204 || fail "$body"
	pull_ok "$TOKEN" notes
	assert_equal "$(jbc '[.records[] | .id]')" '["a"]'
}
