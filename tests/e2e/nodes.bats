#!/usr/bin/env bats
# Two nodes on one PostgreSQL store (docs/DEPLOY.md, "When one machine is
# not enough"): two whole stacks (nginx + handlers, scripts/run.sh) on two
# ports, each with a config of its own naming the same database and the
# same server secret, and side files (limits, metrics, long-poll counters,
# the relay's lock) of their own, as two machines would have. A write through
# one node is read through the other, tokens work on both, a long-poll on B
# wakes on a push through A (LISTEN/NOTIFY, docs/ARCHITECTURE.md), and 8
# writers split across both nodes on one collection leave unique versions,
# nothing lost and counters equal to a recount. PostgreSQL only (BACKEND=pg,
# tests/lib.bash): an SQLite store is one machine's.
load ../lib
load account_helpers
load sync_helpers
load ../tools/sync_checks

# (bats 1.8 cannot skip in setup_file: each test skips itself)
setup_file() {
	bs_backend pg || return 0
	bs_setup_stack 'rate_limits = {}' 'limits = { max_wait_seconds = 20 }' \
		'plans = { default = { bytes = 1 * GiB, history_depth = 4 } }'
	b_start
}
setup() { bs_backend pg || skip "two nodes share a PostgreSQL store: BACKEND=pg (tests/with-pg.sh)"; }
teardown_file() {
	if bs_backend pg; then
		b_stop
		bs_stop
	fi
}

# b_start: node B: A's config with its own data directory (the secret
# copied: prelogin answers and tokens must not depend on the node), its own
# run directory, log and port; B_URL, B_PID, B_RUN, B_LOG
b_start() {
	local a_run=$BS_RUN a_log=$BS_LOG a_port=$BS_PORT a_url=$BS_URL a_pid=$BS_PID a_rt=$BLINDSYNC_RUNTIME_DIR
	export B_DIR=$BATS_FILE_TMPDIR/node-b
	export B_DATA=$B_DIR/data B_CONFIG=$B_DIR/blindsync.lua
	mkdir -p "$B_DATA"
	cp -p "$BS_DATA/secret" "$B_DATA/secret"
	sed "s|^secret_file = .*|secret_file = \"$B_DATA/secret\"|" "$BS_CONFIG" >"$B_CONFIG"
	grep -qF "secret_file = \"$B_DATA/secret\"" "$B_CONFIG" || fail "B's config names A's secret file"
	BATS_FILE_TMPDIR=$B_DIR BS_CONFIG=$B_CONFIG bs_start || return 1
	export B_RUN=$BS_RUN B_LOG=$BS_LOG B_URL=$BS_URL B_PID=$BS_PID
	export BS_RUN=$a_run BS_LOG=$a_log BS_PORT=$a_port BS_URL=$a_url BS_PID=$a_pid BLINDSYNC_RUNTIME_DIR=$a_rt
}
b_stop() {
	[ -n "${B_PID:-}" ] || return 0
	BATS_FILE_TMPDIR=$B_DIR BS_PID=$B_PID BS_LOG=$B_LOG bs_stop
	B_PID=
}

# on_b CMD...: CMD against node B
on_b() {
	local BS_URL=$B_URL
	"$@"
}

# mapped_files RUN_PID RUN_DIR: the files the pull handler of that stack
# maps (its side files), but for libraries and programs
mapped_files() {
	local p
	p=$(pgrep -P "$1" -f -- "$2/pull.sock" | head -1)
	[ -n "$p" ] || return 0
	awk '$6 ~ /^\// { print $6 }' "/proc/$p/maps" | grep -v -e '\.so' -e '^/usr/' -e '^/lib' -e "^$BIN/" | sort -u
}

