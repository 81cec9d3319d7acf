/*
 * serve.c: the dispatcher shared by every handler program, the long-poll,
 * metrics and rate-limit glue around it, and serve_main(), which starts the
 * program. The process itself (threads, prefork, signals, CGI fallbacks) is
 * serve_proc.c; client addresses are serve_addr.c.
 *
 * fatal() style exits happen only before the accept loop (config, store,
 * schema, socket). Inside a request every failure becomes a response and the
 * worker lives on.
 */
#include "serve.h"
#include "serve_impl.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "auth.h"
#include "config.h"
#include "bsc.h"
#include "json.h"
#include "log.h"

#define SERVE_DEFAULT_THREADS 8
#define SERVE_TRIM_BODY_BYTES (256 * 1024) /* malloc_trim after bodies this large */
#define SERVE_KEEP_BODY_BYTES (256 * 1024) /* a parsed JSON body this small stays in r->body */
#define SERVE_MAX_THREADS 256
#define SERVE_MAX_PROCESSES 64
#define SERVE_BACKLOG 1024          /* nginx opens a connection per request */

atomic_int serve_stopping;
/* the limiter, notifier and metrics of this process (core.h); zeroed in tests */
struct core serve_core = {.wait_max = 1, .stopping = &serve_stopping};
int serve_nthreads = 1;          /* worker threads of this process */

int64_t serve_now_ms(void) { return core_now_ms(); }

void serve_changed(int64_t account_id, const char *collection) { core_changed(&serve_core, account_id, collection); }

void serve_watch_init(struct core_watch *w, int64_t account_id, const char *collection, int64_t caller_id)
{
	core_watch_init(&serve_core, w, account_id, collection, caller_id);
}

int serve_wait_begin(void) { return core_wait_begin(&serve_core); }

void serve_wait_end(void) { core_wait_end(&serve_core); }

int serve_threads(void) { return serve_nthreads; }

void serve_metrics(struct buf *out) { core_metrics(&serve_core, out); }

int serve_watch(struct core_watch *w, int64_t deadline_ms) { return core_watch(&serve_core, w, deadline_ms); }

static enum err limit_route(struct req *r, const char *route, const char *username, int64_t account_id)
{
	int retry;
	const char *ip = (!username && account_id <= 0) ? r->remote_addr : NULL;
	if (core_limit_store(&serve_core, r->store, r->cfg, route, ip, username, account_id, &retry) ==
	    ERR_RATE_LIMITED) {
		http_add_header(r, "Retry-After", "%d", retry);
		return http_fail(r, ERR_RATE_LIMITED, "Too many requests; retry in %d seconds.", retry);
	}
	return ERR_OK;
}

enum err serve_limit(struct req *r, const char *username, int64_t account_id)
{
	return limit_route(r, r->route_name, username, account_id);
}

enum err serve_limit_as(struct req *r, const char *route) { return limit_route(r, route, NULL, 0); }

void serve_limit_key(const uint8_t secret[32]) { core_limit_key(&serve_core, secret); }

static int match(const char *pattern, struct req *r, const char **params)
{
	int seg = 0, np = 0;
	const char *p = pattern;
	while (*p == '/') {
		p++;
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (seg >= r->nsegs)
			return 0;
		if (n == 1 && *p == '*') {
			if (np >= HTTP_MAX_PARAMS)
				return 0;
			params[np++] = r->segs[seg];
		} else if (strlen(r->segs[seg]) != n || strncmp(r->segs[seg], p, n) != 0) {
			return 0;
		}
		seg++;
		p += n;
	}
	return seg == r->nsegs;
}

static const char *method_name(enum method m)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "?"};
	return names[m];
}

const struct route *serve_route(struct req *r, const struct handler *h, enum err *e)
{
	const struct route *found = NULL;
	unsigned allow = 0;
	const char *params[HTTP_MAX_PARAMS];
	if (!r->has_v1) {
		*e = ERR_NOT_FOUND;
		return NULL;
	}
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *rt = &h->routes[i];
		memset(params, 0, sizeof params);
		if (!match(rt->pattern, r, params))
			continue;
		allow |= 1u << rt->method;
		if (rt->method == M_GET)
			allow |= 1u << M_HEAD;
		if (!found && (rt->method == r->method || (r->method == M_HEAD && rt->method == M_GET))) {
			found = rt;
			memcpy(r->params, params, sizeof params);
		}
	}
	if (found) {
		r->route_name = found->name;
		return found;
	}
	if (!allow) {
		*e = ERR_NOT_FOUND;
		return NULL;
	}
	char list[96] = "";
	for (int m = 0; m < M_OTHER; m++)
		if (allow & (1u << m)) {
			if (list[0])
				strcat(list, ", ");
			strcat(list, method_name((enum method)m));
		}
	strcat(list, ", OPTIONS");
	if (r->method == M_OPTIONS) {
		r->route_name = "options";
		http_add_header(r, "Allow", "%s", list);
		*e = ERR_OK;
		return NULL;
	}
	http_add_header(r, "Allow", "%s", list);
	*e = http_fail(r, ERR_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s.",
	    r->method == M_OTHER ? "This method" : method_name(r->method), list);
	return NULL;
}

