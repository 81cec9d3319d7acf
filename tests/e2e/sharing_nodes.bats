#!/usr/bin/env bats
# Sharing across two nodes on one PostgreSQL store (docs/API-sharing.md,
# docs/ARCHITECTURE.md "Sync"): a write to a shared collection through one
# node wakes the long-polls of the owner and of every member waiting on the
# other node, not only the writer's: each member's status slot is bumped
# by the writing handler after its commit and carried by the relays
# (LISTEN/NOTIFY, coalesced: one message per batch of slots), as for the
# owner's own writes. Two stacks as in nodes.bats (nginx + handlers each,
# side files of their own); an owner and two members with write. A
# membership change (a removal) wakes the removed member on the other node
# too. PostgreSQL only (BACKEND=pg, tests/with-pg.sh).
load ../lib
load account_helpers
load sync_helpers

# (bats 1.8 cannot skip in setup_file: each test skips itself)
setup_file() {
	bs_backend pg || return 0
	bs_setup_stack 'rate_limits = {}' 'limits = { max_wait_seconds = 30 }'
	b_start || return 1
	export A_URL=$BS_URL
	# the owner and two members, made through A; all three publish keys
	local who
	for who in own m1 m2; do
		new_account
		printf '%s %s\n' "$USERNAME" "$ACCESS" >"$BATS_FILE_TMPDIR/$who"
		ajreq PUT /v1/account/keys "$ACCESS" "{\"x25519\":\"$(b64_random 32)\",\"ed25519\":\"$(b64_random 32)\"}"
		[ "$status" = 204 ] || { echo "keys of $who: $status $body" >&2; return 1; }
	done
	who own
	push_ok "$T" shared "$(rec first 0 "$(payload 8)")"
	for who in m1 m2; do
		local name tok inv
		read -r name tok <"$BATS_FILE_TMPDIR/$who"
		ajreq POST /v1/collections/shared/invitations "$T" \
			"{\"to\":\"$name\",\"role\":\"write\",\"key_version\":1,\"sealed\":\"$(b64_random 80)\",\"signature\":\"$(b64_random 64)\"}"
		[ "$status" = 201 ] || { echo "invite $who: $status $body" >&2; return 1; }
		inv=$(jb .id)
		areq POST "/v1/invitations/$inv/accept" "$tok"
		[ "$status" = 200 ] || { echo "accept by $who: $status $body" >&2; return 1; }
	done
}
setup() { bs_backend pg || skip "two nodes share a PostgreSQL store: BACKEND=pg (tests/with-pg.sh)"; }
teardown_file() {
	if bs_backend pg; then
		b_stop
		bs_stop
	fi
}

# who NAME: N (the username) and T (the token) of own, m1 or m2
who() { read -r N T <"$BATS_FILE_TMPDIR/$1"; }

# b_start: node B, A's config with its own data directory (the secret
# copied), run directory, side files, log and port: B_URL, B_PID, B_DIR
b_start() {
	local a_run=$BS_RUN a_log=$BS_LOG a_port=$BS_PORT a_url=$BS_URL a_pid=$BS_PID a_rt=$BLINDSYNC_RUNTIME_DIR
	export B_DIR=$BATS_FILE_TMPDIR/node-b
	export B_DATA=$B_DIR/data B_CONFIG=$B_DIR/blindsync.lua
	mkdir -p "$B_DATA"
	cp -p "$BS_DATA/secret" "$B_DATA/secret"
	sed "s|^secret_file = .*|secret_file = \"$B_DATA/secret\"|" "$BS_CONFIG" >"$B_CONFIG"
	BATS_FILE_TMPDIR=$B_DIR BS_CONFIG=$B_CONFIG bs_start || return 1
	export B_RUN=$BS_RUN B_LOG=$BS_LOG B_URL=$BS_URL B_PID=$BS_PID
	export BS_RUN=$a_run BS_LOG=$a_log BS_PORT=$a_port BS_URL=$a_url BS_PID=$a_pid BLINDSYNC_RUNTIME_DIR=$a_rt
	[ "$B_URL" != "$BS_URL" ]
}
b_stop() {
	[ -n "${B_PID:-}" ] || return 0
	BATS_FILE_TMPDIR=$B_DIR BS_PID=$B_PID BS_LOG=$B_LOG bs_stop
	B_PID=
}

