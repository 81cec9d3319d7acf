/*
 * upload.c: the HTTP side of binary bodies: the declared length and the
 * If-Match / If-None-Match headers of backups and slots, and the guard of
 * a body that streams in.
 *
 * A streamed body holds a worker thread for as long as the client takes to
 * send it, so a client that sends a byte now and then could hold every
 * thread of a handler. Must never let that happen: uploads in progress are
 * bounded per process (all threads but UPLOAD_FREE_THREADS), per address and
 * per account (those that have run over UPLOAD_SLOW_MS), and each one must
 * keep arriving (limits.upload_idle_seconds without a byte, or an average
 * under limits.upload_min_rate after that long, ends it with 408).
 */
#include "upload.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "deadline.h"
#include "serve.h"

#define UPLOAD_FREE_THREADS 2      /* threads of a process that uploads never take */
#define UPLOAD_SLOW_MS 1000        /* an upload older than this counts against its address and account */
#define UPLOAD_RETRY_AFTER "5"     /* seconds, on a refusal */
#define UPLOAD_QUEUE_MS 500        /* how long an upload waits for a place before 503 */
#define UPLOAD_TABLE 256           /* at least SERVE_MAX_THREADS: one entry per thread at most */

/* The uploads in progress in this process. */
struct upload_slot {
	int used;
	int64_t started_ms;
	int64_t account_id;        /* 0: none (slots) */
	char addr[64];
};
static pthread_mutex_t upload_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t upload_cv = PTHREAD_COND_INITIALIZER; /* a place was released */
static struct upload_slot upload_tab[UPLOAD_TABLE];
static int upload_active;

/*
 * Take an entry in the table for r's upload, or refuse it: 503 when this
 * process has no thread to spare, 429 when its address or account already
 * has its share of long-running uploads. *slot is the entry (release it
 * with release()).
 */
static enum err admit(struct req *r, int *slot)
{
	const struct config *c = r->cfg;
	int threads = serve_threads();
	int max = threads - UPLOAD_FREE_THREADS > 0 ? threads - UPLOAD_FREE_THREADS : 1;
	int per_ip = 0, per_account = 0, free_slot = -1;
	enum err e = ERR_OK;
	struct timespec deadline;
	deadline_in(CLOCK_REALTIME, UPLOAD_QUEUE_MS, &deadline);
	*slot = -1;
	pthread_mutex_lock(&upload_mu);
	for (;;) {
		int64_t now = serve_now_ms();
		per_ip = per_account = 0;
		free_slot = -1;
		for (int i = 0; i < UPLOAD_TABLE; i++) {
			struct upload_slot *u = &upload_tab[i];
			if (!u->used) {
				if (free_slot < 0)
					free_slot = i;
				continue;
			}
			if (now - u->started_ms < UPLOAD_SLOW_MS)
				continue;
			if (strcmp(u->addr, r->remote_addr) == 0)
				per_ip++;
			if (r->account_id && u->account_id == r->account_id)
				per_account++;
		}
		if (per_ip >= c->limits.max_uploads_per_ip || per_account >= c->limits.max_uploads_per_account) {
			e = ERR_RATE_LIMITED;
			break;
		}
		if (upload_active < max && free_slot >= 0) {
			struct upload_slot *u = &upload_tab[free_slot];
			u->used = 1;
			u->started_ms = now;
			u->account_id = r->account_id;
			snprintf(u->addr, sizeof u->addr, "%s", r->remote_addr);
			upload_active++;
			*slot = free_slot;
			break;
		}
		/* full: a burst of quick uploads frees a place within moments;
		 * wait a little for one, then refuse */
		if (pthread_cond_timedwait(&upload_cv, &upload_mu, &deadline) == ETIMEDOUT) {
			e = ERR_UNAVAILABLE;
			break;
		}
	}
	pthread_mutex_unlock(&upload_mu);
	if (e == ERR_UNAVAILABLE) {
		http_add_header(r, "Retry-After", UPLOAD_RETRY_AFTER);
		return http_fail(r, e, "Too many uploads are in progress; retry later.");
	}
	if (e == ERR_RATE_LIMITED) {
		http_add_header(r, "Retry-After", UPLOAD_RETRY_AFTER);
		return http_fail(r, e, "Too many uploads from this %s are in progress; retry later.",
		    per_ip >= c->limits.max_uploads_per_ip ? "address" : "account");
	}
	return ERR_OK;
}

static void release(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&upload_mu);
	upload_tab[slot].used = 0;
	upload_active--;
	pthread_cond_signal(&upload_cv);
	pthread_mutex_unlock(&upload_mu);
}

