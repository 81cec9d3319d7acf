/*
 * push.c: blindsync-push, the collection writes of api.md §4:
 *   POST   /v1/collections/{c}/push   push records (one transaction)
 *   PUT    /v1/collections/{c}        create, or set the encrypted meta
 *   DELETE /v1/collections/{c}        delete with everything in it
 * and the sharing routes of a collection (docs/API-sharing.md):
 *   POST/GET /v1/collections/{c}/invitations        invite; pending ones
 *   GET      /v1/collections/{c}/members            members (ETag)
 *   PATCH/DELETE /v1/collections/{c}/members/{u}    role; removal, leave
 *   POST     /v1/collections/{c}/rotate             a new key version
 *   GET      /v1/collections/{c}/grant              the member's grant
 * Every route takes ?owner=USERNAME for another account's collection.
 * Every record is validated before anything is written; the answer is sent
 * only after the commit, and the accounts whose status moved are woken then.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "json.h"
#include "serve.h"
#include "share.h"
#include "sync.h"
#include "syncio.h"
#include "valid.h"


/* The collection name path parameter (route check: after the token, before the body). */
static enum err collection_param(struct req *r)
{
	if (!valid_name(r->params[0]))
		return http_fail(r, ERR_NOT_FOUND, "No such collection (collection names are 1-64 of A-Z a-z 0-9 _ - . ~).");
	const char *owner;
	char buf[STORE_USERNAME_MAX + 1];
	return syncio_owner(r, buf, &owner);
}

/* Wake the long-polls and live sockets of every account in ids, and the collection's (keyed by its owner). */
static void wake(struct share_ids *ids, int64_t owner_id, const char *name)
{
	if (owner_id && name)
		serve_changed(owner_id, name);
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i] != owner_id || !name)
			serve_changed(ids->v[i], NULL);
}

/* A 4xx from share.c with its sentence; anything else passes through. */
static enum err share_fail(struct req *r, enum err e, const char *msg)
{
	if (e && msg[0])
		return http_fail(r, e, "%s", msg);
	return e;
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
	const char *name = r->params[0], *owner;
	char owner_buf[STORE_USERNAME_MAX + 1];
	struct sync_rec *recs = NULL;
	struct share_ids ids = {0};
	size_t n = 0, nconflicts = 0;
	int atomic = 0;
	int64_t version = 0;
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)) || (e = json_get_bool(r->json, "atomic", 0, &atomic, r->errmsg)))
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
	e = sync_push_as(r->store, r->cfg, a->account_id, owner, name, recs, n, atomic, &nconflicts, &version, &ids);
	if (e == ERR_NOT_FOUND || e == ERR_FORBIDDEN) {
		syncio_access_fail(r, e);
		goto out;
	}
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
	if (e == ERR_OK) /* ids[0] is the owner */
		wake(&ids, ids.n ? ids.v[0] : a->account_id, name);
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
		struct conflicts_ctx cx = {&w, ids.n ? ids.v[0] : a->account_id, name, recs, n};
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
	share_ids_free(&ids);
	return e;
}

static const struct jfield collection_fields[] = {{"meta", JT_NULLABLE_STRING, 0}};

static enum err do_collection_put(struct req *r)
{
	const struct auth *a = r->auth;
	const char *name = r->params[0], *owner;
	char owner_buf[STORE_USERNAME_MAX + 1];
	struct share_ids ids = {0};
	uint8_t *meta = NULL;
	size_t len = 0;
	int created = 0;
	struct store_collection col;
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)))
		return e;
	if (r->json && (e = json_get_b64(r->json, "meta", 0, 0, SYNC_META_MAX, &meta, &len, r->errmsg)))
		goto out;
	e = sync_collection_put_as(r->store, r->cfg, a->account_id, owner, name, meta, len, &created, &col, &ids);
	if (e == ERR_COLLECTION_LIMIT)
		http_fail(r, e, "The account has reached its plan's number of collections.");
	else if (e == ERR_FORBIDDEN)
		http_fail(r, e, "Only the owner sets a collection's meta.");
	else if (e == ERR_NOT_FOUND)
		http_fail(r, e, "No such collection.");
	if (e)
		goto out;
	wake(&ids, a->account_id, name);
	col.meta = meta;
	col.meta_len = len;
	struct jw w;
	jw_init(&w, &r->out);
	syncio_collection(&w, &col, 1);
	http_respond_json(r, created ? 201 : 200);
out:
	free(meta);
	share_ids_free(&ids);
	return e;
}

