#!/bin/bash
# run.sh: start blindsync in the foreground: every handler on a unix socket
# and Debian's nginx with a config rendered into a run directory; or, with
# FRONT, behind Debian's Apache 2.4 with a config rendered there too:
#   FRONT=nginx         (default) nginx, FastCGI to the handlers' sockets
#   FRONT=apache        Apache with mod_proxy_fcgi to the handlers' sockets
#   FRONT=apache-fcgid  Apache with mod_fcgid, which starts the handlers
#   FRONT=cgi           Apache with mod_cgid: one handler process per request
# (apache/*.conf.in; docs/DEPLOY-apache.md). Apache runs as the invoking
# user; as root (it refuses to serve as root), as nobody with the few
# capabilities to reach root's files, and the handlers it starts go back to
# root: no user namespace is needed (a chroot or a container refuses them).
#
# Environment: FRONT (nginx), BIN (the build dir, default ./build), PORT (8080),
# BLINDSYNC_CONFIG (default lua/blindsync.lua), RUN_DIR (default
# var/run/$PORT), ACCESS_LOG (default $RUN_DIR/access.log; "off" to disable),
# HANDLER_LOG (default: the terminal), WORKERS (processes per handler, 2),
# CONNECTIONS (a PostgreSQL store: the database connections each handler
# process shares among its threads, --connections; 0: one per thread;
# unset: each handler's default, 2 for push, pull and status),
# START_SECONDS (at most how long to wait for the handlers' sockets, 120: a
# bound for a handler that hangs; a loaded machine may be slow to start),
# HANDLER_WRAP (a command put before
# each handler, e.g. "valgrind -q"), EXTRA_HANDLERS ("hello" for the bench),
# STATIC_DIR (files nginx serves under /bench/static-file/, for the bench),
# WORKER_CONNECTIONS (nginx's per worker, 2048; each live socket takes two),
# STORE (pg: the store on PostgreSQL, as `make run STORE=pg`: a cluster of
# its own in $PG_DIR, default var/pg, kept between runs like
# var/blindsync.db and stopped with the stack (scripts/pg.sh), its
# database "blindsync", and the config $RUN_DIR/blindsync-pg.lua: the one
# of BLINDSYNC_CONFIG with that database; unset: the config's own database).
# A PostgreSQL store's side files go to $BLINDSYNC_RUNTIME_DIR, by default
# $RUN_DIR/side.
# The page (web/app, issue 11) is served at / by either front end, from the
# tree scripts/www.sh --link lays out in $RUN_DIR/www (index.html and app/
# linked to the checkout, the SDK copied with its hash-wasm import
# rewritten: an edited SDK shows at the next start); without web/sdk's
# packages (scripts/deps.sh node) the API runs and the page is not served.
# Ctrl-C (SIGINT) or SIGTERM stops nginx and every handler it started.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$here/build}
PORT=${PORT:-8080}
BLINDSYNC_CONFIG=${BLINDSYNC_CONFIG:-$here/lua/blindsync.lua}
case "$BLINDSYNC_CONFIG" in /*) ;; *) BLINDSYNC_CONFIG=$PWD/$BLINDSYNC_CONFIG ;; esac
export BLINDSYNC_CONFIG
RUN_DIR=${RUN_DIR:-$PWD/var/run/$PORT}
case "$RUN_DIR" in /*) ;; *) RUN_DIR=$PWD/$RUN_DIR ;; esac
HANDLER_WRAP=${HANDLER_WRAP:-}
WORKERS=${WORKERS:-2}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
FRONT=${FRONT:-nginx}
APACHE=${APACHE:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}

die() {
	echo "run.sh: $*" >&2
	[ -z "${pg_dir:-}" ] || "$here/scripts/pg.sh" stop "$pg_dir"
	exit 1
}
case "$FRONT" in
nginx | apache | apache-fcgid | cgi) ;;
*) die "FRONT is nginx, apache, apache-fcgid or cgi, not '$FRONT'" ;;
esac
[ -x "$BIN/blindsync-status" ] || die "no handlers in $BIN: run make first"
if [ "$FRONT" = nginx ]; then
	[ -x "$NGINX" ] || die "nginx not found: run scripts/deps.sh"
else
	[ -x "$APACHE" ] || die "apache2 not found: run scripts/deps.sh apache"
	[ "$FRONT" != apache-fcgid ] || [ -f "$APACHE_MODULES/mod_fcgid.so" ] ||
		die "mod_fcgid not found: run scripts/deps.sh apache"
fi

mkdir -p "$RUN_DIR/tmp" || die "cannot create $RUN_DIR"
pg_dir=
case "${STORE:-}" in
"") ;;
pg)
	pg_dir=${PG_DIR:-$PWD/var/pg}
	case "$pg_dir" in /*) ;; *) pg_dir=$PWD/$pg_dir ;; esac
	"$here/scripts/pg.sh" start "$pg_dir" || die "cannot start PostgreSQL in $pg_dir"
	uri=$("$here/scripts/pg.sh" ensuredb "$pg_dir" blindsync) || die "no database blindsync in $pg_dir"
	# the config as given, its database replaced (the last assignment wins)
	{ cat "$BLINDSYNC_CONFIG" && printf '\n-- make run STORE=pg (scripts/run.sh)\ndatabase = "%s"\n' "$uri"; } \
		>"$RUN_DIR/blindsync-pg.lua" || die "cannot write $RUN_DIR/blindsync-pg.lua"
	BLINDSYNC_CONFIG=$RUN_DIR/blindsync-pg.lua
	echo "run.sh: the store is $uri (PostgreSQL in $pg_dir, stopped with the stack)" >&2
	;;
*) die "STORE is pg or unset, not '$STORE'" ;;
esac
# refuse to start over a run directory that is still in use
if [ -f "$RUN_DIR/nginx.pid" ] && kill -0 "$(cat "$RUN_DIR/nginx.pid" 2>/dev/null)" 2>/dev/null; then
	die "$RUN_DIR is in use by a running nginx (port $PORT?)"
fi
if [ -f "$RUN_DIR/httpd.pid" ] && kill -0 "$(cat "$RUN_DIR/httpd.pid" 2>/dev/null)" 2>/dev/null; then
	die "$RUN_DIR is in use by a running Apache (port $PORT?)"
fi

"$BIN/blindsync-status" -n >/dev/null || die "the configuration $BLINDSYNC_CONFIG is not valid"
max_body=$("$BIN/blindsync-status" --value limits.max_body_bytes) || exit 1
# a PostgreSQL store's side files (limits, metrics, long-poll counters) are
# the machine's: this stack's, in its run directory, unless given
case "$("$BIN/blindsync-status" --value database)" in
postgresql://* | postgres://*)
	if [ -z "${BLINDSYNC_RUNTIME_DIR:-}" ]; then
		export BLINDSYNC_RUNTIME_DIR=$RUN_DIR/side
		mkdir -p -m 0700 "$BLINDSYNC_RUNTIME_DIR" || die "cannot create $BLINDSYNC_RUNTIME_DIR"
	fi
	;;
esac
max_wait=$("$BIN/blindsync-status" --value limits.max_wait_seconds) || exit 1
max_blob=$("$BIN/blindsync-status" --value max_blob_bytes) || exit 1
max_import=$("$BIN/blindsync-status" --value limits.max_import_bytes) || exit 1
read_timeout=$((max_wait + 30))
live_enabled=$("$BIN/blindsync-status" --value live.enabled) || exit 1
live_timeout=$(($("$BIN/blindsync-status" --value live.ping_seconds) + 35)) || exit 1

handlers=""
for h in account push pull backups status; do
	[ -x "$BIN/blindsync-$h" ] && handlers="$handlers $h"
done

# blindsync-live (docs/API-live.md): when live.enabled, beside the handlers
# (never for FRONT=cgi, which cannot proxy a WebSocket); its socket is
# waited for with theirs
live=""
[ "$live_enabled" = 1 ] && [ "$FRONT" != cgi ] && [ -x "$BIN/blindsync-live" ] && live=live

pids=()
cleanup() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	# give them time to finish (Apache stops its children first; a loaded
	# machine is slow), then make sure
	local end=$((SECONDS + 30))
	while [ "$SECONDS" -le "$end" ]; do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f "$RUN_DIR"/*.sock "$RUN_DIR/nginx.pid" "$RUN_DIR/httpd.pid" "$RUN_DIR/live.pid"
	[ -z "$pg_dir" ] || "$here/scripts/pg.sh" stop "$pg_dir"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

start_handler() { # name [args]
	local name=$1; shift
	# shellcheck disable=SC2086
	if [ -n "${HANDLER_LOG:-}" ]; then
		$HANDLER_WRAP "$BIN/blindsync-$name" --listen "$RUN_DIR/$name.sock" --processes "$WORKERS" \
			${CONNECTIONS:+--connections "$CONNECTIONS"} "$@" >>"$HANDLER_LOG" 2>&1 &
	else
		$HANDLER_WRAP "$BIN/blindsync-$name" --listen "$RUN_DIR/$name.sock" --processes "$WORKERS" \
			${CONNECTIONS:+--connections "$CONNECTIONS"} "$@" &
	fi
	pids+=($!)
}

start_live() {
	[ -n "$live" ] || return 0
	# shellcheck disable=SC2086
	if [ -n "${HANDLER_LOG:-}" ]; then
		$HANDLER_WRAP "$BIN/blindsync-live" --listen "$RUN_DIR/live.sock" >>"$HANDLER_LOG" 2>&1 &
	else
		$HANDLER_WRAP "$BIN/blindsync-live" --listen "$RUN_DIR/live.sock" &
	fi
	pids+=($!)
	live_pid=$!
	echo $! >"$RUN_DIR/live.pid"
}

# run_on: run until a child exits or we are told to stop; blindsync-live
# exiting is said and stops nothing (the clients long-poll meanwhile, as
# with the units; the page's tests stop it to see that)
live_pid=""
run_on() {
	local gone
	while :; do
		gone=""
		wait -n -p gone
		if [ -n "$live_pid" ] && [ "$gone" = "$live_pid" ]; then
			echo "run.sh: blindsync-live exited; the rest runs on without it" >&2
			live_pid=""
			continue
		fi
		break
	done
	echo "run.sh: a process exited; stopping the rest" >&2
	exit 1
}

# wait_sockets: wait for the handlers' sockets; die when a handler exits
# first (one that fails its config or store does) or START_SECONDS pass
wait_sockets() {
	local ready h p end=$((SECONDS + ${START_SECONDS:-120}))
	while :; do
		ready=1
		for h in $handlers $live; do [ -S "$RUN_DIR/$h.sock" ] || ready=0; done
		[ $ready = 1 ] && return 0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || die "a handler exited at start (see above)"; done
		[ "$SECONDS" -le "$end" ] || die "the handlers did not open their sockets in ${START_SECONDS:-120} s"
		sleep 0.05
	done
}
# the page: the same tree for every front end (nginx/blindsync-page.conf.in,
# apache/blindsync-page.conf.in)
if ! www_err=$("$here/scripts/www.sh" --link "$RUN_DIR/www" 2>&1); then
	echo "run.sh: the page at / is not served: $www_err" >&2
	mkdir -p "$RUN_DIR/www"
fi

if [ "$FRONT" != nginx ]; then
	# ---- Apache: FRONT=apache (mod_proxy_fcgi), apache-fcgid (mod_fcgid), cgi (mod_cgid) ----
	max_request=$max_body
	for n in "$max_blob" "$max_import"; do [ "$n" -gt "$max_request" ] && max_request=$n; done
	case "$FRONT" in
	apache) front=proxy ;;
	apache-fcgid) front=fcgid ;;
	cgi) front=cgi ;;
	esac
	hdir=$RUN_DIR/bin
	if [ "$front" = proxy ]; then
		for h in $handlers; do start_handler "$h"; done
		start_live
		for h in ${EXTRA_HANDLERS:-}; do
			"$BIN/blindsync-$h" --listen "$RUN_DIR/$h.sock" >/dev/null 2>&1 &
			pids+=($!)
		done
	else
		# Apache starts the handlers: through a small script each, which puts
		# their log where HANDLER_LOG says (else into the run dir, shown here),
		# applies HANDLER_WRAP and keeps the sanitizer options, and names the
		# process after the run dir (so that it can be found by it)
		hlog=${HANDLER_LOG:-$RUN_DIR/handlers.log}
		case "$hlog" in /*) ;; *) hlog=$PWD/$hlog ;; esac
		mkdir -p "$hdir" "$RUN_DIR/fcgid" || die "cannot create $hdir"
		for h in $handlers; do
			{
				echo '#!/bin/bash'
				echo "# rendered by scripts/run.sh for FRONT=$FRONT: Apache starts this"
				for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
					[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
				done
				# as root, Apache runs as nobody (below): the handler goes back
				# to root first, so that the store keeps one owner
				[ "$(id -u)" = 0 ] &&
					printf '[ "$EUID" = 0 ] || exec setpriv --reuid=0 --regid=0 --clear-groups -- "$0" "$@"\n'
				# shellcheck disable=SC2086
				printf 'exec -a %q %s %q "$@" 2>>%q\n' "$hdir/blindsync-$h" "$HANDLER_WRAP" "$BIN/blindsync-$h" "$hlog"
			} >"$hdir/blindsync-$h.tmp" && chmod 0755 "$hdir/blindsync-$h.tmp" &&
				mv "$hdir/blindsync-$h.tmp" "$hdir/blindsync-$h" || die "cannot write $hdir/blindsync-$h"
		done
		# each handler once as CGI, here: its config, store and migrations are
		# checked (and made) before Apache starts them side by side
		for h in $handlers; do
			out=$(REQUEST_METHOD=GET REQUEST_URI=/v1/health "$BIN/blindsync-$h" </dev/null 2>&1 >/dev/null) ||
				die "blindsync-$h cannot start: $out"
		done
		if [ -z "${HANDLER_LOG:-}" ]; then
			touch "$hlog"
			tail -n 0 -F "$hlog" 2>/dev/null &
			pids+=($!)
		fi
	fi

	if [ "${ACCESS_LOG:-}" = off ]; then
		access_line="# (no access log: ACCESS_LOG=off)"
	else
		access_line="CustomLog \"${ACCESS_LOG:-$RUN_DIR/access.log}\" blindsync"
	fi
	render_apache() {
		"$here/scripts/render.sh" "$1" "@RUN@=$RUN_DIR" "@PORT@=$PORT" "@CONFIG@=$BLINDSYNC_CONFIG" \
		    "@MAX_BODY@=$max_body" "@MAX_WAIT@=$max_wait" "@MAX_BLOB@=$max_blob" \
		    "@MAX_IMPORT@=$max_import" "@MAX_REQUEST@=$max_request" \
		    "@READ_TIMEOUT@=$read_timeout" "@LIVE_TIMEOUT@=$live_timeout" \
		    "@HANDLERS@=$hdir" "@MODULES@=$APACHE_MODULES" "@FRONT_NAME@=$front" \
		    "@ACCESS_LOG_LINE@=$access_line" "@WWW@=$RUN_DIR/www"
	}
	mkdir -p "$RUN_DIR/htdocs" || die "cannot create $RUN_DIR/htdocs"
	echo '{"ok": true}' >"$RUN_DIR/htdocs/bench-static.json"
	render_apache "$here/apache/blindsync-common.conf.in" >"$RUN_DIR/blindsync-common.conf"
	render_apache "$here/apache/blindsync-$front.conf.in" >"$RUN_DIR/blindsync.conf"
	render_apache "$here/apache/blindsync-page.conf.in" >"$RUN_DIR/blindsync-page.conf"
	render_apache "$here/apache/run-$front.conf.in" >"$RUN_DIR/run-front.conf"
	render_apache "$here/apache/run-httpd.conf.in" >"$RUN_DIR/httpd.conf"

	# Apache will not serve as root. As root, it runs as nobody with the
	# capability to read and write the root-owned run dir, sockets, store and
	# logs (and to bind a low PORT); for apache-fcgid and cgi also to change
	# its uid, which only the handler scripts in $hdir use, to go back to
	# root, and to stop those handlers: the handlers then run as root as
	# behind nginx, and the store's files keep one owner whatever the front
	# end (a dedicated user would have to own the store and reach every
	# directory above it, the checkout's and the tests' too). This needs no user
	# namespace (a chroot, or a container under Docker's default seccomp
	# profile, refuses them) and only capabilities that Docker's default set
	# keeps. As anyone else, Apache and the handlers run as that user.
	apache=("$APACHE" -f "$RUN_DIR/httpd.conf")
	if [ "$(id -u)" = 0 ]; then
		caps=+dac_override,+net_bind_service
		[ "$front" = proxy ] || caps=$caps,+setuid,+setgid,+kill
		apache=(setpriv --reuid=65534 --regid=65534 --clear-groups
			--inh-caps="$caps" --ambient-caps="$caps" -- "${apache[@]}")
	fi
	"${apache[@]}" -t >"$RUN_DIR/apache-t.log" 2>&1 || {
		cat "$RUN_DIR/apache-t.log" >&2
		die "Apache refused the rendered config in $RUN_DIR"
	}

	if [ "$front" = proxy ]; then
		wait_sockets
	elif [ -n "$live" ]; then
		# mod_fcgid starts the handlers; blindsync-live is ours to start
		start_live
		handlers="" wait_sockets
	fi

	"${apache[@]}" -D FOREGROUND &
	pids+=($!)
	echo "blindsync on http://127.0.0.1:$PORT/v1/info (FRONT=$FRONT; handlers:$handlers; config $BLINDSYNC_CONFIG; run dir $RUN_DIR; Apache's log $RUN_DIR/apache-error.log). Ctrl-C stops." >&2
	run_on
fi
for h in $handlers; do start_handler "$h"; done
start_live
for h in ${EXTRA_HANDLERS:-}; do
	"$BIN/blindsync-$h" --listen "$RUN_DIR/$h.sock" >/dev/null 2>&1 &
	pids+=($!)
done

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
render() {
	"$here/scripts/render.sh" "$1" "@RUN@=$RUN_DIR" "@PORT@=$PORT" "@CONFIG@=$BLINDSYNC_CONFIG" \
	    "@MAX_BODY@=$max_body" "@MAX_WAIT@=$max_wait" "@MAX_BLOB@=$max_blob" \
	    "@MAX_IMPORT@=$max_import" \
	    "@READ_TIMEOUT@=$read_timeout" "@LIVE_TIMEOUT@=$live_timeout" "@FASTCGI_PARAMS@=/etc/nginx/fastcgi_params" \
	    "@USER@=$user_line" "@WORKER_CONNECTIONS@=${WORKER_CONNECTIONS:-2048}" "@ACCESS_LOG@=${ACCESS_LOG:-$RUN_DIR/access.log}" \
	    "@STATIC_DIR@=${STATIC_DIR:-$RUN_DIR/static}" "@WWW@=$RUN_DIR/www"
}
render "$here/nginx/blindsync.conf.in" >"$RUN_DIR/blindsync.conf"
render "$here/nginx/blindsync-fastcgi.conf.in" >"$RUN_DIR/blindsync-fastcgi.conf"
render "$here/nginx/blindsync-page.conf.in" >"$RUN_DIR/blindsync-page.conf"
render "$here/nginx/run.conf.in" >"$RUN_DIR/nginx.conf"
"$NGINX" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" ||
	die "nginx refused the rendered config in $RUN_DIR"

wait_sockets

"$NGINX" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" &
pids+=($!)
echo "blindsync on http://127.0.0.1:$PORT/v1/info (handlers:$handlers; config $BLINDSYNC_CONFIG; run dir $RUN_DIR). Ctrl-C stops." >&2
run_on