# url NODE: the base URL of node a or b
url() { if [ "$1" = a ]; then echo "$A_URL"; else echo "$B_URL"; fi; }
# waiting NODE N: at least N long-polls wait on that node
waiting() {
	[ "$(curl -s --max-time 10 "$(url "$1")/v1/metrics" |
		awk '$1 == "blindsync_longpolls_waiting" { print $2 }')" -ge "$2" ] 2>/dev/null
}
# etag NODE TOKEN: the status ETag of that account, read through NODE
etag() { curl -s -o /dev/null -w '%header{etag}' -H "Authorization: Bearer $2" "$(url "$1")/v1/status"; }
# poll NODE WHO: a status long-poll of WHO on NODE in the background, from
# its current ETag; its HTTP status and end time (ms) go to poll.WHO
poll() {
	local t e out=$BATS_TEST_TMPDIR/poll.$2
	read -r _ t <"$BATS_FILE_TMPDIR/$2"
	e=$(etag "$1" "$t")
	[ -n "$e" ] || { echo "no ETag for $2 on $1" >&2; return 1; }
	: >"$out"
	( curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $t" -H "If-None-Match: $e" \
		"$(url "$1")/v1/status?wait=25" >"$out.tmp"; now_ms >>"$out.tmp"; mv "$out.tmp" "$out" ) 3>&- &
}
# answered WHO: the long-poll of WHO has answered
answered() { [ -s "$BATS_TEST_TMPDIR/poll.$1" ]; }
# woke WHO SINCE_MS: WHO's long-poll answered 200 (changed), and the ms it took after SINCE_MS
woke() {
	local out=$BATS_TEST_TMPDIR/poll.$1
	bs_wait 40 answered "$1" || { echo "the long-poll of $1 never answered" >&2; return 1; }
	[ "$(head -1 "$out")" = 200 ] || { echo "the long-poll of $1 answered $(head -1 "$out")" >&2; return 1; }
	echo $(($(sed -n 2p "$out") - $2))
}

# round FROM WRITER TO POLLER...: long-polls of the POLLERs on node TO, then
# a push by WRITER through node FROM into the owner's shared collection;
# prints the slowest wake in ms after the push's answer
round() {
	local from=$1 writer=$2 to=$3 p t0 ms worst=-100000 q=
	shift 3
	for p in "$@"; do poll "$to" "$p" || return 1; done
	bs_wait 30 waiting "$to" $# || { echo "the long-polls on $to never waited" >&2; return 1; }
	who own
	local owner=$N
	who "$writer"
	[ "$writer" = own ] || q="?owner=$owner"
	local BS_URL
	BS_URL=$(url "$from")
	ajreq POST "/v1/collections/shared/push$q" "$T" "{\"records\":[$(frec "r-$writer-$RANDOM" "$(payload 8)")]}"
	[ "$status" = 200 ] || { echo "the push of $writer through $from: $status $body" >&2; return 1; }
	t0=$(now_ms)
	for p in "$@"; do
		ms=$(woke "$p" "$t0") || return 1
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	wait
	echo "$worst"
}

@test "the owner's push through A wakes both members' status long-polls on B (best of 3 rounds within 1 s)" {
	local best=100000 r
	for i in 1 2 3; do
		r=$(round a own b m1 m2) || fail "round $i: a member was not woken"
		[ "$r" -lt "$best" ] && best=$r
	done
	echo "# slowest member's wake on B, best round: ${best} ms after the push's answer" >&3
	[ "$best" -lt 1000 ] || fail "the members woke $best ms after the push"
}

@test "a member's push through B wakes the owner's and the other member's long-polls on A" {
	local best=100000 r
	for i in 1 2 3; do
		r=$(round b m1 a own m2) || fail "round $i: the owner or the other member was not woken"
		[ "$r" -lt "$best" ] && best=$r
	done
	echo "# slowest wake on A, best round: ${best} ms after the member's push" >&3
	[ "$best" -lt 1000 ] || fail "they woke $best ms after the push"
}

@test "a member's pull long-poll on B gets the record the owner pushes through A" {
	who own
	local owner=$N
	who m2
	local BS_URL=$B_URL
	pull_ok "$T" "shared" "owner=$owner"
	local v
	v=$(jb .collection_version)
	[ -n "$v" ] && [ "$v" != null ] || fail "no collection_version: $body"
	bg_get mpull "/v1/collections/shared/pull?owner=$owner&since=$v&wait=25" "$T"
	bs_wait 30 waiting b 1 || fail "the pull never waited"
	BS_URL=$(url a)
	who own
	push_ok "$T" shared "$(frec r-pulled "$(payload 8 p)")"
	bg_wait mpull
	assert_equal "$status" 200
	assert_equal "$(jbc '[.records[].id]')" '["r-pulled"]'
	secs_between "$elapsed" 0 10 || fail "the pull took $elapsed s"
}

@test "a removal through A wakes the removed member's long-poll on B; its next request on B is 404" {
	who m2
	local m2=$N m2_t=$T
	poll b m2 || fail "no long-poll"
	bs_wait 30 waiting b 1 || fail "the long-poll never waited"
	who own
	areq DELETE "/v1/collections/shared/members/$m2" "$T"
	assert_equal "$status" 204
	local t0
	t0=$(now_ms)
	woke m2 "$t0" >/dev/null || fail "the removed member's long-poll was not woken"
	wait
	local BS_URL=$B_URL
	pull "$m2_t" shared "owner=$N"
	assert_equal "$status" 404
}
