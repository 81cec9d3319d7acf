/*
 * pull.c: blindsync-pull, the collection reads of api.md §4:
 *   GET /v1/collections                                 the account's collections
 *   GET /v1/collections/{c}/pull?since&limit&wait       changes since a version (long-poll)
 *   GET /v1/collections/{c}/records/{id}                one record
 *   GET /v1/collections/{c}/records/{id}/history        its versions, newest first
 *   GET /v1/collections/{c}/records/{id}/history/{v}    one version
 * Each takes ?owner=USERNAME for a collection shared with the caller
 * (docs/API-sharing.md: read role; 404 for a non-member as for a missing
 * collection); the listing adds the shared collections after the own ones.
 * Opens the store read-only. Record payloads stream from SQLite into the
 * response, base64-encoded in place: memory does not grow with a pull.
 */
#include <string.h>

#include "auth.h"
#include "json.h"
#include "serve.h"
#include "share.h"
#include "syncio.h"
#include "valid.h"

/* The collection name path parameter and ?owner= (owner: NULL for the caller's own). */
static enum err collection_param(struct req *r, const char **name, char *buf, const char **owner)
{
	*name = r->params[0];
	if (!valid_name(*name))
		return http_fail(r, ERR_NOT_FOUND, "No such collection.");
	return syncio_owner(r, buf, owner);
}

static int emit_collection(void *ctx, const struct store_collection *c)
{
	syncio_collection(ctx, c, 1);
	return 0;
}

struct list_ctx {
	struct req *r;
	const char *owner;   /* ?owner=: NULL for all */
};

/* Own collections (unless ?owner= names another account), then the shared ones (of that owner). */
static enum err list_tx(struct store *s, void *arg)
{
	struct list_ctx *x = arg;
	struct req *r = x->r;
	struct store_account o;
	const char *owner = x->owner;
	int own = 1;
	enum err e;
	buf_reset(&r->out, 0);
	if (owner) {
		if ((e = store_account_by_name(s, owner, &o)) && e != ERR_NOT_FOUND)
			return e;
		own = e == ERR_OK && o.id == r->account_id;
		if (own)
			owner = NULL;
	}
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "collections");
	jw_arr_begin(&w);
	e = own ? store_collection_list(s, r->account_id, emit_collection, &w) : ERR_OK;
	if (e == ERR_OK && (!x->owner || !own))
		e = share_list(s, r->account_id, owner, &w, 1);
	jw_arr_end(&w);
	jw_obj_end(&w);
	return e;
}

static enum err do_list(struct req *r)
{
	char buf[STORE_USERNAME_MAX + 1];
	struct list_ctx x = {r, NULL};
	const char *q = http_query(r, "owner");
	enum err e;
	if (q) /* a malformed name is nobody's: an empty list, as for an unknown one */
		x.owner = auth_username(q, strlen(q), buf) == 0 ? buf : "";
	if ((e = store_read(r->store, list_tx, &x)))
		return e;
	http_respond_json(r, 200);
	return ERR_OK;
}

struct pull_ctx {
	struct req *r;
	const char *name;
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1];
	int64_t since, limit;
	struct store_collection col;
	int started;       /* the response is streaming */
	int64_t count, last;
	int more;
	struct jw w;
};

static int emit_pulled(void *ctx, const struct store_record *rec)
{
	struct pull_ctx *x = ctx;
	if (x->count == x->limit) { /* the one row past the page */
		x->more = 1;
		return 1;
	}
	syncio_record(&x->w, rec);
	x->count++;
	x->last = rec->version;
	return buf_error(&x->r->out) ? 1 : 0;
}

