/*
 * http.c: requests over FastCGI or CGI; the response and error writers.
 *
 * Must never: read a body before its length is checked against the limit,
 * trust a length it did not parse itself, echo untrusted text into a header,
 * or write a token, key or payload anywhere but the response.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bsc.h"
#include "json.h"

extern char **environ;

#define KEEP_OUT_BYTES (256 * 1024) /* reuse response buffers up to this size */

int http_req_init(struct req *r, FCGX_Request *fcgx)
{
	memset(r, 0, sizeof *r);
	r->fcgx = fcgx;
	buf_init(&r->out, 0);
	buf_init(&r->hdr, 16384);
	buf_init(&r->err_extra, 0);
	return 0;
}

void http_req_free(struct req *r)
{
	if (!r)
		return;
	buf_free(&r->out);
	buf_free(&r->hdr);
	buf_free(&r->err_extra);
	free(r->body);
	r->body = NULL;
	json_object_put(r->json);
	r->json = NULL;
}

const char *http_param(const struct req *r, const char *name)
{
	if (r->fcgx)
		return FCGX_GetParam(name, r->fcgx->envp);
	return getenv(name);
}

const char *http_header(const struct req *r, const char *name)
{
	char key[96] = "HTTP_";
	size_t o = 5;
	for (size_t i = 0; name[i] && o + 1 < sizeof key; i++) {
		char c = name[i];
		key[o++] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	key[o] = '\0';
	/* CGI passes these two without the HTTP_ prefix */
	if (strcmp(key, "HTTP_CONTENT_TYPE") == 0)
		return http_param(r, "CONTENT_TYPE");
	if (strcmp(key, "HTTP_CONTENT_LENGTH") == 0)
		return http_param(r, "CONTENT_LENGTH");
	return http_param(r, key);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s in place; '+' to space when plus is set. -1 on a bad
 * escape or an encoded NUL. */
static int pct_decode(char *s, int plus)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (*p == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*w++ = (char)(h * 16 + l);
			p += 2;
		} else if (plus && *p == '+') {
			*w++ = ' ';
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return 0;
}

static enum method parse_method(const char *m)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
	if (m)
		for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
			if (strcmp(m, names[i]) == 0)
				return (enum method)i;
	return M_OTHER;
}

/* Split the raw path into decoded segments after the first "v1" segment. */
static void parse_path(struct req *r, const char *uri)
{
	size_t n = strcspn(uri, "?#");
	r->has_v1 = 0;
	r->nsegs = 0;
	if (n > HTTP_MAX_URI)
		return;
	memcpy(r->pathbuf, uri, n);
	r->pathbuf[n] = '\0';
	char *save = NULL;
	int seen = 0;
	/* empty segments ("//") make the path invalid: walk by hand */
	char *p = r->pathbuf;
	if (*p != '/')
		return;
	p++;
	while (1) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (!seen) {
			if (strcmp(p, "v1") == 0)
				seen = 1;
		} else {
			if (*p == '\0' && slash) /* "a//b" */
				goto bad;
			if (*p == '\0' && !slash) { /* trailing slash: /v1/info/ */
				if (r->nsegs == 0)
					break;
				goto bad;
			}
			if (r->nsegs >= HTTP_MAX_SEGS || pct_decode(p, 0) != 0)
				goto bad;
			r->segs[r->nsegs++] = p;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	(void)save;
	r->has_v1 = seen;
	return;
bad:
	r->has_v1 = 0;
	r->nsegs = 0;
}

static void parse_query(struct req *r, const char *qs)
{
	r->nquery = 0;
	r->query_bad = 0;
	if (!qs || !*qs)
		return;
	size_t n = strlen(qs);
	if (n > HTTP_MAX_URI) {
		r->query_bad = 1;
		return;
	}
	memcpy(r->querybuf, qs, n + 1);
	char *p = r->querybuf;
	while (p && *p) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		if (*p) {
			char *eq = strchr(p, '=');
			char *v = eq ? eq + 1 : p + strlen(p);
			if (eq)
				*eq = '\0';
			if (r->nquery >= HTTP_MAX_QUERY || pct_decode(p, 1) || pct_decode(v, 1)) {
				r->query_bad = 1;
				return;
			}
			for (int i = 0; i < r->nquery; i++)
				if (strcmp(r->query[i].k, p) == 0) {
					r->query_bad = 1; /* a repeated parameter is ambiguous */
					return;
				}
			r->query[r->nquery].k = p;
			r->query[r->nquery].v = v;
			r->nquery++;
		}
		p = amp ? amp + 1 : NULL;
	}
}

static int valid_request_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > HTTP_REQUEST_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

void http_begin(struct req *r, const struct config *cfg)
{
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->cfg = cfg;
	const char *m = http_param(r, "REQUEST_METHOD");
	r->method = parse_method(m);
	snprintf(r->method_str, sizeof r->method_str, "%s", m ? m : "-");
	r->route_name = NULL;
	memset(r->params, 0, sizeof r->params);
	const char *uri = http_param(r, "REQUEST_URI");
	char tmp[HTTP_MAX_URI + 1];
	if (!uri) {
		/* some CGI servers give only SCRIPT_NAME + PATH_INFO */
		const char *sn = http_param(r, "SCRIPT_NAME"), *pi = http_param(r, "PATH_INFO");
		snprintf(tmp, sizeof tmp, "%s%s", sn ? sn : "", pi ? pi : "");
		uri = tmp;
	}
	parse_path(r, uri);
	parse_query(r, http_param(r, "QUERY_STRING"));
	const char *rid = http_param(r, "REQUEST_ID");
	if (valid_request_id(rid)) {
		snprintf(r->request_id, sizeof r->request_id, "%s", rid);
	} else {
		uint8_t raw[16];
		if (bsc_random(raw, sizeof raw) != 0)
			memset(raw, 0, sizeof raw);
		bsc_hex(raw, sizeof raw, r->request_id, sizeof r->request_id);
	}
	const char *ra = http_param(r, "REMOTE_ADDR");
	snprintf(r->remote_addr, sizeof r->remote_addr, "%s", ra ? ra : "");
	r->account_id = 0;
	r->auth = NULL;
	memset(r->slot_key, 0, sizeof r->slot_key);
	r->status = 0;
	r->responded = 0;
	r->streaming = 0;
	r->errmsg[0] = '\0';
	buf_reset(&r->out, KEEP_OUT_BYTES);
	buf_reset(&r->hdr, 16384);
	buf_reset(&r->err_extra, 4096);
}

void http_end(struct req *r)
{
	if (r->streaming)
		buf_flush(&r->out);
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	json_object_put(r->json);
	r->json = NULL;
	buf_reset(&r->out, KEEP_OUT_BYTES);
	buf_reset(&r->hdr, 16384);
	buf_reset(&r->err_extra, 4096);
	r->cfg = NULL;
}

const char *http_query(const struct req *r, const char *name)
{
	for (int i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].k, name) == 0)
			return r->query[i].v;
	return NULL;
}

