#!/usr/bin/env bats
# No secret reaches the disk: after a session of several accounts (register,
# login, refresh and its reuse, password change, logout, deletion, plus
# failing requests that carry keys) and one of the second factor (TOTP
# secrets, recovery codes, recovery_auth, reset tokens), no auth_key, token,
# invite code or second-factor secret is in the store files or in any log, in any of the forms it was sent in or
# could be written as (text, JSON-escaped, URL-encoded, raw bytes, hex).
# The handlers log at debug level here, so debug lines are checked too.
load ../lib
load account_helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	bs_setup_stack 'rate_limits = {}' 'log = { level = "debug" }'
	export SECRETS=$BATS_FILE_TMPDIR/secrets.txt
	: >"$SECRETS"
}
teardown_file() { bs_stop; }

# keep KIND VALUE: remember a secret (KIND: key = base64 of raw bytes,
# token = base64url of raw bytes, code = text, b32 = base32 of raw bytes (a
# TOTP secret), rcode = a recovery code xxxx-xxxx-xxxx (60 random bits: its
# forms of 12 characters and more are looked for))
keep() { printf '%s %s\n' "$1" "$2" >>"$SECRETS"; }
keep_tokens() { keep token "$ACCESS"; keep token "$REFRESH"; }

# password TOKEN JSON
password() { ajreq POST /v1/account/password "$1" "$2"; }

# scan FILE...: print every remembered secret found in the files, in any
# form; exit status 1 if any is found
scan() {
	python3 - "$SECRETS" "$@" <<'EOF'
import base64, binascii, sys, urllib.parse

def forms(kind, value):
    out = {"text": value.encode()}
    if "/" in value:
        out["json-escaped"] = value.replace("/", "\\/").encode()
    q = urllib.parse.quote(value, safe="")
    if q != value:
        out["url-encoded"] = q.encode()
    raw = None
    if kind == "rcode":
        bare = value.replace("-", "")
        out.update({"bare": bare.encode(), "upper": value.upper().encode(), "BARE": bare.upper().encode()})
    if kind == "b32":
        raw = base64.b32decode(value)
        out["lower"] = value.lower().encode()
    if kind == "key":
        raw = base64.b64decode(value, validate=True)
    elif kind == "token":
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        out["std-base64"] = base64.b64encode(raw)
    if raw is not None:
        out["raw"] = raw
        out["hex"] = binascii.hexlify(raw)
        out["HEX"] = binascii.hexlify(raw).upper()
    least = 12 if kind == "rcode" else 16
    return {k: v for k, v in out.items() if len(v) >= least}

secrets = []
for line in open(sys.argv[1]):
    kind, value = line.split()
    secrets.append((kind, value, forms(kind, value)))
found = 0
for path in sys.argv[2:]:
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        # PostgreSQL removes transient files (pg_internal.init, temp files)
        # between the listing and the read: what is gone holds nothing
        continue
    for i, (kind, value, fs) in enumerate(secrets):
        for name, pat in fs.items():
            if pat in data:
                print(f"{path}: {kind} #{i + 1} ({value[:6]}...) as {name}")
                found += 1
sys.exit(1 if found else 0)
EOF
}

