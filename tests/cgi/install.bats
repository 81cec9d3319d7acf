#!/usr/bin/env bats
# make install into a DESTDIR: the tree, a config that is never overwritten,
# rendered snippets and units, and systemd-analyze verify on the units; the
# page (web/app) and the SDK package, and a real nginx serving the page and
# the API through the installed snippets.
load ../lib

# the page needs web/sdk's packages (hash-wasm); make test installs them
# (scripts/deps.sh node) before this file runs
need_page() {
	[ -f "$BS_ROOT/web/sdk/node_modules/hash-wasm/package.json" ] ||
		skip "no web/sdk/node_modules: run scripts/deps.sh node (Node 20+)"
}

teardown() {
	[ -n "${NGINX_PID:-}" ] && kill -TERM "$NGINX_PID" 2>/dev/null
	[ -n "${STATUS_PID:-}" ] && kill -TERM "$STATUS_PID" 2>/dev/null
	wait 2>/dev/null || true
}

# install the build under test: the sanitizer pass installs build-san
san() { [[ "$BIN" == *-san ]] && echo SAN=1 || echo SAN=; }

@test "make install puts every part in place" {
	d=$BATS_TEST_TMPDIR/root
	run make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var "$(san)"
	assert_success
	for h in account push pull backups status; do
		[ -x "$d/usr/libexec/blindsync/blindsync-$h" ]
		[ -f "$d/usr/lib/systemd/system/blindsync-$h.socket" ]
		[ -f "$d/usr/lib/systemd/system/blindsync-$h.service" ]
		grep -q "ExecStart=/usr/libexec/blindsync/blindsync-$h" "$d/usr/lib/systemd/system/blindsync-$h.service"
		grep -q "ListenStream=/run/blindsync/$h.sock" "$d/usr/lib/systemd/system/blindsync-$h.socket"
	done
	[ -x "$d/usr/sbin/blindsync-admin" ]
	# blindsync-live: its program, its own service, the proxy to its socket
	[ -x "$d/usr/libexec/blindsync/blindsync-live" ]
	grep -q "ExecStart=/usr/libexec/blindsync/blindsync-live --listen /run/blindsync-live/live.sock" \
		"$d/usr/lib/systemd/system/blindsync-live.service"
	grep -q "proxy_pass http://unix:/run/blindsync-live/live.sock;" "$d/etc/blindsync/nginx/blindsync.conf"
	[ -f "$d/usr/share/man/man8/blindsync-live.8" ]
	[ -f "$d/usr/share/man/man8/blindsync.8" ]
	[ -f "$d/usr/share/man/man8/blindsync-admin.8" ]
	[ -f "$d/usr/share/man/man5/blindsync.lua.5" ]
	[ -f "$d/usr/lib/sysusers.d/blindsync.conf" ]
	grep -q '^database = "/var/lib/blindsync/blindsync.db"' "$d/etc/blindsync/blindsync.lua"
	grep -q '^secret_file = "/var/lib/blindsync/secret"' "$d/etc/blindsync/blindsync.lua"
	# the installed config is valid, and the snippet points at the systemd sockets
	BLINDSYNC_CONFIG="$d/etc/blindsync/blindsync.lua" run "$d/usr/libexec/blindsync/blindsync-status" -n
	assert_success
	grep -q "unix:/run/blindsync/account.sock" "$d/etc/blindsync/nginx/blindsync.conf"
	grep -q "include /etc/blindsync/nginx/blindsync-fastcgi.conf" "$d/etc/blindsync/nginx/blindsync.conf"
	grep -q "BLINDSYNC_CONFIG /etc/blindsync/blindsync.lua" "$d/etc/blindsync/nginx/blindsync-fastcgi.conf"
	# (a bare "! grep" never fails a bats test: set -e ignores it)
	grep '@[A-Z_]*@' "$d/etc/blindsync/nginx/blindsync.conf" "$d"/usr/lib/systemd/system/blindsync-* &&
		fail "placeholders left unrendered"
	# sandboxing of every service
	for opt in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes RestrictAddressFamilies=AF_UNIX StateDirectory=blindsync; do
		grep -q "^$opt" "$d/usr/lib/systemd/system/blindsync-push.service"
	done
}

