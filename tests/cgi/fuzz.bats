#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# `make fuzz` itself, with a 5-second budget per target, so that it cannot
# rot: every target builds with libFuzzer, fuzzes, merges what it found into
# a copy of the corpora (never the committed ones), and the copy still
# replays through the plain builds of `make unit`. Slow-ish (a clang
# ASan+UBSan build of the library the first time), no web server.
load ../lib

@test "make fuzz FUZZ_SECONDS=5 runs every target and grows a copy of the corpora" {
	command -v clang >/dev/null || skip "clang is not installed (scripts/deps.sh fuzz)"
	# make test runs tests/cgi twice, the second time against build-san/:
	# the libFuzzer build is sanitized already, once is enough
	if grep -q __asan_init "$BIN/blindsync-status"; then skip "make fuzz runs in the plain pass"; fi
	local copy=$BATS_TEST_TMPDIR/corpus t n
	cp -r "$BS_ROOT/tests/fuzz/corpus" "$copy"
	(cd "$copy" && find . -type f | sort) >"$BATS_TEST_TMPDIR/before"
	run --separate-stderr make -s -C "$BS_ROOT" fuzz FUZZ_SECONDS=5 FUZZ_CORPUS="$copy"
	echo "$output"
	echo "$stderr" | tail -n 20
	assert_success
	n=0
	for t in "$BS_ROOT"/tests/fuzz/fuzz_*.c; do
		t=$(basename "$t" .c)
		t=${t#fuzz_}
		assert_line --regexp "^fuzz $t: [0-9]+ runs in 5s, cov: [0-9]+, corpus [0-9]+ \+ [0-9]+ new$"
		n=$((n + 1))
	done
	assert_line "fuzz: $n passed, 0 failed"
	# what was merged is named like the committed entries and replays
	(cd "$copy" && find . -type f | sort) >"$BATS_TEST_TMPDIR/after"
	run comm -13 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	for n in "${lines[@]}"; do
		[[ $n =~ ^\./[a-z0-9_]+/lf-[0-9a-f]{12}$ ]] || fail "merged entry named $n"
	done
	[ -z "$(comm -23 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after")" ] || fail "entries went missing"
	for t in "$BS_ROOT"/tests/fuzz/fuzz_*.c; do
		t=$(basename "$t" .c)
		run "$BIN/fuzz/$t" "$copy/${t#fuzz_}"
		assert_success
	done
}
