/*
 * fuzz_request.c: fuzz target for a whole CGI request through http.c and the
 * dispatcher of serve.c (method, path and query parsing, routing with "*"
 * parameters, Content-Length and Content-Type checks, body reading, JSON
 * parsing, the response and error writers), with a test route table whose
 * handlers validate like real ones (json_check_fields and the getters).
 *
 * Input format, readable in the seed corpus:
 *   line 1   REQUEST_METHOD
 *   line 2   REQUEST_URI; QUERY_STRING is what follows its first '?'.
 *            An empty line leaves REQUEST_URI unset (then SCRIPT_NAME and
 *            PATH_INFO are used).
 *   line 3   CONTENT_TYPE (unset if empty)
 *   then optional lines until an empty line, each "KEY:VALUE" with KEY one of
 *     id      REQUEST_ID
 *     cl      CONTENT_LENGTH instead of the body length ("cl:-" unsets it)
 *     pi      PATH_INFO (with SCRIPT_NAME=/cgi-bin/blindsync)
 *     https   HTTPS
 *     origin  HTTP_ORIGIN
 *   then the body: every remaining byte, given on stdin.
 * Bytes after a NUL in a line are dropped (an environment cannot hold them).
 * Missing lines are empty.
 *
 * The request runs in CGI mode (r.fcgx NULL), so http.c reads the body with
 * fread(stdin) and writes with fwrite(stdout). This target swaps the stdin
 * and stdout FILE pointers for an fmemopen() stream over the body and an
 * open_memstream() for the response, and puts them back after the request.
 * The GNU C library documents stdin and stdout as ordinary variables that
 * may be assigned; unlike dup2() on fds 0 and 1 this leaves no stdio
 * buffers or EOF flags behind between runs, and never touches the real
 * stdout libFuzzer reports on.
 *
 * Invariants of every response (a violation is an abort()):
 *   - it starts with "Status: NNN " and has a header block ending in CRLF CRLF
 *     that holds X-Request-Id with a plain id, and no bare CR, LF or NUL;
 *   - the body has the Content-Length the headers announce (none for HEAD,
 *     204 or 304);
 *   - a JSON body parses with json_parse(); an error (4xx/5xx) body is
 *     {"error":{"code":"...",...}}.
 *
 * The config is the built-in defaults (config_init(NULL)); no store is
 * opened and no route touches r.store. Logging is cut to errors, or every
 * request would write an access line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "fuzz.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "serve.h"

/* Inputs this large add nothing but time; libFuzzer keeps them far smaller. */
#define FUZZ_REQ_MAX (1024 * 1024)
/* The largest body the raw route takes. */
#define FUZZ_RAW_MAX 65536

/* ---- the test route table ---- */

/* Write a path or query parameter: arbitrary bytes after %-decoding, so as
 * base64 (a string would not be valid UTF-8). */
static void put_param(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v == NULL)
		jw_null(w);
	else
		jw_b64(w, v, strlen(v));
}

/* GET /info */
static enum err h_info(struct req *r)
{
	struct jw w;

	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "route");
	jw_str(&w, r->route_name);
	jw_key(&w, "max_body_bytes");
	jw_int(&w, r->cfg->limits.max_body_bytes);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

/* GET /things/ * ?limit=1..100&q=... */
static enum err h_item(struct req *r)
{
	int64_t limit;
	struct jw w;
	enum err e;

	if ((e = http_query_int(r, "limit", 1, 100, 10, &limit)) != ERR_OK)
		return e;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	put_param(&w, "id", r->params[0]);
	jw_key(&w, "limit");
	jw_int(&w, limit);
	put_param(&w, "q", http_query(r, "q"));
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

/* DELETE /things/ * */
static enum err h_delete(struct req *r)
{
	http_respond(r, 204, NULL);
	return ERR_OK;
}

/* POST /things/ * /echo, a JSON body */
static enum err h_echo(struct req *r)
{
	static const struct jfield f[] = {
		{"name", JT_STRING, 1},
		{"count", JT_INT, 0},
		{"flag", JT_BOOL, 0},
		{"data", JT_NULLABLE_STRING, 0},
		{"tags", JT_ARRAY, 0},
		{"meta", JT_OBJECT, 0},
	};
	static const struct jfield mf[] = {
		{"k", JT_STRING, 1},
		{"v", JT_INT, 0},
	};
	struct json_object *tags = NULL, *meta = NULL, *t;
	const char *name = NULL, *mk = NULL;
	size_t name_len = 0, mk_len = 0, ntags = 0, i;
	int64_t count = 0, mv = 0;
	int flag = 0;
	uint8_t *data = NULL;
	size_t data_len = 0;
	struct jw w;
	enum err e;

