#!/usr/bin/env bats
# Export and import of a whole account (api.md §8; docs/API-transfer.md)
# between two real servers: A, the stack of this file (bs_setup_stack), and
# B, a second stack started here with its own config, data directory, run
# directory and port. An account on A with collections (meta, records,
# tombstones, history), a keyring and two backups (one of 1 MiB) is exported
# once; the document is then imported into accounts on B and everything is
# compared byte for byte through the API. Refusals (409 not empty, 507 over
# quota, 400/403/413 for bad or oversized documents, 411, 413, 415) must
# change nothing.
#
# A: records up to 64 KiB, 3 older versions kept, 2 backups.
# B: the same, plus limits.max_import_bytes = 4 MiB, 5 collections, and the
#    plans small (1000-byte quota) and shallow (1 older version kept).
load ../lib
load account_helpers
load sync_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' \
		'limits = { max_record_bytes = 64 * KiB }' \
		'plans = { default = { history_depth = 3, backups = 2 } }'
	b_start
}
teardown_file() {
	b_stop
	bs_stop
}

# ---- server B ----

b_start() {
	local tries
	export B_DATA=$BATS_FILE_TMPDIR/data-b B_CONFIG=$BATS_FILE_TMPDIR/blindsync-b.lua
	export B_RUN=$BATS_FILE_TMPDIR/run-b B_LOG=$BATS_FILE_TMPDIR/handlers-b.log
	mkdir -p "$B_DATA"
	cat >"$B_CONFIG" <<-LUA
		database = "$(bs_database "$B_DATA")"
		secret_file = "$B_DATA/secret"
		password_hash = { iterations = 1000 }
		rate_limits = {}
		limits = { max_record_bytes = 64 * KiB, max_import_bytes = 4 * MiB }
		plans = { default = { history_depth = 3, backups = 2, collections = 5 },
		          small = { bytes = 1000 }, shallow = { history_depth = 1 } }
	LUA
	for tries in 1 2 3; do
		export B_PORT=$(bs_free_port)
		export B_URL=http://127.0.0.1:$B_PORT
		BIN=$BIN PORT=$B_PORT BLINDSYNC_CONFIG=$B_CONFIG RUN_DIR=$B_RUN HANDLER_LOG=$B_LOG \
			setsid "$BS_ROOT/scripts/run.sh" >>"$BATS_FILE_TMPDIR/run-b.log" 2>&1 &
		export B_PID=$!
		# as bs_start: until it answers or run.sh exits (a port taken meanwhile)
		bs_wait 120 b_settled || true
		b_up && return 0
		b_stop
	done
	echo "could not start server B; run-b.log:" >&2
	cat "$BATS_FILE_TMPDIR/run-b.log" >&2
	return 1
}

# b_up: server B answers and is ours (see bs_up); b_settled: b_up, or its run.sh exited
b_up() {
	bs_answers "$B_URL/v1/health" && kill -0 "$B_PID" 2>/dev/null &&
		{ [ -s "$B_RUN/nginx.pid" ] || [ -s "$B_RUN/httpd.pid" ]; }
}
b_settled() { b_up || bs_gone "$B_PID"; }

b_stop() {
	[ -n "${B_PID:-}" ] || return 0
	kill -TERM "$B_PID" 2>/dev/null || true
	bs_wait 60 bs_gone "$B_PID" || true
	kill -KILL -- -"$B_PID" 2>/dev/null || true
	B_PID=
}

# on_b CMD...: run a helper of lib.bash / *_helpers.bash against server B
# (its URL and its store) instead of A
on_b() {
	local BS_URL=$B_URL BS_DATA=$B_DATA
	"$@"
}

# b_admin ARGS...: blindsync-admin on B's store
b_admin() { BLINDSYNC_CONFIG=$B_CONFIG "$BIN/blindsync-admin" "$@"; }

# ga / gb TOKEN PATH: the body of a GET on server A / B
ga() { curl -s -H "Authorization: Bearer $1" "$BS_URL$2"; }
gb() { curl -s -H "Authorization: Bearer $1" "$B_URL$2"; }

