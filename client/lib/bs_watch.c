/*
 * bs_watch.c: bs_watch, a sync each time the account changes. By the live
 * socket (docs/API-live.md) when GET /v1/info says "live": true: a ticket
 * (POST /v1/live/ticket), then GET /v1/live?ticket=T as a WebSocket client
 * on libwebsockets, and a sync at the hello and at each "changed". Without
 * it (live off, the ticket refused, a socket that cannot open or that
 * closed), long polls of GET /v1/status?wait= with If-None-Match, trying
 * the socket again between polls after a full-jitter back-off (after 1012
 * the retry delay of its reason instead).
 *
 * Must never: log (a ticket is a credential for 30 s; it is wiped once the
 * upgrade is sent); spin (every loop that can repeat at once waits a
 * back-off); read more than LIVE_MSG_MAX of a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libwebsockets.h>

#include "bs_impl.h"
#include "bsc.h"

#define LIVE_MSG_MAX (8u * 1024 * 1024 + 4096) /* the server's biggest hello, and some */
#define LIVE_OPEN_MS 10000      /* a ticket's upgrade must complete within this */
#define BACKOFF_BASE_MS 1000    /* the socket's (and a hasty 304's) back-off: full jitter, */
#define BACKOFF_CAP_MS 60000    /* base doubling up to the cap (the JS SDK's figures) */
#define RETRY_MAX_MS 300000     /* a 1012 reason's retry_after_ms is taken up to this */

/* Close codes of docs/API-live.md the watch acts upon. */
#define CLOSE_ABNORMAL 1006     /* ours: the connection ended without a close frame */
#define CLOSE_RESTART 1012
#define CLOSE_UNAUTHORIZED 4401

enum sock_state { SOCK_CONNECTING, SOCK_OPEN, SOCK_FAILED, SOCK_CLOSED };

/* One socket's life, shared with the libwebsockets callback. */
struct live {
	struct lws_context *ctx;
	struct lws *wsi;
	enum sock_state state;
	int timed_out;
	lws_sorted_usec_list_t timer;
	char *rx;                  /* the message being assembled */
	size_t rxn, rxcap;
	int rx_too_big;
	int messages;              /* hello/changed messages not yet synced */
	int64_t account_version;   /* of the latest message */
	int close_code;
	long retry_after_ms;       /* of a 1012's reason; -1: none */
};

