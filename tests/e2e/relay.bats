#!/usr/bin/env bats
# Long-poll wake-ups across machines (relay.c): two stacks (two "nodes":
# nginx and handlers each, side files of their own through
# BLINDSYNC_RUNTIME_DIR) on one PostgreSQL database. A status long-poll
# waiting on node B answers as soon as a push through node A committed,
# well within a second of it, and a pull long-poll on B too; both ways
# round. The relays take the machine's relay lock once per node; writers
# never NOTIFY (the database sees one sender per node). On the cluster of
# $BS_PG_DIR (tests/with-pg.sh); skipped without one. And the login limit
# kept in the database: 3 logins per username over both nodes, not per node.
load ../lib

setup_file() {
	# the PostgreSQL pass of the e2e suite has a cluster; the other passes
	# (SQLite, the Apache fronts) skip this file
	[ -n "${BS_PG_DIR:-}" ] || return 0
	export DB_NAME=bs_relay_$$
	export URI=$("$BS_ROOT/scripts/pg.sh" createdb "$BS_PG_DIR" "$DB_NAME")
	export PWFILE=$BATS_FILE_TMPDIR/pw BSUSER=rl$RANDOM$RANDOM
	echo "relay password" >"$PWFILE"
	for n in a b; do
		mkdir -p "$BATS_FILE_TMPDIR/$n/side"
		printf '%s\n' "database = \"$URI\"" "secret_file = \"$BATS_FILE_TMPDIR/secret\"" \
			'password_hash = { iterations = 1000 }' \
			'rate_limits = { { route = "account.login", per = "username", limit = 3, window = 600 } }' \
			>"$BATS_FILE_TMPDIR/$n/blindsync.lua"
		node_start $n || return 1
	done
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$(cat "$BATS_FILE_TMPDIR/a/url")" \
		--home "$BATS_FILE_TMPDIR/home" register "$BSUSER"
	BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$(cat "$BATS_FILE_TMPDIR/a/url")" \
		--home "$BATS_FILE_TMPDIR/home" login "$BSUSER"
}

teardown_file() {
	for n in a b; do node_stop $n; done
	[ -z "${URI:-}" ] || "$BS_ROOT/scripts/pg.sh" dropdb "$BS_PG_DIR" "$DB_NAME"
}

