#!/bin/sh
# install.sh: what `make install` does (see the Makefile for the variables).
# Never overwrites an existing config; renders paths into the nginx and
# Apache snippets and the systemd units with scripts/render.sh. The page
# (web/app) goes to $WWWDIR as scripts/www.sh lays it out, with its own
# nginx and Apache files (blindsync-page.conf, included by choice); the
# JavaScript SDK as an npm package (package.json, src, types) to $SDKDIR.
set -eu
DESTDIR=$1 BINDIR=$2 LIBEXECDIR=$3 MANDIR=$4 DOCDIR=$5 SYSCONFDIR=$6 LOCALSTATEDIR=$7
SYSTEMDDIR=$8 SYSUSERSDIR=$9; shift 9
RUNDIR=$1 BS_USER=$2 SOCKET_GROUP=$3 B=$4 HANDLERS=$5 WWWDIR=$6 SDKDIR=$7
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
D=$DESTDIR
conf=$SYSCONFDIR/blindsync/blindsync.lua
state=$LOCALSTATEDIR/lib/blindsync

install -d "$D$BINDIR" "$D$LIBEXECDIR" "$D$MANDIR/man5" "$D$MANDIR/man8" "$D$DOCDIR" \
	"$D$SYSCONFDIR/blindsync/nginx" "$D$SYSTEMDDIR" "$D$SYSUSERSDIR"
for h in $HANDLERS; do
	install -m 0755 "$B/blindsync-$h" "$D$LIBEXECDIR/blindsync-$h"