/* The watch's state across sockets and polls. */
struct watch {
	struct bs_client *c;
	const char *const *colls;
	size_t n;
	bs_watch_fn fn;
	void *arg;
	char etag[40];             /* the account_version synced last ("" before the first sync) */
	int stop;                  /* fn asked to stop */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Full jitter: a random wait in [0, min(cap, base * 2^attempt)). */
static int64_t
jitter_ms(int attempt)
{
	int64_t lim = BACKOFF_BASE_MS;
	uint32_t r = 0;

	while (attempt-- > 0 && lim < BACKOFF_CAP_MS)
		lim *= 2;
	if (lim > BACKOFF_CAP_MS)
		lim = BACKOFF_CAP_MS;
	if (bsc_random(&r, sizeof r) != 0)
		r = (uint32_t)time(NULL);
	return (int64_t)(r % (uint32_t)lim);
}

/* ---- the socket ---- */

/* A whole text message: a hello or a changed with its account_version counts; anything else is ignored. */
static void
on_message(struct live *l)
{
	struct json_tokener *tok;
	struct json_object *o = NULL, *t, *v;

	if (l->rx_too_big || !l->rxn)
		return;
	if (!(tok = json_tokener_new_ex(8)))
		return;
	o = json_tokener_parse_ex(tok, l->rx, (int)l->rxn);
	json_tokener_free(tok);
	if (o && json_object_object_get_ex(o, "type", &t) && json_object_is_type(t, json_type_string) &&
	    json_object_object_get_ex(o, "account_version", &v) && json_object_is_type(v, json_type_int)) {
		const char *type = json_object_get_string(t);
		if (strcmp(type, "hello") == 0 || strcmp(type, "changed") == 0) {
			l->account_version = json_object_get_int64(v);
			l->messages++;
		}
	}
	json_object_put(o);
}

/*
 * A close frame's payload: its code, and a 1012's {"retry_after_ms": N}.
 * libwebsockets 4.1's client takes 1012 for an invalid code (its list stops
 * at 1011) and hands us 1002 in its place, the reason intact: a reason with
 * retry_after_ms is therefore the restart, whatever the code says.
 */
static void
on_close_frame(struct live *l, const unsigned char *p, size_t n)
{
	struct json_object *o, *v;
	char reason[128];

	if (n < 2) {
		l->close_code = 1005;
		return;
	}
	l->close_code = (p[0] << 8) | p[1];
	if (n - 2 >= sizeof reason)
		return;
	memcpy(reason, p + 2, n - 2);
	reason[n - 2] = '\0';
	if ((o = json_tokener_parse(reason))) {
		if (json_object_object_get_ex(o, "retry_after_ms", &v) && json_object_is_type(v, json_type_int)) {
			int64_t ms = json_object_get_int64(v);
			l->retry_after_ms = ms < 0 ? 0 : ms > RETRY_MAX_MS ? RETRY_MAX_MS : (long)ms;
			l->close_code = CLOSE_RESTART;
		}
		json_object_put(o);
	}
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct live *l = lws_get_opaque_user_data(wsi);

	(void)user;
	if (!l)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		l->state = SOCK_OPEN;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		l->state = SOCK_FAILED;
		l->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_frame_is_binary(wsi)) /* the server sends none: ignored */
			break;
		if (lws_is_first_fragment(wsi)) {
			l->rxn = 0;
			l->rx_too_big = 0;
		}
		if (!l->rx_too_big && len > LIVE_MSG_MAX - l->rxn)
			l->rx_too_big = 1;
		if (!l->rx_too_big && l->rxn + len + 1 > l->rxcap) {
			size_t cap = l->rxcap ? l->rxcap : 4096;
			char *p;
			while (cap < l->rxn + len + 1)
				cap *= 2;
			if (!(p = realloc(l->rx, cap)))
				l->rx_too_big = 1;
			else {
				l->rx = p;
				l->rxcap = cap;
			}
		}
		if (!l->rx_too_big) {
			memcpy(l->rx + l->rxn, in, len);
			l->rxn += len;
			l->rx[l->rxn] = '\0';
		}
		if (lws_is_final_fragment(wsi))
			on_message(l);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_close_frame(l, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!l->close_code)
			l->close_code = CLOSE_ABNORMAL;
		l->state = SOCK_CLOSED;
		l->wsi = NULL;
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"blindsync-live", callback, 0, 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The client's own idle policy: a ping after 40 s without traffic (the
 * server pings every 25 s), the connection dropped after 90 s of silence
 * (a server or a network that vanished without a FIN). */
static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 40,
	.secs_since_valid_hangup = 90,
};

static void
on_timer(lws_sorted_usec_list_t *sul)
{
	struct live *l = lws_container_of(sul, struct live, timer);

	l->timed_out = 1;
}

/*
 * Service the socket until l->messages, or it is no longer open (or
 * connecting), or ms passed (ms < 0: no bound).
 */
static void
live_service(struct live *l, int64_t ms)
{
	l->timed_out = 0;
	if (ms >= 0)
		lws_sul_schedule(l->ctx, 0, &l->timer, on_timer, (lws_usec_t)ms * 1000);
	while (!l->timed_out && !l->messages && (l->state == SOCK_CONNECTING || l->state == SOCK_OPEN))
		if (lws_service(l->ctx, 0) < 0)
			break;
	lws_sul_cancel(&l->timer);
}

/*
 * The server URL's parts: http or https, the host ([v6] without its
 * brackets), the port (80/443 when absent) and the path prefix ("/p", or
 * "" at the root; no trailing '/') as *prefix and *plen. 0, or -1 if it is
 * not such a URL. The host points into copy (a copy of url, cut there);
 * the prefix into url.
 */