# import TOKEN FILE [curl args...]: POST the file to B's import route, as
# $CTYPE (default application/json)
import() {
	local t=$1 f=$2
	shift 2
	on_b req POST /v1/account/import -H "Authorization: Bearer $t" -H "Content-Type: ${CTYPE:-application/json}" \
		--data-binary @"$f" "$@"
}

# new_b: a fresh account on B; sets TB (and USERNAME, KEY, ...)
new_b() {
	on_b new_account "$@"
	TB=$ACCESS
}

# b_state TOKEN: what a refused import must leave as it was on B
b_state() {
	on_b state "$1"
	on_b sql "SELECT a.account_version, a.keyring_version, a.usage_bytes, a.usage_records,
		(SELECT count(*) FROM collections c WHERE c.account_id = a.id),
		(SELECT count(*) FROM backups b WHERE b.account_id = a.id),
		(SELECT count(*) FROM events e WHERE e.account_id = a.id)
		FROM accounts a WHERE a.username = '$USERNAME'"
}

# ---- the source account on A, exported once for the whole file ----

EXPORT=${BATS_FILE_TMPDIR:-/tmp}/export.json

# ensure_export: fill an account on A and export it to $EXPORT (first call
# only); sets TA, the source's token, KEYRING_A and the backup files
ensure_export() {
	local env=$BATS_FILE_TMPDIR/source.env
	if [ ! -f "$env" ]; then
		fill_source
		printf 'TA=%q\nKEYRING_A=%q\nUSER_A=%q\n' "$ACCESS" "$KEYRING_A" "$USERNAME" >"$env.tmp"
		curl -s -D "$BATS_FILE_TMPDIR/export.headers" -o "$EXPORT" -H "Authorization: Bearer $ACCESS" \
			"$BS_URL/v1/account/export"
		mv "$env.tmp" "$env"
	fi
	# shellcheck disable=SC1090
	. "$env"
}

fill_source() {
	local t recs i round
	KEYRING_A=$(b64_random 48)
	new_account "{\"keyring\":\"$KEYRING_A\"}"
	t=$ACCESS
	# notes: meta; 20 records of random sizes; r1-r5 rewritten 4 times (A keeps
	# 3 older versions); r6, r7 deleted; r8 deleted and created again
	ajreq PUT /v1/collections/notes "$t" "{\"meta\":\"$(b64_random 40)\"}"
	assert_equal "$status" 201
	recs=
	for i in $(seq 1 20); do recs+="${recs:+,}$(rec "r$i" 0 "$(b64_random $((RANDOM % 3000 + 1)))")"; done
	push_ok "$t" notes "$recs"
	for round in 1 2 3 4; do
		recs=
		for i in 1 2 3 4 5; do recs+="${recs:+,}$(frec "r$i" "$(b64_random $((round * 100 + i)))")"; done
		push_ok "$t" notes "$recs"
	done
	push_ok "$t" notes '{"id":"r6","force":true,"deleted":true},{"id":"r7","force":true,"deleted":true}'
	push_ok "$t" notes '{"id":"r8","force":true,"deleted":true}'
	push_ok "$t" notes "$(frec r8 "$(b64_random 100)")"
	# tasks: meta; an empty payload, one of exactly max_record_bytes, ids with every allowed character
	ajreq PUT /v1/collections/tasks "$t" "{\"meta\":\"$(b64_random 3)\"}"
	push_ok "$t" tasks "$(rec empty 0 "")"
	push_ok "$t" tasks "$(rec max 0 "$(b64_random 65536)")"
	push_ok "$t" tasks "$(rec 'A-z_0.9~x' 0 "$(b64_random 10)")"
	push_ok "$t" tasks "$(frec empty "$(b64_random 1)")"
	# a collection with neither meta nor records
	areq PUT /v1/collections/void "$t"
	assert_equal "$status" 201
	# backups: device (1 MiB, version 2) and tiny (32 bytes)
	head -c 1048576 /dev/urandom >"$BATS_FILE_TMPDIR/device.1"
	head -c 1048576 /dev/urandom >"$BATS_FILE_TMPDIR/device.bin"
	head -c 32 /dev/urandom >"$BATS_FILE_TMPDIR/tiny.bin"
	areq PUT /v1/backups/device "$t" --data-binary @"$BATS_FILE_TMPDIR/device.1"
	assert_equal "$status" 201
	areq PUT /v1/backups/device "$t" -H 'If-Match: "1"' --data-binary @"$BATS_FILE_TMPDIR/device.bin"
	assert_equal "$status" 200
	areq PUT /v1/backups/tiny "$t" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	assert_equal "$status" 201
}