done
install -m 0755 "$B/blindsync-admin" "$D$BINDIR/blindsync-admin"
# blindsync-live (docs/API-live.md): not a FastCGI handler; its own service
live_sock=/run/blindsync-live/live.sock
install -m 0755 "$B/blindsync-live" "$D$LIBEXECDIR/blindsync-live"
install -m 0644 docs/man/blindsync.8 docs/man/blindsync-admin.8 docs/man/blindsync-live.8 "$D$MANDIR/man8/"
install -m 0644 docs/man/blindsync.lua.5 "$D$MANDIR/man5/"
for f in README.md LICENSE docs/*.md; do install -m 0644 "$f" "$D$DOCDIR/"; done

# the page: what it loads at run time only (scripts/www.sh), files 0644;
# skipped, with a message, without web/sdk's packages (hash-wasm)
page=1
if ! "$here/scripts/www.sh" "$D$WWWDIR"; then
	echo "install: the page is NOT installed (run scripts/deps.sh node first, Node 20+); the rest is" >&2
	page=0
else
	find "$D$WWWDIR" -type d -exec chmod 0755 {} + && find "$D$WWWDIR" -type f -exec chmod 0644 {} +
fi

# the JavaScript SDK as a package for Node 20+ and bundlers, as npm would
# pack it (its "files": src and types): npm install $SDKDIR
rm -rf "$D$SDKDIR"
install -d "$D$SDKDIR"
install -m 0644 web/sdk/package.json "$D$SDKDIR/"
for d in src types; do
	(cd web/sdk && find "$d" -type f \( -name '*.js' -o -name '*.d.ts' \)) | while read -r f; do
		install -d "$D$SDKDIR/$(dirname "$f")"
		install -m 0644 "web/sdk/$f" "$D$SDKDIR/$f"
	done
done

# the config: the shipped default with the store under $state; never overwritten
# (beside an existing one, as $conf.dist)
out=$D$conf
if [ -e "$out" ]; then
	echo "install: kept the existing $conf" >&2
	out=$out.dist
fi
sed -e "s|^database *=.*|database = \"$state/blindsync.db\"|" \
    -e "s|^secret_file *=.*|secret_file = \"$state/secret\"|" lua/blindsync.lua >"$out"
chmod 0644 "$out"

# the nginx drop-in, rendered for the systemd sockets and the default limits
max_body=$(BLINDSYNC_CONFIG= "$B/blindsync-status" --value limits.max_body_bytes)
max_wait=$(BLINDSYNC_CONFIG= "$B/blindsync-status" --value limits.max_wait_seconds)
max_blob=$(BLINDSYNC_CONFIG= "$B/blindsync-status" --value max_blob_bytes)
max_import=$(BLINDSYNC_CONFIG= "$B/blindsync-status" --value limits.max_import_bytes)
live_timeout=$(($(BLINDSYNC_CONFIG= "$B/blindsync-status" --value live.ping_seconds) + 35))
render() { # template [FROM=TO first]...
	scripts/render.sh "$@" \
	    "@RUN@/blindsync-fastcgi.conf=$SYSCONFDIR/blindsync/nginx/blindsync-fastcgi.conf" \
	    "@RUN@/live.sock=$live_sock" "@LIVE_TIMEOUT@=$live_timeout" "@RUN@=$RUNDIR" "@CONFIG@=$conf" "@MAX_BODY@=$max_body" \
	    "@MAX_WAIT@=$max_wait" "@READ_TIMEOUT@=$((max_wait + 30))" "@MAX_BLOB@=$max_blob" \
	    "@MAX_IMPORT@=$max_import" "@FASTCGI_PARAMS@=/etc/nginx/fastcgi_params" "@WWW@=$WWWDIR"
}
render nginx/blindsync.conf.in >"$D$SYSCONFDIR/blindsync/nginx/blindsync.conf"
render nginx/blindsync-fastcgi.conf.in >"$D$SYSCONFDIR/blindsync/nginx/blindsync-fastcgi.conf"
render nginx/blindsync-page.conf.in >"$D$SYSCONFDIR/blindsync/nginx/blindsync-page.conf"
if ls apache/blindsync-*.conf.in >/dev/null 2>&1; then
	install -d "$D$SYSCONFDIR/blindsync/apache"
	max_request=$max_body
	for n in "$max_blob" "$max_import"; do [ "$n" -gt "$max_request" ] && max_request=$n; done
	for f in apache/blindsync-*.conf.in; do
		render "$f" "@RUN@/blindsync-common.conf=$SYSCONFDIR/blindsync/apache/blindsync-common.conf" \
		    "@HANDLERS@=$LIBEXECDIR" "@MAX_REQUEST@=$max_request" \
		    >"$D$SYSCONFDIR/blindsync/apache/$(basename "$f" .in)"
	done
	[ -f apache/htaccess.example ] && install -m 0644 apache/htaccess.example "$D$SYSCONFDIR/blindsync/apache/"
fi

# systemd: one socket and one service per handler
unit() { # template name
	scripts/render.sh "$1" "@LIBEXECDIR@=$LIBEXECDIR" "@SYSCONFDIR@=$SYSCONFDIR" \
	    "@LOCALSTATEDIR@=$LOCALSTATEDIR" "@USER@=$BS_USER" "@SOCKET_GROUP@=$SOCKET_GROUP" "@NAME@=$2" \
	    "@LIVE_SOCK@=$live_sock"
}
for h in $HANDLERS; do
	unit scripts/systemd/blindsync.socket.in "$h" >"$D$SYSTEMDDIR/blindsync-$h.socket"
	unit scripts/systemd/blindsync.service.in "$h" >"$D$SYSTEMDDIR/blindsync-$h.service"
	chmod 0644 "$D$SYSTEMDDIR/blindsync-$h.socket" "$D$SYSTEMDDIR/blindsync-$h.service"
done
unit scripts/systemd/blindsync-live.service.in live >"$D$SYSTEMDDIR/blindsync-live.service"
chmod 0644 "$D$SYSTEMDDIR/blindsync-live.service"
unit scripts/systemd/blindsync.sysusers.in "" >"$D$SYSUSERSDIR/blindsync.conf"
chmod 0644 "$D$SYSUSERSDIR/blindsync.conf"

echo "installed blindsync into ${D:-/}: handlers in $LIBEXECDIR, blindsync-admin in $BINDIR, config $conf"
echo "next: systemd-sysusers; systemctl enable --now $(for h in $HANDLERS; do printf 'blindsync-%s.socket ' "$h"; done)blindsync-live.service"
echo "      and include $SYSCONFDIR/blindsync/nginx/blindsync.conf in your nginx server {} (see docs/DEPLOY.md)"
if [ $page = 1 ]; then
	echo "      the page is in $WWWDIR: include $SYSCONFDIR/blindsync/nginx/blindsync-page.conf there too to serve it at /"
fi
