/*
 * push.c: blindsync-push, the collection writes of api.md §4:
 *   POST   /v1/collections/{c}/push   push records (one transaction)
 *   PUT    /v1/collections/{c}        create, or set the encrypted meta
 *   DELETE /v1/collections/{c}        delete with everything in it
 * Every record is validated before anything is written; the answer is sent
 * only after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json.h"
#include "serve.h"
#include "sync.h"
#include "syncio.h"
#include "valid.h"


/* The collection name path parameter (route check: after the token, before the body). */
static enum err collection_param(struct req *r)
{
	if (!valid_name(r->params[0]))
		return http_fail(r, ERR_NOT_FOUND, "No such collection (collection names are 1-64 of A-Z a-z 0-9 _ - . ~).");
	return ERR_OK;
}

static int cmp_rec_id(const void *a, const void *b)
{
	return strcmp(((const struct sync_rec *)a)->id, ((const struct sync_rec *)b)->id);
}

/* Parse and validate records[] into recs (payloads decoded). Nothing is written. */
static enum err parse_records(struct req *r, struct json_object *arr, struct sync_rec *recs, size_t n)
{
	static const struct jfield f[] = {
		{"id", JT_STRING, 1}, {"base_version", JT_INT, 0}, {"payload", JT_NULLABLE_STRING, 0},
		{"deleted", JT_BOOL, 0}, {"force", JT_BOOL, 0},
	};
	const struct config *c = r->cfg;
	char what[32], msg[ERR_MSG_MAX];
	enum err e;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct sync_rec *x = &recs[i];
		snprintf(what, sizeof what, "records[%zu]", i);
		if ((e = json_check_fields(o, f, sizeof f / sizeof *f, what, r->errmsg)))
			return e;
		if ((e = json_get_str(o, "id", 1, 1, 128, &x->id, NULL, msg)) || !valid_rid(x->id))
			return http_fail(r, ERR_INVALID_REQUEST,
			    "%s.id: 1-128 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.", what);
		x->base_version = -1;
		if ((e = json_get_int(o, "base_version", 0, 0, INT64_MAX - 1, &x->base_version, msg)))
			return http_fail(r, e, "%s.%s", what, msg);
		if ((e = json_get_bool(o, "force", 0, &x->force, msg)) || (e = json_get_bool(o, "deleted", 0, &x->deleted, msg)))
			return http_fail(r, e, "%s.%s", what, msg);
		if (!x->force && x->base_version < 0)
			return http_fail(r, ERR_INVALID_REQUEST, "%s.base_version: required unless force is true.", what);
		struct json_object *p = NULL;
		int has_payload = json_object_object_get_ex(o, "payload", &p) && p != NULL;
		if (x->deleted && has_payload)
			return http_fail(r, ERR_INVALID_REQUEST, "%s.payload: a deleted record has no payload.", what);
		if (!x->deleted && !has_payload)
			return http_fail(r, ERR_INVALID_REQUEST, "%s.payload: required unless deleted is true.", what);
		if (has_payload) {
			/* the size bound is the body's; the record limit is a 413 of its own */
			if ((e = json_get_b64(o, "payload", 1, 0, (size_t)c->limits.max_body_bytes, &x->payload, &x->len, msg)))
				return http_fail(r, e, "%s.%s", what, msg);
			if ((int64_t)x->len > c->limits.max_record_bytes)
				return http_fail(r, ERR_RECORD_TOO_LARGE, "%s.payload: %zu bytes, more than the %lld allowed.",
				    what, x->len, (long long)c->limits.max_record_bytes);
		}
	}
	/* duplicate ids: sort a copy of the pointers' order by id */
	struct sync_rec *sorted = malloc(n * sizeof *sorted);
	if (!sorted && n)
		return ERR_INTERNAL;
	if (n)
		memcpy(sorted, recs, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_rec_id);
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i - 1].id, sorted[i].id) == 0) {
			e = http_fail(r, ERR_INVALID_REQUEST, "records: the id '%s' appears more than once.", sorted[i].id);
			free(sorted);
			return e;
		}
	free(sorted);
	return ERR_OK;
}

struct conflicts_ctx {
	struct jw *w;
	int64_t account_id;
	const char *name;
	struct sync_rec *recs;
	size_t n;
};

static int emit_conflict(void *ctx, const struct store_record *rec)
{
	struct jw *w = ctx;
	jw_key(w, "server_version"); jw_int(w, rec->version);
	syncio_payload(w, rec);
	return 0;
}

/* The conflicts array, read fresh: what the server holds now for each. */
static enum err conflicts_tx(struct store *s, void *arg)
{
	struct conflicts_ctx *x = arg;
	struct store_collection col;
	enum err e = store_collection_get(s, x->account_id, x->name, &col);
	if (e && e != ERR_NOT_FOUND)
		return e;
	jw_key(x->w, "conflicts");
	jw_arr_begin(x->w);
	for (size_t i = 0; i < x->n; i++) {
		if (!x->recs[i].conflict)
			continue;
		jw_obj_begin(x->w);
		jw_key(x->w, "id"); jw_str(x->w, x->recs[i].id);
		enum err g = e == ERR_OK ? store_record_get(s, col.id, x->recs[i].id, emit_conflict, x->w) : ERR_NOT_FOUND;
		if (g == ERR_NOT_FOUND) {
			jw_key(x->w, "server_version"); jw_int(x->w, 0);
			jw_key(x->w, "deleted"); jw_bool(x->w, 0);
			jw_key(x->w, "payload"); jw_null(x->w);
		} else if (g) {
			return g;
		}
		jw_obj_end(x->w);
	}
	jw_arr_end(x->w);
	return ERR_OK;
}

