#!/usr/bin/env bats
# The front end's own answers (requests nginx or Apache refuses before a
# handler sees them: a malformed request line or header, duplicate
# Content-Length, a header or URI too large, an unknown Transfer-Encoding,
# TRACE, an unsupported HTTP version) carry the JSON error body of
# docs/API.md with Cache-Control: no-store and an X-Request-Id, not HTML.
# Raw requests over a socket: curl would refuse to send most of these.
load ../lib

setup_file() {
	bs_setup_stack
}
teardown_file() { bs_stop; }

# raw NAME: send the malformed request NAME, print
# "status<TAB>content-type<TAB>cache-control<TAB>x-request-id<TAB>error code"
raw() {
	python3 - "$BS_PORT" "$1" <<-'PY'
	import json, socket, sys
	port, name = int(sys.argv[1]), sys.argv[2]
	cases = {
	    "dup-content-length": b"POST /v1/account/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                          b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
	    "header-too-large": b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
	    "uri-too-long": b"GET /v1/info?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
	    "transfer-encoding": b"POST /v1/account/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "trace": b"TRACE /v1/info HTTP/1.1\r\nHost: x\r\n\r\n",
	    "bad-request-line": b"GET /v1/info HTTP/1.1 junk\r\nHost: x\r\n\r\n",
	    "no-host": b"GET /v1/info HTTP/1.1\r\n\r\n",
	    "http-2.0": b"GET /v1/info HTTP/2.0\r\nHost: x\r\n\r\n",
	}
	s = socket.create_connection(("127.0.0.1", port), timeout=30)
	s.sendall(cases[name])
	data = b""
	while True:
	    try:
	        d = s.recv(65536)
	    except (ConnectionResetError, socket.timeout):
	        break
	    if not d:
	        break
	    data += d
	    head, sep, body = data.partition(b"\r\n\r\n")
	    if sep:
	        lens = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
	        if lens and len(body) >= int(lens[0]):
	            break
	s.close()
	head, _, body = data.partition(b"\r\n\r\n")
	lines = head.decode("latin-1").split("\r\n")
	status = lines[0].split(" ")[1] if lines and " " in lines[0] else "none"
	hdrs = {}
	for l in lines[1:]:
	    k, _, v = l.partition(":")
	    hdrs[k.strip().lower()] = v.strip()
	try:
	    code = json.loads(body)["error"]["code"]
	except Exception:
	    code = "(not JSON)"
	print("\t".join([status, hdrs.get("content-type", "-"), hdrs.get("cache-control", "-"),
	                 hdrs.get("x-request-id", "-"), code]))
	PY
}

# expect NAME: the front end's answer to NAME is a JSON error with the
# common headers, its code the one docs/API.md gives its status
expect_json_error() {
	local out st ct cc id code want
	out=$(raw "$1")
	IFS=$'\t' read -r st ct cc id code <<<"$out"
	case "$st" in
	200) return 0 ;; # Apache serves HTTP/2.0 as HTTP/1.1: not an error
	400 | 414 | 505) want=invalid_request ;;
	405) want=method_not_allowed ;;
	501) want=not_implemented ;;
	*) fail "$1: unexpected status: $out" ;;
	esac
	[ "$code" = "$want" ] || fail "$1: expected a JSON $want: $out"
	[ "$ct" = application/json ] || fail "$1: Content-Type: $out"
	[ "$cc" = no-store ] || fail "$1: Cache-Control: $out"
	[ "$id" != - ] && [ -n "$id" ] || fail "$1: no X-Request-Id: $out"
}

@test "duplicate Content-Length is a JSON 400" { expect_json_error dup-content-length; }
@test "an oversized header is a JSON 400" { expect_json_error header-too-large; }
@test "an oversized URI is a JSON 414" { expect_json_error uri-too-long; }
@test "an unknown Transfer-Encoding is a JSON error" { expect_json_error transfer-encoding; }
@test "TRACE is a JSON 405" { expect_json_error trace; }
@test "a malformed request line is a JSON 400" { expect_json_error bad-request-line; }
@test "HTTP/1.1 without Host is a JSON 400" { expect_json_error no-host; }
@test "an unsupported HTTP version is a JSON error" { expect_json_error http-2.0; }

@test "each front-end error has its own X-Request-Id" {
	a=$(raw dup-content-length | cut -f4)
	b=$(raw dup-content-length | cut -f4)
	[ "$a" != "$b" ] || fail "the same id twice: $a"
}

@test "the handlers' own errors are untouched" {
	req GET /v1/no-such-route
	assert_error 404 not_found
	req POST /v1/account/login -H 'Content-Type: application/json' --data-binary '{'
	assert_error 400 invalid_json
}
