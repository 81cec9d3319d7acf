#!/usr/bin/env bats
# Large backups (api.md §6: "memory bounded independently of the body size")
# through the real nginx: a 200 MiB backup goes up and comes back byte-exact
# while every blindsync-backups process stays under 16 MiB of peak RSS
# (VmHWM); and kill -9 of the backups workers in the middle of 50 MiB
# uploads leaves the previous version readable and the store intact.
#
# Under the sanitizer build (BIN ending in -san) ASan's own memory (shadow,
# quarantine, allocator caches) comes on top, so there the bound applies to
# the growth of each process's VmHWM during the transfers instead.
load ../lib
load account_helpers
load blob_helpers

setup_file() {
	bs_setup_stack 'rate_limits = {}' 'plans = { default = { backup_bytes = 256 * MiB, bytes = 1 * GiB } }'
}
teardown_file() { bs_stop; }

san() { [[ $BIN == *-san ]]; }

# backups_pids: the blindsync-backups supervisor and its workers
backups_pids() { pgrep -f -- "$BS_RUN/backups.sock"; }
backups_supervisor() { pgrep -P "$BS_PID" -f -- "$BS_RUN/backups.sock"; }
backups_workers() { pgrep -P "$1" || true; }

# hwm PID: the process's peak resident set size, in kB
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# upload FILE IF_MATCH [curl args...]: PUT backup "big" from FILE, streamed
# (-T: curl reads the file as it sends); prints the status. The answer's body
# is left in $BATS_TEST_TMPDIR/up.body.
upload() {
	local f=$1 im=$2
	shift 2
	curl -s -o "$BATS_TEST_TMPDIR/up.body" -w '%{http_code}' -T "$f" -H "Authorization: Bearer $ACCESS" \
		${im:+-H "If-Match: \"$im\""} "$@" "$BS_URL/v1/backups/big"
}

# download OUT: GET backup "big" into OUT; sets $status, $headers
download() { fetch /v1/backups/big "$1" -H "Authorization: Bearer $ACCESS"; }
# download_ok FILE: download, and it answered 200
download_ok() { download "$1"; [ "$status" = 200 ]; }
# workers_back SUPERVISOR: the supervisor has its two workers again
workers_back() { [ "$(backups_workers "$1" | wc -l)" -ge 2 ]; }

# up_version: the version in the body of the last upload's answer. Versions
# come from one counter for the whole store, so they are learned, never
# assumed.
up_version() {
	local v
	v=$(jq -r .version "$BATS_TEST_TMPDIR/up.body")
	[[ $v =~ ^[1-9][0-9]*$ ]] || fail "no version in the upload's answer: $(cat "$BATS_TEST_TMPDIR/up.body")"
	echo "$v"
}

@test "a 200 MiB backup goes up and comes back byte-exact, every backups process under 16 MiB peak RSS" {
	mib=200
	bytes=$((mib * 1048576))
	f=$BATS_FILE_TMPDIR/big.bin
	head -c $bytes /dev/urandom >"$f"
	new_account
	# mod_fcgid and CGI start the handler per request (no process to watch):
	# there only the byte-exact round trip is checked (docs/DEPLOY-apache.md)
	procs=1
	bs_front_supports handler-socket || { procs=0; echo "# FRONT=$(bs_front): no long-running backups processes, RSS not measured" >&3; }
	pids=
	[ $procs = 0 ] || pids=$(backups_pids)
	[ $procs = 0 ] || [ "$(wc -w <<<"$pids")" -ge 3 ] || fail "expected a supervisor and 2 workers, got: $pids"
	declare -A before
	for p in $pids; do
		before[$p]=$(hwm "$p")
		echo "# before: pid $p VmHWM ${before[$p]} kB" >&3
	done

	t0=$(date +%s%N)
	st=$(upload "$f" "")
	t1=$(date +%s%N)
	[ "$st" = 201 ] || fail "upload: $st $(cat "$BATS_TEST_TMPDIR/up.body")"
	v=$(up_version)
	assert_equal "$(jq -c . "$BATS_TEST_TMPDIR/up.body")" "{\"name\":\"big\",\"version\":$v,\"bytes\":$bytes}"
	out=$BATS_FILE_TMPDIR/big.out
	download "$out"
	t2=$(date +%s%N)
	assert_equal "$status" 200
	assert_equal "$(header Content-Length)" $bytes
	assert_equal "$(header ETag)" "\"$v\""
	cmp "$f" "$out" || fail "the downloaded backup differs"
	assert_equal "$(header X-Content-SHA256)" "$(sha "$f")"
	rm -f "$out"
	echo "# $mib MiB: upload $(((t1 - t0) / 1000000)) ms, download $(((t2 - t1) / 1000000)) ms" >&3
	[ $procs = 1 ] || return 0

	assert_equal "$(backups_pids | sort)" "$(sort <<<"$pids")"
	max=0 grow=0
	for p in $pids; do
		h=$(hwm "$p")
		echo "# after: pid $p VmHWM $h kB (+$((h - before[$p])) kB)" >&3
		[ "$h" -gt "$max" ] && max=$h
		[ $((h - before[$p])) -gt "$grow" ] && grow=$((h - before[$p]))
	done
	if san; then
		echo "# sanitizer build: largest VmHWM $max kB; largest growth $grow kB (bound 16384 kB)" >&3
		[ "$grow" -lt 16384 ] || fail "a blindsync-backups process grew by $grow kB"
	else
		echo "# largest VmHWM of blindsync-backups: $max kB (bound 16384 kB)" >&3
		[ "$max" -lt 16384 ] || fail "a blindsync-backups process peaked at $max kB"
	fi
}

