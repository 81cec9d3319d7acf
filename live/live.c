/*
 * live.c: blindsync-live, the WebSocket program of docs/API-live.md. One
 * libwebsockets event loop in one thread holds every socket; no thread and
 * no buffer per idle connection beyond what libwebsockets keeps.
 *
 * A device asks the account handler for a ticket (POST /v1/live/ticket),
 * then opens GET /v1/live?ticket=T through the front end, which proxies it
 * to our unix socket (or TCP port on 127.0.0.1). The ticket is redeemed in
 * the store before the upgrade completes: a bad one is a 401 and no socket.
 * The socket gets a hello with the account's versions, then a "changed"
 * message whenever something of the account changed: every few milliseconds
 * we compare the notifier's shared counters (the ones the long-polls sleep
 * on, bumped by every handler process after each commit) with a snapshot,
 * and re-read the accounts whose slot moved, at most once per
 * LIVE_COALESCE_MS each, so a burst of pushes is one or two messages. The
 * same re-read checks each socket's device: a device logged out or revoked
 * or an account disabled or deleted is closed with 4401.
 *
 * Must never: log or echo a ticket; read a message from a client (any data
 * frame closes that socket); block on a client (writes happen only when
 * libwebsockets says the socket is writable); write to the store except to
 * take a ticket.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "accounts.h"
#include "config.h"
#include "core.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "serve.h"
#include "store.h"

#define PROG "blindsync-live"
#define LIVE_TICK_US 5000          /* how often the shared counters are compared */
#define LIVE_COALESCE_MS 250       /* an account is re-read at most this often */
#define LIVE_SESSION_MS 1000       /* how often the sockets' session expiries are compared with the time */
#define LIVE_STOP_MS 10000         /* at shutdown, at most how long sockets get to close */
#define LIVE_STOP_GRACE_MS 5000    /* ... and, once every 1012 is written, how long their acks get */
#define LIVE_RETRY_MIN_MS 1000     /* the retry delay of a 1012 close: uniform in [min, max] */
#define LIVE_RETRY_MAX_MS 30000
#define LIVE_MSG_MAX (8 * 1024 * 1024) /* a hello of a huge account stops here (then it is cut) */

/* Close codes (docs/API-live.md). */
#define CLOSE_RESTART 1012         /* shutdown: reconnect after the delay in the reason */
#define CLOSE_UNAUTHORIZED 4401    /* the session ended: get a new token, then a ticket */
#define CLOSE_LIMIT 4429           /* too many sockets: retry later */
#define CLOSE_UNSUPPORTED 1003     /* a binary frame */
#define CLOSE_POLICY 1008          /* a text message: clients send none */
#define CLOSE_TOO_BIG 1009         /* a data frame longer than LIVE_RX_MAX */
#define LIVE_RX_MAX 4096           /* beyond this a client's frame is "too big", not merely unwanted */

/*
 * One collection as last read: `gen` is the generation in which it last
 * changed. A collection shared with the account (docs/API-sharing.md) is
 * named "<owner>/<collection>", which no own name can be (no '/').
 */
struct coll {
	char name[STORE_USERNAME_MAX + 1 + STORE_NAME_MAX + 1];
	int shared;
	int64_t version;           /* 0 with gone: deleted */
	uint64_t gen;
	int gone;
};

struct conn;

/* An account with sockets: its versions as last read, shared by its sockets. */
struct acct {
	int64_t id;
	uint32_t slot;             /* notify_slot_account(id): the bucket too */
	struct acct *next;         /* in the bucket */
	struct acct *dirty_next;   /* in the dirty list, when dirty */
	int dirty;
	int64_t next_read_ms;      /* not re-read before (coalescing) */
	uint64_t gen;              /* bumped at every re-read that found a change */
	int64_t account_version;
	struct coll *colls;        /* sorted by name */
	size_t ncolls, capcolls;
	struct conn *conns;
	int nconns;
};

/* Per socket (libwebsockets' per-session data, zeroed). */
struct conn {
	struct lws *wsi;
	int64_t account_id, device_id; /* set when the ticket was redeemed */
	struct acct *acct;
	struct conn *next, *prev;  /* in acct->conns */
	uint64_t sent_gen;         /* the account generation this socket has seen */
	int64_t until;             /* the device's session ends then (unix s) unless a refresh moves it */
	int hello_sent;
	int close_code;            /* non-zero: close with it at the next writable */
	int close_sent;            /* the close frame is written */
	char close_reason[64];
};

