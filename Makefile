# blindsync: build, run, test, bench, install.
#   make            build the handlers, blindsync-admin, blindsync-live and the
#                   client library (libblindsync-client.a) into build/
#   make run        build, then run the stack behind nginx on 127.0.0.1:$(PORT)
#                   (FRONT=apache|apache-fcgid|cgi: behind Apache instead)
#   make test       deps, warnings-as-errors build, unit tests, CGI tests,
#                   end-to-end tests through nginx, then all again under ASan+UBSan
#   make bench      benchmarks (never part of make test)
#   make fuzz       each tests/fuzz target coverage-guided with libFuzzer for
#                   FUZZ_SECONDS (60) from its corpus; new entries are merged
#                   into tests/fuzz/corpus/NAME (never part of make test)
#   make install    PREFIX, DESTDIR, SYSCONFDIR, LOCALSTATEDIR honoured
# Variables: PORT (8080), BLINDSYNC_CONFIG, SAN=1 (sanitizer build into build-san/),
# FUZZ_SECONDS (60), FUZZ_CORPUS (tests/fuzz/corpus) for make fuzz,
# FRONT (nginx; apache, apache-fcgid or cgi for make run).

VERSION     := 0.1.0
PORT        ?= 8080
FRONT       ?= nginx
PREFIX      ?= /usr/local
SYSCONFDIR  ?= $(PREFIX)/etc
LOCALSTATEDIR ?= /var

PKGS        := fcgi sqlite3 libpq libcrypto json-c lua5.4
CC          ?= cc
WARN        := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align \
               -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
               -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) \
               -DBLINDSYNC_VERSION='"$(VERSION)"' \
               -DBLINDSYNC_DEFAULT_CONFIG='"$(SYSCONFDIR)/blindsync/blindsync.lua"' \
               -Ifcgi/lib -Ifcgi/crypto
ifeq ($(FUZZ),1)
# the libFuzzer build (make fuzz): clang, coverage for libFuzzer in every
# object, ASan+UBSan; the targets link with libFuzzer's main
B           := build-fuzz
CC          := clang
SANFLAGS    := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined -O1 -DBLINDSYNC_LIBFUZZER -Wno-error
else ifeq ($(SAN),1)
B           := build-san
SANFLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1
else
B           := build
SANFLAGS    :=
endif
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(CFLAGS_BASE) $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL  = $(PKG_LIBS) -lpthread -lm $(LDLIBS)
# libbscrypto (fcgi/crypto/): OpenSSL and libc only, compiled with nothing but
# its own directory on the include path, so that no server header creeps in
BSC_CFLAGS  = -std=c11 -O2 -g $(WARN) $(SANFLAGS) $(shell pkg-config --cflags libcrypto 2>/dev/null) \
              -Ifcgi/crypto $(CFLAGS)