/* Access-Control-* headers for a listed Origin (none by default). */
static int cors(struct req *r)
{
	const char *origin = http_header(r, "Origin");
	if (!origin || r->cfg->cors.n_origins == 0)
		return 0;
	int ok = 0;
	for (int i = 0; i < r->cfg->cors.n_origins; i++)
		if (strcmp(r->cfg->cors.origins[i], "*") == 0 || strcasecmp(r->cfg->cors.origins[i], origin) == 0)
			ok = 1;
	/* only well-formed origins are echoed into a header */
	for (const char *p = origin; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			ok = 0;
	if (!ok || strlen(origin) > 200)
		return 0;
	http_add_header(r, "Access-Control-Allow-Origin", "%s", origin);
	http_add_header(r, "Vary", "Origin");
	http_add_header(r, "Access-Control-Expose-Headers", "ETag, X-Request-Id, X-Content-SHA256, Retry-After");
	return 1;
}

static int https_ok(struct req *r)
{
	if (!r->cfg->require_https)
		return 1;
	const char *https = http_param(r, "HTTPS");
	if (https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0))
		return 1;
	const char *ra = http_param(r, "REMOTE_ADDR");
	return ra && http_is_loopback(ra);
}

/*
 * RA_SLOT: the X-Slot-Key header (standard base64 of 32 to 64 bytes), kept
 * only as its SHA-256 in r->slot_key; the raw key is wiped at once.
 */
static enum err slot_key(struct req *r)
{
	const char *k = http_header(r, "X-Slot-Key");
	uint8_t raw[64];
	if (!k)
		return http_fail(r, ERR_BAD_SLOT_KEY, "X-Slot-Key is required.");
	size_t n = strlen(k);
	long got = n <= 88 ? bsc_b64_decode(k, n, raw, sizeof raw, BSC_B64_STD) : -1;
	if (got < 32 || got > 64) {
		bsc_wipe(raw, sizeof raw);
		return http_fail(r, ERR_INVALID_REQUEST, "X-Slot-Key: expected standard base64 of 32 to 64 bytes.");
	}
	bsc_sha256(raw, (size_t)got, r->slot_key);
	bsc_wipe(raw, sizeof raw);
	return ERR_OK;
}

/*
 * The credentials of rt, before anything of the body is read: a bearer
 * token (auth_require also charges the per-account rate limits) or a slot
 * key. The identity lands in *a, which r->auth points to while the handler
 * runs.
 */
static enum err authenticate(struct req *r, const struct route *rt, struct auth *a)
{
	enum err e = ERR_OK;
	switch (rt->auth) {
	case RA_NONE:
		break;
	case RA_BEARER:
		if ((e = auth_require(r, a, rt->early)) == ERR_OK)
			r->auth = a;
		break;
	case RA_SLOT:
		e = slot_key(r);
		break;
	case RA__MAX:
		e = ERR_INTERNAL;
		break;
	}
	return e;
}

/*
 * An RB_JSON or RB_JSON_OPT body: Content-Length against the route's cap
 * (413 before reading a byte), Content-Type, read, parse, field table.
 * An optional body that is absent leaves r->json NULL.
 */
static enum err json_body(struct req *r, const struct route *rt)
{
	int64_t cap = r->cfg->limits.max_body_bytes, len;
	if (rt->max_body > 0 && rt->max_body < cap)
		cap = rt->max_body;
	enum err e = http_content_length(r, cap, &len);
	if (e != ERR_OK)
		return e;
	if (len == 0 && rt->body == RB_JSON_OPT)
		return ERR_OK;
	if (!http_is_json(r))
		return http_fail(r, ERR_UNSUPPORTED_MEDIA, "This route takes Content-Type: application/json.");
	if ((e = http_read_body(r, cap)) != ERR_OK)
		return e;
	e = json_parse_max(r->body, r->body_len, json_values_cap(r->cfg->limits.max_push_records),
	    &r->json, r->errmsg);
	/* the tree holds copies of every string: a large text is no longer
	 * needed; a small one stays for a handler that keeps a member's exact
	 * text (the kdf), and goes with the request */
	if (r->body_len > SERVE_KEEP_BODY_BYTES) {
		free(r->body);
		r->body = NULL;
	}
	if (e != ERR_OK)
		return e;
	if (rt->fields)
		e = json_check_fields(r->json, rt->fields, rt->nfields, "body", r->errmsg);
	return e;
}

