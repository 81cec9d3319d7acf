# tests/wait.bash: the one bounded wait for a condition, sourced by
# tests/lib.bash (every bats file) and tests/bench/lib.sh (the bench
# scripts), which cannot share more: lib.bash needs bats.
#
# bs_wait SECONDS CMD...: poll CMD every $BS_WAIT_POLL seconds (0.1) until it
# succeeds (0), or fail (1) once SECONDS x $BS_WAIT_SCALE seconds of
# wall-clock time passed. Wait for an outcome, never for a time: SECONDS is
# only a generous bound for a loaded machine.
bs_wait() {
	local end=$((SECONDS + $1 * ${BS_WAIT_SCALE:-1}))
	shift
	until "$@"; do
		[ "$SECONDS" -le "$end" ] || return 1
		sleep "${BS_WAIT_POLL:-0.1}"
	done
}