int http_parse_u63(const char *s, int64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum err http_query_int(struct req *r, const char *name, int64_t min, int64_t max, int64_t def,
    int64_t *out)
{
	const char *v = http_query(r, name);
	if (!v) {
		*out = def;
		return ERR_OK;
	}
	int64_t x;
	if (http_parse_u63(v, &x) != 0 || x < min || x > max)
		return http_fail(r, ERR_INVALID_REQUEST, "%s: expected an integer from %" PRId64 " to %" PRId64 ".",
		    name, min, max);
	*out = x;
	return ERR_OK;
}

enum err http_content_length(struct req *r, int64_t max, int64_t *out)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	*out = 0;
	if (!cl || !*cl)
		return ERR_OK;
	int64_t n;
	if (http_parse_u63(cl, &n) != 0)
		return http_fail(r, ERR_INVALID_REQUEST, "Content-Length is not a valid number.");
	if (n > max)
		return http_fail(r, ERR_BODY_TOO_LARGE, "The request body is larger than %" PRId64 " bytes.", max);
	*out = n;
	return ERR_OK;
}

long http_read(struct req *r, void *buf, size_t n)
{
	if (n > INT32_MAX)
		n = INT32_MAX;
	if (r->fcgx) {
		int got = FCGX_GetStr(buf, (int)n, r->fcgx->in);
		if (got < 0)
			return -1;
		if (got == 0 && FCGX_GetError(r->fcgx->in) != 0)
			return -1;
		return got;
	}
	size_t got = fread(buf, 1, n, stdin);
	if (got == 0 && ferror(stdin))
		return -1;
	return (long)got;
}

long http_read_some(struct req *r, void *buf, size_t n)
{
	if (!r->fcgx || n == 0)
		return http_read(r, buf, n);
	/*
	 * FCGX_GetStr() returns only once it has all n bytes. Take what the
	 * stream's buffer holds; when it is empty, ask for one byte, which makes
	 * libfcgi read the socket once (whatever arrived is then buffered).
	 */
	FCGX_Stream *in = r->fcgx->in;
	ptrdiff_t avail = in->stop - in->rdNext;
	size_t want = avail > 0 ? (size_t)avail : 1;
	return http_read(r, buf, want < n ? want : n);
}