@test "a session of several accounts, with failures that carry secrets" {
	for n in 1 2 3; do
		u=$(new_username)
		k=$(new_key)
		keep key "$k"
		register_ok "$u" "$k" "{\"keyring\": \"$(b64_random 64)\"}"
		login_ok "$u" "$k"
		keep_tokens
		a0=$ACCESS r0=$REFRESH
		login_ok "$u" "$k"
		keep_tokens
		refresh "$r0"
		assert_equal "$status" 200
		keep token "$(jb .access_token)"
		keep token "$(jb .refresh_token)"
		refresh "$r0" # reused: revokes device 1
		assert_401 token_reused
		k2=$(new_key)
		keep key "$k2"
		password "$ACCESS" "$(jq -cn --arg k "$k" --arg n "$k2" --argjson kdf "$(kdf_json)" \
			--argjson r "$([ $n = 2 ] && echo true || echo false)" \
			'{auth_key: $k, new_auth_key: $n, new_kdf: $kdf, revoke_other_devices: $r}')"
		assert_equal "$status" 204
		login_ok "$u" "$k2"
		keep_tokens
		areq POST /v1/account/logout "$ACCESS"
		assert_equal "$status" 204
		login_ok "$u" "$k2"
		keep_tokens
		a=$ACCESS
		# failures that carry secrets
		bad=$(new_key)
		keep key "$bad"
		login "$u" "$bad"
		assert_401 invalid_credentials
		bad=$(new_key)
		keep key "$bad"
		password "$a" "$(jq -cn --arg k "$bad" --arg n "$(new_key)" --argjson kdf "$(kdf_json)" \
			'{auth_key: $k, new_auth_key: $n, new_kdf: $kdf}')"
		assert_401 invalid_credentials
		keep key "$(jq -r .new_auth_key "$BATS_TEST_TMPDIR/req.json")"
		bad=$(new_key)
		keep key "$bad"
		ajreq DELETE /v1/account "$a" "{\"auth_key\": \"$bad\"}"
		assert_401 invalid_credentials
		bad=$(new_key)
		keep key "$bad"
		register "$(new_username)" "$bad" '{"colour": "blue"}'
		assert_err 400 invalid_request
		bad=$(new_key)
		keep key "$bad"
		req POST /v1/account/login -H 'Content-Type: text/plain' --data-binary "{\"username\": \"$u\", \"auth_key\": \"$bad\"}"
		assert_err 415 unsupported_media_type
		bad=$(new_key)
		keep key "$bad"
		jreq POST /v1/account/login "{\"username\": \"$u\", \"auth_key\": \"$bad\""
		assert_err 400 invalid_json
		fake=$(b64_random 32 | tr '+/' '-_' | tr -d =)
		keep token "$fake"
		token_fails "$fake"
		fake=$(b64_random 32 | tr '+/' '-_' | tr -d =)
		keep token "$fake"
		refresh "$fake"
		assert_401 unauthorized
		if [ $n = 3 ]; then
			ajreq DELETE /v1/account "$a" "{\"auth_key\": \"$k2\"}"
			assert_equal "$status" 204
		fi
	done
	if [ -x "$BIN/blindsync-admin" ]; then
		code=$(BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-admin" invite create)
		[ -n "$code" ]
		keep code "$code"
	fi
	[ "$(wc -l <"$SECRETS")" -ge 60 ]
}

@test "a session of the second factor: TOTP, recovery codes, a recovery key and a reset" {
	for n in 1 2; do
		new_account
		keep key "$KEY"
		keep_tokens
		ajreq POST /v1/account/mfa/totp "$ACCESS" "{\"auth_key\":\"$KEY\"}"
		assert_equal "$status" 200
		secret=$(jb .secret)
		keep b32 "$secret"
		code=$(oathtool --totp -b "$secret")
		ajreq POST /v1/account/mfa/totp/confirm "$ACCESS" "{\"code\":\"$code\"}"
		assert_equal "$status" 200
		mapfile -t codes < <(jb '.recovery_codes[]')
		for c in "${codes[@]}"; do keep rcode "$c"; done
		login "$USERNAME" "$KEY" "{\"recovery_code\":\"${codes[0]}\"}"
		assert_equal "$status" 200
		keep token "$(jb .access_token)"
		keep token "$(jb .refresh_token)"
		# a wrong recovery code and a renewal with the phone's next code
		bad=$(head -c 12 /dev/urandom | base32 | tr -d = | tr 'A-Z' 'a-z' | cut -c1-12)
		keep rcode "${bad:0:4}-${bad:4:4}-${bad:8:4}"
		login "$USERNAME" "$KEY" "{\"recovery_code\":\"${bad:0:4}-${bad:4:4}-${bad:8:4}\"}"
		assert_401 invalid_mfa
		ajreq POST /v1/account/mfa/recovery-codes "$ACCESS" \
			"{\"auth_key\":\"$KEY\",\"code\":\"$(oathtool --totp -b "$secret" --now "@$(($(date +%s) + 30))")\"}"
		assert_equal "$status" 200
		mapfile -t codes < <(jb '.recovery_codes[]')
		for c in "${codes[@]}"; do keep rcode "$c"; done
		# the recovery key, a wrong one, and a reset
		ra=$(new_key)
		keep key "$ra"
		ajreq PUT /v1/account/recovery "$ACCESS" "{\"auth_key\":\"$KEY\",\"recovery_auth\":\"$ra\",\"blob\":\"$(b64_random 80)\"}"
		assert_equal "$status" 204
		bad=$(new_key)
		keep key "$bad"
		jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$bad\"}"
		assert_401 invalid_credentials
		[ $n = 2 ] && continue # keep one recovery key in the store
		jreq POST /v1/account/recover "{\"username\":\"$USERNAME\",\"recovery_auth\":\"$ra\"}"
		assert_equal "$status" 200
		reset=$(jb .reset_token)
		keep token "$reset"
		nk=$(new_key)
		keep key "$nk"
		jreq POST /v1/account/recover/complete "$(jq -cn --arg t "$reset" --arg k "$nk" --argjson kdf "$(kdf_json)" \
			'{reset_token: $t, new_auth_key: $k, new_kdf: $kdf, new_keyring: "AAAA"}')"
		assert_equal "$status" 204
	done
	# the session reached the store
	[ "$(sql 'SELECT count(*) FROM account_mfa WHERE totp_on = 1')" -eq 2 ]
	[ "$(sql 'SELECT count(*) FROM recovery_codes')" -ge 10 ]
	[ "$(sql 'SELECT count(*) FROM recovery_keys')" -eq 1 ]
}

@test "the scanner finds a secret in every form it looks for" {
	[ -s "$SECRETS" ] || fail "no secrets recorded (the session test failed?)"
	key=$(awk '$1 == "key" { print $2; exit }' "$SECRETS")
	tok=$(awk '$1 == "token" { print $2; exit }' "$SECRETS")
	f=$BATS_TEST_TMPDIR/control
	for form in "$key" "${key//\//\\/}" "$(printf '%s' "$key" | base64 -d | od -An -tx1 | tr -d ' \n')" "$tok"; do
		printf 'noise %s noise' "$form" >"$f"
		run scan "$f"
		assert_failure
	done
	{ printf 'noise '; printf '%s' "$key" | base64 -d; printf ' noise'; } >"$f"
	run scan "$f"
	assert_failure
	# the second factor's: a TOTP secret raw, a recovery code without its dashes
	b32=$(awk '$1 == "b32" { print $2; exit }' "$SECRETS")
	rc=$(awk '$1 == "rcode" { print $2; exit }' "$SECRETS")
	[ -n "$b32" ] && [ -n "$rc" ] || fail "no TOTP secret or recovery code recorded"
	{ printf 'noise '; printf '%s' "$b32" | base32 -d; printf ' noise'; } >"$f"
	run scan "$f"
	assert_failure
	printf 'noise %s noise' "${rc//-/}" >"$f"
	run scan "$f"
	assert_failure
	printf 'noise %s noise' "$b32" >"$f"
	run scan "$f"
	assert_failure
	printf 'nothing secret here\n' >"$f"
	run scan "$f"
	assert_success
}

@test "no auth_key, token, invite code or second-factor secret is in the store" {
	[ -s "$SECRETS" ] || fail "no secrets recorded (the session test failed?)"
	# the session reached the store
	[ "$(sql 'SELECT count(*) FROM accounts')" -ge 2 ]
	[ "$(sql 'SELECT count(*) FROM tokens')" -ge 2 ]
	mapfile -t files < <(bs_store_files)
	[ "${#files[@]}" -ge 1 ] || fail "no store files"
	# the positive control: the files scanned hold what the store holds (a
	# user name, kept as text)
	u=$(sql 'SELECT username FROM accounts ORDER BY id DESC LIMIT 1')
	[ -n "$u" ]
	grep -q -s -a -F -- "$u" "${files[@]}" || fail "the store files scanned do not hold the store's user name $u"
	run scan "${files[@]}"
	assert_success
}

@test "no auth_key, token, invite code or second-factor secret is in any log" {
	[ -s "$SECRETS" ] || fail "no secrets recorded (the session test failed?)"
	# the handlers logged the session
	[ "$(grep -c 'req=' "$BS_LOG")" -ge 50 ]
	files=("$BS_LOG" "$BATS_FILE_TMPDIR/run.log")
	for f in "$BS_RUN"/*.log; do [ -f "$f" ] && files+=("$f"); done
	run scan "${files[@]}"
	assert_success
}
