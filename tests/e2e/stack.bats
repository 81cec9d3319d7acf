#!/usr/bin/env bats
# The stack as `make run` starts it: health when the store goes bad, two
# instances side by side, stopping leaves no process behind, and the
# store's files are for their owner alone.
load ../lib
load account_helpers

setup() {
	export BS_DATA=$BATS_TEST_TMPDIR/data
	export BS_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua
	bs_config "$BS_CONFIG"
}
teardown() {
	bs_stop
	# the two-instance test's stacks, whatever happened to the test
	for g in ${M1:-} ${M2:-}; do kill -TERM -- -"$g" 2>/dev/null || true; done
	M1= M2=
}

# pids of every process whose command line mentions this test's run dir
procs_of() { pgrep -f -- "$1" || true; }

# no_procs_of DIR...: no process mentions any of these run dirs
no_procs_of() {
	local d
	for d in "$@"; do [ -z "$(procs_of "$d")" ] || return 1; done
}

# instance_up PID PORT RUNDIR: that `make run` lives, answers on its port
# and is the one answering (its front end wrote its pid file: a stack of
# another test that took the port between bs_free_port and the start would
# answer as well)
instance_up() {
	kill -0 "$1" 2>/dev/null && bs_answers "http://127.0.0.1:$2/v1/info" &&
		{ [ -s "$3/nginx.pid" ] || [ -s "$3/httpd.pid" ]; }
}

