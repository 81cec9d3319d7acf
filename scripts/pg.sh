#!/bin/bash
# pg.sh: a PostgreSQL 15 cluster of our own in one directory, for the tests,
# the benchmarks and `make run` on PostgreSQL: Debian's initdb + pg_ctl,
# listening on a unix socket in that directory only (no TCP port), trust
# authentication for that socket (only local users who can reach the
# directory connect; the config never holds a password). Never touches the
# system's clusters (/var/lib/postgresql) or their port.
#
#   pg.sh start DIR        initdb DIR/data when it is not there yet, start the
#                          server, wait until it accepts connections
#   pg.sh stop DIR         stop it (fast: open transactions are rolled back)
#   pg.sh kill DIR         stop it at once (immediate: no checkpoint; the next
#                          start replays the WAL, like after a crash)
#   pg.sh restart DIR      kill, then start again
#   pg.sh destroy DIR      stop it if it runs, and remove DIR entirely
#   pg.sh createdb DIR NAME  create database NAME (dropped first if it exists);
#                          prints its URI
#   pg.sh ensuredb DIR NAME  create database NAME unless it exists; prints its URI
#   pg.sh dropdb DIR NAME  drop database NAME (connections to it are ended)
#   pg.sh uri DIR NAME     print NAME's URI: postgresql:///NAME?host=DIR
#   pg.sh psql DIR NAME [psql args]  psql on NAME, quiet, stopping on errors
#   pg.sh checkpoint DIR   CHECKPOINT: everything written reaches data files
#   pg.sh running DIR      exit status 0 when the server answers
#
# Environment: PG_BINDIR (/usr/lib/postgresql/15/bin), PG_FSYNC (off: the
# tests only ever kill the server, never the machine, and the kernel keeps
# what was written; the bench sets on), PG_MAX_CONNECTIONS (500: every
# handler thread of every stack holds one). As root the server runs as the
# user postgres (it refuses root) and DIR belongs to it; the clients (the
# handlers, psql) stay root, and connect as the role of the user running
# this script (the cluster's superuser is created under that name).
set -u
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_FSYNC=${PG_FSYNC:-off}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-500}

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { sed -n '/^#   pg.sh/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
[ -x "$PG_BINDIR/pg_ctl" ] || die "no PostgreSQL 15 in $PG_BINDIR: install postgresql-15 (scripts/deps.sh test)"
# the socket's path must fit in sun_path (107 bytes) with "/.s.PGSQL.5432"
[ ${#dir} -le 90 ] || die "$dir is too long for a unix socket path (at most 90 bytes)"

superuser=$(id -un)
# as_owner CMD...: run CMD as the user the server runs as
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}
pg_ctl_() { as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" "$@"; }
running() { "$PG_BINDIR/pg_isready" -q -h "$dir" -d postgres -U "$superuser" >/dev/null 2>&1; }
psql_() { PGOPTIONS="-c client_min_messages=warning" "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -U "$superuser" "$@"; }
# quote_ident NAME: NAME as an SQL identifier
quote_ident() { printf '"%s"' "${1//\"/\"\"}"; }
uri() { printf 'postgresql:///%s?host=%s\n' "$1" "$dir"; }

start() {
	if running; then return 0; fi
	mkdir -p "$dir" || die "cannot create $dir"
	if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir" || die "cannot give $dir to postgres"; fi
	chmod 0755 "$dir"
	as_owner test -w "$dir" -a -x "$dir" ||
		die "the server's user cannot reach $dir: every directory above it must be searchable by it"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$PG_BINDIR/initdb" -D "$dir/data" -U "$superuser" --auth=trust \
			--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; die "initdb failed in $dir/data"; }
		cat >>"$dir/data/postgresql.conf" <<-EOF
			# scripts/pg.sh: a unix socket in $dir only
			listen_addresses = ''
			unix_socket_directories = '$dir'
			unix_socket_permissions = 0777
			max_connections = $PG_MAX_CONNECTIONS
			shared_buffers = 64MB
			fsync = $PG_FSYNC
			full_page_writes = $PG_FSYNC
			log_min_messages = warning
			log_line_prefix = '%m [%p] %d '
		EOF
	fi
	# -w: wait until it accepts connections (-t: a bound for a loaded machine)
	pg_ctl_ -w -t 120 start >/dev/null || { tail -20 "$dir/server.log" >&2; die "the server in $dir did not start"; }
	running || die "the server in $dir does not answer"
}

stop_mode() {
	running || [ -f "$dir/data/postmaster.pid" ] || return 0
	pg_ctl_ -w -t 120 -m "$1" stop >/dev/null 2>&1 || true
	! [ -f "$dir/data/postmaster.pid" ] || die "the server in $dir did not stop"
}

case "$cmd" in
start) start ;;
stop) stop_mode fast ;;
kill) stop_mode immediate ;;
restart) stop_mode immediate && start ;;
destroy)
	[ -d "$dir" ] || exit 0
	[ -f "$dir/data/PG_VERSION" ] || [ -z "$(ls -A "$dir")" ] || die "$dir is not a cluster of pg.sh: not removed"
	stop_mode fast
	rm -rf "$dir"
	;;
createdb)
	[ $# = 1 ] || usage
	psql_ -d postgres -c "DROP DATABASE IF EXISTS $(quote_ident "$1") WITH (FORCE)" \
		-c "CREATE DATABASE $(quote_ident "$1")" || die "cannot create database $1"
	uri "$1"
	;;
ensuredb)
	[ $# = 1 ] || usage
	n=$(psql_ -d postgres -tA -v name="$1" <<<"SELECT count(*) FROM pg_database WHERE datname = :'name';") ||
		die "the server in $dir does not answer"
	if [ "$n" = 0 ]; then
		psql_ -d postgres -c "CREATE DATABASE $(quote_ident "$1")" || die "cannot create database $1"
	fi
	uri "$1"
	;;
dropdb)
	[ $# = 1 ] || usage
	psql_ -d postgres -c "DROP DATABASE IF EXISTS $(quote_ident "$1") WITH (FORCE)" || die "cannot drop database $1"
	;;
uri) [ $# = 1 ] || usage; uri "$1" ;;
psql) [ $# -ge 1 ] || usage; db=$1; shift; psql_ -d "$db" "$@" ;;
checkpoint) psql_ -d postgres -c CHECKPOINT ;;
running) running ;;
*) usage ;;
esac
