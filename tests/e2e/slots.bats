#!/usr/bin/env bats
# Anonymous slots (api.md §7) through the real nginx: create, the slot key
# (fixed by the first PUT, kept only as its SHA-256), overwrite with
# If-Match, sizes, GET/HEAD/304, DELETE, ids, concurrent writers, a cut
# upload, the lazy accessed_at, and the slots.create rate limit (in a second
# stack of its own, started by that test). "Off by default" is checked in
# backups.bats, whose config leaves slots off.
#
# Config: slots on, max_bytes 1 MiB; the default plan's backup_bytes (2 MiB)
# makes the nginx limit of the location 2 MiB; slots.create is limited, but
# far above what this file does.
load ../lib
load account_helpers
load blob_helpers

setup_file() {
	bs_setup_stack \
		'rate_limits = { { route = "slots.create", per = "ip", limit = 100000, window = 3600 } }' \
		'slots = { enabled = true, max_bytes = 1 * MiB }'
}
teardown_file() { bs_stop; }

# the rate-limit test starts a second stack in its own directory
teardown() {
	if [ -n "${STACK2:-}" ]; then
		BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
	fi
}

# ---- helpers ----

# new_id: a fresh slot id (64 lowercase hex)
new_id() { head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1; }

# sput ID KEY FILE [curl args...]: PUT FILE into slot ID with X-Slot-Key KEY
sput() {
	local id=$1 k=$2 f=$3
	shift 3
	req PUT "/v1/slots/$id" -H "X-Slot-Key: $k" --data-binary @"$f" "$@"
}

# sput_ok ID KEY FILE STATUS [curl args...]: sput, expecting STATUS, with the
# answer checked (assert_put); sets V (and LAST)
sput_ok() {
	local id=$1 k=$2 f=$3 st=$4
	shift 4
	sput "$id" "$k" "$f" "$@"
	assert_put "PUT slot" "$f" "$st" id "$id"
}

# assert_slot ID FILE VERSION: GET (no key needed) answers FILE byte-exact
assert_slot() { assert_download "GET slot" "/v1/slots/$1" "$2" "$3"; }

# slot_row ID COLUMNS: the slot's row in the store
slot_row() { sql "SELECT $2 FROM slots WHERE slot_id = '$1'"; }
# last_access ID: the later of the last write (slots) and the last read (slot_access)
last_access() {
	sql "SELECT CASE WHEN s.accessed_at > coalesce(a.accessed_at, 0) THEN s.accessed_at ELSE a.accessed_at END FROM slots s
	     LEFT JOIN slot_access a ON a.slot = s.rowid_ WHERE s.slot_id = '$1'"
}
# backdate ID SECONDS: move both the last write and the last read back
backdate() {
	sql "UPDATE slots SET accessed_at = accessed_at - $2 WHERE slot_id = '$1'"
	sql "UPDATE slot_access SET accessed_at = accessed_at - $2
	     WHERE slot = (SELECT rowid_ FROM slots WHERE slot_id = '$1')"
}

# key_sha KEY: SHA-256 (hex) of the raw bytes of a base64 key
key_sha() { base64 -d <<<"$1" | sha256sum | cut -d' ' -f1; }

# ---- create ----

@test "/v1/info says slots: true when the config enables them" {
	req GET /v1/info
	assert_equal "$status" 200
	assert_equal "$(jb .slots)" true
}

@test "the first PUT creates the slot: 201, ETag \"<version>\", X-Content-SHA256, {id, version, bytes}; no account needed" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 1000)
	sput_ok "$id" "$k" "$f" 201
	assert_equal "$(slot_row "$id" "version, bytes, lower($(bs_hex sha256))")" "$V|1000|$(sha "$f")"
	assert_slot "$id" "$f" "$V"
}

