# tests/e2e/blob_helpers.bash: helpers of the whole-blob end-to-end tests
# (backups.bats, backups_big.bats, slots.bats): files to upload, the checks
# of a PUT's answer and of a download, raw requests and cut-short
# uploads. Load it after ../lib and account_helpers.
#
# As in account_helpers.bash: functions that call req or fetch (and so set
# $status, $body, $headers) must be called directly, never inside $(...).
#
# Versions come from one counter for the whole store (every slot and every
# account's backups), which never goes back: a test never assumes a number,
# it takes each version from the answer to its write. LAST is the version of
# this test's last successful write (0 before the first): every write must
# get a greater one. V is the version of the last write checked.
LAST=0

# header NAME: as in lib.bash (the first value of a response header of the
# last request), in plain bash: these files call it often
header() {
	local n=${1,,} line
	while IFS= read -r line; do
		if [[ ${line,,} == "$n:"* ]]; then
			line=${line#*:}
			printf '%s\n' "${line# }"
			return 0
		fi
	done <<<"$headers"
}

# blob N: a fresh file of N random bytes; prints its path
blob() {
	local f=$BATS_TEST_TMPDIR/blob.$1.$SRANDOM$SRANDOM
	head -c "$1" /dev/urandom >"$f"
	echo "$f"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# assert_put WHAT FILE STATUS MEMBER VALUE: the last request was a PUT of
# FILE answered with STATUS (201/200), the usual headers, and the body
# {MEMBER: VALUE, version, bytes}; sets V to the new version, which must be
# greater than LAST (and becomes LAST). WHAT names the request in failures.
assert_put() {
	local what=$1 f=$2 st=$3 m=$4 val=$5
	[ "$status" = "$st" ] || fail "$what: expected $st, got $status: $body"
	assert_common_headers
	assert_equal "$(header Content-Type)" application/json
	V=$(jq -r .version <<<"$body")
	[[ $V =~ ^[1-9][0-9]*$ ]] || fail "$what: no version in $body"
	[ "$V" -gt "$LAST" ] || fail "$what: version $V is not greater than $LAST, given before"
	LAST=$V
	assert_equal "$(header ETag)" "\"$V\""
	assert_equal "$(header X-Content-SHA256)" "$(sha "$f")"
	jq -e --arg m "$m" --arg val "$val" --argjson v "$V" --argjson b "$(stat -c %s "$f")" \
		'. == {($m): $val, version: $v, bytes: $b}' <<<"$body" >/dev/null || fail "$what: body $body"
}

# fetch PATH OUT [curl args...]: GET (unless the args say otherwise) into
# the file OUT; sets $status and $headers (not $body)
fetch() {
	local p=$1 o=$2
	shift 2
	local hf=$BATS_TEST_TMPDIR/fetch.headers
	status=$(curl -s -o "$o" -D "$hf" -w '%{http_code}' "$@" "$BS_URL$p")
	headers=$(tr -d '\r' <"$hf")
}

# assert_download WHAT PATH FILE VERSION [curl args...]: GET PATH answers
# FILE byte-exact, with its version, length, type and SHA-256
assert_download() {
	local what=$1 p=$2 f=$3 v=$4 out=$BATS_TEST_TMPDIR/got
	shift 4
	fetch "$p" "$out" "$@"
	[ "$status" = 200 ] || fail "$what: $status $(cat "$out")"
	cmp "$f" "$out" || fail "$what: the bytes differ from what was stored"
	assert_common_headers
	assert_equal "$(header Content-Type)" application/octet-stream
	assert_equal "$(header Content-Length)" "$(stat -c %s "$f")"
	assert_equal "$(header ETag)" "\"$v\""
	assert_equal "$(header X-Content-SHA256)" "$(sha "$f")"
}

# raw_req METHOD PATH [HEADER...]: a request without a body over a raw
# connection (so that any byte after the headers would show); sets $status,
# $headers (the status line first) and $extra (the number of bytes after
# the header block), and writes those bytes to $BATS_TEST_TMPDIR/raw.body
raw_req() {
	local out=$BATS_TEST_TMPDIR/raw.head
	python3 - "$BS_PORT" "$BATS_TEST_TMPDIR/raw.body" "$@" >"$out" <<-'EOF'
		import socket, sys
		port, body, method, path, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
		s = socket.create_connection(("127.0.0.1", int(port)))
		lines = ["%s %s HTTP/1.1" % (method, path), "Host: localhost", "Connection: close"] + extra
		s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
		s.settimeout(10)
		data = b""
		while True:
		    d = s.recv(65536)
		    if not d:
		        break
		    data += d
		head, _, rest = data.partition(b"\r\n\r\n")
		open(body, "wb").write(rest)
		sys.stdout.write(head.decode().replace("\r\n", "\n") + "\n\n%d\n" % len(rest))
	EOF
	headers=$(sed '/^$/,$d' "$out")
	status=$(head -1 "$out" | cut -d' ' -f2)
	extra=$(tail -1 "$out")
}

# head_req PATH [HEADER...]: raw_req HEAD
head_req() { raw_req HEAD "$@"; }

# half_put PATH SIZE SENT [HEADER...]: a PUT that announces SIZE bytes,
# sends SENT of them, then closes the connection
half_put() {
	python3 - "$BS_PORT" "$@" <<-'EOF'
		import os, socket, sys, time
		port, path, size, sent, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
		s = socket.create_connection(("127.0.0.1", int(port)))
		lines = ["PUT %s HTTP/1.1" % path, "Host: localhost", "Content-Length: %s" % size] + extra
		s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
		s.sendall(os.urandom(int(sent)))
		time.sleep(0.5)
		s.close()
	EOF
}

# wait_log PATTERN N: until the handlers' log has N lines matching PATTERN
wait_log() {
	bs_wait 60 log_has "$1" "$2" || fail "no $2 log line(s) matching $1"
}
# log_has PATTERN N: the handlers' log has N lines matching PATTERN
log_has() { [ "$(grep -cE "$1" "$BS_LOG")" -ge "$2" ]; }

# cut_count ROUTE: how many cut-short bodies of ROUTE (backups.put,
# slots.put) the handlers have logged
cut_count() { grep -cE "$1 400 .*The body ended after" "$BS_LOG" || true; }

# cut_seen ROUTE BEFORE N: the handler saw N cut-short bodies of ROUTE since
# cut_count said BEFORE. Under mod_fcgid, which reads the whole body before
# it starts the request, it never sees one (docs/DEPLOY-apache.md), so the
# count stays BEFORE.
cut_seen() {
	if bs_front_supports body-streaming; then
		wait_log "$1 400 .*The body ended after" $(($2 + $3))
	else
		sleep 1
		assert_equal "$(cut_count "$1")" "$2"
	fi
}