	if ((e = json_check_fields(r->json, f, sizeof f / sizeof f[0], "body", r->errmsg)) != ERR_OK)
		goto out;
	if ((e = json_get_str(r->json, "name", 1, 1, 64, &name, &name_len, r->errmsg)) != ERR_OK ||
	    (e = json_get_int(r->json, "count", 0, 0, 1000000, &count, r->errmsg)) != ERR_OK ||
	    (e = json_get_bool(r->json, "flag", 0, &flag, r->errmsg)) != ERR_OK ||
	    (e = json_get_b64(r->json, "data", 0, 0, 4096, &data, &data_len, r->errmsg)) != ERR_OK)
		goto out;
	if (json_object_object_get_ex(r->json, "tags", &tags)) {
		ntags = json_object_array_length(tags);
		if (ntags > 16) {
			e = http_fail(r, ERR_INVALID_REQUEST, "tags: at most 16.");
			goto out;
		}
		for (i = 0; i < ntags; i++) {
			t = json_object_array_get_idx(tags, i);
			if (!json_object_is_type(t, json_type_string) || json_object_get_string_len(t) < 1 ||
			    json_object_get_string_len(t) > 32 ||
			    memchr(json_object_get_string(t), '\0', (size_t)json_object_get_string_len(t))) {
				e = http_fail(r, ERR_INVALID_REQUEST, "tags[%zu]: expected a string of 1 to 32 characters.", i);
				goto out;
			}
		}
	}
	if (json_object_object_get_ex(r->json, "meta", &meta)) {
		if ((e = json_check_fields(meta, mf, sizeof mf / sizeof mf[0], "body.meta", r->errmsg)) != ERR_OK ||
		    (e = json_get_str(meta, "k", 1, 0, 128, &mk, &mk_len, r->errmsg)) != ERR_OK ||
		    (e = json_get_int(meta, "v", 0, INT64_MIN + 1, INT64_MAX - 1, &mv, r->errmsg)) != ERR_OK)
			goto out;
	}

	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "name");
	jw_strn(&w, name, name_len);
	jw_key(&w, "count");
	jw_int(&w, count);
	jw_key(&w, "flag");
	jw_bool(&w, flag);
	jw_key(&w, "data");
	if (data != NULL)
		jw_b64(&w, data, data_len);
	else
		jw_null(&w);
	jw_key(&w, "tags");
	jw_arr_begin(&w);
	for (i = 0; i < ntags; i++) {
		t = json_object_array_get_idx(tags, i);
		jw_strn(&w, json_object_get_string(t), (size_t)json_object_get_string_len(t));
	}
	jw_arr_end(&w);
	jw_key(&w, "meta");
	if (meta != NULL) {
		jw_obj_begin(&w);
		jw_key(&w, "k");
		jw_strn(&w, mk, mk_len);
		jw_key(&w, "v");
		jw_int(&w, mv);
		jw_obj_end(&w);
	} else {
		jw_null(&w);
	}
	put_param(&w, "param", r->params[0]);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	e = ERR_OK;
out:
	free(data);
	return e;
}

/* PUT /things/ * /items/ *, an optional JSON body */
static enum err h_put(struct req *r)
{
	static const struct jfield f[] = {
		{"value", JT_STRING, 1},
		{"version", JT_INT, 0},
	};
	const char *value = NULL;
	size_t value_len = 0;
	int64_t version = 7;
	struct jw w;
	enum err e;