# same_json WHAT A B: two JSON texts are equal (compared compactly)
same_json() {
	[ "$2" = "$3" ] || fail "$1 differs:
A: ${2:0:600}
B: ${3:0:600}"
}

# ---- export ----

@test "export: one JSON document with everything the account stores, streamed" {
	ensure_export
	headers=$(tr -d '\r' <"$BATS_FILE_TMPDIR/export.headers")
	[[ $headers == "HTTP/1.1 200 OK"* ]] || fail "export: $headers"
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(header Transfer-Encoding)" chunked
	[[ $(header Content-Disposition) == "attachment; filename=\"blindsync-export-$USER_A.json\"" ]]
	assert_common_headers
	run jq -c '[.format, .username, (.kdf | has("salt")), .keyring, .keyring_version, (.collections | map(.name))]' "$EXPORT"
	assert_success
	assert_output "[\"blindsync-export-1\",\"$USER_A\",true,\"$KEYRING_A\",1,[\"notes\",\"tasks\",\"void\"]]"
	# keyring_version comes right after keyring (a client reads the head, before collections)
	assert_equal "$(jq -c 'keys_unsorted' "$EXPORT")" \
		'["format","username","kdf","keyring","keyring_version","collections","backups"]'
	assert_equal "$(jq -c '.backups | map([.name, .version, .modified_at])' "$EXPORT")" \
		"$(ga "$TA" /v1/backups | jq -c '.backups | map([.name, .version, .modified_at])')"
	# records in version order, history newest first and only older versions
	run jq -e '[.collections[].records | map(.version) | . == sort] | all' "$EXPORT"
	assert_success
	run jq -e '[.collections[].records[] | .version as $v | .history | (map(.version) == (map(.version) | sort | reverse))
		and all(.[]; .version < $v)] | all' "$EXPORT"
	assert_success
	# A kept 3 older versions of r1 (4 rewrites); tombstones have no payload
	assert_equal "$(jq -c '.collections[0].records[] | select(.id == "r1") | .history | length' "$EXPORT")" 3
	assert_equal "$(jq -c '[.collections[0].records[] | select(.deleted) | [.id, .payload]]' "$EXPORT")" \
		'[["r6",null],["r7",null]]'
	# the backups' bytes and hashes
	assert_equal "$(jq -r '.backups[0].data' "$EXPORT" | base64 -d | sha256sum | cut -d' ' -f1)" \
		"$(sha256sum "$BATS_FILE_TMPDIR/device.bin" | cut -d' ' -f1)"
	assert_equal "$(jq -r '.backups[0].sha256' "$EXPORT")" "$(sha256sum "$BATS_FILE_TMPDIR/device.bin" | cut -d' ' -f1)"
	assert_equal "$(jq -r '.backups[1].data' "$EXPORT" | base64 -d | cmp - "$BATS_FILE_TMPDIR/tiny.bin" && echo same)" same
}

@test "export: an empty account; HEAD; 401 without a token" {
	new_account
	areq GET /v1/account/export "$ACCESS"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.format, .username, .keyring, .keyring_version, .collections, .backups]')" \
		"[\"blindsync-export-1\",\"$USERNAME\",null,0,[],[]]"
	run curl -s -I -o /dev/null -w '%{http_code} %{size_download}' -H "Authorization: Bearer $ACCESS" \
		"$BS_URL/v1/account/export"
	assert_output '200 0'
	req GET /v1/account/export
	assert_401 unauthorized
	req POST /v1/account/import -H 'Content-Type: application/json' --data-binary '{}'
	assert_401 unauthorized
}

# ---- import ----