@test "the two nodes are two stacks on one database" {
	[ "$BS_URL" != "$B_URL" ]
	[ "$BS_RUN" != "$B_RUN" ]
	# the same database, as each node's handlers read their config
	a_db=$(BLINDSYNC_CONFIG=$BS_CONFIG "$BIN/blindsync-status" --value database)
	b_db=$(BLINDSYNC_CONFIG=$B_CONFIG "$BIN/blindsync-status" --value database)
	assert_equal "$a_db" "$b_db"
	[[ $a_db == postgresql://* ]]
	# no shared side file: each node's processes map their own (two
	# machines would not share them; a shared one would hide a missing
	# cross-node wake-up)
	a_files=$(mapped_files "$BS_PID" "$BS_RUN")
	b_files=$(mapped_files "$B_PID" "$B_RUN")
	[ -n "$a_files" ] || fail "node A's pull handler maps no side file"
	[ -n "$b_files" ] || fail "node B's pull handler maps no side file"
	shared=$(comm -12 <(echo "$a_files") <(echo "$b_files"))
	[ -z "$shared" ] || fail "the nodes share side files: $shared"
	# both answer
	req GET /v1/health
	assert_equal "$status" 200
	on_b req GET /v1/health
	assert_equal "$status" 200
}

@test "a push through A is pulled through B; a login on B gives a token A takes" {
	new_account
	push_ok "$ACCESS" notes "$(rec a 0 "$(payload 40)"),$(rec b 0 "$(payload 9 y)")"
	v=$(jb .collection_version)
	assert_equal "$v" 2
	on_b pull_ok "$ACCESS" notes
	assert_equal "$(jbc '[.records[] | [.id, .version, .payload]]')" \
		"[[\"a\",1,\"$(payload 40)\"],[\"b\",2,\"$(payload 9 y)\"]]"
	assert_equal "$(jb .collection_version)" 2
	# an update through B conflicts on A's view until A's version is used
	on_b push "$ACCESS" notes "$(rec a 0 "$(payload 3)")"
	assert_equal "$status" 200
	assert_equal "$(jbc '[.conflicts[] | [.id, .server_version]]')" '[["a",1]]'
	on_b push_ok "$ACCESS" notes "$(rec a 1 "$(payload 3)")"
	assert_equal "$(jbc .accepted)" '[{"id":"a","version":3}]'
	pull_ok "$ACCESS" notes since=2
	assert_equal "$(jbc '[.records[] | [.id, .version]]')" '[["a",3]]'
	# a device logged in through B works through A, and the reverse
	a_access=$ACCESS
	BS_URL=$B_URL login_ok "$USERNAME" "$KEY"
	b_access=$ACCESS
	[ "$a_access" != "$b_access" ]
	areq GET /v1/account/devices "$b_access"
	assert_equal "$status" 200
	assert_equal "$(jbc '.devices | length')" 2
	on_b areq GET /v1/account "$a_access"
	assert_equal "$status" 200
	# both nodes show the same status
	status_of "$a_access"
	a_status=$(jq -c '[.usage, [.collections[] | [.name, .version, .records, .bytes]]]' <<<"$body")
	on_b status_of "$b_access"
	assert_equal "$(jq -c '[.usage, [.collections[] | [.name, .version, .records, .bytes]]]' <<<"$body")" "$a_status"
}

# lp_round N: one long-poll on B (wait=20) woken by a push through A; prints
# the seconds from the push's answer to the pull's
lp_round() {
	local n=$1 t_push t_done
	on_b bg_get "lp$n" "/v1/collections/wake/pull?since=$n&wait=20" "$ACCESS"
	# it waits on B before the push (the gauge of B's metrics)
	on_b bs_wait 30 lp_waiting 1 || fail "the pull on B never waited: $(cat "$BATS_TEST_TMPDIR/lp$n.meta")"
	bg_done "lp$n" && fail "the pull on B answered before the push: $(cat "$BATS_TEST_TMPDIR/lp$n.body")"
	push_ok "$ACCESS" wake "$(rec "r$n" 0 AAAA)"
	t_push=$(now_ms)
	bg_wait "lp$n"
	t_done=$(now_ms)
	assert_equal "$status" 200
	assert_equal "$(jbc '[.records[] | [.id, .version]]')" "[[\"r$n\",$((n + 1))]]"
	# a wake-up, not the end of the wait
	awk -v e="$elapsed" 'BEGIN { exit !(e < 15) }' || fail "round $n: the pull on B took $elapsed s: not woken"
	echo "$(((t_done - t_push)))"
}

@test "a long-poll on B wakes on a push through A (best of 3 rounds within 1 s)" {
	new_account
	push_ok "$ACCESS" wake "$(rec r0 0 AAAA)"
	best=
	for n in 1 2 3; do
		lp_round "$n" >"$BATS_TEST_TMPDIR/ms"
		ms=$(tail -1 "$BATS_TEST_TMPDIR/ms")
		echo "round $n: woken $ms ms after the push answered" >&2
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	echo "# long-poll on B woken by a push through A: best of 3 rounds $best ms after the push's answer" >&3
	[ "$best" -lt 1000 ] || fail "the fastest cross-node wake-up took $best ms"
	# and a status long-poll on B (If-None-Match: the current ETag) too
	on_b status_of "$ACCESS"
	etag=$(header ETag)
	on_b bg_get st /v1/status?wait=20 "$ACCESS" -H "If-None-Match: $etag"
	on_b bs_wait 30 lp_waiting 1 || fail "the status on B never waited"
	push_ok "$ACCESS" wake "$(rec s 0 AAAA)"
	bg_wait st
	assert_equal "$status" 200
	[ "$(header ETag)" != "$etag" ] || fail "the status on B answered its old ETag"
	awk -v e="$elapsed" 'BEGIN { exit !(e < 15) }' || fail "the status on B took $elapsed s: not woken"
}

@test "8 writers split across both nodes on one collection: versions unique, nothing lost, counters equal a recount" {
	new_account
	out=$BATS_TEST_TMPDIR/pushes.jsonl
	# writer i pushes through node i % 2; the follower pages through B
	run python3 "$SYNC_LOAD" concurrent "$BS_URL,$B_URL" "$ACCESS" shared "$out" --clients 8 --pushes 40 --follow
	echo "$output"
	[ "$status" -eq 0 ] || fail "the pushes or their answers failed the checks"
	echo "# $(grep '^pushes:' <<<"$output")" >&3
	# the writers of both nodes did meet: conflicts on the shared ids
	[ "$(jq -s '[.[] | select(.status == 200) | .response.conflicts[]] | length' "$out")" -gt 0 ] ||
		fail "no record conflicted"
	[ "$(jq -s '[.[] | select(.status != 200 and .status != 409 and .status != 503)] | length' "$out")" -eq 0 ]
	run python3 "$SYNC_LOAD" verify-concurrent "$(bs_database "$BS_DATA")" "$USERNAME" shared "$out" 4
	echo "$output"
	[ "$status" -eq 0 ] || fail "the store does not match the accepted writes"
	echo "# $(head -1 <<<"$output")" >&3
	assert_no_drift
	# both nodes show the counters the store holds
	want=$(sql "SELECT version || ' ' || records || ' ' || bytes FROM collections WHERE name = 'shared'")
	for url in "$BS_URL" "$B_URL"; do
		BS_URL=$url areq GET /v1/collections "$ACCESS"
		assert_equal "$(jb '.collections[] | select(.name == "shared") | "\(.version) \(.records) \(.bytes)"')" "$want"
	done
	assert_status_usage "$USERNAME" "$ACCESS"
	on_b assert_status_usage "$USERNAME" "$ACCESS"
}