# node_start NAME: the stack of node NAME on a free port (its URL in NAME/url)
node_start() {
	local d=$BATS_FILE_TMPDIR/$1 port
	port=$(bs_free_port)
	echo "http://127.0.0.1:$port" >"$d/url"
	BIN=$BIN PORT=$port BLINDSYNC_CONFIG=$d/blindsync.lua RUN_DIR=$d/run HANDLER_LOG=$d/handlers.log FRONT=nginx \
		BLINDSYNC_RUNTIME_DIR=$d/side setsid "$BS_ROOT/scripts/run.sh" >>"$d/run.log" 2>&1 &
	echo $! >"$d/pid"
	bs_wait 120 bs_answers "http://127.0.0.1:$port/v1/health"
}
node_stop() {
	local d=$BATS_FILE_TMPDIR/$1 pid
	[ -s "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	kill -TERM "$pid" 2>/dev/null
	bs_wait 60 bs_gone "$pid" || kill -KILL -- -"$pid" 2>/dev/null || true
	rm -f "$d/pid"
}
url() { cat "$BATS_FILE_TMPDIR/$1/url"; }
token() { sqlite3 "$BATS_FILE_TMPDIR/home/blindsync.db" "SELECT CAST(v AS TEXT) FROM settings WHERE k = 'access'"; }
# waiting NODE: at least one long-poll waits on that node
waiting() {
	[ "$(curl -s "$(url "$1")/v1/metrics" | sed -n 's/^blindsync_longpolls_waiting //p')" -ge 1 ] 2>/dev/null
}
put_via() {
	printf '%s' "$3" | BLINDSYNC_PASSWORD_FILE=$PWFILE "$BIN/blindsync" --server "$(url "$1")" \
		--home "$BATS_FILE_TMPDIR/home" put notes "$2" -
}
# now_ms: the wall clock in milliseconds
now_ms() { date +%s%3N; }

# poll_done FILE: the background long-poll wrote its status and its end time
poll_done() { [ "$(wc -l <"$1")" -ge 2 ]; }

# wake_across FROM TO: a status long-poll on TO, a push through FROM; prints
# the milliseconds from the push's answer to the long-poll's
wake_across() {
	local etag out=$BATS_TEST_TMPDIR/poll.$1$2 t_start t_push t_poll
	etag=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $(token)" "$(url "$2")/v1/status" |
		tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
	[ -n "$etag" ] || { echo "no ETag from $2" >&2; return 1; }
	( curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $(token)" -H "If-None-Match: $etag" \
		"$(url "$2")/v1/status?wait=50" >"$out"; now_ms >>"$out" ) &
	bs_wait 30 waiting "$2" || { echo "the long-poll on $2 never waited: $(cat "$out")" >&2; return 1; }
	t_start=$(now_ms)
	put_via "$1" "r-$1$2-$RANDOM" "from $1" >/dev/null || { echo "the push through $1 failed" >&2; return 1; }
	t_push=$(now_ms)
	bs_wait 60 poll_done "$out" || { echo "the long-poll on $2 never ended" >&2; return 1; }
	wait
	[ "$(head -1 "$out")" = 200 ] ||
		{ echo "the long-poll on $2 answered $(head -1 "$out") after $(($(sed -n 2p "$out") - t_push)) ms" >&2; return 1; }
	t_poll=$(sed -n 2p "$out")
	# the long-poll's answer after the push's answer, and after the push began
	echo "$((t_poll - t_push)) $((t_poll - t_start))"
}

@test "a status long-poll on node B wakes within a second of a push through node A, and the other way" {
	[ -n "${URI:-}" ] || skip "no PostgreSQL cluster (BS_PG_DIR: tests/with-pg.sh)"
	local r worst=-100000 whole=0 from to
	for i in 1 2 3; do
		for from in a b; do
			to=$([ $from = a ] && echo b || echo a)
			r=$(wake_across $from $to) || fail "no wake on $to for a push through $from"
			set -- $r
			[ "$1" -gt "$worst" ] && worst=$1
			[ "$2" -gt "$whole" ] && whole=$2
		done
	done
	# the CLI's push ends after its answer came: the poll often answers first (< 0)
	echo "# slowest wake across nodes: ${worst} ms after the push's answer, ${whole} ms after the push began" >&3
	[ "$worst" -lt 1000 ] || fail "a wake came $worst ms after the push"
}

@test "a pull long-poll on node B gets the record pushed through node A" {
	[ -n "${URI:-}" ] || skip "no PostgreSQL cluster (BS_PG_DIR: tests/with-pg.sh)"
	run curl -s -H "Authorization: Bearer $(token)" "$(url b)/v1/collections"
	local coll
	coll=$(jq -r '.collections[0].name' <<<"$output")
	[ -n "$coll" ] && [ "$coll" != null ] || fail "no collection: $output"
	local v
	v=$(jq -r '.collections[0].version' <<<"$output")
	local out=$BATS_TEST_TMPDIR/pull
	( curl -s -H "Authorization: Bearer $(token)" "$(url b)/v1/collections/$coll/pull?since=$v&wait=50" >"$out" ) &
	bs_wait 30 waiting b || fail "the pull never waited"
	put_via a r-pull "pulled across" >/dev/null
	bs_wait 10 test -s "$out" || fail "the pull on B did not answer within 10 s"
	wait
	[ "$(jq '.records | length' "$out")" -ge 1 ] || fail "no record: $(cat "$out")"
}

@test "one relay per node: the database sees one sending session per node, however many workers" {
	[ -n "${URI:-}" ] || skip "no PostgreSQL cluster (BS_PG_DIR: tests/with-pg.sh)"
	for n in a b; do
		grep -q "this process relays the long-poll wake-ups of this machine" "$BATS_FILE_TMPDIR/$n/handlers.log" ||
			fail "node $n has no relay"
		[ "$(grep -c "this process relays the long-poll wake-ups of this machine" \
			"$BATS_FILE_TMPDIR/$n/handlers.log")" -eq 1 ] || fail "node $n has more than one relay"
	done
	# two listeners: one per node
	run "$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" "$DB_NAME" -tA -c \
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
	assert_output 2
}

# bad_login NODE NAME: a login with a wrong key through NODE; prints the status
bad_login() {
	curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$(url "$1")/v1/account/login" \
		--data "{\"username\":\"$2\",\"auth_key\":\"$(head -c 32 /dev/zero | base64)\"}"
}

@test "the login limit counts both nodes: 3 per username in all, not 3 on each" {
	[ -n "${URI:-}" ] || skip "no PostgreSQL cluster (BS_PG_DIR: tests/with-pg.sh)"
	assert_equal "$(bad_login a victim)" 401
	assert_equal "$(bad_login b victim)" 401
	assert_equal "$(bad_login a victim)" 401
	# a fourth, on either node: each node saw fewer than 3, the database saw 3
	assert_equal "$(bad_login b victim)" 429
	assert_equal "$(bad_login a victim)" 429
	run curl -s -D - -o /dev/null -H 'Content-Type: application/json' "$(url b)/v1/account/login" \
		--data '{"username":"victim","auth_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'
	assert_output --partial "Retry-After:"
	# another name is not limited by it
	assert_equal "$(bad_login b bystander)" 401
	# and the database holds hashes, never the name
	run "$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" "$DB_NAME" -tA -c \
		"SELECT count(*) FROM rate_buckets WHERE position(convert_to('victim', 'UTF8') IN id) > 0"
	assert_output 0
	run "$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" "$DB_NAME" -tA -c "SELECT count(*) FROM rate_buckets"
	[ "$output" -ge 2 ] || fail "no buckets in the database: $output"
}
