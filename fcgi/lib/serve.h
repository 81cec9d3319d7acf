/*
 * serve.h: what every handler program shares: the route table type, the
 * dispatcher and the FastCGI/CGI accept loop.
 *
 * A handler program is a route table and a main() that calls serve_main().
 * serve_main loads the config (-n: check it and exit), applies the store
 * migrations, then serves: several threads each running a FastCGI accept
 * loop on the listening socket (so one slow request never stalls the
 * process), or exactly one request when started as a CGI program.
 *
 * Each route row says what the route needs; the dispatcher enforces all of
 * it before the handler runs, in this order: HTTPS -> CORS -> prefilter ->
 * route (404/405) -> per-ip rate limit -> query -> path check -> credentials
 * (401/403, and the per-account rate limit) -> Content-Length against the
 * route's cap (413, nothing read yet) -> Content-Type (415) -> read ->
 * JSON parse (400) -> field table (400) -> handler -> response. So no body
 * is read for a caller who may not send one, and a handler starts with an
 * identity (r->auth) and a body whose members have their declared types.
 * Every error travels as an enum err up to the one error writer.
 */
#ifndef BLINDSYNC_SERVE_H
#define BLINDSYNC_SERVE_H

#include <stddef.h>

#include "core.h"
#include "http.h"
#include "json.h"
#include "routes.h"
#include "store.h"

typedef enum err (*route_fn)(struct req *r);

/* Who may call a route, checked before any of the body is read. */
enum route_auth {
	RA_NONE,    /* anyone */
	RA_BEARER,  /* "Authorization: Bearer <access token>": r->auth is the caller */
	RA_SLOT,    /* "X-Slot-Key": present and well-formed, its SHA-256 in r->slot_key */
	RA__MAX
};

/* What the body is. */
enum route_body {
	RB_NONE,     /* no body is read (whatever is sent stays unread) */
	RB_JSON,     /* application/json, read whole, parsed into r->json, checked by the field table */
	RB_JSON_OPT, /* like RB_JSON, but an empty body is allowed (then r->json is NULL) */
	RB_STREAM,   /* the handler streams the body itself (after its own length check) */
	RB__MAX
};

/* Body caps of the routes that come before authentication (a KiB is plenty for their members). */
#define ROUTE_CAP_SMALL  4096

/*
 * One route. The row is the whole contract of the route: the dispatcher
 * checks method and pattern, credentials, body kind and cap and the field
 * table; the handler does only the route's own work. Write rows with
 * designated initializers, and field tables with FIELDS() so that the
 * compiler counts them.
 */
struct route {
	enum method method;
	const char *pattern;      /* after /v1, "*" matches one segment: "/collections/ * /push" */
	route_fn fn;
	const char *name;         /* from routes.h: logs, metrics, rate limits */
	enum route_auth auth;
	enum route_body body;
	int64_t max_body;         /* RB_JSON*: byte cap; 0 = limits.max_body_bytes (never above it) */
	const struct jfield *fields; /* RB_JSON*: the body's members (NULL: any object, unchecked) */
	size_t nfields;
	/* optional: the path parameters, checked before the credentials when
	 * auth is RA_SLOT (an id of the wrong shape is a 404 whatever the key),
	 * after them otherwise, and always before the body is read */
	enum err (*check)(struct req *r);
	/* optional, RA_BEARER routes: the reads the handler's first store_read
	 * makes, sent with the token's lookup before it is checked
	 * (store_status_early, store_pull_early: one round trip for both on
	 * PostgreSQL); it must only send reads, never answer or fail */
	void (*early)(struct req *r, const uint8_t token_hash[32]);
};

/* A field table and its length, for a struct route initializer: FIELDS(login_fields). */
#define FIELDS(f) .fields = (f), .nfields = sizeof(f) / sizeof *(f)

struct handler {
	const char *name;            /* "status": the program is blindsync-status */
	const struct route *routes;
	size_t nroutes;
	enum store_mode mode;        /* STORE_RO for handlers that only read */
	/* optional, once per process before serving (after the migrations):
	 * 0, or -1 with errbuf filled to refuse to start */
	int (*init)(const struct config *c, char *errbuf, size_t errlen);
	/* optional, per request before routing: ERR_OK to go on, or the error
	 * to answer (e.g. a feature that is off answers 404 to every method) */
	enum err (*prefilter)(struct req *r);
	/* a PostgreSQL store: --connections when not given (0: one per
	 * thread); SERVE_SHARED_CONNECTIONS for the handlers of short
	 * requests (push, pull, status: docs/CONFIG.md measures it) */
	int connections;
};