	if (r->json == NULL) { /* an empty body is allowed: nothing to change */
		http_respond(r, 204, NULL);
		return ERR_OK;
	}
	if ((e = json_check_fields(r->json, f, sizeof f / sizeof f[0], "body", r->errmsg)) != ERR_OK ||
	    (e = json_get_str(r->json, "value", 1, 0, 256, &value, &value_len, r->errmsg)) != ERR_OK ||
	    (e = json_get_int(r->json, "version", 0, 1, INT64_MAX - 1, &version, r->errmsg)) != ERR_OK)
		return e;
	if (version != 7) {
		buf_adds(&r->err_extra, "\"current_version\":7");
		return http_fail(r, ERR_PRECONDITION_FAILED, "The item has changed.");
	}
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	put_param(&w, "thing", r->params[0]);
	put_param(&w, "item", r->params[1]);
	jw_key(&w, "value");
	jw_strn(&w, value, value_len);
	jw_key(&w, "version");
	jw_int(&w, version);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

/* POST /things/ * /raw, a body of any type the handler reads itself */
static enum err h_raw(struct req *r)
{
	char chunk[512];
	uint8_t head[32];
	size_t have = 0, nhead = 0, take;
	int64_t len;
	long got;
	struct jw w;
	enum err e;

	if ((e = http_content_length(r, FUZZ_RAW_MAX, &len)) != ERR_OK)
		return e;
	while (have < (size_t)len) {
		take = (size_t)len - have;
		if (take > sizeof chunk)
			take = sizeof chunk;
		if ((got = http_read(r, chunk, take)) <= 0)
			break;
		if ((size_t)got > take)
			abort(); /* http_read returned more than asked */
		if (nhead < sizeof head) {
			size_t n = sizeof head - nhead < (size_t)got ? sizeof head - nhead : (size_t)got;
			memcpy(head + nhead, chunk, n);
			nhead += n;
		}
		have += (size_t)got;
	}
	if (have != (size_t)len)
		return http_fail(r, ERR_INVALID_REQUEST, "The body is shorter than its Content-Length.");
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "bytes");
	jw_int(&w, (int64_t)have);
	jw_key(&w, "head");
	jw_b64(&w, head, nhead);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

/* GET /fail/ *: the error writer with the headers some statuses add */
static enum err h_fail(struct req *r)
{
	const char *p = r->params[0];

	if (strcmp(p, "401") == 0)
		return ERR_UNAUTHORIZED;
	if (strcmp(p, "412") == 0) {
		buf_adds(&r->err_extra, "\"current_version\":3");
		return http_fail(r, ERR_PRECONDITION_FAILED, "Stale.");
	}
	if (strcmp(p, "429") == 0) {
		http_add_header(r, "Retry-After", "%d", 5);
		return ERR_RATE_LIMITED;
	}
	if (strcmp(p, "503") == 0)
		return ERR_UNAVAILABLE;
	return http_fail(r, ERR_NOT_FOUND, "No such failure.");
}

/* GET /deep/ * / * / * / *: as many parameters as a route may have */
static enum err h_deep(struct req *r)
{
	struct jw w;

	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	put_param(&w, "a", r->params[0]);
	put_param(&w, "b", r->params[1]);
	put_param(&w, "c", r->params[2]);
	put_param(&w, "d", r->params[3]);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static const struct route routes[] = {
	{.method = M_GET, .pattern = "/info", .fn = h_info, .name = "t.info"},
	{.method = M_GET, .pattern = "/things/*", .fn = h_item, .name = "t.item"},
	{.method = M_DELETE, .pattern = "/things/*", .fn = h_delete, .name = "t.delete"},
	{.method = M_POST, .pattern = "/things/*/echo", .fn = h_echo, .name = "t.echo", .body = RB_JSON},
	{.method = M_PUT, .pattern = "/things/*/items/*", .fn = h_put, .name = "t.put", .body = RB_JSON_OPT},
	{.method = M_POST, .pattern = "/things/*/raw", .fn = h_raw, .name = "t.raw", .body = RB_STREAM},
	/* a cap of its own, and routes whose credentials (never sent here) are refused before the body */
	{.method = M_POST, .pattern = "/things/*/small", .fn = h_echo, .name = "t.small", .body = RB_JSON,
	 .max_body = 256},
	{.method = M_POST, .pattern = "/private/*", .fn = h_echo, .name = "t.private", .auth = RA_BEARER,
	 .body = RB_JSON},
	{.method = M_PUT, .pattern = "/keyed/*", .fn = h_raw, .name = "t.keyed", .auth = RA_SLOT, .body = RB_STREAM},
	{.method = M_GET, .pattern = "/fail/*", .fn = h_fail, .name = "t.fail"},
	{.method = M_GET, .pattern = "/deep/*/*/*/*", .fn = h_deep, .name = "t.deep"},
	/* one parameter more than HTTP_MAX_PARAMS: must never match */
	{.method = M_GET, .pattern = "/deep/*/*/*/*/*", .fn = h_deep, .name = "t.deeper"},
};
static const struct handler handler = {"fuzz", routes, sizeof routes / sizeof routes[0], STORE_RO, NULL, NULL};

/* ---- the input ---- */

struct span {
	const uint8_t *p;
	size_t n;
};

/* Take the next line of *in (without its LF); an exhausted input gives "". */
static struct span next_line(struct span *in)
{
	struct span s = {in->p, 0};
	const uint8_t *lf = in->n ? memchr(in->p, '\n', in->n) : NULL;