static const struct jfield push_fields[] = {{"records", JT_ARRAY, 1}, {"atomic", JT_BOOL, 0}};

static enum err do_push(struct req *r)
{
	const struct auth *a = r->auth;
	const char *name = r->params[0];
	struct sync_rec *recs = NULL;
	size_t n = 0, nconflicts = 0;
	int atomic = 0;
	int64_t version = 0;
	enum err e;
	if ((e = json_get_bool(r->json, "atomic", 0, &atomic, r->errmsg)))
		return e;
	struct json_object *arr;
	json_object_object_get_ex(r->json, "records", &arr);
	n = json_object_array_length(arr);
	if ((int64_t)n > r->cfg->limits.max_push_records)
		return http_fail(r, ERR_TOO_MANY_RECORDS, "%zu records; at most %lld per push.", n,
		    (long long)r->cfg->limits.max_push_records);
	recs = calloc(n ? n : 1, sizeof *recs);
	if (!recs)
		return ERR_INTERNAL;
	if ((e = parse_records(r, arr, recs, n)))
		goto out;
	e = sync_push(r->store, r->cfg, a->account_id, name, recs, n, atomic, &nconflicts, &version);
	if (e == ERR_COLLECTION_LIMIT) {
		http_fail(r, e, "The account has reached its plan's number of collections.");
		goto out;
	}
	if (e == ERR_QUOTA_EXCEEDED) {
		http_fail(r, e, "This push would take the account over its byte quota.");
		goto out;
	}
	if (e && e != ERR_CONFLICT)
		goto out;
	if (e == ERR_OK)
		serve_changed(a->account_id, name);
	/* the answer streams: conflicts carry payloads of any size */
	int status = e == ERR_CONFLICT ? 409 : 200;
	if (status == 409)
		http_fail(r, ERR_CONFLICT, "%zu record(s) conflict; nothing was written (atomic push).", nconflicts);
	struct jw w;
	http_begin_stream(r, status, "application/json", -1);
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	if (status == 409) {
		jw_key(&w, "error");
		jw_obj_begin(&w);
		jw_key(&w, "code"); jw_str(&w, err_code(ERR_CONFLICT));
		jw_key(&w, "message"); jw_str(&w, r->errmsg);
		jw_obj_end(&w);
	} else {
		jw_key(&w, "collection_version"); jw_int(&w, version);
		jw_key(&w, "accepted");
		jw_arr_begin(&w);
		for (size_t i = 0; i < n; i++) {
			if (recs[i].conflict || !recs[i].version)
				continue;
			jw_obj_begin(&w);
			jw_key(&w, "id"); jw_str(&w, recs[i].id);
			jw_key(&w, "version"); jw_int(&w, recs[i].version);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
	}
	if (nconflicts) {
		struct conflicts_ctx cx = {&w, a->account_id, name, recs, n};
		store_read(r->store, conflicts_tx, &cx);
	} else { /* nothing to read back: no second transaction */
		jw_key(&w, "conflicts");
		jw_arr_begin(&w);
		jw_arr_end(&w);
	}
	if (status == 200) {
		jw_key(&w, "rejected");
		jw_arr_begin(&w);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	buf_flush(&r->out);
	e = ERR_OK;
out:
	for (size_t i = 0; i < n; i++)
		free(recs[i].payload);
	free(recs);
	return e;
}

static const struct jfield collection_fields[] = {{"meta", JT_NULLABLE_STRING, 0}};

static enum err do_collection_put(struct req *r)
{
	const struct auth *a = r->auth;
	const char *name = r->params[0];
	uint8_t *meta = NULL;
	size_t len = 0;
	int created = 0;
	struct store_collection col;
	enum err e;
	if (r->json && (e = json_get_b64(r->json, "meta", 0, 0, SYNC_META_MAX, &meta, &len, r->errmsg)))
		goto out;
	e = sync_collection_put(r->store, r->cfg, a->account_id, name, meta, len, &created, &col);
	if (e == ERR_COLLECTION_LIMIT)
		http_fail(r, e, "The account has reached its plan's number of collections.");
	if (e)
		goto out;
	serve_changed(a->account_id, name);
	col.meta = meta;
	col.meta_len = len;
	struct jw w;
	jw_init(&w, &r->out);
	syncio_collection(&w, &col, 1);
	http_respond_json(r, created ? 201 : 200);
out:
	free(meta);
	return e;
}

static enum err do_collection_delete(struct req *r)
{
	const struct auth *a = r->auth;
	const char *name = r->params[0];
	enum err e;
	if ((e = sync_collection_delete(r->store, a->account_id, name)) == ERR_NOT_FOUND)
		return http_fail(r, e, "No such collection.");
	if (e)
		return e;
	serve_changed(a->account_id, name);
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static const struct route routes[] = {
	{.method = M_POST, .pattern = "/collections/*/push", .fn = do_push, .name = "push", .auth = RA_BEARER,
	 .body = RB_JSON, FIELDS(push_fields), .check = collection_param},
	{.method = M_PUT, .pattern = "/collections/*", .fn = do_collection_put, .name = "collections",
	 .auth = RA_BEARER, .body = RB_JSON_OPT, FIELDS(collection_fields), .check = collection_param},
	{.method = M_DELETE, .pattern = "/collections/*", .fn = do_collection_delete, .name = "collections",
	 .auth = RA_BEARER, .check = collection_param},
};

static const struct handler handler = {"push", routes, sizeof routes / sizeof routes[0], STORE_RW, NULL, NULL};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