static struct {
	struct lws_context *ctx;
	struct lws_vhost *unix_vh;
	struct config cfg;
	struct store *store;
	struct core core;
	uint32_t snap[NOTIFY_SLOTS];
	struct acct *bucket[NOTIFY_SLOTS];
	struct acct *dirty;
	int nconns;
	int64_t stop_at_ms;        /* 0: running; else when the shutdown began */
	int done;
	lws_sorted_usec_list_t tick;
	struct buf msg;            /* the message being written (LWS_PRE bytes first) */
} L;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

/* ---- accounts ---- */

static int coll_cmp(const void *a, const void *b)
{
	return strcmp(((const struct coll *)a)->name, ((const struct coll *)b)->name);
}

/* qsort and bsearch of n collections (none: nothing, and no NULL handed to libc). */
static void coll_sort(struct coll *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof *v, coll_cmp);
}

static struct coll *coll_find(const struct coll *key, struct coll *v, size_t n)
{
	return n ? bsearch(key, v, n, sizeof *v, coll_cmp) : NULL;
}

/* A collection list being read from the store. */
struct read_ctx {
	struct acct *a;
	struct coll *colls;
	size_t n, cap;
	int64_t account_version;
	int disabled;
	int oom;
};

static int read_coll(void *arg, const struct store_collection *c)
{
	struct read_ctx *x = arg;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		struct coll *p = realloc(x->colls, cap * sizeof *p);
		if (!p) {
			x->oom = 1;
			return 1;
		}
		x->colls = p;
		x->cap = cap;
	}
	struct coll *k = &x->colls[x->n++];
	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", c->name);
	k->version = c->version;
	return 0;
}

/* A collection shared with the account: as read_coll, named "<owner>/<collection>". */
static int read_shared(void *arg, const struct store_collection *c, const char *owner, int role)
{
	struct read_ctx *x = arg;
	(void)role;
	if (read_coll(arg, c))
		return 1;
	struct coll *k = &x->colls[x->n - 1];
	snprintf(k->name, sizeof k->name, "%s/%s", owner, c->name);
	k->shared = 1;
	return 0;
}

/* store_read body: the account's version and its collections, from one snapshot. */
static enum err read_tx(struct store *s, void *arg)
{
	struct read_ctx *x = arg;
	struct store_account acc;
	enum err e = store_account_by_id(s, x->a->id, &acc);
	if (e)
		return e;
	x->account_version = acc.account_version;
	x->disabled = acc.disabled;
	x->n = 0;
	e = store_collection_list(s, x->a->id, read_coll, x);
	if (e == ERR_OK && !x->oom)
		e = store_shared_list(s, x->a->id, read_shared, x);
	bsc_wipe(&acc, sizeof acc);
	if (e == ERR_OK && x->oom)
		e = ERR_INTERNAL;
	return e;
}

static void conn_close(struct conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	lws_callback_on_writable(c->wsi);
}

static void acct_close_all(struct acct *a, int code, const char *reason)
{
	for (struct conn *c = a->conns; c; c = c->next)
		conn_close(c, code, reason);
}

/*
 * Re-read account a: close the sockets whose device lost its session (or
 * all of them, for an account disabled or deleted), then compare the
 * versions with what we had; anything new starts a generation and wakes the
 * sockets. On a store error the account stays dirty and is tried again.
 */