@test "slot keys are never stored in clear: the store keeps only SHA-256 of the key, and no file or log holds the key" {
	id=$(new_id)
	id2=$(new_id)
	# 48 raw bytes, so that base64 has no padding and is easy to find
	raw=$BATS_TEST_TMPDIR/raw.key
	head -c 48 /dev/urandom >"$raw"
	k=$(base64 -w0 "$raw")
	sput_ok "$id" "$k" "$(blob 100)" 201
	sput_ok "$id" "$k" "$(blob 100)" 200 -H "If-Match: \"$V\""
	v=$V
	sput_ok "$id2" "$k" "$(blob 100)" 201
	req DELETE "/v1/slots/$id2" -H "X-Slot-Key: $k"
	assert_empty_204
	sput "$id" "$(new_key)" "$(blob 100)" -H "If-Match: \"$v\""
	assert_err 403 bad_slot_key
	assert_equal "$(slot_row "$id" "lower($(bs_hex key_hash))")" "$(sha256sum "$raw" | cut -d' ' -f1)"
	assert_equal "$(slot_row "$id" 'length(key_hash)')" 32
	# look for the raw key, its base64 and its hex in every file the stack
	# wrote: the store (db, WAL, shm; on PostgreSQL the database's files and
	# the WAL), the handlers' and nginx's logs
	mapfile -t files < <(bs_store_files)
	run python3 - "$raw" "$k" "$BS_DATA" "$BS_RUN" "$BS_LOG" "$BATS_FILE_TMPDIR/run.log" "${files[@]}" <<-'EOF'
		import os, sys
		raw = open(sys.argv[1], "rb").read()
		needles = {"raw": raw, "base64": sys.argv[2].encode(), "hex": raw.hex().encode(),
		           "HEX": raw.hex().upper().encode(), "raw half": raw[:24], "base64 half": sys.argv[2][:32].encode()}
		files = []
		for p in sys.argv[3:]:
		    if os.path.isdir(p):
		        for d, _, fs in os.walk(p):
		            files += [os.path.join(d, f) for f in fs]
		    elif os.path.exists(p):
		        files.append(p)
		checked = 0
		for f in files:
		    try:
		        data = open(f, "rb").read()
		    except OSError:
		        continue
		    checked += 1
		    for what, n in needles.items():
		        if n in data:
		            print("FOUND %s of the key in %s" % (what, f))
		print("checked %d files" % checked)
	EOF
	echo "$output"
	refute_output --partial FOUND
	assert_output --regexp 'checked [1-9]'
	[ "${#files[@]}" -ge 1 ]
}

@test "byte-exact round trips at 32 B, 1 KiB and the 1 MiB maximum (slots.max_bytes)" {
	id=$(new_id)
	k=$(new_key)
	v=
	for n in 32 1024 1048576; do
		f=$(blob $n)
		if [ -z "$v" ]; then
			sput_ok "$id" "$k" "$f" 201
		else
			sput_ok "$id" "$k" "$f" 200 -H "If-Match: \"$v\""
		fi
		v=$V
		assert_slot "$id" "$f" "$v"
	done
	assert_equal "$(slot_row "$id" 'count(*)')" 1
}

@test "31 bytes (under the default plan's min_backup_bytes) is 400 too_small and changes nothing" {
	id=$(new_id)
	k=$(new_key)
	sput "$id" "$k" "$(blob 31)"
	assert_err 400 too_small
	assert_equal "$(slot_row "$id" 'count(*)')" 0
	f=$(blob 32)
	sput_ok "$id" "$k" "$f" 201
	sput "$id" "$k" "$(blob 31)" -H "If-Match: \"$V\""
	assert_err 400 too_small
	req PUT "/v1/slots/$id" -H "X-Slot-Key: $k" -H "If-Match: \"$V\"" --data-binary ''
	assert_err 400 too_small
	assert_slot "$id" "$f" "$V"
}

