#!/usr/bin/env bats
# The handlers under valgrind (memcheck) behind the real nginx: every request
# kind of the suite's smoke set, then a clean stop; no error, no leak.
load ../lib

setup_file() {
	export VG_DIR=$BATS_FILE_TMPDIR/vg
	mkdir -p "$VG_DIR"
	export HANDLER_WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --log-file=$VG_DIR/vg.%p.log"
	bs_setup_stack
	# valgrind is slow to start: wait for every handler to answer
	for _ in $(seq 1 100); do
		curl -sf "$BS_URL/v1/health" >/dev/null && break
		sleep 0.1
	done
}

@test "requests under valgrind" {
	for i in 1 2 3; do
		req GET /v1/info
		assert_equal "$status" 200
		req GET /v1/health
		assert_equal "$status" 200
		req GET /v1/nope
		assert_equal "$status" 404
		req DELETE /v1/info
		assert_equal "$status" 405
		req GET "/v1/info?a=%zz"
		assert_equal "$status" 400
	done
}

@test "after a clean stop valgrind reports no error and no leak" {
	bs_stop
	ls "$VG_DIR"/vg.*.log >/dev/null
	for f in "$VG_DIR"/vg.*.log; do
		if [ -s "$f" ]; then
			echo "valgrind report $f:" >&2
			cat "$f" >&2
			return 1
		fi
	done
}
