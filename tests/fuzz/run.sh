#!/bin/bash
# tests/fuzz/run.sh: what `make fuzz` runs after building the libFuzzer targets.
# Usage: tests/fuzz/run.sh BINDIR CORPUSDIR NAME...   (FUZZ_SECONDS, default 60)
#
# For each target fuzz_NAME in BINDIR: fuzz coverage-guided for FUZZ_SECONDS
# from CORPUSDIR/NAME (read only: new inputs go to a scratch directory),
# then merge (-merge=1) the inputs that add coverage into CORPUSDIR/NAME,
# named lf-<first 12 hex of their SHA-1> like the entries already there, so
# that `make unit` replays them. A crash, leak, timeout or sanitizer report
# leaves its input in BINDIR/crashes/ and makes the run fail (after the other
# targets have had their turn). Prints one line per target and a summary.
set -u
bindir=$1
corpus=$2
shift 2
secs=${FUZZ_SECONDS:-60}
case "$secs" in ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number" >&2; exit 2 ;; esac
crashes=$bindir/crashes
mkdir -p "$crashes"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/blindsync-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
failed=0
for target in "$@"; do
	name=${target#fuzz_}
	bin=$bindir/$target
	dir=$corpus/$name
	mkdir -p "$dir"
	new=$scratch/$name.new
	merged=$scratch/$name.merged
	mkdir -p "$new" "$merged"
	log=$scratch/$name.log
	before=$(find "$dir" -maxdepth 1 -type f | wc -l)
	# -rss_limit_mb: a handler that balloons is a finding too;
	# -timeout: one input that takes 10 s is a hang
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	    -artifact_prefix="$crashes/$name-" "$new" "$dir" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "fuzz $name: FAILED (exit $rc), ${runs:-?} runs; input in $crashes/, log:"
		grep -E 'ERROR:|SUMMARY:|^artifact_prefix|Test unit written' "$log" | head -n 20
		cp "$log" "$crashes/$name.log"
		continue
	fi
	# the new inputs that add coverage to what the corpus already has
	find "$dir" -maxdepth 1 -type f -exec cp -p {} "$merged"/ \;
	ls "$merged" | sort >"$scratch/$name.had"
	"$bin" -merge=1 "$merged" "$new" >"$log.merge" 2>&1 || {
		failed=$((failed + 1))
		echo "fuzz $name: FAILED in the corpus merge; log in $crashes/$name.merge.log"
		cp "$log.merge" "$crashes/$name.merge.log"
		continue
	}
	added=0
	for f in "$merged"/*; do
		b=$(basename "$f")
		grep -qxF "$b" "$scratch/$name.had" && continue
		h=$(sha1sum "$f" | cut -c1-12)
		[ -e "$dir/lf-$h" ] && continue
		cp "$f" "$dir/lf-$h"
		added=$((added + 1))
	done
	echo "fuzz $name: ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}, corpus $before + $added new"
done
total=$#
echo "fuzz: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