static enum err dispatch(struct req *r, const struct handler *h, struct auth *a)
{
	enum err e = ERR_OK;
	if (!https_ok(r))
		return ERR_HTTPS_REQUIRED;
	int cors_ok = cors(r);
	if (h->prefilter && (e = h->prefilter(r)) != ERR_OK)
		return e;
	const struct route *rt = serve_route(r, h, &e);
	if (!rt) {
		if (e == ERR_OK && r->method == M_OPTIONS) {
			if (cors_ok) {
				http_add_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, PATCH");
				http_add_header(r, "Access-Control-Allow-Headers",
				    "Authorization, Content-Type, If-Match, If-None-Match, X-Slot-Key");
				http_add_header(r, "Access-Control-Max-Age", "600");
			}
			http_respond(r, 204, NULL);
		}
		return e;
	}
	if ((e = serve_limit(r, NULL, 0)) != ERR_OK)
		return e;
	if (r->query_bad)
		return http_fail(r, ERR_INVALID_REQUEST, "The query string is malformed, too long or repeats a parameter.");
	/* a slot id of the wrong shape names no slot, whatever the key */
	if (rt->check && rt->auth == RA_SLOT && (e = rt->check(r)) != ERR_OK)
		return e;
	/* credentials before a byte of the body is read */
	if ((e = authenticate(r, rt, a)) != ERR_OK)
		return e;
	if (rt->check && rt->auth != RA_SLOT && (e = rt->check(r)) != ERR_OK)
		return e;
	if ((rt->body == RB_JSON || rt->body == RB_JSON_OPT) && (e = json_body(r, rt)) != ERR_OK)
		return e;
	return rt->fn(r);
}

int serve_check_routes(const struct handler *h, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *rt = &h->routes[i];
		const char *why = NULL;
		if (!rt->pattern || !rt->fn || rt->method >= M_OTHER)
			why = "has no pattern, handler or method";
		else if (!routes_is_route(rt->name))
			why = "has a name that routes.h does not list as a route";
		else if (rt->auth >= RA__MAX || rt->body >= RB__MAX)
			why = "has an unknown auth or body kind";
		else if ((rt->fields || rt->nfields || rt->max_body) && rt->body != RB_JSON && rt->body != RB_JSON_OPT)
			why = "has a field table or body cap but no JSON body";
		else if ((rt->fields == NULL) != (rt->nfields == 0) || rt->max_body < 0)
			why = "has a field table without its length, or a negative cap";
		if (why) {
			snprintf(errbuf, errlen, "route %zu (%s %s) %s", i, rt->name ? rt->name : "-",
			    rt->pattern ? rt->pattern : "-", why);
			return -1;
		}
	}
	return 0;
}

void serve_one(struct req *r, const struct handler *h)
{
	const struct config *cfg = config_acquire();
	http_begin(r, cfg);
	serve_resolve_client(r);
	struct auth a; /* r->auth points here while the handler runs */
	memset(&a, 0, sizeof a);
	enum err e = dispatch(r, h, &a);
	r->auth = NULL;
	/* an early read transaction nothing joined (a token refused) ends with the request */
	if (r->store)
		store_early_end(r->store);
	if (e != ERR_OK && !r->responded) {
		http_error(r, e);
	} else if (!r->responded) {
		http_fail(r, ERR_INTERNAL, "The handler gave no answer.");
		log_msg(LOG_ERROR, "route %s returned no response", r->route_name ? r->route_name : "-");
		http_error(r, ERR_INTERNAL);
	}
	const char *detail = r->status >= 400 ? r->errmsg : NULL;
	double ms = http_elapsed_ms(r);
	log_request(r->request_id, r->method_str, r->route_name ? r->route_name : "-", r->status, ms,
	    r->account_id, detail);
	core_observe(&serve_core, r->route_name, r->status, ms);
	size_t body_len = r->body_len;
	http_end(r);
	config_release(cfg);
	/*
	 * A large body (a push of 1,000 records parses into a few MiB of JSON
	 * objects) leaves freed pages in this thread's malloc arena, which glibc
	 * keeps: give them back, so that a process's RSS returns to its idle
	 * size instead of staying at its largest request's. Small requests do
	 * not pay for it.
	 */
	if (body_len >= SERVE_TRIM_BODY_BYTES)
		malloc_trim(0);
}