static void acct_read(struct acct *a, int64_t now_ms)
{
	int64_t now = (int64_t)time(NULL);
	a->next_read_ms = now_ms + LIVE_COALESCE_MS;
	for (struct conn *c = a->conns; c; c = c->next) {
		if (c->close_code)
			continue;
		enum err e = store_live_device_ok(L.store, a->id, c->device_id, now, &c->until);
		if (e == ERR_UNAUTHORIZED)
			conn_close(c, CLOSE_UNAUTHORIZED, "the session ended");
		else if (e)
			return; /* stays dirty: tried again after the coalescing delay */
	}
	struct read_ctx x = {.a = a};
	enum err e = store_read(L.store, read_tx, &x);
	if (e == ERR_NOT_FOUND || (e == ERR_OK && x.disabled)) {
		free(x.colls);
		acct_close_all(a, CLOSE_UNAUTHORIZED, "the account is gone or disabled");
		a->dirty = 0;
		return;
	}
	if (e) {
		free(x.colls);
		log_msg(LOG_WARN, "cannot read account %" PRId64 ": %s", a->id, err_code(e));
		return;
	}
	a->dirty = 0;
	coll_sort(x.colls, x.n);
	uint64_t gen = a->gen + 1;
	int changed = x.account_version != a->account_version;
	/* what is new or moved */
	for (size_t i = 0; i < x.n; i++) {
		struct coll *old = coll_find(&x.colls[i], a->colls, a->ncolls);
		if (old && !old->gone && old->version == x.colls[i].version) {
			x.colls[i].gen = old->gen;
		} else {
			x.colls[i].gen = gen;
			changed = 1;
		}
	}
	/* what went: kept as gone (version null) so that every socket hears of it once */
	size_t keep = 0;
	for (size_t i = 0; i < a->ncolls; i++)
		if (!coll_find(&a->colls[i], x.colls, x.n))
			keep++;
	if (keep) {
		struct coll *p = realloc(x.colls, (x.n + keep) * sizeof *p);
		if (!p) {
			free(x.colls);
			a->dirty = 1;
			return;
		}
		x.colls = p;
		for (size_t i = 0; i < a->ncolls; i++) {
			struct coll *o = &a->colls[i];
			if (coll_find(o, x.colls, x.n))
				continue;
			x.colls[x.n] = *o;
			if (!o->gone) {
				x.colls[x.n].gone = 1;
				x.colls[x.n].version = 0;
				x.colls[x.n].gen = gen;
				changed = 1;
			}
			x.n++;
		}
		coll_sort(x.colls, x.n);
	}
	free(a->colls);
	a->colls = x.colls;
	a->ncolls = a->capcolls = x.n;
	a->account_version = x.account_version;
	if (!changed)
		return;
	a->gen = gen;
	for (struct conn *c = a->conns; c; c = c->next)
		if (c->hello_sent && !c->close_code)
			lws_callback_on_writable(c->wsi);
}

static void acct_mark_dirty(struct acct *a)
{
	if (a->dirty)
		return;
	a->dirty = 1;
	a->dirty_next = L.dirty;
	L.dirty = a;
}

/* The account of id, created (and read) if it has no socket yet; NULL when out of memory or unreadable. */
static struct acct *acct_get(int64_t id)
{
	uint32_t slot = notify_slot_account(id);
	for (struct acct *a = L.bucket[slot]; a; a = a->next)
		if (a->id == id)
			return a;
	struct acct *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->id = id;
	a->slot = slot;
	struct read_ctx x = {.a = a};
	enum err e = store_read(L.store, read_tx, &x);
	if (e || x.disabled) {
		free(x.colls);
		free(a);
		return NULL;
	}
	coll_sort(x.colls, x.n);
	a->colls = x.colls;
	a->ncolls = a->capcolls = x.n;
	a->account_version = x.account_version;
	a->next = L.bucket[slot];
	L.bucket[slot] = a;
	return a;
}

static void acct_release(struct acct *a)
{
	if (a->conns)
		return;
	struct acct **pp = &L.bucket[a->slot];
	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp)
		*pp = a->next;
	if (a->dirty) {
		struct acct **dp = &L.dirty;
		while (*dp && *dp != a)
			dp = &(*dp)->dirty_next;
		if (*dp)
			*dp = a->dirty_next;
	}
	free(a->colls);
	free(a);
}

/* ---- the timer: wake-ups, coalescing, shutdown ---- */

static const char *listen_path_g;
static ino_t listen_ino;           /* our socket file's inode: a newer process may have taken the path */

/* Remove the socket file at path if it is still ours (not a newer process's, renamed over it). */
static void unlink_ours(const char *path)
{
	struct stat st;
	if (path && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == listen_ino)
		unlink(path);
}

/* End the process: the store and the shared tables closed, the socket file
 * removed; libwebsockets' memory is left to the exit (still reachable). */
