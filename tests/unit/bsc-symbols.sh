#!/bin/sh
# tests/unit/bsc-symbols.sh: proves from the archive itself that libbscrypto
# (fcgi/crypto/) stands alone and keeps to its prefix. Run by `make unit`:
#   tests/unit/bsc-symbols.sh build/libbscrypto.a
# 1. every symbol it leaves undefined is defined by one of its own objects,
#    by libc or by libcrypto (with SAN=1, also by the ASan/UBSan runtimes);
# 2. every global symbol it defines is named bsc_*, so that it can be linked
#    beside libsodium or Monocypher (whose names are crypto_*).
# Prints one "N passed, N failed" line like the C unit tests; exits non-zero
# on a failure, naming the offending symbols.
set -u
lib=${1:?usage: bsc-symbols.sh path/to/libbscrypto.a}
prog=tests/unit/bsc-symbols.sh
pass=0
fail=0
work=$(mktemp -d /tmp/bsc-symbols.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

check() { # check NAME FILE: FILE lists offending symbols, one a line
	if [ -s "$2" ]; then
		echo "FAIL $prog: $1:" >&2
		sed 's/^/    /' "$2" >&2
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

# the dynamic symbols a shared library defines, without version suffixes
exports() {
	nm -D --defined-only "$1" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }'
}

libc=$(${CC:-cc} -print-file-name=libc.so.6)
libcrypto=$(pkg-config --variable=libdir libcrypto)/libcrypto.so
for f in "$lib" "$libc" "$libcrypto"; do
	if [ ! -r "$f" ]; then
		echo "FAIL $prog: cannot read $f" >&2
		echo "$prog: $pass passed, 1 failed"
		exit 1
	fi
done

nm -A --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$work/defined"
nm -A --undefined-only "$lib" | awk '{ print $NF }' | sort -u >"$work/undefined"
{ cat "$work/defined"; exports "$libc"; exports "$libcrypto"; } | sort -u >"$work/known"

# 1. nothing from outside libc and libcrypto (sanitizer hooks under SAN=1)
comm -23 "$work/undefined" "$work/known" >"$work/foreign"
if [ "${SAN:-}" = 1 ]; then
	grep -v -E '^__(asan|ubsan|sanitizer|lsan)_' "$work/foreign" >"$work/foreign2"
	mv "$work/foreign2" "$work/foreign"
fi
check "undefined symbols from outside libc and libcrypto" "$work/foreign"

# 2. the prefix (sanitizer builds add their own __asan_/__odr_ globals)
grep -v -E '^(bsc_|__(asan|odr_asan|ubsan|sanitizer))' "$work/defined" >"$work/unprefixed"
check "global symbols without the bsc_ prefix" "$work/unprefixed"

echo "$prog: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
