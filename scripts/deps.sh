#!/bin/sh
# scripts/deps.sh: install the Debian packages blindsync needs, only when missing.
# Usage: scripts/deps.sh [build|run|test|bench|fuzz|apache|node|browser]...  (default: build run test)
# (apache: Debian's Apache 2.4 and mod_fcgid, for FRONT=apache|apache-fcgid|cgi;
# `make test` (tests/run-all.sh) asks for build run test apache)
# (fuzz: clang and its libFuzzer runtime, for `make fuzz`)
# (browser: Debian's chromium, for the page's test web/app/test, driven by
# web/sdk's playwright-core: ask for node too)
# (node: NODE 20 OR LATER is required, for the SDK's tests, the page's tests
# and bench, and for make install to lay out the page (hash-wasm comes from
# web/sdk/node_modules); the server itself needs no Node. Debian 12's own
# nodejs is 18, too old: install Node 20+ and put it first on the PATH.
# This group installs Debian's nodejs and npm only when no `node` is on the
# PATH, then checks that it is Node 20 or later (and stops, saying so, when
# it is not), then runs `npm ci` in web/sdk when its node_modules is missing
# or older than its package-lock.json)
# As root it runs apt-get quietly and non-interactively; otherwise it prints
# the exact apt-get line and exits 1. It never touches anything else.
set -eu

# Every command the build, run.sh and the tests use that is not in a minimal
# Debian (debootstrap --variant=minbase: the Essential packages, whose
# coreutils, util-linux (setsid, setpriv), mawk, sed, grep, findutils,
# diffutils and libc-bin they use freely) is in one of these groups:
# parallel for bats --jobs, procps for ps/pgrep, systemd for
# systemd-analyze (install.bats verifies the units), man-db for the man
# pages that verify looks up, and oathtool for the TOTP codes of
# tests/e2e/account_mfa.bats (an authenticator app that is not ours).
build="make gcc libc6-dev pkg-config libfcgi-dev libsqlite3-dev libssl-dev libjson-c-dev liblua5.4-dev
       libsodium-dev libunistring-dev libcurl4-openssl-dev libpq-dev libwebsockets-dev"
run="nginx-light spawn-fcgi"
test="bats bats-assert bats-support parallel curl jq sqlite3 valgrind procps python3 systemd man-db
      postgresql-15 oathtool"
bench="wrk time"
fuzz="clang libclang-rt-14-dev"
apache="apache2 libapache2-mod-fcgid"
browser="chromium"

want=""
node=0
[ $# -eq 0 ] && set -- build run test
for group in "$@"; do
	case "$group" in
	build) want="$want $build" ;;
	run) want="$want $run" ;;
	test) want="$want $test" ;;
	bench) want="$want $bench" ;;
	fuzz) want="$want $fuzz" ;;
	apache) want="$want $apache" ;;
	browser) want="$want $browser" ;;
	node) node=1 ;;
	*) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

# node: any Node on the PATH will do (the machine's own, nvm's); Debian's
# only when there is none
if [ "$node" -eq 1 ] && ! command -v node >/dev/null 2>&1; then
	want="$want nodejs npm"
fi

# node_sdk: Node 20 or later (Web Crypto's X25519 and Ed25519, the test
# runner), then web/sdk's pinned packages when missing or stale
node_sdk() {
	[ "$node" -eq 1 ] || return 0
	if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
		echo "deps: node $(node --version) is too old: the SDK needs Node 20 or later" >&2
		echo "      (Debian 12's nodejs is 18; install Node 20+ and put it first on the PATH)" >&2
		exit 1
	fi
	command -v npm >/dev/null 2>&1 || { echo "deps: npm is missing (Node 20+ ships it)" >&2; exit 1; }
	sdk=$(cd "$(dirname "$0")/.." && pwd)/web/sdk
	# (npm ci writes node_modules/.package-lock.json last)
	if [ ! -f "$sdk/node_modules/.package-lock.json" ] ||
	    [ -n "$(find "$sdk/package-lock.json" -newer "$sdk/node_modules/.package-lock.json")" ]; then
		echo "deps: npm ci in web/sdk" >&2
		(cd "$sdk" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
	fi
}

missing=""
for p in $want; do
	case "$p" in
	# any nginx flavour will do
	nginx-light) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && continue ;;
	# the test tools need a python3, from Debian or not
	python3) command -v python3 >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -z "$missing" ]; then
	node_sdk
	exit 0
fi

line="apt-get install -y -q --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "blindsync needs these Debian packages:$missing" >&2
	echo "run as root:  apt-get update && $line" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# an apt list older than a day (or none at all) is refreshed first
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -q >/dev/null
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
node_sdk