	if (lf == NULL) {
		s.n = in->n;
		in->p += in->n;
		in->n = 0;
	} else {
		s.n = (size_t)(lf - in->p);
		in->p = lf + 1;
		in->n -= s.n + 1;
	}
	return s;
}

/* setenv(name, the span up to a NUL); 0 or -1. */
static int setenv_span(const char *name, const uint8_t *p, size_t n)
{
	char *v;
	int rc;

	if ((v = malloc(n + 1)) == NULL)
		return -1;
	memcpy(v, p, n);
	v[n] = '\0';
	rc = setenv(name, v, 1);
	free(v);
	return rc;
}

/* The variables a run may set, cleared before each run. */
static const char *const env_vars[] = {
	"REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
	"REQUEST_ID", "PATH_INFO", "SCRIPT_NAME", "HTTPS", "HTTP_ORIGIN", "REMOTE_ADDR",
};

/*
 * Set the environment from the input; the body is stored in *body. Returns
 * 1 if the method is HEAD (the response then has no body), 0 otherwise.
 */
static int set_request(const uint8_t *data, size_t size, struct span *body)
{
	struct span in = {data, size}, line, uri;
	const uint8_t *q;
	char cl[32];
	int cl_set = 0, head;
	size_t i;

	for (i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	setenv("REMOTE_ADDR", "127.0.0.1", 1);

	line = next_line(&in);
	setenv_span("REQUEST_METHOD", line.p, line.n);
	/* what the server sees: the line up to a NUL */
	head = (line.n == 4 || (line.n > 4 && line.p[4] == '\0')) && memcmp(line.p, "HEAD", 4) == 0;
	uri = next_line(&in);
	if (uri.n > 0)
		setenv_span("REQUEST_URI", uri.p, uri.n);
	if ((q = memchr(uri.p, '?', uri.n)) != NULL)
		setenv_span("QUERY_STRING", q + 1, uri.n - (size_t)(q + 1 - uri.p));
	line = next_line(&in);
	if (line.n > 0)
		setenv_span("CONTENT_TYPE", line.p, line.n);
	while (in.n > 0) {
		line = next_line(&in);
		if (line.n == 0)
			break;
		if (line.n >= 3 && memcmp(line.p, "id:", 3) == 0) {
			setenv_span("REQUEST_ID", line.p + 3, line.n - 3);
		} else if (line.n >= 3 && memcmp(line.p, "cl:", 3) == 0) {
			if (!(line.n == 4 && line.p[3] == '-'))
				setenv_span("CONTENT_LENGTH", line.p + 3, line.n - 3);
			cl_set = 1;
		} else if (line.n >= 3 && memcmp(line.p, "pi:", 3) == 0) {
			setenv_span("PATH_INFO", line.p + 3, line.n - 3);
			setenv("SCRIPT_NAME", "/cgi-bin/blindsync", 1);
		} else if (line.n >= 6 && memcmp(line.p, "https:", 6) == 0) {
			setenv_span("HTTPS", line.p + 6, line.n - 6);
		} else if (line.n >= 7 && memcmp(line.p, "origin:", 7) == 0) {
			setenv_span("HTTP_ORIGIN", line.p + 7, line.n - 7);
		}
	}
	*body = in;
	if (!cl_set) {
		snprintf(cl, sizeof cl, "%zu", in.n);
		setenv("CONTENT_LENGTH", cl, 1);
	}
	return head;
}

/* ---- the response ---- */

/* The value of header `name` ("Content-Length: ") in hdr[0..n), or NULL. */
static const char *find_header(const char *hdr, size_t n, const char *name)
{
	size_t nl = strlen(name);
	const char *p = hdr, *end = hdr + n;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - p) >= nl && strncasecmp(p, name, nl) == 0)
			return p + nl;
		p = eol + 2;
	}
	return NULL;
}

