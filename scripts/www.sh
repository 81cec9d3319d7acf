#!/bin/sh
# www.sh: lay out the page (web/app, issue 11) the way it is served, into
# one directory whose paths are the URL paths, so that one nginx file
# (nginx/blindsync-page.conf.in) and one Apache file
# (apache/blindsync-page.conf.in) serve it, for make install and make run:
#   www.sh [--link] DEST
#     DEST/index.html                           web/app/index.html, served at /
#     DEST/app/                                 web/app, without its test/ and bench/
#     DEST/sdk/                                 web/sdk/src, each bare 'hash-wasm'
#                                               import rewritten to the path below
#     DEST/vendor/hash-wasm@V/index.esm.min.js  the one file of hash-wasm (version V,
#                                               from web/sdk/node_modules) the page loads
#     DEST/vendor/uqr@U/index.js                uqr's one file (dist/index.mjs), the QR
#                                               code of the page's two-factor setup,
#                                               loaded only then (web/app/security.js
#                                               names version U); left out, with a
#                                               warning, when web/sdk lacks it (the
#                                               page then shows the secret as text)
# Only what the page loads at run time: no node_modules tree, no dev
# dependency, no test. --link (make run): index.html, app/ and the vendor
# file are symbolic links into the checkout, so that an edited page shows
# at the next reload; the SDK is copied (its import is rewritten), so an
# edited SDK shows at the next make run. DEST is replaced whole.
# Fails, writing nothing, when hash-wasm is not in web/sdk/node_modules
# (scripts/deps.sh node) or when a module imports another bare name,
# which a browser could not load.
set -eu
link=0
if [ "${1:-}" = --link ]; then link=1; shift; fi
[ $# -eq 1 ] || { echo "usage: www.sh [--link] DEST" >&2; exit 2; }
dest=$1
here=$(cd "$(dirname "$0")/.." && pwd)
app=$here/web/app
src=$here/web/sdk/src
hw=$here/web/sdk/node_modules/hash-wasm
die() { echo "www.sh: $*" >&2; exit 1; }

[ -f "$hw/package.json" ] && [ -f "$hw/dist/index.esm.min.js" ] ||
	die "no hash-wasm in web/sdk/node_modules: run scripts/deps.sh node (Node 20+)"
ver=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([0-9A-Za-z.+-]*\)".*/\1/p' "$hw/package.json" | head -n 1)
[ -n "$ver" ] || die "cannot read hash-wasm's version in $hw/package.json"
vendor=/vendor/hash-wasm@$ver/index.esm.min.js
uqr=$here/web/sdk/node_modules/uqr
uver=
if [ -f "$uqr/package.json" ] && [ -f "$uqr/dist/index.mjs" ]; then
	uver=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([0-9A-Za-z.+-]*\)".*/\1/p' "$uqr/package.json" | head -n 1)
fi
[ -n "$uver" ] || echo "www.sh: no uqr in web/sdk/node_modules: the page's two-factor setup shows no QR code" >&2

case "$dest" in /*) ;; *) dest=$PWD/$dest ;; esac
tmp=$dest.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp/sdk" "$tmp/vendor/hash-wasm@$ver"

# the SDK's sources, with the one bare import the browser cannot resolve
# rewritten to the vendor path (static "from 'hash-wasm'" and dynamic
# "import('hash-wasm')", either quote)
(cd "$src" && find . -type f -name '*.js') | while read -r f; do
	mkdir -p "$tmp/sdk/$(dirname "$f")"
	sed -E -e "s#(from|import)([[:space:]]*\(?[[:space:]]*)'hash-wasm'#\1\2'$vendor'#g" \
	    -e "s#(from|import)([[:space:]]*\(?[[:space:]]*)\"hash-wasm\"#\1\2\"$vendor\"#g" \
	    "$src/$f" >"$tmp/sdk/$f"
done
if [ -n "$uver" ]; then
	mkdir -p "$tmp/vendor/uqr@$uver"
	if [ $link = 1 ]; then
		ln -s "$uqr/dist/index.mjs" "$tmp/vendor/uqr@$uver/index.js"
	else
		cp "$uqr/dist/index.mjs" "$tmp/vendor/uqr@$uver/index.js"
	fi
fi
if [ $link = 1 ]; then
	ln -s "$app/index.html" "$tmp/index.html"
	ln -s "$app" "$tmp/app"
	ln -s "$hw/dist/index.esm.min.js" "$tmp/vendor/hash-wasm@$ver/index.esm.min.js"
else
	cp "$app/index.html" "$tmp/index.html"
	mkdir -p "$tmp/app"
	(cd "$app" && find . -type f ! -path './test/*' ! -path './bench/*') | while read -r f; do
		mkdir -p "$tmp/app/$(dirname "$f")"
		cp "$app/$f" "$tmp/app/$f"
	done
	cp "$hw/dist/index.esm.min.js" "$tmp/vendor/hash-wasm@$ver/index.esm.min.js"
fi

# every import the page makes must be a path: a bare name left would fail
# in the browser, far from here
bad=$(find "$tmp/sdk" "$app" -name '*.js' ! -path "$app/test/*" ! -path "$app/bench/*" -exec \
	grep -HnE "(from|import)[[:space:]]*\(?[[:space:]]*['\"][^./'\"]" {} + | grep -v '^[^:]*:[0-9]*:[[:space:]]*\*' || true)
[ -z "$bad" ] || die "a module imports a bare name the browser cannot resolve:
$bad"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