@test "export -> import into another server: every record, version, backup and the keyring byte for byte" {
	ensure_export
	new_b
	# (B has given no backup version yet, so the exported ones are kept: see below)
	assert_equal "$(on_b sql "SELECT value FROM meta WHERE key = 'blob_version'")" 0
	v0=$(on_b acct_version "$TB")
	import "$TB" "$EXPORT"
	assert_empty_204
	[ "$(on_b acct_version "$TB")" -gt "$v0" ]
	# collections: names, versions, counters and meta
	same_json collections "$(ga "$TA" /v1/collections | jq -c '.collections | map(del(.modified_at))')" \
		"$(gb "$TB" /v1/collections | jq -c '.collections | map(del(.modified_at))')"
	for c in notes tasks void; do
		# every record as a pull returns it: id, version, modified_at, deleted, payload
		a=$(ga "$TA" "/v1/collections/$c/pull?limit=1000" | jq -c '[.collection_version, .records, .more]')
		b=$(gb "$TB" "/v1/collections/$c/pull?limit=1000" | jq -c '[.collection_version, .records, .more]')
		same_json "pull of $c" "$a" "$b"
		# every kept version of every record
		for id in $(ga "$TA" "/v1/collections/$c/pull?limit=1000" | jq -r '.records[].id'); do
			a=$(ga "$TA" "/v1/collections/$c/records/$id/history")
			same_json "history of $c/$id" "$a" "$(gb "$TB" "/v1/collections/$c/records/$id/history")"
			for v in $(jq -r '.versions[].version' <<<"$a"); do
				same_json "$c/$id version $v" "$(ga "$TA" "/v1/collections/$c/records/$id/history/$v")" \
					"$(gb "$TB" "/v1/collections/$c/records/$id/history/$v")"
			done
		done
	done
	# backups: bytes, versions, times
	same_json backups "$(ga "$TA" /v1/backups)" "$(gb "$TB" /v1/backups)"
	for n in device tiny; do
		gb "$TB" "/v1/backups/$n" >"$BATS_TEST_TMPDIR/$n.b"
		cmp "$BATS_TEST_TMPDIR/$n.b" "$BATS_FILE_TMPDIR/$n.bin" || fail "backup $n differs"
	done
	# the keyring (B's account had none) and the usage counters
	assert_equal "$(gb "$TB" /v1/account/keyring | jq -c .)" "{\"keyring\":\"$KEYRING_A\",\"version\":1}"
	same_json usage "$(ga "$TA" /v1/account | jq -c .usage)" "$(gb "$TB" /v1/account | jq -c .usage)"
	same_json status "$(ga "$TA" /v1/status | jq -c '[.usage, (.collections | map(del(.modified_at))), .backups]')" \
		"$(gb "$TB" /v1/status | jq -c '[.usage, (.collections | map(del(.modified_at))), .backups]')"
	# the stored counters match the rows
	id=$(on_b account_db_id)
	assert_equal "$(on_b sql "SELECT usage_bytes - (SELECT coalesce(sum(bytes), 0) FROM backups WHERE account_id = $id),
		usage_records FROM accounts WHERE id = $id" | sed 's/\.0|/|/')" "$(on_b store_bytes "$id")|$(on_b store_records "$id")"
	# and B's export is A's document but for the account's own name and kdf
	same_json "the whole document" "$(jq -c 'del(.username, .kdf)' "$EXPORT")" \
		"$(gb "$TB" /v1/account/export | jq -c 'del(.username, .kdf)')"
	# the kdf of B's account is its own, untouched
	[ "$(gb "$TB" /v1/account/export | jq -c .kdf)" != "$(jq -c .kdf "$EXPORT")" ]
	assert_equal "$(on_b sql "SELECT kdf FROM accounts WHERE id = $id" | jq -c 'has("salt")')" true
}

@test "after an import, syncing goes on from the exported versions" {
	ensure_export
	new_b
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	cv=$(gb "$TB" /v1/collections/notes/pull?limit=1 | jq .collection_version)
	r1=$(gb "$TB" /v1/collections/notes/records/r1 | jq .version)
	on_b push "$TB" notes "$(rec r1 "$r1" "$(b64 new)")"
	assert_equal "$status" 200
	assert_equal "$(jb '.accepted[0].version')" $((cv + 1))
	# a client's cursor from server A still works on B
	gb "$TB" "/v1/collections/notes/pull?since=$cv" | jq -e --argjson v $((cv + 1)) '.records == [.records[0]] and .records[0].id == "r1" and .records[0].version == $v'
	# and a backup continues from its version
	v=$(gb "$TB" /v1/backups | jq '.backups[] | select(.name == "device") | .version')
	on_b areq PUT /v1/backups/device "$TB" -H "If-Match: \"$v\"" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	assert_equal "$status" 200
	[ "$(jb .version)" -gt "$v" ]
}