/* Check the invariants of the response out[0..n); abort() on a violation. */
static void check_response(const char *out, size_t n, int head)
{
	const char *end, *v, *body;
	struct json_object *j = NULL, *err = NULL, *code = NULL;
	char msg[ERR_MSG_MAX];
	size_t hlen, blen, i;
	int status, nobody;
	int64_t clen = -1;

	if (out == NULL || n < 13 || memcmp(out, "Status: ", 8) != 0)
		abort();
	for (i = 8; i < 11; i++)
		if (out[i] < '0' || out[i] > '9')
			abort();
	if (out[11] != ' ')
		abort();
	status = (out[8] - '0') * 100 + (out[9] - '0') * 10 + (out[10] - '0');
	if (status < 200 || status > 599)
		abort();
	if ((end = memmem(out, n, "\r\n\r\n", 4)) == NULL)
		abort();
	hlen = (size_t)(end - out) + 2; /* the header lines with their CRLFs */
	body = end + 4;
	blen = n - (size_t)(body - out);

	/* no header line may be split or smuggled in: CR and LF only as CRLF */
	for (i = 0; i < hlen; i++) {
		if (out[i] == '\0')
			abort();
		if (out[i] == '\r' && out[i + 1] != '\n')
			abort();
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	}
	if ((v = find_header(out, hlen, "X-Request-Id: ")) == NULL)
		abort();
	for (i = 0; v[i] != '\r'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_'))
			abort();
	if (i == 0 || i > HTTP_REQUEST_ID_MAX)
		abort();

	nobody = status == 204 || status == 304;
	if ((v = find_header(out, hlen, "Content-Length: ")) != NULL) {
		clen = 0;
		for (i = 0; v[i] != '\r'; i++) {
			if (v[i] < '0' || v[i] > '9' || i >= 18)
				abort();
			clen = clen * 10 + (v[i] - '0');
		}
		if (i == 0 || nobody)
			abort();
	}
	if (head || nobody) {
		if (blen != 0)
			abort();
		return;
	}
	if (clen < 0 || (size_t)clen != blen)
		abort();
	if ((v = find_header(out, hlen, "Content-Type: ")) == NULL ||
	    strncmp(v, "application/json\r\n", 18) != 0)
		return;
	msg[0] = '\0';
	if (json_parse(body, blen, &j, msg) != ERR_OK || !json_object_is_type(j, json_type_object))
		abort();
	if (status >= 400) {
		if (!json_object_object_get_ex(j, "error", &err) ||
		    !json_object_object_get_ex(err, "code", &code) ||
		    !json_object_is_type(code, json_type_string) || json_object_get_string_len(code) == 0)
			abort();
	}
	json_object_put(j);
}

/* ---- the target ---- */

static void fuzz_init(void)
{
	static int ready;
	char err[512];

	if (ready)
		return;
	unsetenv("BLINDSYNC_CONFIG");
	if (config_init(NULL, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_request: config_init: %s\n", err);
		abort();
	}
	log_set_level(LOG_ERROR);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char empty[1]; /* fmemopen wants a buffer even for 0 bytes */
	struct span body;
	struct req r;
	FILE *in = NULL, *out = NULL, *save_in = stdin, *save_out = stdout;
	char *bodycopy = NULL, *resp = NULL;
	size_t resp_len = 0;
	int head;

	if (size > FUZZ_REQ_MAX)
		return 0;
	fuzz_init();
	head = set_request(data, size, &body);

	/* a copy of exactly the body's size, so ASan sees a read past its end */
	if (body.n > 0) {
		if ((bodycopy = malloc(body.n)) == NULL)
			goto out;
		memcpy(bodycopy, body.p, body.n);
	}
	in = fmemopen(bodycopy != NULL ? bodycopy : empty, body.n, "r");
	out = open_memstream(&resp, &resp_len);
	if (in == NULL || out == NULL)
		goto out;

	fflush(stdout);
	stdin = in;
	stdout = out;
	http_req_init(&r, NULL);
	r.store = NULL;
	serve_one(&r, &handler);
	http_req_free(&r);
	stdin = save_in;
	stdout = save_out;

	fclose(out); /* resp and resp_len are final now */
	out = NULL;
	check_response(resp, resp_len, head);
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	free(resp);
	free(bodycopy);
	return 0;
}