/* One consistent snapshot: the collection, the horizon check, the page. */
static enum err pull_tx(struct store *s, void *arg)
{
	struct pull_ctx *x = arg;
	struct req *r = x->r;
	int role;
	enum err e = x->owner ? ERR_OK : store_pull_hint(s, r->account_id, x->name, x->since, x->limit + 1);
	if (!e)
		e = share_access(s, r->account_id, x->owner, x->name, STORE_ROLE_READ, &x->col, &role);
	if (e)
		return syncio_access_fail(r, e);
	if (x->since > 0 && x->since < x->col.purged_version) {
		buf_printf(&r->err_extra, "\"purged_version\":%lld", (long long)x->col.purged_version);
		return http_fail(r, ERR_RESYNC_REQUIRED,
		    "Tombstones up to version %lld were purged; pull again from 0.", (long long)x->col.purged_version);
	}
	http_begin_stream(r, 200, "application/json", -1);
	x->started = 1;
	jw_init(&x->w, &r->out);
	jw_obj_begin(&x->w);
	jw_key(&x->w, "collection_version"); jw_int(&x->w, x->col.version);
	jw_key(&x->w, "records");
	jw_arr_begin(&x->w);
	e = store_record_pull(s, x->col.id, x->since, x->limit + 1, emit_pulled, x);
	jw_arr_end(&x->w);
	jw_key(&x->w, "more"); jw_bool(&x->w, x->more);
	jw_key(&x->w, "next_since"); jw_int(&x->w, x->count ? x->last : x->col.version);
	jw_obj_end(&x->w);
	buf_flush(&r->out);
	return e;
}

/* Has the collection anything newer than `since`? (a cheap read; a member removed meanwhile ends the wait) */
static enum err newer(struct req *r, const char *owner, const char *name, int64_t since, int *yes)
{
	struct store_collection col;
	int role;
	enum err e = share_access(r->store, r->account_id, owner, name, STORE_ROLE_READ, &col, &role);
	*yes = e != ERR_OK || col.version > since; /* errors are answered by the pull itself */
	return e == ERR_NOT_FOUND || e == ERR_FORBIDDEN ? ERR_OK : e;
}

/* A pull's parameters into x (zeroed first) and *wait. */
static enum err pull_params(struct req *r, struct pull_ctx *x, int64_t *wait)
{
	enum err e;
	memset(x, 0, sizeof *x);
	x->r = r;
	if ((e = collection_param(r, &x->name, x->owner_buf, &x->owner)) ||
	    (e = http_query_int(r, "since", 0, 999999999999999999LL, 0, &x->since)) ||
	    (e = http_query_int(r, "limit", 1, r->cfg->limits.max_pull_records, r->cfg->limits.max_pull_records,
	    &x->limit)))
		return e;
	return http_query_int(r, "wait", 0, 86400, 0, wait);
}

/* route.early: a pull of one's own collection that does not wait sends its first reads with the token's lookup. */
static void pull_early(struct req *r, const uint8_t token_hash[32])
{
	struct pull_ctx x;
	int64_t wait;
	if (pull_params(r, &x, &wait) == ERR_OK && !x.owner && wait == 0)
		store_pull_early(r->store, token_hash, x.name, x.since, x.limit + 1);
	r->errmsg[0] = '\0'; /* a refusal is the handler's to answer */
}

static enum err do_pull(struct req *r)
{
	const struct auth *a = r->auth;
	struct pull_ctx x;
	int64_t wait;
	enum err e;
	if ((e = pull_params(r, &x, &wait)))
		return e;
	if (wait > r->cfg->limits.max_wait_seconds)
		wait = r->cfg->limits.max_wait_seconds;
	if (wait > 0) {
		/* the collection's wake-ups are keyed by its owner: find it first */
		int64_t owner_id = a->account_id;
		if (x.owner) {
			struct store_collection col;
			int role;
			if ((e = share_access(r->store, a->account_id, x.owner, x.name, STORE_ROLE_READ, &col, &role)))
				return syncio_access_fail(r, e);
			owner_id = col.account_id;
		}
		/* read the sequence before looking, so a write in between is not missed */
		struct core_watch cw;
		serve_watch_init(&cw, owner_id, x.name, a->account_id);
		int yes, moved;
		if ((e = newer(r, x.owner, x.name, x.since, &yes)))
			return e;
		if (!yes && serve_wait_begin() == 0) {
			/* until the collection changes, or 401 once this device's session ends */
			int64_t deadline = serve_now_ms() + wait * 1000;
			while (!yes && (moved = serve_watch(&cw, deadline)))
				if (((moved & SERVE_WATCH_SESSION) && (e = auth_recheck(r))) ||
				    (e = newer(r, x.owner, x.name, x.since, &yes)))
					break;
			serve_wait_end();
			if (e)
				return e;
		}
	}
	e = store_read(r->store, pull_tx, &x);
	return x.started ? ERR_OK : e;
}

