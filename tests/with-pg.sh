#!/bin/bash
# with-pg.sh CMD...: run CMD with BACKEND=pg against a PostgreSQL 15 cluster
# of its own (scripts/pg.sh) in a new temporary directory, exported as
# BS_PG_DIR; the tests' harness (tests/lib.bash) gives each store a database
# of its own there. The cluster is stopped and its directory removed when
# CMD ends, is interrupted or fails. Exits with CMD's status. E.g.
#   tests/with-pg.sh env BIN=$PWD/build bats --tap tests/e2e/sync.bats
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 CMD..." >&2; exit 2; }
BS_PG_DIR=$(mktemp -d /tmp/bs-pg.XXXXXX) || exit 1
export BS_PG_DIR BACKEND=pg
done_=0
cleanup() {
	[ $done_ = 1 ] && return
	done_=1
	"$here/scripts/pg.sh" destroy "$BS_PG_DIR" || echo "with-pg.sh: could not remove $BS_PG_DIR" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$here/scripts/pg.sh" start "$BS_PG_DIR" || exit 1
"$@"