BSC_LIBS    = $(shell pkg-config --libs libcrypto 2>/dev/null) $(LDLIBS)
BSC_OBJ     := $(patsubst fcgi/crypto/%.c,$(B)/crypto/%.o,$(sort $(wildcard fcgi/crypto/*.c)))
LIBS_A      := $(B)/libblindsync.a $(B)/libbscrypto.a
# libblindsync-client (client/lib/): the client's library over libbscrypto,
# OpenSSL, libsodium (Argon2id only), json-c and libunistring (NFC; it has no
# .pc file); nothing of the server, so fcgi/lib is not on its include path
CLIENT_PKGS := libcrypto json-c libsodium libcurl sqlite3 libwebsockets
CLIENT_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $(SANFLAGS) \
              $(shell pkg-config --cflags $(CLIENT_PKGS) 2>/dev/null) -Iclient/lib -Ifcgi/crypto $(CFLAGS)
CLIENT_OBJ  := $(patsubst client/lib/%.c,$(B)/client/%.o,$(sort $(wildcard client/lib/*.c)))
CLIENT_LIBS = $(B)/libblindsync-client.a $(B)/libbscrypto.a \
              $(shell pkg-config --libs $(CLIENT_PKGS) 2>/dev/null) -lunistring -lm $(LDLIBS)

LIB_SRC     := $(sort $(wildcard fcgi/lib/*.c))
LIB_OBJ     := $(patsubst fcgi/lib/%.c,$(B)/lib/%.o,$(LIB_SRC)) $(B)/lib/migrations.o \
              $(B)/lib/migrations_pg.o
HANDLERS    := $(patsubst fcgi/%.c,%,$(filter-out fcgi/admin.c fcgi/hello.c,$(wildcard fcgi/*.c)))
PROGS       := $(addprefix $(B)/blindsync-,$(HANDLERS)) $(if $(wildcard fcgi/admin.c),$(B)/blindsync-admin)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC)) $(B)/unit/test_bs1
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps run test unit bench fuzz fuzz-build install uninstall clean
all: $(PROGS) $(B)/blindsync-live $(B)/blindsync-hello $(B)/libblindsync-client.a $(B)/blindsync

deps:
	@scripts/deps.sh build run test

$(B)/lib/%.o: fcgi/lib/%.c fcgi/lib/*.h fcgi/crypto/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# the numbered migrations in sql/ are compiled in, so an installed handler needs no sql/ dir
$(B)/lib/migrations.c: $(sort $(wildcard sql/[0-9]*.sql)) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh $(sort $(wildcard sql/[0-9]*.sql)) > $@
$(B)/lib/migrations.o: $(B)/lib/migrations.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@
# and those of the PostgreSQL store, from sql/pg/
$(B)/lib/migrations_pg.c: $(sort $(wildcard sql/pg/[0-9]*.sql)) scripts/embed-sql.sh
	@mkdir -p $(@D)
	scripts/embed-sql.sh -n store_pg_migrations $(sort $(wildcard sql/pg/[0-9]*.sql)) > $@
$(B)/lib/migrations_pg.o: $(B)/lib/migrations_pg.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libblindsync.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/crypto/%.o: fcgi/crypto/%.c fcgi/crypto/*.h
	@mkdir -p $(@D)
	$(CC) $(BSC_CFLAGS) -c $< -o $@

$(B)/libbscrypto.a: $(BSC_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/blindsync-%: fcgi/%.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LIBS_A) $(LDLIBS_ALL)

# blindsync-live (live/, issue 13): the WebSocket program, on libwebsockets
# and the core library; not a FastCGI handler
LWS_CFLAGS  = $(shell pkg-config --cflags libwebsockets 2>/dev/null)
LWS_LIBS    = $(shell pkg-config --libs libwebsockets 2>/dev/null)
$(B)/blindsync-live: live/live.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h
	$(CC) $(ALL_CFLAGS) $(LWS_CFLAGS) $< -o $@ $(LIBS_A) $(LDLIBS_ALL) $(LWS_LIBS)

$(B)/unit/%: tests/unit/%.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(LIBS_A) $(LDLIBS_ALL)

# the core's own test links without libfcgi: proof that the core does not
# know the transport (a core file that calls FastCGI fails this link)
CORE_LIBS   = $(shell pkg-config --libs $(filter-out fcgi,$(PKGS)) 2>/dev/null) -lpthread -lm $(LDLIBS)
$(B)/unit/test_core: tests/unit/test_core.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(LIBS_A) $(CORE_LIBS)

# the crypto library's own test links nothing of the server: proof that
# libbscrypto stands alone (tests/unit/bsc-symbols.sh checks its symbols)
$(B)/unit/test_crypto: tests/unit/test_crypto.c $(B)/libbscrypto.a fcgi/crypto/*.h tests/unit/t.h
	@mkdir -p $(@D)
	$(CC) $(BSC_CFLAGS) -D_GNU_SOURCE -Itests/unit $< -o $@ $(B)/libbscrypto.a $(BSC_LIBS)

$(B)/client/%.o: client/lib/%.c client/lib/*.h fcgi/crypto/*.h
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -c $< -o $@

$(B)/libblindsync-client.a: $(CLIENT_OBJ)
	rm -f $@ && ar rcs $@ $^

# the blindsync CLI on the client library
$(B)/blindsync: client/blindsync.c $(B)/libblindsync-client.a $(B)/libbscrypto.a client/lib/blindsync.h
	$(CC) $(CLIENT_CFLAGS) $< -o $@ $(CLIENT_LIBS)

# the bs1 reference vectors (tests/client/bs1-vectors.json), run from the top
$(B)/unit/test_bs1: tests/client/test_bs1.c $(B)/libblindsync-client.a $(B)/libbscrypto.a \
    client/lib/*.h tests/unit/t.h
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -Itests/unit $< -o $@ $(CLIENT_LIBS)

# the client's fuzz target links the client library, not the server's
$(B)/fuzz/fuzz_bs1: tests/fuzz/fuzz_bs1.c tests/fuzz/replay.c $(B)/libblindsync-client.a \
    $(B)/libbscrypto.a client/lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -Itests/fuzz $< tests/fuzz/replay.c -o $@ $(CLIENT_LIBS)

# fuzz targets build as plain programs that replay their corpus (libFuzzer
# builds are made by `make fuzz` with clang when wanted)
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h tests/fuzz/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< tests/fuzz/replay.c -o $@ $(LIBS_A) $(LDLIBS_ALL)

# libFuzzer builds of the same targets (FUZZ=1: clang, into build-fuzz/)
$(B)/libfuzzer/fuzz_bs1: tests/fuzz/fuzz_bs1.c $(B)/libblindsync-client.a $(B)/libbscrypto.a client/lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< -o $@ $(CLIENT_LIBS)
$(B)/libfuzzer/%: tests/fuzz/%.c $(LIBS_A) fcgi/lib/*.h fcgi/crypto/*.h tests/fuzz/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $< -o $@ $(LIBS_A) $(LDLIBS_ALL)

fuzz-build: $(patsubst tests/fuzz/%.c,$(B)/libfuzzer/%,$(FUZZ_SRC))

# coverage-guided fuzzing, FUZZ_SECONDS per target (never part of make test)
FUZZ_SECONDS ?= 60
FUZZ_CORPUS  ?= tests/fuzz/corpus
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) -s -j2 FUZZ=1 fuzz-build
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" tests/fuzz/run.sh build-fuzz/libfuzzer "$(FUZZ_CORPUS)" $(notdir $(basename $(FUZZ_SRC)))

unit: $(UNIT_BIN) $(FUZZ_BIN) $(B)/libbscrypto.a
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; \
	SAN=$(SAN) tests/unit/bsc-symbols.sh $(B)/libbscrypto.a || fail=1; \
	for f in $(FUZZ_BIN); do n=$$(basename $$f); $$f tests/fuzz/corpus/$${n#fuzz_} || fail=1; done; \
	exit $$fail

run: deps all
	@[ "$(FRONT)" = nginx ] || scripts/deps.sh apache
	@# the page at / needs web/sdk's packages (Node 20+); the API does not
	@scripts/deps.sh node || echo "make run: the page at / needs Node 20+ and web/sdk/node_modules; the API works without them" >&2
	@BLINDSYNC_CONFIG="$(BLINDSYNC_CONFIG)" PORT="$(PORT)" BIN="$(CURDIR)/$(B)" FRONT="$(FRONT)" scripts/run.sh

test: deps
	@tests/run-all.sh

bench: deps all
	@scripts/deps.sh bench
	@BIN="$(CURDIR)/$(B)" tests/bench/bench.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/blobs.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/export.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/client.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/live.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/sharing.sh
	@BENCH_SHARE_BACKEND=pg BIN="$(CURDIR)/$(B)" tests/bench/sharing.sh
	@# the page in headless chromium: Node 20+, web/sdk's packages, chromium
	@if scripts/deps.sh node browser; then BIN="$(CURDIR)/$(B)" tests/bench/page.sh; \
	 else echo "make bench: the page's bench needs Node 20+ and chromium (scripts/deps.sh node browser): skipped" >&2; fi
	@BIN="$(CURDIR)/$(B)" tests/bench/backends.sh
	@BIN="$(CURDIR)/$(B)" tests/bench/migrate.sh

# ---- install ----
# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=$(PREFIX)/etc]
#              [LOCALSTATEDIR=/var] [SYSTEMDDIR=$(PREFIX)/lib/systemd/system]
# Handlers go to $(LIBEXECDIR), blindsync-admin to $(PREFIX)/sbin; the config
# is installed only if none exists (never overwritten); nginx snippets and
# systemd units are rendered with these paths. The page (web/app, with the
# SDK and hash-wasm's one file: scripts/www.sh) goes to
# $(WWWDIR) ($(PREFIX)/share/blindsync/www), served by the optional
# blindsync-page.conf of nginx or Apache; the JavaScript SDK as an npm
# package (package.json, src, types) to $(SDKDIR).
BINDIR       ?= $(PREFIX)/sbin
LIBEXECDIR   ?= $(PREFIX)/libexec/blindsync
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/blindsync
SYSTEMDDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
RUNDIR       ?= /run/blindsync
BS_USER      ?= blindsync
SOCKET_GROUP ?= www-data
CLIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
CBINDIR      ?= $(PREFIX)/bin
WWWDIR       ?= $(PREFIX)/share/blindsync/www
SDKDIR       ?= $(PREFIX)/share/blindsync/sdk
HANDLER_NAMES := $(filter-out admin hello,$(patsubst fcgi/%.c,%,$(wildcard fcgi/*.c)))

install: all
	@scripts/install.sh "$(DESTDIR)" "$(BINDIR)" "$(LIBEXECDIR)" "$(MANDIR)" "$(DOCDIR)" \
	    "$(SYSCONFDIR)" "$(LOCALSTATEDIR)" "$(SYSTEMDDIR)" "$(SYSUSERSDIR)" "$(RUNDIR)" \
	    "$(BS_USER)" "$(SOCKET_GROUP)" "$(B)" "$(HANDLER_NAMES)" "$(WWWDIR)" "$(SDKDIR)"
	@# the client: the CLI, its man page, the library, its one header, pkg-config
	install -d "$(DESTDIR)$(CBINDIR)" "$(DESTDIR)$(CLIBDIR)/pkgconfig" \
	    "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 0755 $(B)/blindsync "$(DESTDIR)$(CBINDIR)/blindsync"
	install -m 0644 docs/man/blindsync.1 "$(DESTDIR)$(MANDIR)/man1/blindsync.1"
	install -m 0644 $(B)/libblindsync-client.a $(B)/libbscrypto.a "$(DESTDIR)$(CLIBDIR)/"
	install -m 0644 client/lib/blindsync.h "$(DESTDIR)$(INCLUDEDIR)/blindsync.h"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(CLIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' client/blindsync-client.pc.in \
	    >"$(DESTDIR)$(CLIBDIR)/pkgconfig/blindsync-client.pc"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/blindsync-,$(HANDLER_NAMES) live) $(DESTDIR)$(BINDIR)/blindsync-admin
	rm -f $(DESTDIR)$(MANDIR)/man8/blindsync.8 $(DESTDIR)$(MANDIR)/man8/blindsync-admin.8 \
	    $(DESTDIR)$(MANDIR)/man8/blindsync-live.8 \
	    $(DESTDIR)$(MANDIR)/man5/blindsync.lua.5
	rm -f $(DESTDIR)$(CBINDIR)/blindsync $(DESTDIR)$(MANDIR)/man1/blindsync.1 \
	    $(DESTDIR)$(CLIBDIR)/libblindsync-client.a $(DESTDIR)$(CLIBDIR)/libbscrypto.a \
	    $(DESTDIR)$(INCLUDEDIR)/blindsync.h $(DESTDIR)$(CLIBDIR)/pkgconfig/blindsync-client.pc
	rm -f $(foreach h,$(HANDLER_NAMES),$(DESTDIR)$(SYSTEMDDIR)/blindsync-$(h).service \
	    $(DESTDIR)$(SYSTEMDDIR)/blindsync-$(h).socket) $(DESTDIR)$(SYSTEMDDIR)/blindsync-live.service \
	    $(DESTDIR)$(SYSUSERSDIR)/blindsync.conf
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,README.md LICENSE $(notdir $(wildcard docs/*.md)))
	rm -rf $(DESTDIR)$(WWWDIR) $(DESTDIR)$(SDKDIR)
	rmdir $(DESTDIR)$(PREFIX)/share/blindsync 2>/dev/null || true
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@echo "kept: $(SYSCONFDIR)/blindsync (your config) and $(LOCALSTATEDIR)/lib/blindsync (your data)"

clean:
	rm -rf build build-san build-fuzz
