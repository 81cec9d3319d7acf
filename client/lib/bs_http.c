/*
 * bs_http.c: the client's HTTP layer on libcurl. One CURL handle per
 * session, reused so that the connection stays open; TLS verification is
 * libcurl's default (on) and is never turned off here; bounded timeouts
 * and a bounded answer size; JSON through json-c; bounded retries with
 * full-jitter exponential back-off. It never logs: tokens and bodies stay
 * in memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "bs_impl.h"
#include "bsc.h"

#define MAX_ANSWER (64u * 1024 * 1024)  /* a pull page of 100 records of 256 KiB fits */
#define TRIES 4                         /* attempts per request */
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 4000
#define RETRY_AFTER_CAP_S 30

struct buf {
	char *p;
	size_t n, cap;
	int too_big;
	CURL *h;
	struct bs_xfer *x;
};

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	size_t n = sz * nm;
	long st = 0;

	if (b->x && b->x->sink) {
		curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200 && st < 300) {
			b->x->sunk = 1;
			if (b->x->sink(b->x->sink_arg, (const uint8_t *)p, n) != 0) {
				b->x->sink_failed = 1;
				return 0;
			}
			return n;
		}
	}

	if (n > MAX_ANSWER - b->n) {
		b->too_big = 1;
		return 0;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;
		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap)))
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

struct hdrs {
	long retry_after;
	struct bs_xfer *x;
};

static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct hdrs *h = arg;
	size_t n = sz * nm;

	if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char tmp[32];
		size_t k = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
		memcpy(tmp, p + 12, k);
		tmp[k] = '\0';
		long v = strtol(tmp, NULL, 10);
		/* kept whole (up to a day), so that a 429 beyond the cap is not waited for */
		h->retry_after = v > 0 ? (v > 86400 ? 86400 : v) : 0;
	}
	if (h->x && n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		size_t i = 5, k = 0;
		while (i < n && (p[i] == ' ' || p[i] == '"'))
			i++;
		while (i < n && p[i] >= '0' && p[i] <= '9' && k < sizeof h->x->etag - 1)
			h->x->etag[k++] = p[i++];
		h->x->etag[k] = '\0';
	}
	return n;
}

/* Full jitter: a random wait in [0, min(cap, base * 2^attempt)). */
static void
backoff(int attempt, long retry_after)
{
	unsigned long lim = BACKOFF_BASE_MS << attempt, ms;
	uint32_t r = 0;
	struct timespec ts;

	if (lim > BACKOFF_CAP_MS)
		lim = BACKOFF_CAP_MS;
	if (bsc_random(&r, sizeof r) != 0)
		r = (uint32_t)time(NULL);
	ms = r % lim;
	if (retry_after > RETRY_AFTER_CAP_S)
		retry_after = RETRY_AFTER_CAP_S;
	if (retry_after > 0 && (unsigned long)retry_after * 1000 > ms)
		ms = (unsigned long)retry_after * 1000;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Read the server's error code into buf (at most n bytes); "" if none. */
static void
error_code(const struct bs_resp *r, char *buf, size_t n)
{
	struct json_object *e, *code;

	buf[0] = '\0';
	if (r->json && json_object_object_get_ex(r->json, "error", &e) &&
	    json_object_object_get_ex(e, "code", &code) && json_object_is_type(code, json_type_string))
		snprintf(buf, n, "%s", json_object_get_string(code));
}

void
bs__resp_clear(struct bs_resp *r)
{
	json_object_put(r->json);
	r->json = NULL;
	r->status = 0;
}

/* One attempt: fills *r, *retry_after; returns the curl code. */
static CURLcode
attempt(struct bs_client *c, const char *method, const char *url, const char *body,
    int auth, struct bs_xfer *x, struct bs_resp *r, long *retry_after, int *too_big)
{
	CURL *h = c->curl;
	struct curl_slist *hl = NULL, *t;
	struct buf b = {0};
	struct hdrs hd = {0};
	char *authz = NULL;
	CURLcode cc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 180L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "blindsync-client/1");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
	b.h = h;
	b.x = x;
	hd.x = x;
	if (x) {
		for (const char *const *e = x->headers; e && *e; e++)
			if ((t = curl_slist_append(hl, *e)))
				hl = t;
		if (x->read) {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, x->read);
			curl_easy_setopt(h, CURLOPT_READDATA, x->read_arg);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->size);
			if ((t = curl_slist_append(hl, x->content_type ? x->content_type :
			    "Content-Type: application/octet-stream")))
				hl = t;
			/* no 100-continue round trip: the server reads or refuses the body */
			if ((t = curl_slist_append(hl, "Expect:")))
				hl = t;
		}
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	t = curl_slist_append(hl, "Accept: application/json, application/octet-stream");
	hl = t ? t : hl;
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		if ((t = curl_slist_append(hl, "Content-Type: application/json")))
			hl = t;
	}
	if (auth && c->access) {
		size_t n = strlen(c->access) + 32;
		if ((authz = malloc(n))) {
			snprintf(authz, n, "Authorization: Bearer %s", c->access);
			if ((t = curl_slist_append(hl, authz)))
				hl = t;
			bsc_wipe(authz, n);
			free(authz);
		}
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	cc = curl_easy_perform(h);
	*too_big = b.too_big;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (b.n) {
			struct json_tokener *tok = json_tokener_new_ex(64);
			if (tok) {
				json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
				r->json = json_tokener_parse_ex(tok, b.p, (int)b.n);
				if (json_tokener_get_error(tok) != json_tokener_success ||
				    json_tokener_get_parse_end(tok) != b.n) {
					json_object_put(r->json);
					r->json = NULL;
				}
				json_tokener_free(tok);
			}
		}
	}
	*retry_after = hd.retry_after;
	/* the bearer header is freed; slist copies are wiped with it */
	for (t = hl; t; t = t->next)
		bsc_wipe(t->data, strlen(t->data));
	curl_slist_free_all(hl);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (b.p)
		bsc_wipe(b.p, b.n);
	free(b.p);
	return cc;
}