void serve_after(struct req *r, void (*fn)(struct store *s, int64_t arg), int64_t arg)
{
	r->after_fn = fn;
	r->after_arg = arg;
}

void serve_run_after(struct req *r)
{
	void (*fn)(struct store *, int64_t) = r->after_fn;
	r->after_fn = NULL;
	if (fn)
		fn(r->store, r->after_arg);
}

/* SIGUSR1 only interrupts a worker thread blocked in accept() (serve_proc.c). */
static void on_usr1(int sig) { (void)sig; }

static void usage(FILE *fp, const char *prog, int connections)
{
	fprintf(fp,
	    "usage: %s [-n] [-V] [--listen ADDR] [--threads N]\n"
	    "  -n              check the configuration and exit\n"
	    "  -V              print the version and exit\n"
	    "  --listen ADDR   listen on a unix socket path or :PORT / HOST:PORT\n"
	    "                  (default: the FastCGI socket on fd 0, as spawn-fcgi or\n"
	    "                  systemd give it; without one, serve one CGI request)\n"
	    "  --threads N     worker threads, each an accept loop (default %d)\n"
	    "  --processes N   worker processes sharing the socket (default 1)\n"
	    "  --connections N PostgreSQL: the threads of a process share N database\n"
	    "                  connections (0: one per thread; default %d)\n"
	    "  --value KEY     print one effective config value (for scripts):\n"
	    "                  database, limits.max_body_bytes, limits.max_import_bytes,\n"
	    "                  limits.max_wait_seconds, max_blob_bytes\n"
	    "The configuration file comes from $BLINDSYNC_CONFIG (see blindsync.lua(5)).\n",
	    prog, SERVE_DEFAULT_THREADS, connections);
}

static int print_value(const struct config *c, const char *key)
{
	if (strcmp(key, "database") == 0)
		printf("%s\n", c->database);
	else if (strcmp(key, "limits.max_body_bytes") == 0)
		printf("%lld\n", (long long)c->limits.max_body_bytes);
	else if (strcmp(key, "limits.max_import_bytes") == 0)
		printf("%lld\n", (long long)c->limits.max_import_bytes);
	else if (strcmp(key, "limits.max_wait_seconds") == 0)
		printf("%lld\n", (long long)c->limits.max_wait_seconds);
	else if (strcmp(key, "live.enabled") == 0)
		printf("%d\n", c->live.enabled);
	else if (strcmp(key, "live.ping_seconds") == 0)
		printf("%lld\n", (long long)c->live.ping_seconds);
	else if (strcmp(key, "max_blob_bytes") == 0) {
		/* the largest backup or slot body any plan allows: the backups location's body limit */
		int64_t m = c->slots.enabled ? c->slots.max_bytes : 0;
		for (int i = 0; i < c->n_plans; i++)
			if (c->plans[i].backup_bytes > m)
				m = c->plans[i].backup_bytes;
		printf("%lld\n", (long long)m);
	}
	else {
		fprintf(stderr, "unknown key for --value: %s\n", key);
		return 2;
	}
	return 0;
}

/*
 * -n: the store answers (PostgreSQL: a connection; SQLite: the file, if it
 * exists, reads as a database) and its schema is not newer than this
 * program; one that is older or absent is migrated at start (said so).
 * 0, or 1 with the reason on stderr.
 */
static int check_store(const char *prog, const char *location)
{
	char err[1024];
	int have = 0, want = store_schema_version_at(location);
	int r = store_location_probe(location, &have, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "%s: store: %s\n", prog, err);
		return 1;
	}
	if (have > want) {
		fprintf(stderr, "%s: store %s: schema version %d is newer than this program's %d; upgrade blindsync\n", prog,
		    location, have, want);
		return 1;
	}
	if (r == 0)
		printf("%s: store %s: none yet, created at start (schema version %d)\n", prog, location, want);
	else if (have < want)
		printf("%s: store %s: schema version %d, migrated to %d at start\n", prog, location, have, want);
	else
		printf("%s: store %s: answers, schema version %d is current\n", prog, location, have);
	return 0;
}