# wait_staged SUPERVISOR SIZE: until a worker holds a temporary file of SIZE
# bytes in the store's directory (an upload staged whole), at most 120 s
wait_staged() {
	local w fd end=$((SECONDS + 120))
	while [ "$SECONDS" -le "$end" ]; do
		for w in $(backups_workers "$1"); do
			for fd in $(find "/proc/$w/fd" -lname "$BS_DATA/#*" 2>/dev/null); do
				[ "$(stat -Lc %s "$fd" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
			done
		done
		sleep 0.01
	done
	return 1
}

@test "kill -9 of the backups workers in the middle of 50 MiB uploads: the old version stays readable, the store intact" {
	bs_front_skip handler-socket
	new_account
	old=$BATS_TEST_TMPDIR/old.bin
	head -c 1048576 /dev/urandom >"$old"
	st=$(upload "$old" "")
	assert_equal "$st" 201
	v1=$(up_version)
	new=$BATS_TEST_TMPDIR/new.bin
	head -c $((50 * 1048576)) /dev/urandom >"$new"
	sup=$(backups_supervisor)
	[ -n "$sup" ] && [ "$(wc -w <<<"$sup")" -eq 1 ] || fail "no single blindsync-backups supervisor: '$sup'"

	# rounds 1-3: the body is still streaming in (curl sends 25 MiB/s, the
	# kill comes after 0.3 to 0.9 s); round 4: full speed, the kill comes
	# as soon as the whole body is staged (its unnamed temporary file next to
	# the store has all 50 MiB), while it is copied into the store; round 5:
	# full speed, the kill after 0.2 to 0.7 s
	for round in 1 2 3 4 5; do
		delay=0.$((3 * round))
		rate=(--limit-rate 25M)
		if [ $round -eq 4 ]; then
			delay=staged
			rate=()
		elif [ $round -eq 5 ]; then
			delay=0.$((RANDOM % 6 + 2))
			rate=()
		fi
		upload "$new" "$v1" "${rate[@]}" >"$BATS_TEST_TMPDIR/st" &
		cpid=$!
		if [ "$delay" = staged ]; then
			wait_staged "$sup" $((50 * 1048576)) || delay="staged (not seen)"
		else
			sleep "$delay"
		fi
		workers=$(backups_workers "$sup")
		[ -n "$workers" ] || fail "round $round: no workers"
		# shellcheck disable=SC2086
		kill -KILL $workers
		wait $cpid || true
		st=$(cat "$BATS_TEST_TMPDIR/st")
		echo "# round $round: killed $(wc -w <<<"$workers") workers at ${delay}; the upload got ${st:-nothing}" >&3
		# the supervisor brings the workers back
		bs_wait 60 workers_back "$sup" || fail "round $round: the workers did not come back"
		bs_wait 60 download_ok "$BATS_TEST_TMPDIR/got" || true
		if [ "$st" = 200 ]; then
			# the kill came after the commit: the new version is whole, and
			# greater than the one it replaced
			v2=$(up_version)
			[ "$v2" -gt "$v1" ] || fail "round $round: version $v2 is not greater than $v1"
			assert_equal "$(header ETag)" "\"$v2\""
			cmp "$new" "$BATS_TEST_TMPDIR/got"
			break
		fi
		assert_equal "$status" 200
		if [ "$(header ETag)" != "\"$v1\"" ]; then
			# the kill came after the commit but before the answer (the
			# upload got no 200): then the new version is whole, and greater
			v2=$(header ETag)
			v2=${v2//\"/}
			[[ $v2 =~ ^[0-9]+$ ]] && [ "$v2" -gt "$v1" ] ||
				fail "round $round: ETag $(header ETag) is neither \"$v1\" nor a greater version"
			echo "# round $round: the upload was committed before the kill (version $v2)" >&3
			cmp "$new" "$BATS_TEST_TMPDIR/got" || fail "round $round: the committed version is not whole"
			assert_equal "$(header X-Content-SHA256)" "$(sha "$new")"
			break
		fi
		cmp "$old" "$BATS_TEST_TMPDIR/got" || fail "round $round: the old version is not intact"
		assert_equal "$(header X-Content-SHA256)" "$(sha "$old")"
	done
	! bs_backend sqlite || assert_equal "$(sql 'PRAGMA integrity_check')" ok
	v=$(sql "SELECT b.version FROM backups b JOIN accounts a ON a.id = b.account_id WHERE a.username = '$USERNAME'")
	assert_equal "$(sql "SELECT count(*), min(CAST(a.usage_bytes = b.bytes AS INTEGER)) FROM backups b JOIN accounts a ON a.id = b.account_id
		WHERE a.username = '$USERNAME'")" "1|1"
	# and the restarted workers take the upload
	if [ "$v" = "$v1" ]; then
		st=$(upload "$new" "$v1")
		assert_equal "$st" 200
		v2=$(up_version)
		[ "$v2" -gt "$v1" ] || fail "version $v2 is not greater than $v1"
		download "$BATS_TEST_TMPDIR/got"
		cmp "$new" "$BATS_TEST_TMPDIR/got"
		assert_equal "$(header ETag)" "\"$v2\""
	fi
}