# instances_settled PID1 PORT1 RUN1 PID2 PORT2 RUN2: each `make run` is up,
# or has exited
instances_settled() {
	while [ $# -ge 3 ]; do
		instance_up "$1" "$2" "$3" || bs_gone "$1" || return 1
		shift 3
	done
}

# pg_db_connections on|off: allow or refuse new connections to this test's
# PostgreSQL database; off also ends the ones open (the store goes away
# for this stack alone: the cluster serves the other tests on)
pg_db_connections() {
	local name
	# the database's name from its URI (it may refuse connections now)
	name=$(bs_pg_dbname)
	[ -n "$name" ] || return 1
	"$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" postgres -c \
		"ALTER DATABASE \"$name\" WITH ALLOW_CONNECTIONS $([ "$1" = on ] && echo true || echo false)" || return 1
	[ "$1" = on ] || "$BS_ROOT/scripts/pg.sh" psql "$BS_PG_DIR" postgres -tA -c \
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$name'" >/dev/null
}

# health_is STATUS: /v1/health answers STATUS
health_is() { req GET /v1/health; [ "$status" = "$1" ]; }

@test "PostgreSQL: health answers 503 while the database refuses connections, 200 once it takes them again" {
	bs_backend pg || skip "the PostgreSQL store's outage (SQLite: the test below)"
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	new_account
	req GET /v1/health
	assert_equal "$status" 200
	pg_db_connections off
	bs_wait 30 health_is 503 || fail "health answers $status while the database is away"
	assert_error 503 unavailable
	[ -n "$(header Retry-After)" ]
	# a request that needs the store: 503 too, never a 500
	areq GET /v1/account "$ACCESS"
	assert_error 503 unavailable
	[ -n "$(header Retry-After)" ]
	pg_db_connections on
	# the handlers reconnect by themselves
	bs_wait 30 health_is 200 || fail "health answers $status after the database came back"
	# every thread of the account handler (2 x 8) notices its connection
	# ended while idle and takes a new one before its request: no 503 now
	for _ in $(seq 1 40); do
		areq GET /v1/account "$ACCESS"
		assert_equal "$status" 200
	done
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}

@test "health answers 503 when the store file is removed or replaced" {
	bs_backend sqlite || skip "an SQLite store's file (PostgreSQL: the test above)"
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	req GET /v1/health
	assert_equal "$status" 200
	mv "$BS_DATA/blindsync.db" "$BS_DATA/moved.db"
	req GET /v1/health
	if bs_front_supports store-vanish-503; then
		assert_error 503 unavailable
		[ -n "$(header Retry-After)" ]
	else
		# CGI: the request's fresh handler creates a new, empty store there,
		# as at the very first start (docs/DEPLOY-apache.md)
		assert_equal "$status" 200
		[ -f "$BS_DATA/blindsync.db" ]
	fi
	mv "$BS_DATA/moved.db" "$BS_DATA/blindsync.db"
	req GET /v1/health
	assert_equal "$status" 200
	# garbage written over the header, in place (same file)
	cp "$BS_DATA/blindsync.db" "$BS_DATA/keep.db"
	printf 'this is no longer a database!!!!' | dd of="$BS_DATA/blindsync.db" conv=notrunc status=none
	req GET /v1/health
	# every front: under CGI the fresh handler cannot open the store and
	# answers the same JSON 503 itself before exiting
	assert_error 503 unavailable
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}

@test "make run: the store and its side files are created mode 0600" {
	bs_backend sqlite || skip "an SQLite store's files (PostgreSQL keeps its own, mode 0600 in its data directory)"
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	register_ok "$(new_username)" "$(new_key)"
	local db=$BS_DATA/blindsync.db f n=0
	[ -f "$db" ]
	# CGI handlers exit after each request, and SQLite removes the -wal
	# and -shm files with the last connection: elsewhere they are open
	if bs_front_supports store-vanish-503; then
		[ -f "$db-wal" ] && [ -f "$db-shm" ]
	fi
	for f in "$db" "$db-wal" "$db-shm" "$db-writelock" "$db-limits" "$db-metrics" "$db-notify"; do
		[ -e "$f" ] || continue
		echo "$f: $(stat -c %a "$f")"
		assert_equal "$(stat -c %a "$f")" 600
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}

@test "a handler that is down answers a JSON 503, not nginx's HTML" {
	bs_front_skip handler-socket
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	# the account handler's socket goes away (its processes stay: killing
	# them would make run.sh stop the whole stack, as it should)
	mv "$BS_RUN/account.sock" "$BS_RUN/account.sock.away"
	req GET /v1/account
	assert_error 503 unavailable
	[ -n "$(header Retry-After)" ]
	[[ "$body" != *"<html"* ]]
	mv "$BS_RUN/account.sock.away" "$BS_RUN/account.sock"
	req GET /v1/account
	assert_error 401 unauthorized
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}

@test "make run: two instances on two ports with two configs" {
	cfg2=$BATS_TEST_TMPDIR/two.lua
	mkdir -p "$BATS_TEST_TMPDIR/data2"
	if bs_backend sqlite; then db2=$BATS_TEST_TMPDIR/data2/b.db; else db2=$(bs_database "$BATS_TEST_TMPDIR/data2"); fi
	printf 'database = "%s"\nsecret_file = "%s/data2/secret"\nregistration = "closed"\n' \
		"$db2" "$BATS_TEST_TMPDIR" >"$cfg2"
	cd "$BS_ROOT"
	# two free ports can be taken by a stack of another test before the two
	# instances bind them (files run side by side): then an instance exits,
	# and both start again on two other ports, as bs_start does
	for try in 1 2 3; do
		p1=$(bs_free_port); p2=$(bs_free_port)
		[ "$p1" != "$p2" ] || continue
		rm -rf "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
		setsid make -s run PORT=$p1 BLINDSYNC_CONFIG="$BS_CONFIG" RUN_DIR="$BATS_TEST_TMPDIR/r1" >"$BATS_TEST_TMPDIR/m1.log" 2>&1 &
		m1=$!
		M1=$m1
		setsid env PORT=$p2 BLINDSYNC_CONFIG="$cfg2" RUN_DIR="$BATS_TEST_TMPDIR/r2" make -s run >"$BATS_TEST_TMPDIR/m2.log" 2>&1 &
		m2=$!
		M2=$m2
		# each `make run` checks the build and the packages, then starts: on
		# a loaded machine that takes long. Wait until both answer (or one
		# exits).
		bs_wait 180 instances_settled "$m1" "$p1" "$BATS_TEST_TMPDIR/r1" "$m2" "$p2" "$BATS_TEST_TMPDIR/r2" ||
			fail "no answer; $(cat "$BATS_TEST_TMPDIR"/m?.log)"
		instance_up "$m1" "$p1" "$BATS_TEST_TMPDIR/r1" && instance_up "$m2" "$p2" "$BATS_TEST_TMPDIR/r2" && break
		echo "# try $try: an instance exited: $(tail -q -n 2 "$BATS_TEST_TMPDIR"/m?.log)" >&3
		kill -TERM -- -"$m1" -"$m2" 2>/dev/null || true
		bs_wait 90 no_procs_of "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2" || true
	done
	instance_up "$m1" "$p1" "$BATS_TEST_TMPDIR/r1" || fail "instance 1 is not up: $(cat "$BATS_TEST_TMPDIR/m1.log")"
	instance_up "$m2" "$p2" "$BATS_TEST_TMPDIR/r2" || fail "instance 2 is not up: $(cat "$BATS_TEST_TMPDIR/m2.log")"
	assert_equal "$(curl -s "http://127.0.0.1:$p1/v1/info" | jq -r .registration)" open
	assert_equal "$(curl -s "http://127.0.0.1:$p2/v1/info" | jq -r .registration)" closed
	if bs_backend sqlite; then
		[ -f "$BATS_TEST_TMPDIR/data2/b.db" ]
	else
		# the second instance's database got the schema
		[ "$(bs_sql "SELECT count(*) FROM accounts" "$BATS_TEST_TMPDIR/data2")" = 0 ]
	fi
	# Ctrl-C: SIGINT to the whole foreground process group
	kill -INT -- -"$m1"
	# SIGTERM to the group, as a supervisor sends it
	kill -TERM -- -"$m2"
	bs_wait 90 no_procs_of "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2" || true
	assert_equal "$(procs_of "$BATS_TEST_TMPDIR/r1")$(procs_of "$BATS_TEST_TMPDIR/r2")" ""
	run curl -s "http://127.0.0.1:$p1/v1/info"
	assert_failure
	run curl -s "http://127.0.0.1:$p2/v1/info"
	assert_failure
	[ -z "$(ls "$BATS_TEST_TMPDIR"/r1/*.sock 2>/dev/null)" ]
}

@test "SIGTERM to run.sh alone stops nginx and every handler" {
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	req GET /v1/health
	assert_equal "$status" 200
	kill -TERM "$BS_PID"
	bs_wait 90 no_procs_of "$BS_RUN" || true
	assert_equal "$(procs_of "$BS_RUN")" ""
	BS_PID=
}

@test "as root, the Apache front ends start without user namespaces" {
	[ "$(id -u)" = 0 ] || skip "the root path of scripts/run.sh"
	[ "$(bs_front)" != nginx ] || skip "FRONT=nginx starts no Apache"
	# an unshare that fails, as in a chroot or a container under Docker's
	# default seccomp profile
	mkdir -p "$BATS_TEST_TMPDIR/nons"
	printf '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n' \
		>"$BATS_TEST_TMPDIR/nons/unshare"
	chmod 0755 "$BATS_TEST_TMPDIR/nons/unshare"
	PATH=$BATS_TEST_TMPDIR/nons:$PATH BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_start
	# Apache serves as nobody, never as root
	users=$(ps -eo user:32=,args= | awk -v c="$BS_RUN/httpd.conf" '$2 ~ /apache2$/ && index($0, c) { print $1 }' | sort -u)
	assert_equal "$users" nobody
	# the handlers (started by Apache behind fcgid and cgi) write the
	# root-owned store: an account is made and logs in
	new_account
	! bs_backend sqlite || assert_equal "$(stat -c %u "$BS_DATA/blindsync.db")" 0
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bs_stop
}