static enum err do_collection_delete(struct req *r)
{
	const struct auth *a = r->auth;
	const char *name = r->params[0], *owner;
	char owner_buf[STORE_USERNAME_MAX + 1];
	struct share_ids ids = {0};
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)))
		return e;
	e = sync_collection_delete_as(r->store, a->account_id, owner, name, &ids);
	if (e == ERR_NOT_FOUND)
		http_fail(r, e, "No such collection.");
	else if (e == ERR_FORBIDDEN)
		http_fail(r, e, "Only the owner deletes a collection.");
	if (e == ERR_OK) {
		wake(&ids, a->account_id, name);
		http_respond(r, 204, NULL);
	}
	share_ids_free(&ids);
	return e;
}

/* ---- sharing (docs/API-sharing.md) ---- */

/* A member's username path parameter, valid and lowercased into out; else 404. */
static enum err username_param(struct req *r, const char *p, char *out)
{
	if (auth_username(p, strlen(p), out) != 0)
		return http_fail(r, ERR_NOT_FOUND, "No such member.");
	return ERR_OK;
}

/* A base64 member of exactly n bytes (n > 0) or min..max bytes; *out freed by the caller. */
static enum err get_blob(struct req *r, struct json_object *o, const char *what, const char *name, size_t min,
    size_t max, uint8_t **out, size_t *len)
{
	char msg[ERR_MSG_MAX];
	enum err e = json_get_b64(o, name, 1, min, max, out, len, msg);
	if (e)
		return http_fail(r, e, "%s%s", what, msg);
	return ERR_OK;
}

/* A "to"/"username" style member: valid and lowercased into out. */
static enum err get_user(struct req *r, struct json_object *o, const char *what, const char *name, char *out)
{
	const char *s;
	size_t n;
	char msg[ERR_MSG_MAX];
	enum err e = json_get_str(o, name, 1, 1, 256, &s, &n, msg);
	if (e)
		return http_fail(r, e, "%s%s", what, msg);
	if (auth_username(s, n, out) != 0)
		return http_fail(r, ERR_INVALID_REQUEST, "%s%s: not a username.", what, name);
	return ERR_OK;
}

static const struct jfield invite_fields[] = {
	{"to", JT_STRING, 1}, {"role", JT_STRING, 1}, {"key_version", JT_INT, 1},
	{"sealed", JT_STRING, 1}, {"signature", JT_STRING, 1},
};

static enum err do_invite(struct req *r)
{
	struct share_invite in;
	struct share_ids ids = {0};
	char to[STORE_USERNAME_MAX + 1], owner_buf[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	uint8_t *sealed = NULL, *sig = NULL;
	const char *role;
	enum err e;
	memset(&in, 0, sizeof in);
	in.caller_id = r->auth->account_id;
	in.name = r->params[0];
	in.now = (int64_t)time(NULL);
	if ((e = syncio_owner(r, owner_buf, &in.owner)) || (e = get_user(r, r->json, "", "to", to)))
		return e;
	in.to = to;
	if ((e = json_get_str(r->json, "role", 1, 1, 16, &role, NULL, r->errmsg)))
		return e;
	if (!(in.role = share_role_parse(role)))
		return http_fail(r, ERR_INVALID_REQUEST, "role: one of \"read\", \"write\", \"admin\".");
	if ((e = json_get_int(r->json, "key_version", 1, 1, INT64_MAX - 1, &in.key_version, r->errmsg)) ||
	    (e = get_blob(r, r->json, "", "sealed", 1, STORE_SEALED_MAX, &sealed, &in.sealed_len)) ||
	    (e = get_blob(r, r->json, "", "signature", STORE_SIGNATURE_LEN, STORE_SIGNATURE_LEN, &sig,
	    &in.signature_len)))
		goto out;
	in.sealed = sealed;
	in.signature = sig;
	if ((e = share_fail(r, share_invite(r->store, r->cfg, &in, &ids, msg), msg)))
		goto out;
	wake(&ids, 0, NULL);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "id"); jw_str(&w, in.id);
	jw_key(&w, "expires_at"); jw_time(&w, in.expires_at);
	jw_obj_end(&w);
	http_respond_json(r, 201);
out:
	free(sealed);
	free(sig);
	share_ids_free(&ids);
	return e;
}

