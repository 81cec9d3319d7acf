#!/usr/bin/env bats
# make install into a DESTDIR: the tree, a config that is never overwritten,
# rendered snippets and units, and systemd-analyze verify on the units.
load ../lib

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