static void live_exit(int rc)
{
	unlink_ours(listen_path_g);
	for (uint32_t s = 0; s < NOTIFY_SLOTS; s++)
		while (L.bucket[s]) {
			struct acct *a = L.bucket[s];
			L.bucket[s] = a->next;
			for (struct conn *c = a->conns; c; c = c->next)
				c->acct = NULL;
			free(a->colls);
			free(a);
		}
	buf_free(&L.msg);
	core_close(&L.core);
	store_close(L.store);
	log_msg(LOG_INFO, "stopped");
	exit(rc);
}

/* A 1012's reason: a random retry delay, so that the clients do not all come back at once. */
static void restart_reason(struct conn *c)
{
	long ms = LIVE_RETRY_MIN_MS + random() % (LIVE_RETRY_MAX_MS - LIVE_RETRY_MIN_MS + 1);
	snprintf(c->close_reason, sizeof c->close_reason, "{\"retry_after_ms\":%ld}", ms);
}

static void begin_stop(int64_t now_ms)
{
	L.stop_at_ms = now_ms;
	log_msg(LOG_INFO, "stopping: closing %d sockets with 1012", L.nconns);
	for (uint32_t s = 0; s < NOTIFY_SLOTS; s++)
		for (struct acct *a = L.bucket[s]; a; a = a->next)
			for (struct conn *c = a->conns; c; c = c->next) {
				if (c->close_sent)
					continue;
				c->close_code = 0; /* the restart wins over a pending close */
				conn_close(c, CLOSE_RESTART, "");
				restart_reason(c);
			}
}

/*
 * A session can end with nothing written to the account: its last token
 * expires. Each socket knows when its device's session would end (until);
 * once that passed, the device is checked again: closed with 4401, or (a
 * refresh happened meanwhile) a later until.
 */
static void session_sweep(void)
{
	int64_t now = (int64_t)time(NULL);
	for (uint32_t s = 0; s < NOTIFY_SLOTS; s++)
		for (struct acct *a = L.bucket[s]; a; a = a->next)
			for (struct conn *c = a->conns; c; c = c->next) {
				if (c->close_code || !c->until || now < c->until)
					continue;
				enum err e = store_live_device_ok(L.store, a->id, c->device_id, now, &c->until);
				if (e == ERR_UNAUTHORIZED)
					conn_close(c, CLOSE_UNAUTHORIZED, "the session ended");
				else if (e)
					return; /* the store is busy: the next sweep tries again */
			}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	static int64_t next_sweep_ms;
	(void)sul;
	int64_t now_ms = core_now_ms();
	if (stop_signal && !L.stop_at_ms)
		begin_stop(now_ms);
	if (L.stop_at_ms) {
		/* done when every socket is gone, or every 1012 is written and
		 * the grace for the acks is over, or at the bound: ending the
		 * loop closes what is left */
		int unsent = 0;
		for (uint32_t s = 0; s < NOTIFY_SLOTS && !unsent; s++)
			for (struct acct *a = L.bucket[s]; a && !unsent; a = a->next)
				for (struct conn *c = a->conns; c; c = c->next)
					if (!c->close_sent) {
						unsent = 1;
						break;
					}
		if (L.nconns == 0 || (!unsent && now_ms - L.stop_at_ms > LIVE_STOP_GRACE_MS) ||
		    now_ms - L.stop_at_ms > LIVE_STOP_MS) {
			/* every 1012 is out: leave at once. Destroying a context of
			 * ten thousand connections from inside libev's loop took tens
			 * of seconds (measured), long enough for the clients to come
			 * back to a socket with nobody behind it; the kernel closes
			 * what is left when the process ends */
			L.done = 1;
			live_exit(0);
			return;
		}
	} else {
		if (now_ms >= next_sweep_ms) {
			next_sweep_ms = now_ms + LIVE_SESSION_MS;
			session_sweep();
		}
		/* which slots moved since the last tick */
		for (uint32_t s = 0; s < NOTIFY_SLOTS; s++) {
			uint32_t seq = notify_seq(L.core.notifier, s);
			if (seq == L.snap[s])
				continue;
			L.snap[s] = seq;
			for (struct acct *a = L.bucket[s]; a; a = a->next)
				acct_mark_dirty(a);
		}
		/* re-read the dirty accounts whose coalescing delay is over */
		struct acct **pp = &L.dirty;
		while (*pp) {
			struct acct *a = *pp;
			if (now_ms >= a->next_read_ms) {
				acct_read(a, now_ms);
				if (!a->dirty) {
					*pp = a->dirty_next;
					continue;
				}
			}
			pp = &a->dirty_next;
		}
	}
	lws_sul_schedule(L.ctx, 0, &L.tick, tick, LIVE_TICK_US);
}