@test "over slots.max_bytes is 413 from the handler; over the location limit nginx answers 413 in the same format" {
	id=$(new_id)
	k=$(new_key)
	sput "$id" "$k" "$(blob $((1048576 + 1)))"
	assert_err 413 body_too_large
	assert_regex "$(jb .error.message)" 'at most 1048576'
	sput "$id" "$k" "$(blob $((2 * 1048576 + 1)))"
	assert_err 413 body_too_large
	assert_regex "$(jb .error.message)" 'larger than 2097152'
	assert_equal "$(slot_row "$id" 'count(*)')" 0
}

@test "no Content-Length is 411 length_required" {
	id=$(new_id)
	if ! bs_front_supports length-required; then
		# mod_fcgid buffers the body and passes its length: no body is an
		# empty one (400), a chunked one is stored (docs/DEPLOY-apache.md)
		req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)"
		assert_equal "$status" 400
		assert_equal "$(slot_row "$id" 'count(*)')" 0
		req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)" -H 'Transfer-Encoding: chunked' --data-binary @"$(blob 1048576)"
		assert_equal "$status" 201
		assert_equal "$(slot_row "$id" 'count(*)')" 1
		return
	fi
	if [ "$(bs_front)" = cgi ]; then
		# mod_cgid passes no length for a chunked body: the handler answers
		# 411 and reads the body to its end before exiting (else the socket
		# reset loses the answer). Nothing is stored.
		req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)"
		assert_err 411 length_required
		req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)" -H 'Transfer-Encoding: chunked' --data-binary @"$(blob 1048576)" || true
		[[ $status == 411 ]] || fail "chunked PUT: $status"
		assert_equal "$(slot_row "$id" 'count(*)')" 0
		return
	fi
	req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)"
	assert_err 411 length_required
	req PUT "/v1/slots/$id" -H "X-Slot-Key: $(new_key)" -H 'Transfer-Encoding: chunked' --data-binary @"$(blob 1048576)"
	assert_err 411 length_required
	assert_equal "$(slot_row "$id" 'count(*)')" 0
}

# ---- the key ----

@test "a missing X-Slot-Key is 403 bad_slot_key; a malformed one is 400 invalid_request" {
	id=$(new_id)
	f=$(blob 100)
	req PUT "/v1/slots/$id" --data-binary @"$f"
	assert_err 403 bad_slot_key
	k31=$(head -c 31 /dev/urandom | base64 -w0)
	k65=$(head -c 65 /dev/urandom | base64 -w0)
	nopad=$(head -c 32 /dev/urandom | base64 -w0 | tr -d =)
	url=$(printf '\xfb\xff\xbf%.0s' $(seq 1 11) | base64 -w0 | tr '+/' '-_')
	for k in "$k31" "$k65" "$nopad" "$url" 'not base64 at all!' "$(new_key)x" \
		"$(printf 'A%.0s' $(seq 1 200))"; do
		sput "$id" "$k" "$f"
		assert_err 400 invalid_request
		assert_regex "$(jb .error.message)" 'X-Slot-Key'
	done
	# an empty header
	req PUT "/v1/slots/$id" -H 'X-Slot-Key;' --data-binary @"$f"
	assert_err 400 invalid_request
	assert_equal "$(slot_row "$id" 'count(*)')" 0
}

@test "keys of 32 and 64 bytes are accepted" {
	for n in 32 64; do
		id=$(new_id)
		k=$(head -c $n /dev/urandom | base64 -w0)
		f=$(blob 100)
		sput_ok "$id" "$k" "$f" 201
		assert_equal "$(slot_row "$id" "lower($(bs_hex key_hash))")" "$(key_sha "$k")"
		req DELETE "/v1/slots/$id" -H "X-Slot-Key: $k"
		assert_empty_204
	done
}