@test "backup versions never go back: an exported version the target already gave out becomes its next one" {
	ensure_export
	# raise B's store-wide counter of backup versions above the exported ones
	new_b
	on_b areq PUT /v1/backups/tmp "$TB" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	for i in 1 2 3 4 5; do
		v=$(jb .version)
		on_b areq PUT /v1/backups/tmp "$TB" -H "If-Match: \"$v\"" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
		assert_equal "$status" 200
	done
	on_b areq DELETE /v1/backups/tmp "$TB"
	assert_equal "$status" 204
	c=$(on_b sql "SELECT value FROM meta WHERE key = 'blob_version'")
	max=$(jq '[.backups[].version] | max' "$EXPORT")
	[ "$c" -ge "$max" ] || fail "counter $c, exported versions up to $max"
	# the now empty account takes the import; each backup gets the counter's next version
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	assert_equal "$(gb "$TB" /v1/backups | jq -c '.backups | map([.name, .version])')" \
		"[[\"device\",$((c + 1))],[\"tiny\",$((c + 2))]]"
	# an If-Match of a version from before the delete matches nothing
	on_b areq PUT /v1/backups/device "$TB" -H "If-Match: \"$c\"" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	assert_err 412 precondition_failed
	on_b areq PUT /v1/backups/device "$TB" -H "If-Match: \"$((c + 1))\"" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	assert_equal "$status" 200
	assert_equal "$(jb .version)" $((c + 3))
	# and the bytes came through all the same
	gb "$TB" /v1/backups/tiny | cmp - "$BATS_FILE_TMPDIR/tiny.bin"
}

@test "import keeps the target's own keyring when it has one" {
	ensure_export
	k=$(b64_random 40)
	new_b "{\"keyring\":\"$k\"}"
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	assert_equal "$(gb "$TB" /v1/account/keyring | jq -c .)" "{\"keyring\":\"$k\",\"version\":1}"
}

@test "history beyond the target's history_depth is dropped, the newest kept, and not counted" {
	ensure_export
	new_b
	b_admin user plan "$USERNAME" shallow
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	for id in r1 r2 r3 r4 r5; do
		a=$(ga "$TA" "/v1/collections/notes/records/$id/history" | jq -c '.versions[0:2]')
		same_json "history of $id" "$a" "$(gb "$TB" "/v1/collections/notes/records/$id/history" | jq -c .versions)"
	done
	id=$(on_b account_db_id)
	assert_equal "$(on_b sql "SELECT count(*) FROM history h JOIN collections c ON c.id = h.collection_id
		WHERE c.account_id = $id AND h.rid = 'r1'")" 1
	assert_equal "$(gb "$TB" /v1/account | jq .usage.bytes)" \
		"$(($(on_b store_bytes "$id") + $(stat -c %s "$BATS_FILE_TMPDIR/device.bin") + 32))"
	same_json "collection bytes" "$(on_b sql "SELECT bytes FROM collections WHERE account_id = $id ORDER BY name")" \
		"$(on_b sql "SELECT (SELECT coalesce(sum(length(payload)), 0) FROM records WHERE collection_id = c.id)
			+ (SELECT coalesce(sum(length(payload)), 0) FROM history WHERE collection_id = c.id) FROM collections c
			WHERE account_id = $id ORDER BY name" | sed 's/\.0$//')"
	# a long history in any order: the newest history_depth (3 on B's default plan) stay
	h=$(jq -cn '[(11, 2, 19, 5, 17, 3, 13, 7, 18, 4, 16, 6, 15, 8, 14, 9, 12, 10) as $v |
		{version: $v, modified_at: "2026-01-01T00:00:00Z", deleted: false, payload: ("x" * $v | @base64)}]')
	small_doc | jq -c --argjson h "$h" '.collections[0].records[1].version = 20 | .collections[0].records[1].history = $h' \
		>"$BATS_TEST_TMPDIR/long.json"
	new_b
	import "$TB" "$BATS_TEST_TMPDIR/long.json"
	assert_equal "$status" 204
	assert_equal "$(gb "$TB" /v1/collections/c1/records/b/history | jq -c '[.versions[] | [.version, .bytes]]')" \
		'[[20,3],[19,19],[18,18],[17,17]]'
	# a (4) + b (3) + its kept versions (19 + 18 + 17) + the backup (48)
	assert_equal "$(gb "$TB" /v1/account | jq -c '[.usage.bytes, .usage.records]')" '[109,2]'
	assert_equal "$(gb "$TB" /v1/collections | jq -c '.collections | map([.name, .version, .records, .bytes])')" \
		'[["c1",20,2,61]]'
}

