/*
 * backups.c: blindsync-backups, whole-blob backups (api.md §6) and
 * anonymous slots (§7). The rules (plan limits, versions, preconditions,
 * quota, slot keys) live in the core (lib/blobs.c); this file parses
 * requests into typed inputs, calls the core and answers. Bodies stream:
 * the core stages an upload from the request into a temporary file and
 * publishes it in one short transaction; downloads go from the store to the
 * response in fixed-size pieces.
 *
 * A slot is a backup without an account: the steps they share (the
 * preconditions of a write, the answer to a PUT, streaming a GET, the
 * sentences of errors) are written once below, and each route adds only
 * what is its own (names, keys, counts). The dispatcher has checked the
 * access token (backups) or the X-Slot-Key header (slot writes) before the
 * handler runs, as the route table at the end says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "blobs.h"
#include "bsc.h"
#include "json.h"
#include "serve.h"
#include "syncio.h"
#include "upload.h"
#include "valid.h"

/* ---- steps shared by backups and slots ---- */

/* What differs between a backup and a slot in the sentences of errors and answers. */
struct kind {
	const char *noun;            /* in the sentences of errors */
	const char *not_found;       /* the 404 sentence */
	const char *overwrite;       /* the 428 sentence, up to If-Match: "<version>" */
	const char *overwrite_hint;  /* and after it */
	const char *key_name;        /* the member that names it in a PUT answer */
};

static const struct kind backup_kind = {
	"backup", "No such backup.", "The backup exists: overwriting it needs", " (fetch, merge, retry)", "name",
};

static const struct kind slot_kind = {
	"slot", "Not found.", "Overwriting a slot needs", "", "id",
};

/*
 * A write of len bytes (0 for a delete): its preconditions (400 for a
 * malformed If-Match) and the request body as its reader.
 */
static enum err write_begin(struct req *r, struct blobs_write *w, int64_t len)
{
	memset(w, 0, sizeof *w);
	w->len = len;
	w->cond.if_match = upload_if_match(r, &w->cond.version);
	if (w->cond.if_match < 0)
		return http_fail(r, ERR_INVALID_REQUEST, "If-Match: expected \"<version>\" or *.");
	const char *inm = http_header(r, "If-None-Match");
	w->cond.if_none_match_any = inm && strcmp(inm, "*") == 0;
	w->body.fn = upload_read; /* the guarded reader (upload.c) */
	w->body.ctx = r;
	return ERR_OK;
}

/* The sentence of a refused write w or delete of kind k (e from the core, res its details). */
static enum err write_refused(struct req *r, const struct kind *k, enum err e, const struct blobs_write *w,
    const struct blobs_result *res)
{
	const char *pre = "The ", *post = " changed";
	switch (e) {
	case ERR_PRECONDITION_FAILED:
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)res->current);
		if (res->why == BLOBS_WHY_MISSING)
			pre = "There is no such ", post = " to match";
		else if (res->why == BLOBS_WHY_EXISTS)
			post = " exists (If-None-Match: *)";
		else if (res->why == BLOBS_WHY_RACE)
			post = " was just created by another request";
		return http_fail(r, e, "%s%s%s (the current version is %lld).", pre, k->noun, post,
		    (long long)res->current);
	case ERR_PRECONDITION_REQUIRED:
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)res->current);
		return http_fail(r, e, "%s If-Match: \"%lld\"%s.", k->overwrite, (long long)res->current, k->overwrite_hint);
	case ERR_NOT_FOUND:
		return http_fail(r, e, "%s", k->not_found);
	case ERR_BAD_SLOT_KEY:
		return http_fail(r, e, "The slot key does not match.");
	case ERR_BACKUP_LIMIT:
		return http_fail(r, e, "The account has %lld backup(s), the most its plan allows.", (long long)res->count);
	case ERR_QUOTA_EXCEEDED:
		return http_fail(r, e, "This backup would take the account over its byte quota.");
	case ERR_INVALID_REQUEST:
		return http_fail(r, e, "The body ended after %lld of %lld bytes; nothing was stored.",
		    (long long)res->received, (long long)w->len);
	default:
		return e;
	}
}