@test "the first PUT fixes the key: a later PUT with another key is 403 bad_slot_key, whatever its If-Match" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 100)
	sput_ok "$id" "$k" "$f" 201
	for im in "\"$V\"" "\"$((V + 6))\"" '*' ''; do
		if [ -n "$im" ]; then
			sput "$id" "$(new_key)" "$(blob 100)" -H "If-Match: $im"
		else
			sput "$id" "$(new_key)" "$(blob 100)"
		fi
		assert_err 403 bad_slot_key
	done
	sput "$id" "$(new_key)" "$(blob 100)" -H 'If-None-Match: *'
	assert_err 403 bad_slot_key
	# the same key bytes in a longer key are another key
	long=$( (base64 -d <<<"$k"; printf '\0') | base64 -w0)
	sput "$id" "$long" "$(blob 100)" -H "If-Match: \"$V\""
	assert_err 403 bad_slot_key
	req PUT "/v1/slots/$id" -H "If-Match: \"$V\"" --data-binary @"$f"
	assert_err 403 bad_slot_key
	assert_slot "$id" "$f" "$V"
	assert_equal "$(slot_row "$id" "lower($(bs_hex key_hash))")" "$(key_sha "$k")"
}

# ---- overwrite ----

@test "overwrite with the key: 428 without If-Match, 412 stale, 412 If-None-Match: *, 200 with the current version" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 100)
	sput_ok "$id" "$k" "$f" 201
	v1=$V
	sput "$id" "$k" "$(blob 100)"
	assert_err 428 precondition_required
	assert_equal "$(jb .current_version)" "$v1"
	sput "$id" "$k" "$(blob 100)" -H 'If-None-Match: *'
	assert_err 412 precondition_failed
	assert_equal "$(jb .current_version)" "$v1"
	sput "$id" "$k" "$(blob 100)" -H "If-Match: \"$((v1 + 1))\""
	assert_err 412 precondition_failed
	assert_equal "$(jb .current_version)" "$v1"
	assert_slot "$id" "$f" "$v1"
	g=$(blob 200)
	sput_ok "$id" "$k" "$g" 200 -H "If-Match: \"$v1\""
	v2=$V
	assert_slot "$id" "$g" "$v2"
	sput "$id" "$k" "$(blob 100)" -H "If-Match: \"$v1\""
	assert_err 412 precondition_failed
	assert_equal "$(jb .current_version)" "$v2"
	h=$(blob 300)
	sput_ok "$id" "$k" "$h" 200 -H 'If-Match: *'
	assert_slot "$id" "$h" "$V"
	assert_equal "$(slot_row "$id" 'version, bytes')" "$V|300"
}

@test "If-Match on a slot that does not exist is 412 (current_version 0); If-None-Match: * creates; a bad If-Match is 400" {
	id=$(new_id)
	k=$(new_key)
	sput "$id" "$k" "$(blob 100)" -H 'If-Match: "1"'
	assert_err 412 precondition_failed
	assert_equal "$(jb .current_version)" 0
	sput "$id" "$k" "$(blob 100)" -H 'If-Match: *'
	assert_err 412 precondition_failed
	sput "$id" "$k" "$(blob 100)" -H 'If-Match: 1'
	assert_err 400 invalid_request
	assert_equal "$(slot_row "$id" 'count(*)')" 0
	f=$(blob 100)
	sput_ok "$id" "$k" "$f" 201 -H 'If-None-Match: *'
	assert_slot "$id" "$f" "$V"
}

# ---- GET, HEAD ----

@test "GET needs no key: 200 with ETag and X-Content-SHA256; If-None-Match matching is 304; unknown is 404" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 5000)
	sput_ok "$id" "$k" "$f" 201
	assert_slot "$id" "$f" "$V"
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out" -H "If-None-Match: \"$V\""
	assert_equal "$status" 304
	[ ! -s "$BATS_TEST_TMPDIR/out" ] || fail "304 with a body"
	assert_equal "$(header ETag)" "\"$V\""
	assert_equal "$(header X-Content-SHA256)" "$(sha "$f")"
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out" -H "If-None-Match: \"$((V + 1))\", W/\"$V\""
	assert_equal "$status" 304
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out" -H "If-None-Match: \"$((V + 1))\""
	assert_equal "$status" 200
	cmp "$f" "$BATS_TEST_TMPDIR/out"
	# a key (even a wrong one) does not matter to GET
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out" -H "X-Slot-Key: $(new_key)"
	assert_equal "$status" 200
	req GET "/v1/slots/$(new_id)"
	assert_err 404 not_found
}

