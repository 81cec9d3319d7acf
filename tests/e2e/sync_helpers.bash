# tests/e2e/sync_helpers.bash: helpers of the sync end-to-end tests
# (sync.bats, sync_quota.bats). Load it after ../lib and account_helpers.
#
# As in account_helpers.bash: functions that call req (and so set $status,
# $body, $headers) must be called directly, never inside $(...). The ones
# that print (state, acct_version, etag_of, store_bytes, ...) use their own
# curl or sqlite3 and may be.

# sync_pool N: for setup_file: register and log in N fresh accounts with
# one curl run each (registering one by one is most of a short test's time);
# new_token hands them out. Needs registration open and no rate limits.
sync_pool() {
	local n=$1 d=$BATS_FILE_TMPDIR/pool.d i
	local -a users keys rargs=() largs=()
	mkdir -p "$d"
	# 33 random bytes are 44 base64 characters without padding: one key a line
	mapfile -t keys < <(head -c $((33 * n)) /dev/urandom | base64 -w 44)
	for ((i = 0; i < n; i++)); do
		users[i]=$(printf 'sp%d-%04x%04x' "$i" $RANDOM $RANDOM)
		printf '{"username":"%s","auth_key":"%s","kdf":{"alg":"pbkdf2-sha256","iterations":600000,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="}}' \
			"${users[i]}" "${keys[i]}" >"$d/r$i"
		printf '{"username":"%s","auth_key":"%s","device":{"name":"test device","type":"cli"}}' \
			"${users[i]}" "${keys[i]}" >"$d/l$i"
		[ $i = 0 ] || { rargs+=(--next); largs+=(--next); }
		rargs+=(-s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$d/r$i"
			"$BS_URL/v1/account/register")
		largs+=(-s -o "$d/t$i" -H 'Content-Type: application/json' --data-binary "@$d/l$i"
			"$BS_URL/v1/account/login")
	done
	[ "$(curl "${rargs[@]}" | sort -u)" = 201 ] || { echo "sync_pool: a registration failed" >&2; return 1; }
	curl "${largs[@]}" || return 1
	local -a tokens
	mapfile -t tokens < <(for ((i = 0; i < n; i++)); do cat "$d/t$i"; echo; done |
		jq -r '"\(.access_token) \(.account_id)"')
	[ ${#tokens[@]} = "$n" ] || { echo "sync_pool: a login failed" >&2; return 1; }
	for ((i = 0; i < n; i++)); do
		[[ ${tokens[i]} =~ ^[A-Za-z0-9_-]{43}\  ]] || { echo "sync_pool: bad login: ${tokens[i]}" >&2; return 1; }
		echo "${users[i]} ${keys[i]} ${tokens[i]}"
	done >"$BATS_FILE_TMPDIR/pool"
	echo 0 >"$BATS_FILE_TMPDIR/pool.next"
}

# new_token: a fresh, logged-in account: from the sync_pool while it lasts,
# else registered now; sets TOKEN, USERNAME, KEY, ACCOUNT_ID and ACCESS
new_token() {
	local pool=$BATS_FILE_TMPDIR/pool n
	local -a lines
	if [ -s "$pool" ]; then
		read -r n <"$pool.next"
		mapfile -t lines <"$pool"
		if [ "$n" -lt "${#lines[@]}" ]; then
			echo $((n + 1)) >"$pool.next"
			read -r USERNAME KEY ACCESS ACCOUNT_ID <<<"${lines[n]}"
			TOKEN=$ACCESS
			return 0
		fi
	fi
	new_account
	TOKEN=$ACCESS
}

# b64 STRING: STRING in standard base64
b64() { printf '%s' "$1" | base64 -w0; }
# payload N [CHAR]: N bytes of CHAR (default x), base64 (a decoded size of N)
payload() { head -c "$1" /dev/zero | tr '\0' "${2:-x}" | base64 -w0; }

# rec ID BASE_VERSION PAYLOAD_B64 / tomb ID BASE_VERSION / frec ID PAYLOAD_B64:
# one record of a push, compact JSON
rec() { printf '{"id":"%s","base_version":%s,"payload":"%s"}' "$1" "$2" "$3"; }
tomb() { printf '{"id":"%s","base_version":%s,"deleted":true}' "$1" "$2"; }
frec() { printf '{"id":"%s","force":true,"payload":"%s"}' "$1" "$2"; }

# push TOKEN COLLECTION RECORDS [ATOMIC]: POST a push; RECORDS is the inside
# of the records array (comma-separated rec/tomb/frec output)
push() {
	local atomic=
	[ -n "${4:-}" ] && atomic=",\"atomic\":$4"
	ajreq POST "/v1/collections/$2/push" "$1" "{\"records\":[$3]$atomic}"
}
# push_ok ...: push and expect 200
push_ok() {
	push "$@"
	[ "$status" = 200 ] || fail "push to $2: expected 200, got $status: $body"
}

# pull TOKEN COLLECTION [QUERY]: GET the pull route (QUERY without the ?)
pull() { areq GET "/v1/collections/$2/pull${3:+?$3}" "$1"; }
pull_ok() {
	pull "$@"
	[ "$status" = 200 ] || fail "pull of $2: expected 200, got $status: $body"
}

# status_of TOKEN [QUERY] [curl args]: GET /v1/status
status_of() {
	local t=$1 q=${2:-}
	shift $(($# < 2 ? $# : 2))
	# curl leaves its output file alone on a 304: no stale body from the last req
	: >"$BATS_TEST_TMPDIR/body"
	areq GET "/v1/status${q:+?$q}" "$t" "$@"
}

# acct_version TOKEN: prints the account_version, from the ETag of /v1/status
# (the status tests check that the two agree)
acct_version() {
	local e
	e=$(curl -s -o /dev/null -w '%header{etag}' -H "Authorization: Bearer $1" "$BS_URL/v1/status")
	e=${e#\"}
	echo "${e%\"}"
}

# state TOKEN: prints everything a refused request must leave as it was:
# the account's status (account_version, usage, collections with their
# versions, counters and times) and the store's row counts and sums.
state() {
	local b
	b=$(curl -s -H "Authorization: Bearer $1" "$BS_URL/v1/status")
	# all of it but the clock
	[[ $b =~ ^(.*)\"server_time\":\"[^\"]*\",(.*)$ ]] && b=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
	echo "$b"
	sql "SELECT (SELECT count(*) FROM collections), (SELECT count(*) FROM records),
		(SELECT count(*) FROM history), (SELECT coalesce(sum(length(payload)), 0) FROM records),
		(SELECT coalesce(sum(version), 0) FROM records), (SELECT coalesce(sum(coalesce(length(meta), -1)), 0) FROM collections)"
}

# unchanged TOKEN BEFORE [WHAT]: state TOKEN is still BEFORE
unchanged() {
	local now
	now=$(state "$1")
	[ "$now" = "$2" ] || fail "${3:-a refused request} changed the state:
before: $2
after:  $now"
}

# account_db_id: the store's id of the account named $USERNAME
account_db_id() { sql "SELECT id FROM accounts WHERE username = '$USERNAME'"; }

# store_bytes ACCOUNT_DB_ID: payload bytes of the account's current records
# plus its kept history, counted from the rows themselves
store_bytes() {
	sql "SELECT (SELECT coalesce(sum(length(r.payload)), 0) FROM records r JOIN collections c ON c.id = r.collection_id
			WHERE c.account_id = $1)
		+ (SELECT coalesce(sum(length(h.payload)), 0) FROM history h JOIN collections c ON c.id = h.collection_id
			WHERE c.account_id = $1)" | sed 's/\.0$//'
}
# store_records ACCOUNT_DB_ID: the account's current records that are not tombstones
store_records() {
	sql "SELECT count(*) FROM records r JOIN collections c ON c.id = r.collection_id
		WHERE c.account_id = $1 AND r.deleted = 0"
}

# now_ms: wall clock in milliseconds
now_ms() { date +%s%3N; }

# bg_get NAME PATH TOKEN [curl args...]: start a GET in the background; its
# status and duration (seconds) go to $BATS_TEST_TMPDIR/NAME.meta, the body
# to NAME.body, the headers to NAME.headers, its pid to NAME.pid. bg_wait
# NAME waits for it and sets $status, $body, $headers and $elapsed.
bg_get() {
	local name=$1 path=$2 t=$3
	shift 3
	local d=$BATS_TEST_TMPDIR
	: >"$d/$name.body"
	: >"$d/$name.meta"
	curl -s -o "$d/$name.body" -D "$d/$name.headers" -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $t" "$@" "$BS_URL$path" >"$d/$name.meta" 2>/dev/null 3>&- &
	echo $! >"$d/$name.pid"
}
bg_wait() {
	local d=$BATS_TEST_TMPDIR
	wait "$(cat "$d/$1.pid")" || true
	read -r status elapsed <"$d/$1.meta"
	body=$(cat "$d/$1.body")
	headers=$(tr -d '\r' <"$d/$1.headers")
}
# bg_done NAME: 0 when the background request NAME has finished
bg_done() { [ -s "$BATS_TEST_TMPDIR/$1.meta" ]; }

# lp_waiting N: at least N long-polls wait in the handlers now (the gauge of
# /v1/metrics). A test waits for this before it changes anything, instead
# of sleeping and hoping that its background request has arrived.
lp_waiting() {
	[ "$(curl -s --max-time 10 "$BS_URL/v1/metrics" | awk '$1 == "blindsync_longpolls_waiting" { print $2 }')" -ge "$1" ] 2>/dev/null
}

# lp_waits_or_done NAME: the background request NAME waits or has answered
# (for a short wait=, which may end before the gauge is read)
lp_waits_or_done() { bg_done "$1" || lp_waiting 1; }

# lp_settled N PREFIX: each of the background requests PREFIX1..PREFIXN has
# answered or waits (the gauge counts those that wait)
lp_settled() {
	local i done=0 w
	for i in $(seq 1 "$1"); do bg_done "$2$i" && done=$((done + 1)); done
	w=$(curl -s --max-time 10 "$BS_URL/v1/metrics" | awk '$1 == "blindsync_longpolls_waiting" { print $2 }')
	[ $((done + ${w:-0})) -ge "$1" ]
}

# secs_between ELAPSED MIN MAX: MIN <= ELAPSED < MAX (decimal seconds)
secs_between() {
	awk -v e="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(e >= lo && e < hi) }' ||
		fail "took $1 s, expected between $2 and $3 s"
}

# page_all TOKEN COLLECTION SINCE LIMIT OUT: pull pages of LIMIT records from
# SINCE, following next_since, until more is false. Appends one
# "id version deleted" line per record to OUT and one "collection_version"
# line per page to OUT.pages; sets NEXT_SINCE and PAGES. Fails when a page
# is not ascending or does not start after its since, when next_since is not
# the last version of a page (or collection_version for an empty one), or
# when more is true on a short page.
page_all() {
	local t=$1 c=$2 since=$3 limit=$4 out=$5
	local resp code more next cv n prev v line
	local -a lines
	PAGES=0
	while :; do
		resp=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $t" \
			"$BS_URL/v1/collections/$c/pull?since=$since&limit=$limit")
		code=${resp##*$'\n'}
		resp=${resp%$'\n'*}
		[ "$code" = 200 ] || fail "pull since=$since: $code $resp"
		{
			read -r more next cv n
			mapfile -t lines
		} < <(printf '%s' "$resp" | jq -r '"\(.more) \(.next_since) \(.collection_version) \(.records | length)",
			(.records[] | "\(.id) \(.version) \(.deleted)")')
		[ "$n" -le "$limit" ] || fail "page of $n records with limit=$limit"
		[ "$more" = false ] || [ "$n" = "$limit" ] || fail "more=true on a page of $n < $limit: $resp"
		prev=$since
		for line in "${lines[@]}"; do
			v=${line#* }
			v=${v%% *}
			[ "$v" -gt "$prev" ] || fail "since=$since: version $v after $prev: $resp"
			prev=$v
		done
		if [ "$n" -gt 0 ]; then
			[ "$next" = "$prev" ] || fail "next_since $next is not the last version $prev: $resp"
			printf '%s\n' "${lines[@]}" >>"$out"
		else
			[ "$next" = "$cv" ] || fail "empty page: next_since $next is not collection_version $cv"
		fi
		echo "$cv" >>"$out.pages"
		since=$next
		PAGES=$((PAGES + 1))
		[ "$more" = true ] || break
		[ $PAGES -lt 2000 ] || fail "paging does not end"
		[ -z "${PAGE_PAUSE:-}" ] || sleep "$PAGE_PAUSE"
	done
	NEXT_SINCE=$since
}

# writer TOKEN COLLECTION STOP N: up to N pushes (until the file STOP
# exists), each a new record n<i> and a forced change of one of r1..r25
# (every 5th a forced delete). Each push's HTTP status is appended to
# STOP.log. Meant to run in the background.
writer() {
	local t=$1 c=$2 stop=$3 n=$4 i old upd
	for i in $(seq 1 "$n"); do
		[ -e "$stop" ] && break
		old="r$(((i * 7) % 25 + 1))"
		if ((i % 5 == 0)); then
			upd="{\"id\":\"$old\",\"force\":true,\"deleted\":true}"
		else
			upd=$(frec "$old" "$(payload $((i % 30 + 1)) w)")
		fi
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $t" \
			-H 'Content-Type: application/json' \
			--data-binary "{\"records\":[$(rec "n$i" 0 "$(payload 16 n)"),$upd]}" \
			"$BS_URL/v1/collections/$c/push" >>"$stop.log"
	done
}

# err_table STATUS CODE TOKEN: reads lines "METHOD|PATH|BODY|WORD" from
# stdin, sends them all in one curl run (BODY "-": none; else sent as
# application/json), and checks that each answered STATUS with the JSON error
# CODE, a message that contains WORD (when given), Content-Type
# application/json and the common headers; a 401 also the Bearer challenge,
# a 405 an Allow header. CODE "-": a success, only STATUS and the common
# headers are checked. TOKEN "-" sends no Authorization. One curl and one
# jq for the whole table: these tables are long. Sets ERR_TABLE_N.
err_table() {
	local want_st=$1 want_code=$2 tok=$3
	local d=$BATS_TEST_TMPDIR/err_table i=0 m p b w
	local -a args=() rows=() words=()
	rm -rf "$d"
	mkdir -p "$d"
	local fmt='%{http_code}|%header{content-type}|%header{cache-control}|%header{x-content-type-options}|%header{x-request-id}|%header{www-authenticate}|%header{allow}\n'
	while IFS='|' read -r m p b w; do
		[ -n "$m" ] || continue
		i=$((i + 1))
		[ $i = 1 ] || args+=(--next)
		args+=(-s -X "$m" -o "$d/$i.json" -w "$fmt")
		[ "$tok" = - ] || args+=(-H "Authorization: Bearer $tok")
		if [ "$b" != - ]; then
			printf '%s' "$b" >"$d/$i.req"
			args+=(-H 'Content-Type: application/json' --data-binary "@$d/$i.req")
		fi
		args+=("$BS_URL$p")
		rows+=("$m $p $b")
		words+=("$w")
	done
	[ $i -gt 0 ] || fail "err_table: no rows"
	ERR_TABLE_N=$i
	curl "${args[@]}" >"$d/meta" 2>/dev/null || true
	# each answer's body on one line, then one jq for all of them
	local all='' one
	for ((n = 1; n <= i; n++)); do
		one=
		[ -f "$d/$n.json" ] && one=$(<"$d/$n.json")
		all+="${one//$'\n'/ }"$'\n'
	done
	local -a codes metas
	mapfile -t codes < <(printf '%s' "$all" | jq -rR '(fromjson? // {}) |
		if (.error.message | type) == "string" and .error.message != "" then "\(.error.code)|\(.error.message)"
		else "(not a JSON error)|" end')
	mapfile -t metas <"$d/meta"
	local st ct cc nos rid wa allow code msg
	for ((n = 0; n < i; n++)); do
		IFS='|' read -r st ct cc nos rid wa allow <<<"${metas[$n]}"
		code=${codes[$n]%%|*}
		msg=${codes[$n]#*|}
		if [ "$want_code" = - ]; then
			[ "$st" = "$want_st" ] || fail "${rows[$n]}: expected $want_st, got $st: $(<"$d/$((n + 1)).json")"
			[ "$cc" = no-store ] && [ "$nos" = nosniff ] && [ -n "$rid" ] || fail "${rows[$n]}: headers: ${metas[$n]}"
			continue
		fi
		[ "$st" = "$want_st" ] && [ "$code" = "$want_code" ] ||
			fail "${rows[$n]}: expected $want_st $want_code, got $st $code: $(<"$d/$((n + 1)).json")"
		[ -z "${words[$n]}" ] || [[ $msg == *"${words[$n]}"* ]] ||
			fail "${rows[$n]}: the message does not name ${words[$n]}: $msg"
		[ "$ct" = application/json ] && [ "$cc" = no-store ] && [ "$nos" = nosniff ] && [ -n "$rid" ] ||
			fail "${rows[$n]}: headers: ${metas[$n]}"
		[ "$want_st" != 401 ] || [[ $wa == 'Bearer realm="blindsync"'* ]] || fail "${rows[$n]}: no challenge"
		[ "$want_st" != 405 ] || [ -n "$allow" ] || fail "${rows[$n]}: 405 without Allow"
	done
}

# etag_of TOKEN: the ETag of /v1/status (the account_version, quoted), one curl
etag_of() { curl -s -o /dev/null -w '%header{etag}' -H "Authorization: Bearer $1" "$BS_URL/v1/status"; }
