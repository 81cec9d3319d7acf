#!/bin/sh
# run.sh: check the bs1 suite in a real browser, by hand (not part of make
# test: the page's browser tests are). Serves web/sdk on a free local port
# with python3, opens test/browser/check.html in headless Chromium, and
# prints what the page found. Needs chromium, python3 and web/sdk's
# node_modules (scripts/deps.sh node). Exit 0 only when every check passed.
set -eu
sdk=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
srv=""
chr=""
cleanup() {
	rc=$?
	for pid in $chr $srv; do
		kill "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
	rm -rf "$tmp" 2>/dev/null || :
	exit "$rc"
}
trap cleanup EXIT INT TERM
command -v chromium >/dev/null 2>&1 || { echo "run.sh: chromium is missing" >&2; exit 1; }
# the page reads the vectors from /vectors.json: serve a tree of links
mkdir -p "$tmp/www/test"
ln -s "$sdk/src" "$tmp/www/src"
ln -s "$sdk/node_modules" "$tmp/www/node_modules"
ln -s "$sdk/test/browser" "$tmp/www/test/browser"
ln -s "$sdk/../../tests/client/bs1-vectors.json" "$tmp/www/vectors.json"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
srv=$!
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
	--enable-logging=stderr --v=0 "http://127.0.0.1:$port/test/browser/check.html" >"$tmp/chromium.log" 2>&1 &
chr=$!
# Argon2id and the vectors take a few seconds; wait for the page's line (at most 120 s)
i=0
while ! grep -q 'BS1CHECK ok=' "$tmp/chromium.log" && [ "$i" -lt 120 ]; do
	sleep 1
	i=$((i + 1))
done
line=$(grep -o 'BS1CHECK ok=.*' "$tmp/chromium.log" | sed 's/", source: .*//' || :)
[ -n "$line" ] || { echo "run.sh: no result from the page in 120 s" >&2; tail -n 20 "$tmp/chromium.log" >&2; exit 1; }
echo "$line" | tr '|' '\n' | sed 's/^ //'
echo "$line" | grep -q ' fail=0 '