@test "import into an account that has collections or backups: 409, nothing changed" {
	ensure_export
	new_b
	on_b areq PUT /v1/collections/mine "$TB"
	assert_equal "$status" 201
	before=$(b_state "$TB")
	import "$TB" "$EXPORT"
	assert_err 409 conflict
	assert_equal "$(b_state "$TB")" "$before"
	# only a backup
	new_b
	on_b areq PUT /v1/backups/mine "$TB" --data-binary @"$BATS_FILE_TMPDIR/tiny.bin"
	assert_equal "$status" 201
	before=$(b_state "$TB")
	import "$TB" "$EXPORT"
	assert_err 409 conflict
	assert_equal "$(b_state "$TB")" "$before"
	# a second import into an account filled by the first
	new_b
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	before=$(b_state "$TB")
	import "$TB" "$EXPORT"
	assert_err 409 conflict
	assert_equal "$(b_state "$TB")" "$before"
}

@test "import over the target's quota: 507, nothing imported" {
	ensure_export
	# the plan's quota (1000 bytes)
	new_b
	b_admin user plan "$USERNAME" small
	before=$(b_state "$TB")
	import "$TB" "$EXPORT"
	assert_err 507 quota_exceeded
	assert_equal "$(b_state "$TB")" "$before"
	# a per-account quota just under what the document needs
	new_b
	need=$(ga "$TA" /v1/account | jq .usage.bytes)
	b_admin user quota "$USERNAME" $((need - 1))
	before=$(b_state "$TB")
	import "$TB" "$EXPORT"
	assert_err 507 quota_exceeded
	assert_equal "$(b_state "$TB")" "$before"
	# exactly enough is enough
	b_admin user quota "$USERNAME" "$need"
	import "$TB" "$EXPORT"
	assert_equal "$status" 204
	assert_equal "$(gb "$TB" /v1/account | jq -c '[.usage.bytes, .quota.bytes]')" "[$need,$need]"
}

# a small valid document: two records (one with an older version) and a backup
small_doc() {
	jq -cn --arg data "$(head -c 48 /dev/zero | base64 -w0)" '{
		format: "blindsync-export-1", username: "x", kdf: {alg: "a", n: [1, {"b": null}]}, keyring: null,
		collections: [{name: "c1", meta: null, version: 3, records: [
			{id: "a", version: 1, modified_at: "2026-01-01T00:00:00Z", deleted: false, payload: "QUFBQQ==", history: []},
			{id: "b", version: 3, modified_at: "2026-01-01T00:00:00Z", deleted: false, payload: "QkJC",
			 history: [{version: 2, modified_at: "2026-01-01T00:00:00Z", deleted: false, payload: "Qg=="}]}]}],
		backups: [{name: "bk", version: 1, modified_at: "2026-01-01T00:00:00Z", data: $data}]}'
}

# refused STATUS CODE TEXT FILE: importing FILE into $TB is refused with that
# error, whose message contains TEXT, and changes nothing
refused() {
	import "$TB" "$4"
	assert_err "$1" "$2"
	[[ $(jb .error.message) == *"$3"* ]] || fail "message without '$3': $body"
	assert_equal "$(b_state "$TB")" "$BEFORE"
}

