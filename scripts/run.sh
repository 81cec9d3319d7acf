#!/bin/bash
# run.sh: start blindsync in the foreground: every handler on a unix socket
# and Debian's nginx with a config rendered into a run directory.
#
# Environment: BIN (the build dir, default ./build), PORT (8080),
# BLINDSYNC_CONFIG (default lua/blindsync.lua), RUN_DIR (default
# var/run/$PORT), ACCESS_LOG (default $RUN_DIR/access.log; "off" to disable),
# HANDLER_LOG (default: the terminal), WORKERS (processes per handler, 2),
# START_SECONDS (how long to wait for the handlers' sockets, 10),
# HANDLER_WRAP (a command put before
# each handler, e.g. "valgrind -q"), EXTRA_HANDLERS ("hello" for the bench),
# STATIC_DIR (files nginx serves under /bench/static-file/, for the bench).
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

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$BIN/blindsync-status" ] || die "no handlers in $BIN: run make first"
[ -x "$NGINX" ] || die "nginx not found: run scripts/deps.sh"

mkdir -p "$RUN_DIR/tmp" || die "cannot create $RUN_DIR"
# refuse to start over a run directory that is still in use
if [ -f "$RUN_DIR/nginx.pid" ] && kill -0 "$(cat "$RUN_DIR/nginx.pid" 2>/dev/null)" 2>/dev/null; then
	die "$RUN_DIR is in use by a running nginx (port $PORT?)"
fi

"$BIN/blindsync-status" -n >/dev/null || die "the configuration $BLINDSYNC_CONFIG is not valid"
max_body=$("$BIN/blindsync-status" --value limits.max_body_bytes) || exit 1
max_wait=$("$BIN/blindsync-status" --value limits.max_wait_seconds) || exit 1
max_blob=$("$BIN/blindsync-status" --value max_blob_bytes) || exit 1
read_timeout=$((max_wait + 30))

handlers=""
for h in account push pull backups status; do
	[ -x "$BIN/blindsync-$h" ] && handlers="$handlers $h"
done

pids=()
cleanup() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	# give them a moment, then make sure
	for _ in $(seq 1 50); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f "$RUN_DIR"/*.sock "$RUN_DIR/nginx.pid"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

start_handler() { # name [args]
	local name=$1; shift
	# shellcheck disable=SC2086
	if [ -n "${HANDLER_LOG:-}" ]; then
		$HANDLER_WRAP "$BIN/blindsync-$name" --listen "$RUN_DIR/$name.sock" --processes "$WORKERS" "$@" >>"$HANDLER_LOG" 2>&1 &
	else
		$HANDLER_WRAP "$BIN/blindsync-$name" --listen "$RUN_DIR/$name.sock" --processes "$WORKERS" "$@" &
	fi
	pids+=($!)
}
for h in $handlers; do start_handler "$h"; done
for h in ${EXTRA_HANDLERS:-}; do
	"$BIN/blindsync-$h" --listen "$RUN_DIR/$h.sock" >/dev/null 2>&1 &
	pids+=($!)
done

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
render() {
	sed -e "s|@RUN@|$RUN_DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@CONFIG@|$BLINDSYNC_CONFIG|g" \
	    -e "s|@MAX_BODY@|$max_body|g" -e "s|@MAX_WAIT@|$max_wait|g" -e "s|@MAX_BLOB@|$max_blob|g" \
	    -e "s|@READ_TIMEOUT@|$read_timeout|g" -e "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g" \
	    -e "s|@USER@|$user_line|g" -e "s|@ACCESS_LOG@|${ACCESS_LOG:-$RUN_DIR/access.log}|g" \
	    -e "s|@STATIC_DIR@|${STATIC_DIR:-$RUN_DIR/static}|g" "$1"
}
render "$here/nginx/blindsync.conf.in" >"$RUN_DIR/blindsync.conf"
render "$here/nginx/blindsync-fastcgi.conf.in" >"$RUN_DIR/blindsync-fastcgi.conf"
render "$here/nginx/run.conf.in" >"$RUN_DIR/nginx.conf"
"$NGINX" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" ||
	die "nginx refused the rendered config in $RUN_DIR"

# wait for the handler sockets (a handler that fails its config or store exits)
for _ in $(seq 1 $((${START_SECONDS:-10} * 20))); do
	ready=1
	for h in $handlers; do [ -S "$RUN_DIR/$h.sock" ] || ready=0; done
	[ $ready = 1 ] && break
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || die "a handler exited at start (see above)"; done
	sleep 0.05
done
[ $ready = 1 ] || die "the handlers did not open their sockets"

"$NGINX" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" &
pids+=($!)
echo "blindsync on http://127.0.0.1:$PORT/v1/info (handlers:$handlers; config $BLINDSYNC_CONFIG; run dir $RUN_DIR). Ctrl-C stops." >&2
# run until any child exits or we are told to stop
wait -n
echo "run.sh: a process exited; stopping the rest" >&2
exit 1