/* POST /v1/account/refresh with the saved refresh token; rotates both. */
static int
do_refresh(struct bs_client *c)
{
	struct json_object *body = json_object_new_object();
	struct bs_resp r = {0};
	const char *a, *f;
	int rc;

	if (!c->refresh)
		return bs__fail(c, BS_REFUSED, "unauthorized", "the session has expired: log in again");
	if (!body || json_object_object_add(body, "refresh_token", json_object_new_string(c->refresh))) {
		json_object_put(body);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	rc = bs__request(c, "POST", "/v1/account/refresh", body, 0, &r);
	json_object_put(body);
	if (rc)
		goto out;
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		snprintf(c->msg, sizeof c->msg, "the session has ended (%s): log in again", c->code);
		goto out;
	}
	if (!(a = bs__get_str(r.json, "access_token")) || !(f = bs__get_str(r.json, "refresh_token"))) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's refresh answer is malformed");
		goto out;
	}
	free(c->access);
	free(c->refresh);
	c->access = strdup(a);
	c->refresh = strdup(f);
	if (!c->access || !c->refresh) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	rc = bs__save_tokens(c);
out:
	bs__resp_clear(&r);
	return rc;
}

int
bs__request(struct bs_client *c, const char *method, const char *path,
    struct json_object *body, int auth, struct bs_resp *r)
{
	return bs__request_x(c, method, path, body, auth, NULL, r);
}

int
bs__request_x(struct bs_client *c, const char *method, const char *path,
    struct json_object *body, int auth, struct bs_xfer *x, struct bs_resp *r)
{
	const char *text = NULL;
	char *url = NULL;
	size_t n;
	int tries, refreshed = 0, rc = BS_OK;
	int post = strcmp(method, "POST") == 0;
	long retry_after = 0;
	CURLcode cc = CURLE_OK;

	memset(r, 0, sizeof *r);
	if (!c->server)
		return bs__fail(c, BS_LOCAL, "no_server", "no server: give --server URL or log in");
	if (!c->curl && !(c->curl = curl_easy_init()))
		return bs__fail(c, BS_LOCAL, "no_memory", "cannot start libcurl");
	n = strlen(c->server) + strlen(path) + 1;
	if (!(url = malloc(n)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	snprintf(url, n, "%s%s", c->server, path);
	if (body)
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
again:
	for (tries = 0; tries < TRIES; tries++) {
		int too_big = 0;
		char code[64];

		if (tries) {
			/* a stream that cannot restart, or that already gave output, is not retried */
			if (x && ((x->read && (!x->rewind || x->rewind(x->read_arg) != 0)) || x->sunk))
				break;
			backoff(tries - 1, retry_after);
		}
		bs__resp_clear(r);
		cc = attempt(c, method, url, text, auth, x, r, &retry_after, &too_big);
		if (x && x->sink_failed) {
			/* the sink's own failure: its caller knows which and says so */
			rc = bs__fail(c, BS_LOCAL, "sink", "the download was stopped");
			bs__resp_clear(r);
			goto out;
		}
		if (too_big) {
			rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's answer is too large");
			goto out;
		}
		if (cc != CURLE_OK) {
			/* a POST is retried only when it surely never reached the server */
			if (post && cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST)
				break;
			continue;
		}
		if (r->status == 401 && auth && !refreshed) {
			error_code(r, code, sizeof code);
			if (strcmp(code, "token_expired") == 0) {
				refreshed = 1;
				bs__resp_clear(r);
				if ((rc = do_refresh(c)))
					goto out;
				if (x && x->read && (!x->rewind || x->rewind(x->read_arg) != 0)) {
					rc = bs__fail(c, BS_REFUSED, "token_expired", "the session expired during "
					    "an upload that cannot restart: run the command again");
					goto out;
				}
				goto again;
			}
		}
		/* a 429 that asks for longer than we wait (two-factor codes locked for
		 * 15 minutes) goes back to the caller at once, as a refusal */
		if (r->status == 429 && retry_after > RETRY_AFTER_CAP_S) {
			rc = BS_OK;
			goto out;
		}
		if (r->status == 503 || r->status == 429 || (r->status >= 500 && !post))
			continue;
		if (r->status >= 500)
			break;
		rc = BS_OK;
		goto out;
	}
	if (cc != CURLE_OK)
		rc = bs__fail(c, BS_UNREACHABLE, "unreachable", "cannot reach %s: %s", c->server,
		    curl_easy_strerror(cc));
	else {
		char code[64];
		error_code(r, code, sizeof code);
		rc = bs__fail(c, BS_UNREACHABLE, code[0] ? code : "server_error",
		    "the server answered %ld%s", r->status, tries >= TRIES ? " after retries" : "");
	}
	bs__resp_clear(r);
out:
	free(url);
	return rc;
}

int
bs__refused(struct bs_client *c, const struct bs_resp *r)
{
	struct json_object *e, *m;
	char code[64];
	const char *msg = "";

	error_code(r, code, sizeof code);
	if (r->json && json_object_object_get_ex(r->json, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
		msg = json_object_get_string(m);
	return bs__fail(c, r->status == 409 || r->status == 412 ? BS_CONFLICT : BS_REFUSED,
	    code[0] ? code : "http_error", "the server refused (%ld %s)%s%s", r->status,
	    code[0] ? code : "?", msg[0] ? ": " : "", msg);
}

void
bs__http_free(struct bs_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}