static int
parse_server(const char *url, char *copy, int *tls, const char **host, int *port, const char **prefix,
    int *plen)
{
	char *h, *end, *colon;
	size_t skip;

	if (strncmp(url, "http://", 7) == 0) {
		*tls = 0;
		skip = 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		*tls = 1;
		skip = 8;
	} else {
		return -1;
	}
	h = copy + skip;
	*port = *tls ? 443 : 80;
	*prefix = url + skip + strcspn(url + skip, "/");
	*plen = (int)strlen(*prefix);
	while (*plen && (*prefix)[*plen - 1] == '/')
		(*plen)--;
	h[strcspn(h, "/")] = '\0';
	if (*h == '[') {
		if (!(end = strchr(h, ']')))
			return -1;
		*end = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		h++;
	} else {
		colon = strrchr(h, ':');
	}
	if (colon) {
		char *e;
		long v = strtol(colon + 1, &e, 10);
		if (*e || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
		*colon = '\0';
	}
	*host = h;
	return *h ? 0 : -1;
}

/* Start the upgrade to the server's /v1/live with ticket; -1 if it cannot even start. */
static int
live_connect(struct live *l, const char *server, const char *ticket)
{
	struct lws_client_connect_info ci;
	char *copy = NULL, *path = NULL;
	const char *host, *prefix;
	int port, tls, plen, rc = -1;
	size_t n;

	if (!(copy = strdup(server)))
		goto out;
	if (parse_server(server, copy, &tls, &host, &port, &prefix, &plen) != 0)
		goto out;
	n = (size_t)plen + strlen(ticket) + 32;
	if (!(path = malloc(n)))
		goto out;
	snprintf(path, n, "%.*s/v1/live?ticket=%s", plen, prefix, ticket);
	memset(&ci, 0, sizeof ci);
	ci.context = l->ctx;
	ci.address = host;
	ci.port = port;
	ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.local_protocol_name = protocols[0].name;
	ci.opaque_user_data = l;
	ci.retry_and_idle_policy = &idle_policy;
	ci.pwsi = &l->wsi;
	l->state = SOCK_CONNECTING;
	if (!lws_client_connect_via_info(&ci) && l->state == SOCK_CONNECTING)
		l->state = SOCK_FAILED;
	rc = l->state == SOCK_FAILED ? -1 : 0;
out:
	if (path) {
		bsc_wipe(path, strlen(path));
		free(path);
	}
	free(copy);
	return rc;
}

/* The libwebsockets context of a watch (client only, no listener); NULL on failure. */
static struct lws_context *
live_context(void)
{
	struct lws_context_creation_info info;

	/* the library never logs (bs_http.c): libwebsockets is told so too */
	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.gid = -1;
	info.uid = -1;
	return lws_create_context(&info);
}

/* ---- the watch ---- */

/* Sync, then fn; the etag becomes av (the account_version the sync saw at least; < 0: unknown). */
static int
sync_round(struct watch *w, int64_t av)
{
	struct bs_sync_result res;
	int rc;

	if ((rc = bs_sync(w->c, w->colls, w->n, &res)) && rc != BS_CONFLICT)
		return rc;
	if (av >= 0)
		snprintf(w->etag, sizeof w->etag, "%lld", (long long)av);
	if (w->fn(w->arg, &res) != 0)
		w->stop = 1;
	return BS_OK;
}

/* GET /v1/info: 1 when it says "live": true (anything else, a failure included: 0). */
static int
info_live(struct bs_client *c)
{
	struct bs_resp r = {0};
	struct json_object *v;
	int live = 0;

	if (bs__request(c, "GET", "/v1/info", NULL, 0, &r) == BS_OK && r.status == 200 &&
	    json_object_object_get_ex(r.json, "live", &v) && json_object_is_type(v, json_type_boolean))
		live = json_object_get_boolean(v);
	bs__resp_clear(&r);
	return live;
}

/*
 * One socket, to its end: a ticket, the upgrade, a sync at each message.
 * Returns BS_OK when the socket ended (or never opened) and the watch goes
 * on, with *opened and *delay_ms (how long to long-poll before the next
 * socket); *nolive when the server has no live socket after all. Returns
 * the failure of a sync, or BS_REFUSED when the session ended (a 401 to the
 * ticket, or to the GET /v1/status that follows a 4401 close).
 */
static int
run_socket(struct watch *w, struct lws_context **ctx, int attempt, int *opened, int64_t *delay_ms,
    int *nolive)
{
	struct bs_client *c = w->c;
	struct bs_resp r = {0};
	struct live l;
	char ticket[64] = "";
	const char *t;
	int rc = BS_OK;

	memset(&l, 0, sizeof l);
	l.retry_after_ms = -1;
	*opened = 0;
	*delay_ms = jitter_ms(attempt);
	if ((rc = bs__request(c, "POST", "/v1/live/ticket", NULL, 1, &r)))
		return BS_OK; /* unreachable: the long poll says so, or works */
	if (r.status == 401) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (r.status == 404)
		*nolive = 1;
	if (r.status != 200 || !(t = bs__get_str(r.json, "ticket")) || strlen(t) >= sizeof ticket)
		goto out;
	snprintf(ticket, sizeof ticket, "%s", t);
	bs__resp_clear(&r);
	if (!*ctx && !(*ctx = live_context()))
		goto out;
	l.ctx = *ctx;
	if (live_connect(&l, c->server, ticket) != 0)
		goto out;
	live_service(&l, LIVE_OPEN_MS);
	if (l.state != SOCK_OPEN && !(l.state == SOCK_CLOSED && l.messages))
		goto out; /* refused, broken, or no answer in time (then dropped at out) */
	*opened = 1;
	for (;;) {
		if (l.messages) {
			char av[40];
			l.messages = 0;
			snprintf(av, sizeof av, "%lld", (long long)l.account_version);
			/* a version the last sync saw already (a hello after a
			 * reconnect, this device's own push) needs no sync */
			if (strcmp(av, w->etag) != 0 && ((rc = sync_round(w, l.account_version)) || w->stop))
				break;
			continue;
		}
		if (l.state != SOCK_OPEN)
			break;
		live_service(&l, -1);
	}
	if (rc || w->stop)
		goto out;
	if (l.close_code == CLOSE_RESTART && l.retry_after_ms >= 0) {
		*delay_ms = l.retry_after_ms;
	} else if (l.close_code == CLOSE_UNAUTHORIZED) {
		/* the session ended, or only this token: a status request refreshes
		 * an expired access token, and its 401 ends the watch */
		if ((rc = bs__request(c, "GET", "/v1/status", NULL, 1, &r)) == BS_OK && r.status == 401)
			rc = bs__refused(c, &r);
		else
			rc = BS_OK;
	}
out:
	if (l.wsi) {
		/* still connecting or open (the watch stops): dropped now, while l lives */
		lws_set_opaque_user_data(l.wsi, NULL);
		lws_set_timeout(l.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	bsc_wipe(ticket, sizeof ticket);
	bs__resp_clear(&r);
	free(l.rx);
	return rc;
}

/*
 * One long poll: GET /v1/status (?wait=secs with If-None-Match once a sync
 * happened), a sync when the account changed. A 304 that comes back before
 * half the wait (the server's waiting slots were full) waits a full-jitter
 * back-off before the next (*hasty counts them), so the loop never spins.
 */
static int
poll_round(struct watch *w, int secs, int *hasty)
{
	char cond[64], path[64];
	const char *headers[2] = {NULL, NULL};
	struct bs_xfer x = {0};
	struct bs_resp r = {0};
	int64_t t0 = now_ms();
	int rc;

	if (w->etag[0]) {
		snprintf(cond, sizeof cond, "If-None-Match: \"%s\"", w->etag);
		headers[0] = cond;
		snprintf(path, sizeof path, "/v1/status?wait=%d", secs);
	} else {
		snprintf(path, sizeof path, "/v1/status");
	}
	x.headers = headers;
	if ((rc = bs__request_x(w->c, "GET", path, NULL, 1, &x, &r)))
		return rc;
	if (r.status == 304) {
		bs__resp_clear(&r);
		if (now_ms() - t0 < (int64_t)secs * 500)
			sleep_ms(jitter_ms((*hasty)++));
		else
			*hasty = 0;
		return BS_OK;
	}
	if (r.status != 200) {
		rc = bs__refused(w->c, &r);
		bs__resp_clear(&r);
		return rc;
	}
	bs__resp_clear(&r);
	*hasty = 0;
	if ((rc = sync_round(w, -1)))
		return rc;
	if (x.etag[0])
		snprintf(w->etag, sizeof w->etag, "%s", x.etag);
	else if (!w->stop)
		sleep_ms((int64_t)secs * 1000); /* a server without ETag: poll no faster than the wait */
	return BS_OK;
}

int
bs_watch(struct bs_client *c, const char *const *colls, size_t n, int wait, bs_watch_fn fn, void *arg)
{
	struct watch w = {.c = c, .colls = colls, .n = n, .fn = fn, .arg = arg};
	struct lws_context *ctx = NULL;
	int64_t socket_at = 0;
	int rc, live, attempt = 0, hasty = 0;
	const char *env = getenv("BLINDSYNC_WATCH_LIVE");

	if ((rc = bs__need_session(c)))
		return rc;
	if (wait < 1 || wait > 3600)
		wait = 30;
	live = !(env && strcmp(env, "0") == 0) && info_live(c);
	for (;;) {
		int secs = wait;
		if (live && now_ms() >= socket_at) {
			int opened, nolive = 0;
			int64_t delay;
			rc = run_socket(&w, &ctx, attempt, &opened, &delay, &nolive);
			if (rc || w.stop)
				break;
			if (nolive)
				live = 0;
			attempt = opened ? 0 : attempt + 1;
			socket_at = now_ms() + delay;
			continue;
		}
		if (live) {
			/* long polls meanwhile, none past the next socket */
			int64_t left = socket_at - now_ms();
			secs = (int)((left + 999) / 1000);
			if (secs > wait)
				secs = wait;
			if (secs < 1)
				secs = 1;
		}
		if ((rc = poll_round(&w, secs, &hasty)) || w.stop)
			break;
	}
	if (ctx)
		lws_context_destroy(ctx);
	return rc;
}