@test "HEAD answers GET's headers without a body; 304 and 404 the same" {
	id=$(new_id)
	f=$(blob 3000)
	sput_ok "$id" "$(new_key)" "$f" 201
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out"
	get_headers=$(grep -viE '^(date|x-request-id|connection):' <<<"$headers")
	head_req "/v1/slots/$id"
	assert_equal "$status" 200
	assert_equal "$extra" 0
	assert_equal "$(grep -viE '^(date|x-request-id|connection):' <<<"$headers")" "$get_headers"
	assert_equal "$(header Content-Length)" 3000
	head_req "/v1/slots/$id" "If-None-Match: \"$V\""
	assert_equal "$status" 304
	assert_equal "$extra" 0
	head_req "/v1/slots/$(new_id)"
	assert_equal "$status" 404
	assert_equal "$extra" 0
}

@test "GET records the last access lazily: not again within a day, but after a day" {
	id=$(new_id)
	sput_ok "$id" "$(new_key)" "$(blob 100)" 201
	t=$(last_access "$id")
	now=$(date +%s)
	[ $((now - t)) -lt 600 ] || fail "accessed_at $t is not now"
	# an access an hour ago: a GET leaves it
	backdate "$id" 3600
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 200
	assert_equal "$(last_access "$id")" $((t - 3600))
	# two days ago: a GET moves it to now
	backdate "$id" $((2 * 86400))
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 200
	[ $(($(last_access "$id") - now)) -ge 0 ] || fail "accessed_at not moved to now"
	# recorded beside the slot: the slot's own row (and its data) was not rewritten
	[ "$(slot_row "$id" accessed_at)" -lt "$now" ]
}

# ---- DELETE ----

@test "DELETE needs the key: 403 without or with another key (the slot stays), 204 with it, then 404" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 100)
	sput_ok "$id" "$k" "$f" 201
	old=$V
	req DELETE "/v1/slots/$id"
	assert_err 403 bad_slot_key
	req DELETE "/v1/slots/$id" -H "X-Slot-Key: $(new_key)"
	assert_err 403 bad_slot_key
	req DELETE "/v1/slots/$id" -H 'X-Slot-Key: %%%'
	assert_err 400 invalid_request
	assert_slot "$id" "$f" "$old"
	req DELETE "/v1/slots/$id" -H "X-Slot-Key: $k"
	assert_empty_204
	assert_equal "$(slot_row "$id" 'count(*)')" 0
	req GET "/v1/slots/$id"
	assert_err 404 not_found
	req DELETE "/v1/slots/$id" -H "X-Slot-Key: $k"
	assert_err 404 not_found
	# the id is free again, for any key; the new slot's version is greater
	# than the deleted one's (sput_ok checks it), so its old ETag matches nothing
	g=$(blob 64)
	k2=$(new_key)
	sput_ok "$id" "$k2" "$g" 201
	[ "$V" -gt "$old" ] || fail "re-created with version $V, not greater than the deleted $old"
	assert_slot "$id" "$g" "$V"
	assert_equal "$(slot_row "$id" "lower($(bs_hex key_hash))")" "$(key_sha "$k2")"
	fetch "/v1/slots/$id" "$BATS_TEST_TMPDIR/out" -H "If-None-Match: \"$old\""
	assert_equal "$status" 200
	sput "$id" "$k2" "$(blob 64)" -H "If-Match: \"$old\""
	assert_err 412 precondition_failed
	assert_equal "$(jb .current_version)" "$V"
	assert_slot "$id" "$g" "$V"
}