static void sha_header(struct req *r, const uint8_t sha[BLOBS_SHA_LEN])
{
	char hex[65];
	bsc_hex(sha, BLOBS_SHA_LEN, hex, sizeof hex);
	http_add_header(r, "X-Content-SHA256", "%s", hex);
}

/* The answer to a PUT that stored res under `key`. */
static void put_answer(struct req *r, const struct kind *k, const char *key, const struct blobs_result *res)
{
	http_add_header(r, "ETag", "\"%lld\"", (long long)res->version);
	sha_header(r, res->sha256);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, k->key_name); jw_str(&w, key);
	jw_key(&w, "version"); jw_int(&w, res->version);
	jw_key(&w, "bytes"); jw_int(&w, res->bytes);
	jw_obj_end(&w);
	http_respond_json(r, res->created ? 201 : 200);
}

/* A GET or HEAD in progress. */
struct get {
	struct req *r;
	int streamed;      /* the status line is out: an error can no longer be answered */
};

static int sink_response(void *ctx, const void *data, size_t n) { return http_write(ctx, data, n); }

/*
 * ETag and X-Content-SHA256 always; 304 when If-None-Match names the
 * version; else 200 and the bytes (none for HEAD).
 */
static int get_begin(void *ctx, const struct blobs_info *b)
{
	struct get *x = ctx;
	struct req *r = x->r;
	http_add_header(r, "ETag", "\"%lld\"", (long long)b->version);
	sha_header(r, b->sha256);
	if (upload_none_match(r, b->version)) {
		http_respond(r, 304, NULL);
		return 0;
	}
	http_begin_stream(r, 200, "application/octet-stream", b->bytes);
	x->streamed = 1;
	return r->method == M_HEAD ? 0 : 1;
}

/* What a GET answers once the core has run (e its result). */
static enum err get_end(struct get *x, const struct kind *k, enum err e)
{
	if (x->streamed)
		return ERR_OK;
	return e == ERR_NOT_FOUND ? http_fail(x->r, e, "%s", k->not_found) : e;
}

/* ---- backups ---- */

static enum err do_backup_put(struct req *r)
{
	const struct auth *auth = r->auth;
	struct blobs_write w;
	struct blobs_result res;
	int64_t min, max, len;
	enum err e;
	const char *name = r->params[0];
	if (!valid_name(name))
		return http_fail(r, ERR_INVALID_REQUEST, "Backup names are 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.");
	if ((e = blobs_backup_bounds(r->store, r->cfg, auth->account_id, &min, &max)) ||
	    (e = upload_length(r, min, max, &len)) || (e = write_begin(r, &w, len)))
		return e;
	/* refuse before reading a large body for nothing; judged again in the transaction */
	e = blobs_backup_check(r->store, r->cfg, auth->account_id, name, &w, &res);
	if (e == ERR_OK && (e = upload_begin(r)) != ERR_OK)
		return e; /* refused by upload.c, with Retry-After */
	if (e == ERR_OK)
		e = upload_end(r, blobs_backup_put(r->store, r->cfg, auth->account_id, name, &w, &res));
	if (e == ERR_REQUEST_TIMEOUT)
		return e; /* answered by upload.c */
	if (e)
		return write_refused(r, &backup_kind, e, &w, &res);
	serve_changed(auth->account_id, NULL);
	put_answer(r, &backup_kind, name, &res);
	return ERR_OK;
}

static enum err do_backup_get(struct req *r)
{
	struct get x = {r, 0};
	if (!valid_name(r->params[0]))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	struct blobs_reply rp = {get_begin, {sink_response, r}, &x};
	return get_end(&x, &backup_kind, blobs_backup_get(r->store, r->auth->account_id, r->params[0], &rp));
}

static enum err do_backup_list(struct req *r)
{
	enum err e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "backups");
	jw_arr_begin(&w);
	if ((e = store_backup_list(r->store, r->auth->account_id, syncio_backup, &w)))
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_backup_delete(struct req *r)
{
	const struct auth *a = r->auth;
	struct blobs_write w;
	struct blobs_result res;
	enum err e;
	const char *name = r->params[0];
	if (!valid_name(name))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	if ((e = write_begin(r, &w, 0)))
		return e;
	if ((e = blobs_backup_delete(r->store, a->account_id, name, &w.cond, &res)))
		return write_refused(r, &backup_kind, e, &w, &res);
	serve_changed(a->account_id, NULL);
	http_respond(r, 204, NULL);
	return ERR_OK;
}