@test "malformed or oversized documents: 400/403/413 naming the place, nothing imported" {
	new_b
	BEFORE=$(b_state "$TB")
	d=$BATS_TEST_TMPDIR/doc.json
	small_doc >"$BATS_TEST_TMPDIR/small.json"
	# jq filter over the small document # status # code # text of the message
	while IFS='#' read -r filter st code text; do
		jq -c "$filter" "$BATS_TEST_TMPDIR/small.json" >"$d"
		refused "$st" "$code" "$text" "$d"
	done <<-'CASES'
		[]#400#invalid_request#must be a JSON object
		.format = "blindsync-export-2"#400#invalid_request#format
		{username} + .#400#invalid_request#must start with "format"
		del(.format)#400#invalid_request#format
		.extra = 1#400#invalid_request#unknown member 'extra'
		.kdf = "pbkdf2"#400#invalid_request#kdf
		.keyring = "not base64"#400#invalid_request#keyring
		.keyring_version = -1#400#invalid_request#keyring_version
		.keyring_version = "1"#400#invalid_request#keyring_version
		.keyring_version = 1.5#400#invalid_request#keyring_version
		.collections = {}#400#invalid_request#collections
		.collections[0].name = "bad name"#400#invalid_request#collections[0]: name
		.collections[0] |= ({records} + .)#400#invalid_request#'name' must come before 'records'
		.collections[0].color = "red"#400#invalid_request#collections[0]: unknown member 'color'
		.collections[0].records[1].id = ".dot"#400#invalid_request#collections[0].records[1]: id
		.collections[0].records[0].version = 0#400#invalid_request#collections[0].records[0]: version
		del(.collections[0].records[0].version)#400#invalid_request#collections[0].records[0]: version
		.collections[0].records[0].payload = "QUF"#400#invalid_request#collections[0].records[0]: payload
		.collections[0].records[0].payload = "QQ==QQ=="#400#invalid_request#collections[0].records[0]: payload
		.collections[0].records[0].deleted = true#400#invalid_request#a deleted record has no payload
		.collections[0].records[0].payload = null#400#invalid_request#required unless deleted
		.collections[0].records[0].modified_at = "2026-02-30T00:00:00Z"#400#invalid_request#modified_at
		.collections[0].records[0].modified_at = 1767225600#400#invalid_request#modified_at
		.collections[0].records[1].history[0].version = 3#400#invalid_request#not older
		.collections[0].records[1].history[0].payload = 5#400#invalid_request#records[1].history[0]: payload
		.collections[0].records[1] |= ({history} + .)#400#invalid_request#'id' must come before 'history'
		.collections[0].records[1].id = "a"#400#invalid_request#collections[0].records[1]: the id 'a'
		.collections[0].records[0].version = 3#400#invalid_request#records[1]: the id 'b' or the version 3 is already used
		.collections[0].records[1].history += [.collections[0].records[1].history[0]]#400#invalid_request#appears twice in the record's history
		.collections += [.collections[0]]#400#invalid_request#collections[1]: name: the collection 'c1' appears twice
		.collections = [range(6) as $i | .collections[0] | .name = "c\($i)"]#403#collection_limit#collections
		.backups += [.backups[0]]#400#invalid_request#backups[1]: name: the backup 'bk' appears twice
		.backups = [range(3) as $i | .backups[0] | .name = "b\($i)"]#403#backup_limit#backups
		.backups[0].data = "QUFBQQ=="#400#too_small#backups[0]: data
		.backups[0].data = null#400#invalid_request#backups[0]: data
		del(.backups[0].data)#400#invalid_request#backups[0]: data
		.backups[0].sha256 = ("0" * 64)#400#invalid_request#sha256: does not match
		.backups[0].sha256 = "ABC"#400#invalid_request#sha256
	CASES
	# a payload over max_record_bytes; a backup over the plan's backup_bytes
	head -c 65537 /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/p"
	jq -c --rawfile p "$BATS_TEST_TMPDIR/p" '.collections[0].records[1].history[0].payload = $p' \
		"$BATS_TEST_TMPDIR/small.json" >"$d"
	refused 413 record_too_large "collections[0].records[1].history[0]: payload" "$d"
	head -c $((2 * 1048576 + 1)) /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/p"
	jq -c --rawfile p "$BATS_TEST_TMPDIR/p" '.backups[0].data = $p' "$BATS_TEST_TMPDIR/small.json" >"$d"
	refused 413 body_too_large "backups[0]: data" "$d"
	# not JSON at all, or broken after a valid start
	printf '%s' '{"format":"blindsync-export-1",' >"$d"
	refused 400 invalid_json "not valid JSON" "$d"
	{ cat "$BATS_TEST_TMPDIR/small.json"; printf ' x'; } >"$d"
	refused 400 invalid_json "data after the JSON value" "$d"
	sed 's/"username":"x"/"username":"\xc3\x28"/' "$BATS_TEST_TMPDIR/small.json" >"$d"
	refused 400 invalid_json "UTF-8" "$d"
	sed 's/"c1"/"c\\u0000"/' "$BATS_TEST_TMPDIR/small.json" >"$d"
	refused 400 invalid_json "U+0000" "$d"
	: >"$d"
	refused 400 invalid_json "not valid JSON" "$d"
	python3 -c 'print("{\"format\":\"blindsync-export-1\",\"kdf\":" + "[" * 40 + "]" * 40 + "}")' >"$d"
	refused 400 invalid_request "kdf" "$d"
	python3 -c 'print("{\"format\":\"blindsync-export-1\",\"kdf\":{\"a\":" + "[" * 40 + "]" * 40 + "}}")' >"$d"
	refused 400 invalid_json "nested deeper" "$d"
	# and the small document itself is fine
	import "$TB" "$BATS_TEST_TMPDIR/small.json"
	assert_equal "$status" 204
	assert_equal "$(gb "$TB" /v1/collections/c1/pull | jq -c '[.collection_version, (.records | map([.id, .version, .payload]))]')" \
		'[3,[["a",1,"QUFBQQ=="],["b",3,"QkJC"]]]'
	assert_equal "$(gb "$TB" /v1/backups/bk | wc -c)" 48
}