@test "make install puts the page and the SDK package in place, only what they load" {
	need_page
	d=$BATS_TEST_TMPDIR/root
	run make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var "$(san)"
	assert_success
	assert_output --partial "the page is in /usr/share/blindsync/www"
	w=$d/usr/share/blindsync/www
	ver=$(jq -r .version "$BS_ROOT/web/sdk/node_modules/hash-wasm/package.json")
	for f in index.html app/app.js app/app.css sdk/index.js sdk/client.js sdk/bs1/kdf.js \
	    "vendor/hash-wasm@$ver/index.esm.min.js"; do
		[ -f "$w/$f" ] || fail "missing $w/$f"
	done
	# every file of web/app (but its tests) and of the SDK's src
	(cd "$BS_ROOT/web/app" && find . -type f ! -path './test/*' ! -path './bench/*') | while read -r f; do
		cmp -s "$BS_ROOT/web/app/$f" "$w/app/$f" || fail "app/$f differs or is missing"
	done
	[ "$(cd "$BS_ROOT/web/sdk/src" && find . -name '*.js' | sort)" = "$(cd "$w/sdk" && find . -name '*.js' | sort)" ]
	# nothing else: no node_modules, no test, no dev dependency, no link
	run find "$w" \( -name node_modules -o -name test -o -name '*.test.js' -o -name package.json -o -type l \) -print
	assert_output ""
	# the vendor tree: hash-wasm's one file and uqr's one file (the QR code of
	# the two-factor set-up), nothing else
	uver=$(jq -r .version "$BS_ROOT/web/sdk/node_modules/uqr/package.json")
	assert_equal "$(cd "$w/vendor" && find . -type f | sort)" \
	    "$(printf './hash-wasm@%s/index.esm.min.js\n./uqr@%s/index.js' "$ver" "$uver")"
	# the bare import rewritten to the vendor path, in every module that had one
	grep -q "from '/vendor/hash-wasm@$ver/index.esm.min.js'" "$w/sdk/bs1/kdf.js"
	grep -rqE "from[[:space:]]*['\"]hash-wasm['\"]" "$w/sdk" && fail "a bare hash-wasm import is left"
	# readable by the web server's user
	run find "$w" \( -type f ! -perm 0644 \) -o \( -type d ! -perm 0755 \)
	assert_output ""
	# the page's nginx and Apache files, rendered with the tree's path
	grep -q "root /usr/share/blindsync/www;" "$d/etc/blindsync/nginx/blindsync-page.conf"
	grep -q 'Alias "/sdk/" "/usr/share/blindsync/www/sdk/"' "$d/etc/blindsync/apache/blindsync-page.conf"
	grep '@[A-Z_]*@' "$d"/etc/blindsync/nginx/*.conf "$d"/etc/blindsync/apache/*.conf &&
		fail "placeholders left unrendered"
	# the SDK as an npm package: package.json, src and types
	s=$d/usr/share/blindsync/sdk
	[ "$(jq -r .name "$s/package.json")" = "@blindsync/sdk" ]
	[ -f "$s/src/index.js" ] && [ -f "$s/types/index.d.ts" ]
	grep -q "from 'hash-wasm'" "$s/src/bs1/kdf.js"
}

@test "an nginx with the installed snippets serves the page under its CSP, and the API" {
	need_page
	command -v nginx || [ -x /usr/sbin/nginx ]
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	p=$BATS_TEST_TMPDIR/prefix
	make -s -C "$BS_ROOT" install PREFIX="$p" SYSCONFDIR="$p/etc" LOCALSTATEDIR="$p/var" RUNDIR="$p/run" \
	    "$(san)" >/dev/null
	# the status handler on the socket the snippet names, with a test config
	export BS_DATA=$BATS_TEST_TMPDIR/data
	bs_config "$BATS_TEST_TMPDIR/blindsync.lua"
	mkdir -p "$p/run" "$BATS_TEST_TMPDIR/ngx/tmp"
	BLINDSYNC_CONFIG=$BATS_TEST_TMPDIR/blindsync.lua "$p/libexec/blindsync/blindsync-status" \
	    --listen "$p/run/status.sock" 2>"$BATS_TEST_TMPDIR/status.log" &
	STATUS_PID=$!
	port=$(bs_free_port)
	user=""
	[ "$(id -u)" = 0 ] && user="user root root;"
	cat >"$BATS_TEST_TMPDIR/ngx/nginx.conf" <<-EOF
	daemon off;
	pid $BATS_TEST_TMPDIR/ngx/nginx.pid;
	error_log $BATS_TEST_TMPDIR/ngx/error.log warn;
	$user
	events { worker_connections 64; }
	http {
	    access_log off;
	    client_body_temp_path $BATS_TEST_TMPDIR/ngx/tmp;
	    default_type application/octet-stream;
	    server {
	        listen 127.0.0.1:$port;
	        include $p/etc/blindsync/nginx/blindsync.conf;
	        include $p/etc/blindsync/nginx/blindsync-page.conf;
	    }
	}
	EOF
	"$nginx" -t -q -p "$BATS_TEST_TMPDIR/ngx" -c "$BATS_TEST_TMPDIR/ngx/nginx.conf"
	"$nginx" -p "$BATS_TEST_TMPDIR/ngx" -c "$BATS_TEST_TMPDIR/ngx/nginx.conf" &
	NGINX_PID=$!
	export BS_URL=http://127.0.0.1:$port
	bs_wait 60 bs_answers "$BS_URL/"
	bs_wait 60 test -S "$p/run/status.sock"

	req GET /
	[ "$status" = 200 ]
	[[ "$(header Content-Type)" == text/html* ]]
	[ "$(header Content-Security-Policy)" = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" ]
	[ "$(header X-Content-Type-Options)" = nosniff ]
	[ "$(header Referrer-Policy)" = no-referrer ]
	[ "$(header Cache-Control)" = no-cache ]
	cmp -s "$BATS_TEST_TMPDIR/body" "$BS_ROOT/web/app/index.html"
	# the modules, as JavaScript, gzipped on request, the SDK's import rewritten
	req GET /app/app.js -H 'Accept-Encoding: gzip'
	[ "$status" = 200 ]
	[[ "$(header Content-Type)" == text/javascript* ]]
	[ "$(header Content-Encoding)" = gzip ]
	[ -n "$(header Content-Security-Policy)" ]
	req GET /sdk/bs1/kdf.js
	[ "$status" = 200 ]
	[[ "$(header Content-Type)" == text/javascript* ]]
	ver=$(jq -r .version "$BS_ROOT/web/sdk/node_modules/hash-wasm/package.json")
	[[ "$body" == *"from '/vendor/hash-wasm@$ver/index.esm.min.js'"* ]]
	req GET "/vendor/hash-wasm@$ver/index.esm.min.js"
	[ "$status" = 200 ]
	[[ "$(header Content-Type)" == text/javascript* ]]
	[ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ]
	# unchanged files answer 304 to a revalidation (no-cache keeps them)
	etag=$(curl -sI "$BS_URL/app/app.css" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
	[ -n "$etag" ]
	req GET /app/app.css -H "If-None-Match: $etag"
	[ "$status" = 304 ]
	# the API beside it, through the same snippet
	req GET /v1/health
	[ "$status" = 200 ]
	req GET /v1/nope
	[ "$status" = 404 ]
	[[ "$(header Content-Type)" == application/json* ]]
}

@test "the installed SDK package installs with npm (offline) and loads in Node" {
	need_page
	command -v npm || skip "no npm (scripts/deps.sh node)"
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc "$(san)" >/dev/null
	app=$BATS_TEST_TMPDIR/app
	mkdir -p "$app"
	echo '{"name": "app", "version": "1.0.0", "private": true, "type": "module"}' >"$app/package.json"
	# its one dependency, pinned, is the hash-wasm scripts/deps.sh node put
	# in web/sdk/node_modules, packed here: offline, npm resolves a registry
	# dependency only from a full packument in its cache, which npm ci does
	# not always leave there (it fetched an abbreviated one: ENOTCACHED)
	sdk=$d/usr/share/blindsync/sdk
	ver=$(jq -r '.dependencies["hash-wasm"]' "$sdk/package.json")
	assert_equal "$ver" "$(jq -r .version "$BS_ROOT/web/sdk/node_modules/hash-wasm/package.json")"
	npm pack --ignore-scripts --silent --pack-destination "$BATS_TEST_TMPDIR" "$BS_ROOT/web/sdk/node_modules/hash-wasm"
	# --install-links: copied as npm would pack it
	(cd "$app" && npm install --install-links --offline --no-audit --no-fund --loglevel=error \
	    "$sdk" "$BATS_TEST_TMPDIR/hash-wasm-$ver.tgz")
	[ -f "$app/node_modules/hash-wasm/package.json" ]
	cd "$app"
	run node --input-type=module -e "import { Client, bs1 } from '@blindsync/sdk';
	    const k = await bs1.masterKey('a password', bs1.kdfNew());
	    console.log(typeof Client, k.length);"
	assert_success
	assert_output "function 32"
}

@test "make install never overwrites an existing config" {
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc "$(san)" >/dev/null
	echo 'registration = "closed" -- mine' >>"$d/etc/blindsync/blindsync.lua"
	run make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc "$(san)"
	assert_success
	assert_output --partial "kept the existing /etc/blindsync/blindsync.lua"
	grep -q -- '-- mine' "$d/etc/blindsync/blindsync.lua"
	[ -f "$d/etc/blindsync/blindsync.lua.dist" ]
}

@test "systemd-analyze verify accepts the units" {
	command -v systemd-analyze
	p=$BATS_TEST_TMPDIR/prefix
	make -s -C "$BS_ROOT" install PREFIX="$p" SYSCONFDIR="$p/etc" LOCALSTATEDIR="$p/var" "$(san)" >/dev/null
	cd "$p/lib/systemd/system"
	MANPATH="$p/share/man:" SYSTEMD_LOG_LEVEL=notice run systemd-analyze verify blindsync-*.socket blindsync-*.service
	assert_success
	assert_output ""
}

@test "make uninstall removes what install put in place but the config" {
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$BS_ROOT" install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var "$(san)" >/dev/null
	[ -f "$d/usr/share/doc/blindsync/README.md" ]
	[ -f "$d/usr/share/doc/blindsync/CONFIG.md" ]
	run make -s -C "$BS_ROOT" uninstall DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var "$(san)"
	assert_success
	assert_output --partial "kept: /etc/blindsync (your config)"
	[ ! -e "$d/usr/share/doc/blindsync" ]
	# every file left is the operator's: the config and the rendered snippets
	run find "$d" -type f ! -path "$d/etc/blindsync/*"
	assert_success
	assert_output ""
	[ -f "$d/etc/blindsync/blindsync.lua" ]
}

@test "the template renderer replaces text literally, in order" {
	t=$BATS_TEST_TMPDIR/t.in
	printf 'a @X@ b @X@/c.conf @Y@\nno placeholder\n' >"$t"
	run "$BS_ROOT/scripts/render.sh" "$t" '@X@/c.conf=/etc/c.conf' '@X@=/r|u&n\1' '@Y@=a=b'
	assert_success
	assert_output "a /r|u&n\\1 b /etc/c.conf a=b
no placeholder"
	run "$BS_ROOT/scripts/render.sh" "$t" 'nonsense'
	assert_failure
	run "$BS_ROOT/scripts/render.sh" "$BATS_TEST_TMPDIR/missing.in"
	assert_failure
}