/* ---- HTTP answers before the upgrade ---- */

/* Answer a refused upgrade with status and the JSON error of e (one write, then the connection closes). */
static int refuse(struct lws *wsi, enum err e, int retry_after)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
	char body[256];
	int n = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", err_code(e),
	    e == ERR_UNAUTHORIZED ? "The ticket is not valid: get a new one (POST /v1/live/ticket)."
	                          : err_message(e));
	char ra[16], rid[64] = "";
	snprintf(ra, sizeof ra, "%d", retry_after > 0 ? retry_after : 1);
	/* the front end's request id (nginx sends $request_id), else one of ours */
	if (lws_hdr_custom_copy(wsi, rid, sizeof rid, "x-request-id:", 13) <= 0 || strspn(rid,
		"0123456789abcdefABCDEF-") != strlen(rid)) {
		uint8_t r[16];
		if (bsc_random(r, sizeof r) != 0)
			memset(r, 0, sizeof r);
		for (int i = 0; i < 16; i++)
			snprintf(rid + 2 * i, 3, "%02x", r[i]);
	}
	if (lws_add_http_header_status(wsi, (unsigned int)err_status(e), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)"application/json",
		16, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p,
		end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
		(const unsigned char *)"nosniff", 7, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:", (const unsigned char *)rid,
		(int)strlen(rid), &p, end) ||
	    lws_add_http_header_content_length(wsi, (lws_filepos_t)n, &p, end) ||
	    ((e == ERR_RATE_LIMITED || e == ERR_UNAVAILABLE) &&
		lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER, (const unsigned char *)ra,
		    (int)strlen(ra), &p, end)) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	if (end - p < n)
		return -1;
	memcpy(p, body, (size_t)n);
	p += n;
	lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
	return -1;
}

/* The client's address: the last X-Forwarded-For entry behind our front end (the unix socket), else the peer. */
static void client_addr(struct lws *wsi, char *out, size_t outlen)
{
	char xff[256] = "";
	int trusted = lws_get_vhost(wsi) == L.unix_vh;
	if (!trusted) {
		lws_get_peer_simple(wsi, out, outlen);
		trusted = serve_addr_in(out, (const char(*)[CONFIG_ADDR_MAX])L.cfg.trusted_proxies,
		    L.cfg.n_trusted_proxies);
		if (!trusted)
			return;
	}
	if (lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR) > 0) {
		char *last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		size_t n = strnlen(last, outlen - 1); /* an address longer than out is cut: a key all the same */
		memcpy(out, last, n);
		out[n] = '\0';
	} else if (lws_get_vhost(wsi) == L.unix_vh) {
		snprintf(out, outlen, "unix");
	}
}

/* The path ends with /v1/live (under any prefix, as the handlers accept). */
static int path_ok(struct lws *wsi)
{
	char uri[512];
	int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
	static const char tail[] = "/v1/live";
	if (n >= (int)sizeof tail - 1 && strcmp(uri + n - (sizeof tail - 1), tail) == 0)
		return 1;
	char esc[128];
	log_escape(n > 0 ? uri : "", esc, sizeof esc);
	log_msg(LOG_DEBUG, "refused a path: %s", esc);
	return 0;
}

/* The ticket query argument into out (at most outlen - 1 characters); 0, or -1 if absent or too long. */
static int ticket_arg(struct lws *wsi, char *out, size_t outlen)
{
	char frag[128];
	for (int i = 0; i < 16; i++) {
		int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		if (strncmp(frag, "ticket=", 7) == 0) {
			size_t len = strlen(frag + 7);
			if (len >= outlen)
				return -1;
			memcpy(out, frag + 7, len + 1);
			return 0;
		}
	}
	return -1;
}