/* ---- anonymous slots ---- */

/*
 * The slot id path parameter, or 404 (route check: before the key; with
 * slots off, slots_off() has answered already). The dispatcher then checks
 * the X-Slot-Key header and leaves its SHA-256 in r->slot_key.
 */
static enum err slot_id(struct req *r)
{
	if (!valid_slot_id(r->params[0]))
		return http_fail(r, ERR_NOT_FOUND, "Not found.");
	return ERR_OK;
}

static enum err do_slot_put(struct req *r)
{
	const char *id = r->params[0];
	const uint8_t *key_hash = r->slot_key;
	struct blobs_write w;
	struct blobs_result res;
	int64_t len;
	enum err e;
	const struct config *c = r->cfg;
	/* config.c bounds slots.max_bytes by SQLite's largest blob */
	if ((e = upload_length(r, c->plans[0].min_backup_bytes, c->slots.max_bytes, &len)) ||
	    (e = write_begin(r, &w, len)))
		return e;
	if ((e = blobs_slot_check(r->store, id, key_hash, &w, &res)))
		return write_refused(r, &slot_kind, e, &w, &res);
	/* creating a slot is rate-limited per client address */
	if (res.created && (e = serve_limit_as(r, "slots.create")))
		return e;
	if ((e = upload_begin(r)))
		return e;
	if ((e = upload_end(r, blobs_slot_put(r->store, c, id, key_hash, &w, &res))))
		return e == ERR_REQUEST_TIMEOUT ? e : write_refused(r, &slot_kind, e, &w, &res);
	put_answer(r, &slot_kind, id, &res);
	return ERR_OK;
}

static enum err do_slot_get(struct req *r)
{
	struct get x = {r, 0};
	struct blobs_reply rp = {get_begin, {sink_response, r}, &x};
	return get_end(&x, &slot_kind, blobs_slot_get(r->store, r->params[0], &rp));
}

static enum err do_slot_delete(struct req *r)
{
	struct blobs_write none = {0};
	struct blobs_result res = {0};
	enum err e;
	if ((e = blobs_slot_delete(r->store, r->params[0], r->slot_key)))
		return write_refused(r, &slot_kind, e, &none, &res);
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static const struct route routes[] = {
	/* streamed bodies: the handler checks the length against the plan (or
	 * slots.max_bytes) before reading any of it */
	{.method = M_GET, .pattern = "/backups", .fn = do_backup_list, .name = "backups.get", .auth = RA_BEARER},
	{.method = M_PUT, .pattern = "/backups/*", .fn = do_backup_put, .name = "backups.put", .auth = RA_BEARER,
	 .body = RB_STREAM},
	{.method = M_GET, .pattern = "/backups/*", .fn = do_backup_get, .name = "backups.get", .auth = RA_BEARER},
	{.method = M_DELETE, .pattern = "/backups/*", .fn = do_backup_delete, .name = "backups.put", .auth = RA_BEARER},
	{.method = M_PUT, .pattern = "/slots/*", .fn = do_slot_put, .name = "slots.put", .auth = RA_SLOT,
	 .body = RB_STREAM, .check = slot_id},
	{.method = M_GET, .pattern = "/slots/*", .fn = do_slot_get, .name = "slots.get", .check = slot_id},
	{.method = M_DELETE, .pattern = "/slots/*", .fn = do_slot_delete, .name = "slots.put", .auth = RA_SLOT,
	 .check = slot_id},
};

/* With slots off, every /v1/slots path is a 404, whatever the method. */
static enum err slots_off(struct req *r)
{
	if (!r->cfg->slots.enabled && r->nsegs >= 1 && strcmp(r->segs[0], "slots") == 0)
		return http_fail(r, ERR_NOT_FOUND, "Not found.");
	return ERR_OK;
}

static const struct handler handler = {
	"backups", routes, sizeof routes / sizeof routes[0], STORE_RW, NULL, slots_off,
	0, /* one connection a thread: a backup's download holds one for its whole length */
};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