# ---- ids, methods ----

@test "an id that is not 64 lowercase hex is 404 not_found on PUT, GET and DELETE" {
	k=$(new_key)
	f=$(blob 100)
	good=$(new_id)
	for id in "${good^^}" "${good:0:63}" "${good}0" "g${good:1}" "${good:0:32}-${good:33}" "x"; do
		sput "$id" "$k" "$f"
		assert_err 404 not_found
		req GET "/v1/slots/$id"
		assert_err 404 not_found
		req DELETE "/v1/slots/$id" -H "X-Slot-Key: $k"
		assert_err 404 not_found
	done
	assert_equal "$(sql 'SELECT count(*) FROM slots WHERE length(slot_id) != 64 OR slot_id != lower(slot_id)')" 0
}

@test "other methods on a slot are 405 with Allow; /v1/slots itself is 404" {
	id=$(new_id)
	req POST "/v1/slots/$id" --data-binary x
	assert_err 405 method_not_allowed
	assert_equal "$(header Allow)" "GET, HEAD, PUT, DELETE, OPTIONS"
	req GET /v1/slots
	assert_err 404 not_found
}

# ---- concurrency, cut uploads ----

@test "8 concurrent PUTs with the same key and If-Match: exactly one 200, seven 412" {
	id=$(new_id)
	k=$(new_key)
	sput_ok "$id" "$k" "$(blob 100)" 201
	f=$(blob 524288)
	args=()
	for _ in $(seq 1 8); do args+=(-o /dev/null "$BS_URL/v1/slots/$id"); done
	out=$(curl -s --parallel --parallel-immediate --parallel-max 8 -X PUT \
		-H "X-Slot-Key: $k" -H "If-Match: \"$V\"" --data-binary @"$f" -w '%{http_code} %header{etag}\n' "${args[@]}")
	echo "$out"
	assert_equal "$(grep -c '^200 ' <<<"$out")" 1
	assert_equal "$(grep -c '^412 ' <<<"$out")" 7
	# the winner's version (its ETag) is greater than the one it replaced
	w=$(sed -n 's/^200 "\([0-9]*\)"$/\1/p' <<<"$out")
	[[ $w =~ ^[0-9]+$ ]] && [ "$w" -gt "$V" ] || fail "the winner's ETag is not a version greater than $V: $out"
	assert_slot "$id" "$f" "$w"
	assert_equal "$(slot_row "$id" 'version, bytes')" "$w|524288"
}

# par_create ID SAME_KEY: 8 concurrent creates of slot ID with If-None-Match: *
# and 8 different bodies (c1..c8), with one key (SAME_KEY=1) or 8 (k1..k8);
# prints "STATUS N ETAG" per request (ETag empty but on a success)
par_create() {
	local id=$1 same=$2 i args=()
	head -c 32 /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/k"
	for i in $(seq 1 8); do
		head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/c$i"
		if [ "$same" = 1 ]; then
			cp "$BATS_TEST_TMPDIR/k" "$BATS_TEST_TMPDIR/k$i"
		else
			head -c 32 /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/k$i"
		fi
		[ "$i" = 1 ] || args+=(--next)
		args+=(-s -X PUT -H "X-Slot-Key: $(cat "$BATS_TEST_TMPDIR/k$i")" -H 'If-None-Match: *'
			--data-binary @"$BATS_TEST_TMPDIR/c$i" -o /dev/null -w "%{http_code} $i %header{etag}\n" "$BS_URL/v1/slots/$id")
	done
	curl --parallel --parallel-immediate --parallel-max 8 "${args[@]}"
}