/* Before the upgrade: the path, then the ticket. 0 to go on, -1 after answering the refusal. */
static int filter(struct lws *wsi, struct conn *c)
{
	if (!path_ok(wsi))
		return refuse(wsi, ERR_NOT_FOUND, 0);
	char ticket[AUTH_TOKEN_LEN + 2] = "", ip[64] = "";
	int64_t account_id = 0, device_id = 0;
	enum err e = ERR_UNAUTHORIZED;
	if (ticket_arg(wsi, ticket, sizeof ticket) == 0)
		e = accounts_live_redeem(L.store, ticket, strlen(ticket), &account_id, &device_id);
	bsc_wipe(ticket, sizeof ticket);
	if (e == ERR_UNAUTHORIZED) {
		/* refused attempts are what live.connect counts, per address */
		int retry = 1;
		client_addr(wsi, ip, sizeof ip);
		if (core_limit(&L.core, &L.cfg, "live.connect", ip[0] ? ip : "-", NULL, 0, &retry) == ERR_RATE_LIMITED)
			return refuse(wsi, ERR_RATE_LIMITED, retry);
		return refuse(wsi, ERR_UNAUTHORIZED, 0);
	}
	if (e)
		return refuse(wsi, e == ERR_UNAVAILABLE ? ERR_UNAVAILABLE : ERR_INTERNAL, 1);
	if (!c)
		return refuse(wsi, ERR_INTERNAL, 0);
	c->account_id = account_id;
	c->device_id = device_id;
	return 0;
}

/* ---- the socket ---- */

/* Attach a new socket to its account, within the caps; the hello goes at the first writable. */
static void established(struct lws *wsi, struct conn *c)
{
	c->wsi = wsi;
	L.nconns++;
	if (L.stop_at_ms) {
		/* stopping: not a 503 (a 5xx for the clients' counts) but the
		 * same 1012 and retry delay as every other socket */
		conn_close(c, CLOSE_RESTART, "");
		restart_reason(c);
		return;
	}
	if (L.nconns > L.cfg.live.max_total) {
		conn_close(c, CLOSE_LIMIT, "too many sockets on this server");
		return;
	}
	struct acct *a = acct_get(c->account_id);
	if (!a) {
		conn_close(c, CLOSE_UNAUTHORIZED, "the account is gone or disabled");
		return;
	}
	/* when its session would end (the ticket's redeem checked it has one) */
	if (store_live_device_ok(L.store, c->account_id, c->device_id, (int64_t)time(NULL), &c->until) ==
	    ERR_UNAUTHORIZED)
		c->until = 1; /* ended meanwhile: the next sweep closes it */
	c->acct = a;
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->nconns++;
	if (a->nconns > L.cfg.live.max_per_account) {
		conn_close(c, CLOSE_LIMIT, "too many sockets for this account");
		return;
	}
	log_msg(LOG_DEBUG, "socket open: account %" PRId64 ", %d sockets", c->account_id, L.nconns);
	lws_callback_on_writable(wsi);
}

static void closed(struct conn *c)
{
	if (!c->wsi)
		return;
	L.nconns--;
	log_msg(LOG_DEBUG, "socket closed: account %" PRId64 ", %d sockets", c->account_id, L.nconns);
	struct acct *a = c->acct;
	if (a) {
		if (c->prev)
			c->prev->next = c->next;
		else
			a->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		a->nconns--;
		c->acct = NULL;
		acct_release(a);
	}
	c->wsi = NULL;
}