/* The record id path parameter and the collection, or 404. */
static enum err record_params(struct req *r, struct store_collection *col, const char **rid)
{
	const char *name, *owner;
	char buf[STORE_USERNAME_MAX + 1];
	int role;
	enum err e;
	if ((e = collection_param(r, &name, buf, &owner)))
		return e;
	*rid = r->params[1];
	if (!valid_rid(*rid))
		return http_fail(r, ERR_NOT_FOUND, "No such record.");
	return syncio_access_fail(r, share_access(r->store, r->auth->account_id, owner, name, STORE_ROLE_READ, col, &role));
}

static int emit_one(void *ctx, const struct store_record *rec)
{
	struct req *r = ctx;
	struct jw w;
	jw_init(&w, &r->out);
	syncio_record(&w, rec);
	return 0;
}

/* The answer to a lookup that wrote one record through emit_one(): 200, or 404 saying not_found. */
static enum err answer_one(struct req *r, enum err e, const char *not_found)
{
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "%s", not_found);
	if (e)
		return e;
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_record(struct req *r)
{
	struct store_collection col;
	const char *rid;
	enum err e;
	if ((e = record_params(r, &col, &rid)))
		return e;
	return answer_one(r, store_record_get(r->store, col.id, rid, emit_one, r), "No such record.");
}

static int emit_version(void *ctx, const struct store_record *rec)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "version"); jw_int(w, rec->version);
	jw_key(w, "modified_at"); jw_time(w, rec->modified_at);
	jw_key(w, "deleted"); jw_bool(w, rec->deleted);
	jw_key(w, "bytes"); jw_int(w, (int64_t)rec->payload_len);
	jw_obj_end(w);
	return 0;
}

static enum err do_history(struct req *r)
{
	struct store_collection col;
	const char *rid;
	enum err e;
	if ((e = record_params(r, &col, &rid)))
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "versions");
	jw_arr_begin(&w);
	if ((e = store_history_list(r->store, col.id, rid, emit_version, &w)) == ERR_NOT_FOUND)
		return http_fail(r, e, "No such record.");
	if (e)
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_history_version(struct req *r)
{
	struct store_collection col;
	const char *rid;
	int64_t version;
	enum err e;
	if ((e = record_params(r, &col, &rid)))
		return e;
	if (http_parse_u63(r->params[2], &version) != 0 || version < 1)
		return http_fail(r, ERR_NOT_FOUND, "No such version.");
	return answer_one(r, store_history_get(r->store, col.id, rid, version, emit_one, r),
	    "No such version (it may have been pruned).");
}

static const struct route routes[] = {
	{.method = M_GET, .pattern = "/collections", .fn = do_list, .name = "collections", .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/collections/*/pull", .fn = do_pull, .name = "pull", .auth = RA_BEARER,
	 .early = pull_early},
	{.method = M_GET, .pattern = "/collections/*/records/*", .fn = do_record, .name = "records", .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/collections/*/records/*/history", .fn = do_history, .name = "records",
	 .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/collections/*/records/*/history/*", .fn = do_history_version, .name = "records",
	 .auth = RA_BEARER},
};

static const struct handler handler = {"pull", routes, sizeof routes / sizeof routes[0], STORE_RO, NULL, NULL,
    SERVE_SHARED_CONNECTIONS};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