static enum err do_invitations_out(struct req *r)
{
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	enum err e;
	struct jw w;
	if ((e = syncio_owner(r, owner_buf, &owner)))
		return e;
	jw_init(&w, &r->out);
	e = share_invitations_out(r->store, r->auth->account_id, owner, r->params[0], (int64_t)time(NULL), &w, msg);
	if (e)
		return share_fail(r, e, msg);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_members(struct req *r)
{
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	int64_t version = 0;
	enum err e;
	struct jw w;
	if ((e = syncio_owner(r, owner_buf, &owner)))
		return e;
	jw_init(&w, &r->out);
	if ((e = share_members(r->store, r->auth->account_id, owner, r->params[0], &w, &version, msg)))
		return share_fail(r, e, msg);
	http_add_header(r, "ETag", "\"%lld\"", (long long)version);
	http_respond_json(r, 200);
	return ERR_OK;
}

static const struct jfield role_fields[] = {{"role", JT_STRING, 1}};

static enum err do_member_role(struct req *r)
{
	const char *owner, *role;
	char owner_buf[STORE_USERNAME_MAX + 1], user[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	struct share_ids ids = {0};
	int64_t version = 0;
	int rl;
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)) || (e = username_param(r, r->params[1], user)) ||
	    (e = json_get_str(r->json, "role", 1, 1, 16, &role, NULL, r->errmsg)))
		return e;
	if (!(rl = share_role_parse(role)))
		return http_fail(r, ERR_INVALID_REQUEST, "role: one of \"read\", \"write\", \"admin\".");
	e = share_fail(r, share_member_role(r->store, r->auth->account_id, owner, r->params[0], user, rl, &version,
	    &ids, msg), msg);
	if (e == ERR_OK) {
		wake(&ids, 0, NULL);
		struct jw w;
		jw_init(&w, &r->out);
		jw_obj_begin(&w);
		jw_key(&w, "username"); jw_str(&w, user);
		jw_key(&w, "role"); jw_str(&w, share_role_name(rl));
		jw_key(&w, "version"); jw_int(&w, version);
		jw_obj_end(&w);
		http_respond_json(r, 200);
	}
	share_ids_free(&ids);
	return e;
}

static enum err do_member_remove(struct req *r)
{
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1], user[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	struct share_ids ids = {0};
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)) || (e = username_param(r, r->params[1], user)))
		return e;
	e = share_fail(r, share_member_remove(r->store, r->auth->account_id, owner, r->params[0], user, &ids, msg), msg);
	if (e == ERR_OK) {
		wake(&ids, 0, NULL);
		http_respond(r, 204, NULL);
	}
	share_ids_free(&ids);
	return e;
}

/* If-Match: "<n>" (quotes optional, W/ refused): 0 with *v, -1 when absent, -2 when malformed. */
static int if_match(struct req *r, int64_t *v)
{
	const char *h = http_header(r, "If-Match");
	char buf[32];
	if (!h)
		return -1;
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof buf)
		return -2;
	memcpy(buf, h, n);
	buf[n] = '\0';
	return http_parse_u63(buf, v) == 0 ? 0 : -2;
}

static const struct jfield rotate_fields[] = {{"key_version", JT_INT, 1}, {"grants", JT_ARRAY, 1}};
static const struct jfield grant_fields[] = {{"to", JT_STRING, 1}, {"sealed", JT_STRING, 1}, {"signature", JT_STRING, 1}};