@test "import: 415 for another type, 411 without a length, 413 over max_import_bytes" {
	ensure_export
	new_b
	BEFORE=$(b_state "$TB")
	for type in text/plain application/octet-stream 'application/json; charset=latin1' application/jsonx; do
		CTYPE=$type import "$TB" "$EXPORT"
		assert_err 415 unsupported_media_type
	done
	assert_equal "$(b_state "$TB")" "$BEFORE"
	if [ "$(bs_front)" = cgi ]; then
		# mod_cgid passes no length for a chunked body: 411, the body read to
		# its end before the handler exits; nothing is imported
		import "$TB" "$EXPORT" -H 'Transfer-Encoding: chunked' || true
		[[ $status == 411 ]] || fail "chunked import: $status"
		assert_equal "$(b_state "$TB")" "$BEFORE"
	elif bs_front_supports length-required; then
		import "$TB" "$EXPORT" -H 'Transfer-Encoding: chunked'
		assert_err 411 length_required
		assert_equal "$(b_state "$TB")" "$BEFORE"
	fi
	# over limits.max_import_bytes (4 MiB): nginx refuses before the handler
	head -c $((4 * 1048576 + 1)) /dev/zero >"$BATS_TEST_TMPDIR/big.json"
	import "$TB" "$BATS_TEST_TMPDIR/big.json"
	assert_err 413 body_too_large
	[[ $(jb .error.message) == *"4194304 bytes"* ]] || fail "$body"
	assert_equal "$(b_state "$TB")" "$BEFORE"
	# a document of exactly 4 MiB passes the length check (and is then parsed)
	{ printf '{"format":"blindsync-export-1","username":"'; head -c $((4 * 1048576 - 50)) /dev/zero | tr '\0' x
	  printf '"}'; } | head -c $((4 * 1048576)) >"$BATS_TEST_TMPDIR/big.json"
	import "$TB" "$BATS_TEST_TMPDIR/big.json"
	assert_err 400 invalid_json
	assert_equal "$(b_state "$TB")" "$BEFORE"
	if ! bs_front_supports length-required; then
		# mod_fcgid buffers the chunked body and passes its length: the
		# import goes through (docs/DEPLOY-apache.md)
		import "$TB" "$EXPORT" -H 'Transfer-Encoding: chunked'
		assert_equal "$status" 204
		[ "$(b_state "$TB")" != "$BEFORE" ] || fail "the chunked import changed nothing"
	fi
}
