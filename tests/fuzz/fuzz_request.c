/*
 * fuzz_request.c: fuzz target for a whole CGI request through http.c and the
 * dispatcher of serve.c (method, path and query parsing, routing with "*"
 * parameters, Content-Length and Content-Type checks, body reading, JSON
 * parsing, the response and error writers), with a test route table whose
 * handlers validate like real ones (json_check_fields and the getters).
 *
 * The input format, the run and the invariants every response must keep are
 * in request.h, shared with fuzz_account.c (the real account handler).
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
static const struct handler handler = {"fuzz", routes, sizeof routes / sizeof routes[0], STORE_RO, NULL, NULL, 0};

#include "request.h"

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
	fuzz_init();
	fuzz_request_run(data, size, &handler, NULL, NULL, NULL);
	return 0;
}