/*
 * A read on the FastCGI connection that gets nothing for `seconds` fails
 * (0: blocks again). CGI reads a pipe, where this does not apply: the web
 * server's own timeouts bound it.
 */
static void idle_timeout(struct req *r, int64_t seconds)
{
	if (!r->fcgx || r->fcgx->ipcFd < 0)
		return;
	struct timeval tv = {.tv_sec = (time_t)seconds, .tv_usec = 0};
	setsockopt(r->fcgx->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* 1 if an upload that began at t0 and has `have` bytes at `now` is too slow. */
static int too_slow(const struct config *c, int64_t t0, int64_t now, int64_t have)
{
	int64_t grace_ms = c->limits.upload_idle_seconds * 1000;
	if (c->limits.upload_min_rate == 0 || now - t0 <= grace_ms)
		return 0;
	/* bytes due: the minimum rate over the time beyond the grace */
	return have < c->limits.upload_min_rate * (now - t0 - grace_ms) / 1000;
}

enum err upload_begin(struct req *r)
{
	enum err e = admit(r, &r->upload_slot);
	if (e)
		return e;
	r->upload_t0 = serve_now_ms();
	r->upload_have = 0;
	r->upload_slow = 0;
	idle_timeout(r, r->cfg->limits.upload_idle_seconds);
	return ERR_OK;
}

long upload_read(void *ctx, void *buf, size_t n)
{
	struct req *r = ctx;
	long got = http_read_some(r, buf, n);
	if (got <= 0) {
		/* a read that timed out: no byte for upload_idle_seconds */
		int err = got < 0 && r->fcgx ? FCGX_GetError(r->fcgx->in) : 0;
		if (err == EAGAIN || err == EWOULDBLOCK)
			r->upload_slow = 1;
		return got;
	}
	r->upload_have += got;
	if (too_slow(r->cfg, r->upload_t0, serve_now_ms(), r->upload_have)) {
		r->upload_slow = 1;
		return -1;
	}
	return got;
}

enum err upload_end(struct req *r, enum err e)
{
	idle_timeout(r, 0);
	release(r->upload_slot);
	r->upload_slot = -1;
	if (r->upload_slow && e != ERR_OK) {
		r->upload_slow = 0;
		return http_fail(r, ERR_REQUEST_TIMEOUT,
		    "The body arrived too slowly (%" PRId64 " bytes in %" PRId64
		    " s; no byte for %" PRId64 " s or under %" PRId64 " bytes/s ends an upload); nothing was stored.",
		    r->upload_have, (serve_now_ms() - r->upload_t0) / 1000, r->cfg->limits.upload_idle_seconds,
		    r->cfg->limits.upload_min_rate);
	}
	return e;
}

enum err upload_length(struct req *r, int64_t min, int64_t max, int64_t *len)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	if (!cl || !*cl)
		return http_fail(r, ERR_LENGTH_REQUIRED, "Content-Length is required for this upload.");
	enum err e = http_content_length(r, INT64_MAX / 2, len);
	if (e)
		return e;
	if (*len < min)
		return http_fail(r, ERR_TOO_SMALL, "The body has %" PRId64 " bytes; at least %" PRId64 " are required.", *len,
		    min);
	if (*len > max)
		return http_fail(r, ERR_BODY_TOO_LARGE, "The body has %" PRId64 " bytes; at most %" PRId64 " are allowed.",
		    *len, max);
	return ERR_OK;
}

/* Parse one entity tag `"N"` (N a version number). */
static int parse_tag(const char *t, size_t n, int64_t *v)
{
	if (n < 3 || t[0] != '"' || t[n - 1] != '"' || n > 21)
		return -1;
	int64_t x = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (t[i] - '0');
	}
	*v = x;
	return 0;
}

static const char *trim(const char *s, size_t *n)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	*n = l;
	return s;
}

int upload_if_match(struct req *r, int64_t *version)
{
	const char *h = http_header(r, "If-Match");
	if (!h)
		return 0;
	size_t n;
	const char *t = trim(h, &n);
	if (n == 1 && t[0] == '*')
		return 2;
	return parse_tag(t, n, version) == 0 ? 1 : -1;
}

int upload_none_match(struct req *r, int64_t version)
{
	const char *h = http_header(r, "If-None-Match");
	if (!h || strlen(h) > 1024)
		return 0;
	char buf[1025];
	snprintf(buf, sizeof buf, "%s", h);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n;
		const char *t = trim(tok, &n);
		if (n == 1 && t[0] == '*')
			return 1;
		if (n > 2 && strncmp(t, "W/", 2) == 0) {
			t += 2;
			n -= 2;
		}
		int64_t v;
		if (parse_tag(t, n, &v) == 0 && v == version)
			return 1;
	}
	return 0;
}