enum err http_read_body(struct req *r, int64_t max)
{
	int64_t n;
	enum err rc = http_content_length(r, max, &n);
	if (rc)
		return rc;
	free(r->body);
	r->body = malloc((size_t)n + 1);
	if (!r->body)
		return http_fail(r, ERR_INTERNAL, "Out of memory reading the body.");
	size_t have = 0;
	while (have < (size_t)n) {
		long got = http_read(r, r->body + have, (size_t)n - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	r->body[have] = '\0';
	r->body_len = have;
	if (have != (size_t)n)
		return http_fail(r, ERR_INVALID_REQUEST,
		    "The body is shorter than its Content-Length (%zu of %" PRId64 " bytes).", have, n);
	return ERR_OK;
}

int http_is_json(const struct req *r)
{
	const char *ct = http_param(r, "CONTENT_TYPE");
	if (!ct)
		return 0;
	const char *want = "application/json";
	size_t wl = strlen(want);
	if (strncasecmp(ct, want, wl) != 0)
		return 0;
	const char *p = ct + wl;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p != ';')
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (*p == '"')
		p++;
	if (strncasecmp(p, "utf-8", 5) != 0)
		return 0;
	p += 5;
	if (*p == '"')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

void http_add_header(struct req *r, const char *name, const char *fmt, ...)
{
	char val[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof val, fmt, ap);
	va_end(ap);
	/* a header value must never break the header block */
	for (char *p = val; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	buf_printf(&r->hdr, "%s: %s\r\n", name, val);
}

enum err http_fail(struct req *r, enum err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
	va_end(ap);
	return e;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

int http_write(struct req *r, const void *data, size_t n)
{
	if (n == 0 || (r->streaming && r->method == M_HEAD))
		return 0;
	if (r->fcgx) {
		if (n > INT32_MAX)
			return -1;
		return FCGX_PutStr(data, (int)n, r->fcgx->out) == (int)n ? 0 : -1;
	}
	return fwrite(data, 1, n, stdout) == n ? 0 : -1;
}

int http_stream_sink(void *ctx, const char *data, size_t n)
{
	return http_write(ctx, data, n);
}

/* Status line and the headers of every response, into a small buffer. */
static int write_head(struct req *r, int status, const char *ctype, int64_t length)
{
	struct buf h;
	buf_init(&h, 65536);
	buf_printf(&h, "Status: %d %s\r\n", status, http_reason(status));
	buf_adds(&h, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
	buf_printf(&h, "X-Request-Id: %s\r\n", r->request_id);
	if (ctype)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	if (length >= 0)
		buf_printf(&h, "Content-Length: %" PRId64 "\r\n", length);
	if (r->hdr.len)
		buf_add(&h, r->hdr.p, r->hdr.len);
	buf_adds(&h, "\r\n");
	int rc = buf_error(&h) ? -1 : http_write(r, h.p, h.len);
	buf_free(&h);
	r->status = status;
	r->responded = 1;
	return rc;
}

int http_respond(struct req *r, int status, const char *ctype)
{
	if (r->responded)
		return -1;
	if (buf_error(&r->out)) {
		buf_reset(&r->out, 0);
		r->hdr.len = 0;
		http_error(r, ERR_INTERNAL);
		return -1;
	}
	int nobody = status == 204 || status == 304;
	if (nobody)
		ctype = NULL;
	if (write_head(r, status, ctype, nobody ? -1 : (int64_t)r->out.len) != 0)
		return -1;
	if (nobody || r->method == M_HEAD)
		return 0;
	return http_write(r, r->out.p, r->out.len);
}

int http_respond_json(struct req *r, int status)
{
	return http_respond(r, status, "application/json");
}

void http_error(struct req *r, enum err e)
{
	if (r->responded)
		return;
	if (r->streaming) /* too late for an error response: the body is cut */
		return;
	int status = err_status(e);
	if (status == 401)
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"blindsync\"");
	/* only the headers of this response: a reset buffer keeps its old bytes */
	if ((status == 429 || status == 503) && !(r->hdr.len && memmem(r->hdr.p, r->hdr.len, "Retry-After:", 12)))
		http_add_header(r, "Retry-After", "1");
	buf_reset(&r->out, KEEP_OUT_BYTES);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "error");
	jw_obj_begin(&w);
	jw_key(&w, "code");
	jw_str(&w, err_code(e));
	jw_key(&w, "message");
	jw_str(&w, r->errmsg[0] ? r->errmsg : err_message(e));
	jw_obj_end(&w);
	if (r->err_extra.len) {
		buf_addc(&r->out, ',');
		buf_add(&r->out, r->err_extra.p, r->err_extra.len);
	}
	jw_obj_end(&w);
	if (!r->errmsg[0])
		snprintf(r->errmsg, sizeof r->errmsg, "%s", err_message(e));
	http_respond_json(r, status);
}

int http_begin_stream(struct req *r, int status, const char *ctype, int64_t content_length)
{
	if (r->responded)
		return -1;
	int rc = write_head(r, status, ctype, content_length);
	r->streaming = 1;
	buf_reset(&r->out, KEEP_OUT_BYTES);
	if (r->method == M_HEAD)
		return rc;
	buf_set_sink(&r->out, http_stream_sink, r, 64 * 1024);
	return rc;
}

int http_is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] == 127;
	}
	return 0;
}

double http_elapsed_ms(const struct req *r)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e6;
}