static enum err do_rotate(struct req *r)
{
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX], what[40];
	struct share_ids ids = {0};
	struct share_grant_in *g = NULL;
	char (*to)[STORE_USERNAME_MAX + 1] = NULL;
	uint8_t **blobs = NULL;
	int64_t key_version, expected, version = 0;
	size_t n = 0;
	enum err e;
	if ((e = syncio_owner(r, owner_buf, &owner)))
		return e;
	int m = if_match(r, &expected);
	if (m == -2)
		return http_fail(r, ERR_INVALID_REQUEST, "If-Match: the membership version in quotes, e.g. \"5\".");
	if ((e = json_get_int(r->json, "key_version", 1, 2, INT64_MAX - 1, &key_version, r->errmsg)))
		return e;
	struct json_object *arr;
	json_object_object_get_ex(r->json, "grants", &arr);
	n = json_object_array_length(arr); /* bounded by the body's cap and its count of JSON values */
	g = calloc(n ? n : 1, sizeof *g);
	to = calloc(n ? n : 1, sizeof *to);
	blobs = calloc(2 * (n ? n : 1), sizeof *blobs);
	if (!g || !to || !blobs) {
		e = ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		snprintf(what, sizeof what, "grants[%zu]", i);
		if ((e = json_check_fields(o, grant_fields, sizeof grant_fields / sizeof *grant_fields, what, r->errmsg)))
			goto out;
		snprintf(what, sizeof what, "grants[%zu].", i);
		if ((e = get_user(r, o, what, "to", to[i])) ||
		    (e = get_blob(r, o, what, "sealed", 1, STORE_SEALED_MAX, &blobs[2 * i], &g[i].sealed_len)) ||
		    (e = get_blob(r, o, what, "signature", STORE_SIGNATURE_LEN, STORE_SIGNATURE_LEN, &blobs[2 * i + 1],
		    &g[i].signature_len)))
			goto out;
		g[i].to = to[i];
		g[i].sealed = blobs[2 * i];
		g[i].signature = blobs[2 * i + 1];
	}
	if (m == -1) {
		/* the current version, for the 428 body (a read: the membership is what the caller may see) */
		struct store_collection col;
		int role;
		if ((e = share_access(r->store, r->auth->account_id, owner, r->params[0], STORE_ROLE_ADMIN, &col, &role))) {
			e = syncio_access_fail(r, e);
			goto out;
		}
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)col.members_version);
		e = http_fail(r, ERR_PRECONDITION_REQUIRED, "If-Match: the membership version is required.");
		goto out;
	}
	e = share_rotate(r->store, r->auth->account_id, owner, r->params[0], expected, key_version, g, n,
	    (int64_t)time(NULL), &version, &ids, msg);
	if (e == ERR_PRECONDITION_FAILED)
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)version);
	if ((e = share_fail(r, e, msg)))
		goto out;
	wake(&ids, 0, NULL);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "key_version"); jw_int(&w, key_version);
	jw_key(&w, "version"); jw_int(&w, version);
	jw_obj_end(&w);
	http_respond_json(r, 200);
out:
	for (size_t i = 0; blobs && i < 2 * n; i++)
		free(blobs[i]);
	free(blobs);
	free(to);
	free(g);
	share_ids_free(&ids);
	return e;
}

static enum err do_grant(struct req *r)
{
	const char *owner;
	char owner_buf[STORE_USERNAME_MAX + 1], msg[ERR_MSG_MAX];
	int64_t kv;
	enum err e;
	struct jw w;
	if ((e = syncio_owner(r, owner_buf, &owner)) ||
	    (e = http_query_int(r, "key_version", 1, INT64_MAX - 1, 0, &kv)))
		return e;
	jw_init(&w, &r->out);
	if ((e = share_grant(r->store, r->auth->account_id, owner, r->params[0], kv, &w, msg)))
		return share_fail(r, e, msg);
	http_respond_json(r, 200);
	return ERR_OK;
}

static const struct route routes[] = {
	{.method = M_POST, .pattern = "/collections/*/push", .fn = do_push, .name = "push", .auth = RA_BEARER,
	 .body = RB_JSON, FIELDS(push_fields), .check = collection_param},
	{.method = M_PUT, .pattern = "/collections/*", .fn = do_collection_put, .name = "collections",
	 .auth = RA_BEARER, .body = RB_JSON_OPT, FIELDS(collection_fields), .check = collection_param},
	{.method = M_DELETE, .pattern = "/collections/*", .fn = do_collection_delete, .name = "collections",
	 .auth = RA_BEARER, .check = collection_param},
	{.method = M_POST, .pattern = "/collections/*/invitations", .fn = do_invite, .name = "sharing.invitations",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = 16384, FIELDS(invite_fields), .check = collection_param},
	{.method = M_GET, .pattern = "/collections/*/invitations", .fn = do_invitations_out,
	 .name = "sharing.invitations", .auth = RA_BEARER, .check = collection_param},
	{.method = M_GET, .pattern = "/collections/*/members", .fn = do_members, .name = "sharing.members",
	 .auth = RA_BEARER, .check = collection_param},
	{.method = M_PATCH, .pattern = "/collections/*/members/*", .fn = do_member_role, .name = "sharing.members",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = 4096, FIELDS(role_fields), .check = collection_param},
	{.method = M_DELETE, .pattern = "/collections/*/members/*", .fn = do_member_remove, .name = "sharing.members",
	 .auth = RA_BEARER, .check = collection_param},
	{.method = M_POST, .pattern = "/collections/*/rotate", .fn = do_rotate, .name = "sharing.rotate",
	 .auth = RA_BEARER, .body = RB_JSON, FIELDS(rotate_fields), .check = collection_param},
	{.method = M_GET, .pattern = "/collections/*/grant", .fn = do_grant, .name = "sharing.grant",
	 .auth = RA_BEARER, .check = collection_param},
};

static const struct handler handler = {"push", routes, sizeof routes / sizeof routes[0], STORE_RW, NULL, NULL,
    SERVE_SHARED_CONNECTIONS};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