# assert_winner ID OUT: the 201 line of OUT (from par_create) names the
# winner, whose ETag is a version and whose content the slot holds; sets w
assert_winner() {
	local wv
	read -r w wv < <(sed -n 's/^201 \([1-8]\) "\([0-9]*\)"$/\1 \2/p' <<<"$2") || true
	[[ $wv =~ ^[1-9][0-9]*$ ]] || fail "the winner's ETag is not a version: $2"
	assert_slot "$1" "$BATS_TEST_TMPDIR/c$w" "$wv"
}

@test "8 concurrent creates of one id with one key and If-None-Match: *: exactly one 201, seven 412" {
	id=$(new_id)
	out=$(par_create "$id" 1)
	echo "$out"
	assert_equal "$(grep -c '^201 ' <<<"$out")" 1
	assert_equal "$(grep -c '^412 ' <<<"$out")" 7
	assert_winner "$id" "$out"
}

@test "8 concurrent creates of one id with 8 keys: exactly one 201, seven 403 bad_slot_key; the key is the winner's" {
	# the key is checked before the preconditions, and again in the
	# transaction: whoever comes after the winner meets another key
	id=$(new_id)
	out=$(par_create "$id" 0)
	echo "$out"
	assert_equal "$(grep -c '^201 ' <<<"$out")" 1
	assert_equal "$(grep -c '^403 ' <<<"$out")" 7
	assert_winner "$id" "$out"
	assert_equal "$(slot_row "$id" "lower($(bs_hex key_hash))")" "$(key_sha "$(cat "$BATS_TEST_TMPDIR/k$w")")"
}

@test "a client that closes the connection half-way through a slot upload leaves the old version" {
	id=$(new_id)
	k=$(new_key)
	f=$(blob 1000000)
	sput_ok "$id" "$k" "$f" 201
	v=$V
	before=$(cut_count slots.put)
	half_put "/v1/slots/$id" 1000000 400000 "X-Slot-Key: $k" "If-Match: \"$v\""
	cut_seen slots.put "$before" 1
	assert_slot "$id" "$f" "$v"
	assert_equal "$(slot_row "$id" 'version, bytes')" "$v|1000000"
	g=$(blob 100)
	sput_ok "$id" "$k" "$g" 200 -H "If-Match: \"$v\""
	assert_slot "$id" "$g" "$V"
}

# ---- the creation rate limit ----

@test "creations are rate-limited per address (slots.create): the third of 2 is 429 with Retry-After; overwrites do not count" {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BS_CONFIG" \
		'rate_limits = { { route = "slots.create", per = "ip", limit = 2, window = 3600 } }' \
		'slots = { enabled = true }'
	STACK2=1
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	k=$(new_key)
	a=$(new_id) b=$(new_id) c=$(new_id)
	sput_ok "$a" "$k" "$(blob 100)" 201
	# overwrites and refused requests of an existing slot are not creations
	for _ in 1 2 3 4; do sput_ok "$a" "$k" "$(blob 100)" 200 -H "If-Match: \"$V\""; done
	sput "$a" "$k" "$(blob 100)"
	assert_err 428 precondition_required
	assert_equal "$(jb .current_version)" "$V"
	sput_ok "$b" "$k" "$(blob 100)" 201
	vb=$V
	sput "$c" "$k" "$(blob 100)"
	assert_err 429 rate_limited
	ra=$(header Retry-After)
	[[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] || fail "bad Retry-After: '$ra'"
	assert_equal "$(slot_row "$c" 'count(*)')" 0
	req GET "/v1/slots/$c"
	assert_err 404 not_found
	# the existing slots still take overwrites, reads and deletes
	f=$(blob 100)
	sput_ok "$b" "$k" "$f" 200 -H "If-Match: \"$vb\""
	assert_slot "$b" "$f" "$V"
	req DELETE "/v1/slots/$a" -H "X-Slot-Key: $k"
	assert_empty_204
	# a delete gives no creation back
	sput "$c" "$k" "$(blob 100)"
	assert_err 429 rate_limited
}