/* Write the hello (all collections) or a changed message (those of a newer generation than the socket saw). */
static int send_state(struct lws *wsi, struct conn *c)
{
	struct acct *a = c->acct;
	int hello = !c->hello_sent;
	buf_reset(&L.msg, 64 * 1024);
	buf_add(&L.msg, (char[LWS_PRE]){0}, LWS_PRE);
	struct jw w;
	jw_init(&w, &L.msg);
	jw_obj_begin(&w);
	jw_key(&w, "type"); jw_str(&w, hello ? "hello" : "changed");
	jw_key(&w, "account_version"); jw_int(&w, a->account_version);
	/* own collections, then the shared ones keyed "<owner>/<collection>" */
	for (int shared = 0; shared <= 1; shared++) {
		jw_key(&w, shared ? "shared" : "collections");
		jw_obj_begin(&w);
		for (size_t i = 0; i < a->ncolls; i++) {
			const struct coll *k = &a->colls[i];
			if (k->shared != shared || (hello ? k->gone : k->gen <= c->sent_gen))
				continue;
			jw_key(&w, k->name);
			if (k->gone)
				jw_null(&w);
			else
				jw_int(&w, k->version);
		}
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	c->hello_sent = 1;
	c->sent_gen = a->gen;
	if (buf_error(&L.msg)) {
		conn_close(c, 1011, "message too large");
		return 0;
	}
	size_t n = L.msg.len - LWS_PRE;
	if (lws_write(wsi, (unsigned char *)L.msg.p + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	return 0;
}

static int writable(struct lws *wsi, struct conn *c)
{
	if (c->close_code) {
		lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
		    strlen(c->close_reason));
		c->close_sent = 1;
		return -1;
	}
	if (!c->acct)
		return 0;
	if (!c->hello_sent || c->sent_gen < c->acct->gen)
		return send_state(wsi, c);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter(wsi, c);
	case LWS_CALLBACK_ESTABLISHED:
		established(wsi, c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writable(wsi, c);
	case LWS_CALLBACK_RECEIVE:
		/* clients send no messages: any data frame closes the socket (at
		 * its first bytes: nothing of it is kept) */
		if (len + lws_remaining_packet_payload(wsi) > LIVE_RX_MAX)
			lws_close_reason(wsi, CLOSE_TOO_BIG, (unsigned char *)"frame too big", 13);
		else if (lws_frame_is_binary(wsi))
			lws_close_reason(wsi, CLOSE_UNSUPPORTED, (unsigned char *)"binary frames are not accepted", 30);
		else
			lws_close_reason(wsi, CLOSE_POLICY, (unsigned char *)"clients send no messages", 24);
		return -1;
	case LWS_CALLBACK_CLOSED:
		closed(c);
		return 0;
	case LWS_CALLBACK_HTTP:
		/* a plain GET without the upgrade */
		return refuse(wsi, path_ok(wsi) ? ERR_INVALID_REQUEST : ERR_NOT_FOUND, 0);
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	/* the first is used when the client names no subprotocol */
	{"blindsync-live", callback, sizeof(struct conn), 512, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- main ---- */

static void usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [-n] [-V] [--listen PATH]\n"
	    "  -n              check the configuration and exit\n"
	    "  -V              print the version and exit\n"
	    "  --listen PATH   the unix socket to listen on (default: live.socket of the config)\n"
	    "  --socket-group GROUP  give the socket to GROUP (the front end's), mode 0660\n"
	    "The configuration is $BLINDSYNC_CONFIG, else " BLINDSYNC_DEFAULT_CONFIG ".\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"socket-group", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_path = NULL, *group = NULL;
	int check = 0, c, rc = 1;
	char err[1024];
	while ((c = getopt_long(argc, argv, "nVh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': check = 1; break;
		case 'V': printf(PROG " %s\n", BLINDSYNC_VERSION); return 0;
		case 'l': listen_path = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	const char *path = config_path();
	if (path ? config_load(path, &L.cfg, err, sizeof err) != 0 : (config_defaults(&L.cfg), 0)) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (check) {
		printf(PROG ": configuration %s is valid\n", path ? path : "(built-in defaults)");
		return 0;
	}
	log_setup(PROG, L.cfg.log.level);
	if (!listen_path)
		listen_path = L.cfg.live.socket;
	if (store_migrate(L.cfg.database, err, sizeof err) != 0 ||
	    store_open(L.cfg.database, STORE_RW, &L.store, err, sizeof err) != 0 ||
	    core_open(&L.core, L.cfg.database, err, sizeof err) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	for (uint32_t s = 0; s < NOTIFY_SLOTS; s++)
		L.snap[s] = notify_seq(L.core.notifier, s);
	buf_init(&L.msg, LIVE_MSG_MAX);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_set_log_level(LLL_ERR, NULL);
	/* pings every ping_seconds; a socket with no pong (or anything) for
	 * twice that plus 10 s is dead (a half-open connection, a reader that
	 * never drains) and is dropped */
	static lws_retry_bo_t retry;
	retry.secs_since_valid_ping = (uint16_t)L.cfg.live.ping_seconds;
	retry.secs_since_valid_hangup = (uint16_t)(2 * L.cfg.live.ping_seconds + 10);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_LIBEV |
	    LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.fd_limit_per_thread = (unsigned)(L.cfg.live.max_total + 64);
	info.retry_and_idle_policy = &retry;
	info.timeout_secs = 10; /* an upgrade that does not finish */
	L.ctx = lws_create_context(&info);
	if (!L.ctx) {
		fprintf(stderr, PROG ": cannot create the libwebsockets context\n");
		goto out;
	}
	struct lws_context_creation_info vi;
	memset(&vi, 0, sizeof vi);
	vi.protocols = protocols;
	vi.retry_and_idle_policy = &retry;
	/* a text frame that is not UTF-8 closes with 1007 before it reaches us */
	vi.options = LWS_SERVER_OPTION_UNIX_SOCK | LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* bound at a temporary path, then renamed over the socket path: a
	 * program still running there (a restart: the new one first, then
	 * SIGTERM to the old) keeps its sockets while every new connection
	 * comes here, with no moment without a listener (the front end never
	 * answers 502/503 for a missing one) */
	char tmp_path[sizeof(struct sockaddr_un) - offsetof(struct sockaddr_un, sun_path)];
	if (snprintf(tmp_path, sizeof tmp_path, "%s.%ld.new", listen_path, (long)getpid()) >= (int)sizeof tmp_path) {
		fprintf(stderr, PROG ": the socket path %s is too long\n", listen_path);
		goto out;
	}
	unlink(tmp_path);
	vi.iface = tmp_path;
	vi.vhost_name = "unix";
	vi.timeout_secs = 10;
	struct stat st;
	mode_t old = umask(0117);   /* the socket 0660, like the handlers' */
	L.unix_vh = lws_create_vhost(L.ctx, &vi);
	umask(old);
	if (!L.unix_vh) {
		fprintf(stderr, PROG ": cannot listen on %s\n", tmp_path);
		goto out;
	}
	if (group) {
		struct group *g = getgrnam(group);
		if (!g || chown(tmp_path, (uid_t)-1, g->gr_gid) != 0) {
			fprintf(stderr, PROG ": cannot give %s to group %s: %s\n", listen_path, group,
			    g ? strerror(errno) : "no such group");
			goto out;
		}
	}
	if (lstat(tmp_path, &st) != 0 || rename(tmp_path, listen_path) != 0) {
		fprintf(stderr, PROG ": cannot put the socket at %s: %s\n", listen_path, strerror(errno));
		unlink(tmp_path);
		goto out;
	}
	listen_ino = st.st_ino;
	listen_path_g = listen_path;
	if (L.cfg.live.port > 0) {
		memset(&vi, 0, sizeof vi);
		vi.protocols = protocols;
		vi.retry_and_idle_policy = &retry;
		vi.port = (int)L.cfg.live.port;
		vi.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
		vi.iface = "127.0.0.1";
		vi.vhost_name = "tcp";
		vi.timeout_secs = 10;
		if (!lws_create_vhost(L.ctx, &vi)) {
			fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%lld\n", (long long)L.cfg.live.port);
			goto out;
		}
	}
	log_msg(LOG_INFO, "listening on %s%s", listen_path, L.cfg.live.port > 0 ? " and 127.0.0.1" : "");
	lws_sul_schedule(L.ctx, 0, &L.tick, tick, LIVE_TICK_US);
	/* libev (epoll): the cost of a wake-up does not grow with the idle
	 * sockets, as poll()'s would; lws_service() runs the loop, and a stop
	 * ends in live_exit() from tick() */
	while (!L.done)
		if (lws_service(L.ctx, 0) < 0)
			break;
	rc = 0;
out:
	if (L.ctx)
		lws_context_destroy(L.ctx);
	unlink_ours(listen_path_g);
	for (uint32_t s = 0; s < NOTIFY_SLOTS; s++)
		while (L.bucket[s]) {
			struct acct *a = L.bucket[s];
			L.bucket[s] = a->next;
			free(a->colls);
			free(a);
		}
	buf_free(&L.msg);
	core_close(&L.core);
	store_close(L.store);
	return rc;
}