/* An option's value: a whole number from lo to hi into *out; 0, or -1 with a message naming --name. */
static int count_opt(const char *prog, const char *name, const char *arg, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "%s: --%s takes %d to %d\n", prog, name, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int serve_main(int argc, char **argv, const struct handler *h)
{
	char prog[64], err[1024];
	snprintf(prog, sizeof prog, "blindsync-%s", h->name);
	int check = 0, threads = SERVE_DEFAULT_THREADS, processes = 1, connections = h->connections;
	const char *listen_addr = NULL, *value = NULL;
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 't'},
		{"processes", required_argument, NULL, 'p'},
		{"connections", required_argument, NULL, 'c'},
		{"value", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "nVh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': check = 1; break;
		case 'V': printf("%s %s\n", prog, BLINDSYNC_VERSION); return 0;
		case 'l': listen_addr = optarg; break;
		case 't':
			if (count_opt(prog, "threads", optarg, 1, SERVE_MAX_THREADS, &threads))
				return 2;
			break;
		case 'p':
			if (count_opt(prog, "processes", optarg, 1, SERVE_MAX_PROCESSES, &processes))
				return 2;
			break;
		case 'c':
			if (count_opt(prog, "connections", optarg, 0, SERVE_MAX_THREADS, &connections))
				return 2;
			break;
		case 'v': value = optarg; break;
		case 'h': usage(stdout, prog, h->connections); return 0;
		default: usage(stderr, prog, h->connections); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, prog, h->connections);
		return 2;
	}
	if (serve_check_routes(h, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	const char *path = config_path();
	if (config_init(path, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	const struct config *cfg = config_acquire();
	if (value) {
		int rc = print_value(cfg, value);
		config_release(cfg);
		config_shutdown();
		return rc;
	}
	if (check) {
		printf("%s: configuration %s is valid\n", prog, path ? path : "(built-in defaults)");
		int rc = check_store(prog, cfg->database);
		config_release(cfg);
		config_shutdown();
		return rc;
	}
	log_setup(prog, cfg->log.level);
	char dbpath[STORE_LOCATION_MAX];
	snprintf(dbpath, sizeof dbpath, "%s", cfg->database);
	config_release(cfg);
	/* a CGI request still gets an answer in our format when the store fails */
	int cgi = !listen_addr && FCGX_IsCGI();
	if (store_migrate(dbpath, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		if (cgi)
			serve_cgi_unavailable();
		config_shutdown();
		return 1;
	}
	if (h->init) {
		const struct config *ic = config_acquire();
		int irc = h->init(ic, err, sizeof err);
		config_release(ic);
		if (irc != 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			config_shutdown();
			return 1;
		}
	}
	/* one malloc arena per thread would multiply the RSS by the threads */
	mallopt(M_ARENA_MAX, 2);
	if (core_open(&serve_core, dbpath, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		config_shutdown();
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1; /* no SA_RESTART: interrupts accept() */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "%s: cannot initialise libfcgi\n", prog);
		return 1;
	}

	int listen_fd = 0;
	if (listen_addr) {
		if (listen_addr[0] == '/')
			unlink(listen_addr); /* a stale socket from a crash */
		mode_t old = umask(0117);
		listen_fd = FCGX_OpenSocket(listen_addr, SERVE_BACKLOG);
		umask(old);
		if (listen_fd < 0) {
			fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, listen_addr, strerror(errno));
			return 1;
		}
	} else if (FCGX_IsCGI()) {
		/* CGI: one request on stdin/stdout, then exit */
		struct store *st = NULL;
		if (store_open(dbpath, h->mode, &st, err, sizeof err) != 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			serve_cgi_unavailable();
			return 1;
		}
		struct req r;
		http_req_init(&r, NULL);
		r.store = st;
		serve_one(&r, h);
		fflush(stdout);
		/* mod_cgid joins stdin and stdout in one socket: exiting with
		 * unread input resets it and Apache loses the answer, so read
		 * what is left of the declared body (bounded by CONTENT_LENGTH) */
		serve_drain_cgi_body();
		if (r.after_fn) {
			/* end the answer first: the web server waits for the end of
			 * the output (with mod_cgid, stdin and stdout are one socket) */
			if (shutdown(STDOUT_FILENO, SHUT_WR) != 0)
				close(STDOUT_FILENO);
			serve_run_after(&r);
		}
		http_req_free(&r);
		store_close(st);
		config_shutdown();
		return 0;
	}

	/* signals go to the main thread only, which waits for them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* as many connections as threads, or more: each thread its own, as without */
	store_share_connections(connections < threads ? connections : 0);
	int rc = processes > 1 ? serve_supervise(listen_fd, threads, processes, h, dbpath, &set)
	                       : serve_run_threads(listen_fd, threads, h, dbpath, &set);
	if (listen_addr && listen_addr[0] == '/' && (processes == 1 || !serve_is_child))
		unlink(listen_addr);
	core_close(&serve_core);
	config_shutdown();
	return rc;
}