#define SERVE_SHARED_CONNECTIONS 2

/* Run the handler program; returns the process exit status. */
int serve_main(int argc, char **argv, const struct handler *h);

/*
 * Check h's route table: every name listed in routes.h as a route, every
 * auth and body kind known, fields only on JSON routes. 0, or -1 with
 * errbuf naming the first bad row. serve_main() runs it before anything
 * else (-n too), so a handler with a bad row never starts.
 */
int serve_check_routes(const struct handler *h, char *errbuf, size_t errlen);

/*
 * Route r against h: fills r->params and r->route_name and returns the
 * route, or NULL after setting *e to ERR_NOT_FOUND or ERR_METHOD_NOT_ALLOWED
 * (adding the Allow header). Exposed for unit tests.
 */
const struct route *serve_route(struct req *r, const struct handler *h, enum err *e);

/* Handle the request in r completely: dispatch, answer, log. */
void serve_one(struct req *r, const struct handler *h);

/*
 * Run fn(store, arg) once r's answer has gone out to the front end (after
 * FCGX_Finish_r, or once a CGI program's output is closed), on the same
 * thread and store connection, before the next request. For a write whose
 * cost must not show in the answer's timing (a failed login's event). One
 * per request: a later call replaces an earlier one. fn logs its own errors.
 */
void serve_after(struct req *r, void (*fn)(struct store *s, int64_t arg), int64_t arg);

/*
 * The rate limits of config.md for the current route, shared by every
 * process (limit.c). Three phases, each charging only its own rules: the
 * dispatcher calls it with (NULL, 0) before reading the body (per = ip
 * rules, keyed by the client address); a handler with (username, 0) once it
 * knows the name (per = username); auth_require() with (NULL, account)
 * after authenticating an RA_BEARER route for the dispatcher (per =
 * account), still before the body is read. Over a limit: ERR_RATE_LIMITED with
 * a Retry-After header added. A limiter that fails is logged and lets the
 * request through.
 */
enum err serve_limit(struct req *r, const char *username, int64_t account_id);
/* The per-ip rules of another route name (e.g. "slots.create" inside slots.put). */
enum err serve_limit_as(struct req *r, const char *route);
/* The server secret, from which the names of the rate-limit buckets a
 * shared store keeps are keyed (core_limit_key): the account program, whose
 * routes have those limits, gives it at its start. */
void serve_limit_key(const uint8_t secret[32]);

/*
 * Long-polls. serve_changed() tells waiters on every worker of every handler
 * that an account changed (and one of its collections, when name is not
 * NULL); call it after the transaction committed. A request that found
 * nothing new waits with serve_watch(): serve_watch_init() (before the
 * request's query, so that a write in between is not missed) reads the
 * sequences of what it waits for (account_id's collection, or the account
 * when collection is NULL) and of the caller's own account, which whatever
 * ends a session bumps. serve_watch() returns 0 when the time is up or the
 * process is stopping, else SERVE_WATCH_DATA (query again) and/or
 * SERVE_WATCH_SESSION (check the caller's token first: auth_recheck()).
 */
#define SERVE_WATCH_DATA CORE_WATCH_DATA
#define SERVE_WATCH_SESSION CORE_WATCH_SESSION
void serve_changed(int64_t account_id, const char *collection);
void serve_watch_init(struct core_watch *w, int64_t account_id, const char *collection, int64_t caller_id);
int serve_watch(struct core_watch *w, int64_t deadline_ms);
/* Begin/end a long-poll: serve_wait_begin() returns 0 if this request may
 * wait (then call serve_wait_end() once), -1 if the bound is reached (at
 * most half the process's threads wait, so waits never starve others). */
int serve_wait_begin(void);
void serve_wait_end(void);
/* The worker threads of this process (1 in CGI mode); upload.c keeps some
 * of them free of streamed uploads. */
int serve_threads(void);
/* The shared request metrics in Prometheus text (GET /v1/metrics). */
void serve_metrics(struct buf *out);

/* Monotonic milliseconds, for long-poll deadlines (the limiter's clock). */
int64_t serve_now_ms(void);

/* 1 if addr equals one of list[0..n) or falls in one of its CIDR ranges. */
int serve_addr_in(const char *addr, const char list[][CONFIG_ADDR_MAX], int n);

#endif
