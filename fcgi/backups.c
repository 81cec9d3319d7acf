/*
 * backups.c: blindsync-backups, whole-blob backups (api.md §6) and
 * anonymous slots (§7). Bodies stream: uploads go from the request into a
 * temporary file and from there into the store in one short transaction;
 * downloads go from the store to the response in fixed-size pieces.
 * Overwrites need If-Match, so a device never replaces a backup it has not
 * seen; an upload under min_backup_bytes is refused, so an empty upload can
 * never wipe one.
 *
 * A slot is a backup without an account: the steps they share (the
 * preconditions of a write, staging and committing the body, the answer to
 * a PUT, streaming a GET) are written once below, and each route adds only
 * what is its own (names, keys, plans, counts). The dispatcher has checked
 * the access token (backups) or the X-Slot-Key header (slot writes) before
 * the handler runs, as the route table at the end says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "bsc.h"
#include "json.h"
#include "serve.h"
#include "sync.h"
#include "syncio.h"
#include "upload.h"
#include "valid.h"

/* ---- steps shared by backups and slots ---- */

/* A stored backup or slot as the shared steps see it. */
struct blob {
	int64_t rowid, version, bytes;
	int64_t accessed_at;  /* slots only */
	uint8_t sha256[32];
};

struct get;

/* What differs between a backup and a slot in the shared steps. */
struct kind {
	const char *noun;            /* in the sentences of errors */
	const char *not_found;       /* the 404 sentence */
	const char *overwrite;       /* the 428 sentence, up to If-Match: "<version>" */
	const char *overwrite_hint;  /* and after it */
	const char *key_name;        /* the member that names it in a PUT answer */
	/* look up x's blob: ERR_NOT_FOUND when there is none */
	enum err (*find)(struct store *s, const struct get *x, struct blob *b);
	enum err (*read)(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx);
};

/* A PUT of a whole body: its length, its preconditions, the staged copy. */
struct put {
	int64_t len;
	int im;            /* upload_if_match() */
	int64_t im_version;
	int inm_star;      /* If-None-Match: * */
	int fd;            /* staged body, -1 until staged */
	uint8_t sha[32];
	int created;       /* set by the transaction */
};

static void current_version(struct req *r, int64_t current)
{
	buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)current);
}

static enum err precondition_failed(struct req *r, int64_t current, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 412 with the current version, in the body and in the sentence (fmt says why). */
static enum err precondition_failed(struct req *r, int64_t current, const char *fmt, ...)
{
	char why[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	current_version(r, current);
	return http_fail(r, ERR_PRECONDITION_FAILED, "%s (the current version is %lld).", why, (long long)current);
}

/* A malformed If-Match is a 400 (im from upload_if_match). */
static enum err if_match_valid(struct req *r, int im)
{
	return im < 0 ? http_fail(r, ERR_INVALID_REQUEST, "If-Match: expected \"<version>\" or *.") : ERR_OK;
}

/*
 * The declared length (between min and max) and the preconditions of a
 * PUT, before anything is read or looked up.
 */
static enum err put_begin(struct req *r, struct put *p, int64_t min, int64_t max)
{
	p->fd = -1;
	enum err e = upload_length(r, min, max, &p->len);
	if (e)
		return e;
	p->im = upload_if_match(r, &p->im_version);
	const char *inm = http_header(r, "If-None-Match");
	p->inm_star = inm && strcmp(inm, "*") == 0;
	return ERR_OK;
}

/*
 * The version rules of a write, once If-Match is known to be well-formed:
 * an existing blob (at version `current`) is replaced only under an
 * If-Match that names its version (or *) and never under If-None-Match: *;
 * a new one is created only without If-Match.
 */
static enum err versions_check(struct req *r, const struct kind *k, const struct put *p, int exists,
    int64_t current)
{
	if (!exists)
		return p->im == 0 ? ERR_OK : precondition_failed(r, 0, "There is no such %s to match", k->noun);
	if (p->inm_star)
		return precondition_failed(r, current, "The %s exists (If-None-Match: *)", k->noun);
	if (p->im == 0) {
		current_version(r, current);
		return http_fail(r, ERR_PRECONDITION_REQUIRED, "%s If-Match: \"%lld\"%s.", k->overwrite,
		    (long long)current, k->overwrite_hint);
	}
	if (p->im == 1 && p->im_version != current)
		return precondition_failed(r, current, "The %s changed", k->noun);
	return ERR_OK;
}

/*
 * Stage the body into a temporary file beside the store (the slow part,
 * outside any transaction), then run tx over it in one write transaction.
 */
static enum err put_commit(struct req *r, struct put *p, enum err (*tx)(struct store *s, void *arg), void *arg)
{
	char dir[4096];
	upload_dir(r->cfg->database, dir, sizeof dir);
	enum err e = upload_stage(r, dir, p->len, &p->fd, p->sha);
	if (e)
		return e;
	e = store_tx(r->store, tx, arg);
	close(p->fd);
	p->fd = -1;
	return e;
}

static void sha_header(struct req *r, const uint8_t sha[32])
{
	char hex[65];
	bsc_hex(sha, 32, hex, sizeof hex);
	http_add_header(r, "X-Content-SHA256", "%s", hex);
}

/* The answer to a PUT that stored version `version` of `bytes` bytes under `key`. */
static void put_answer(struct req *r, const struct kind *k, const char *key, int64_t version, int64_t bytes,
    const struct put *p)
{
	http_add_header(r, "ETag", "\"%lld\"", (long long)version);
	sha_header(r, p->sha);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, k->key_name); jw_str(&w, key);
	jw_key(&w, "version"); jw_int(&w, version);
	jw_key(&w, "bytes"); jw_int(&w, bytes);
	jw_obj_end(&w);
	http_respond_json(r, p->created ? 201 : 200);
}

/* A GET or HEAD of a backup (account_id, key = name) or a slot (key = id). */
struct get {
	struct req *r;
	const struct kind *k;
	int64_t account_id;
	const char *key;
	int streamed;      /* the status line is out: an error can no longer be answered */
	struct blob b;     /* what get_tx() found (rowid 0: nothing) */
};

static int sink_response(void *ctx, const void *data, size_t n) { return http_write(ctx, data, n); }

/*
 * ETag and X-Content-SHA256 always; 304 when If-None-Match names the
 * version; else 200 and the bytes, from one read snapshot (none for HEAD).
 */
static enum err get_tx(struct store *s, void *arg)
{
	struct get *x = arg;
	struct req *r = x->r;
	struct blob *b = &x->b;
	enum err e = x->k->find(s, x, b);
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "%s", x->k->not_found);
	if (e)
		return e;
	http_add_header(r, "ETag", "\"%lld\"", (long long)b->version);
	sha_header(r, b->sha256);
	if (upload_none_match(r, b->version)) {
		http_respond(r, 304, NULL);
		return ERR_OK;
	}
	http_begin_stream(r, 200, "application/octet-stream", b->bytes);
	x->streamed = 1;
	if (r->method == M_HEAD)
		return ERR_OK;
	return x->k->read(s, b->rowid, sink_response, r);
}

static enum err get_run(struct get *x)
{
	enum err e = store_read(x->r->store, get_tx, x);
	return x->streamed ? ERR_OK : e;
}

static void blob_set(struct blob *b, int64_t rowid, int64_t version, int64_t bytes, const uint8_t sha256[32],
    int64_t accessed_at)
{
	b->rowid = rowid;
	b->accessed_at = accessed_at;
	b->version = version;
	b->bytes = bytes;
	memcpy(b->sha256, sha256, 32);
}

/* ---- backups ---- */

static enum err find_backup(struct store *s, const struct get *x, struct blob *b);

static const struct kind backup_kind = {
	"backup", "No such backup.", "The backup exists: overwriting it needs", " (fetch, merge, retry)", "name",
	find_backup, store_backup_read,
};

static enum err find_backup(struct store *s, const struct get *x, struct blob *b)
{
	struct store_backup bk;
	enum err e = store_backup_get(s, x->account_id, x->key, &bk);
	if (e == ERR_OK)
		blob_set(b, bk.id, bk.version, bk.bytes, bk.sha256, 0);
	return e;
}

struct bput {
	struct req *r;
	int64_t account_id;
	const char *name;
	struct put p;
	struct store_backup b;
};

/* Every rule of a backup write, against the store as it is now. */
static enum err bput_check(struct store *s, struct bput *x, struct store_account *a)
{
	struct req *r = x->r;
	enum err e = store_account_by_id(s, x->account_id, a);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	const struct plan *p = sync_plan(r->cfg, a);
	e = store_backup_get(s, x->account_id, x->name, &x->b);
	if (e && e != ERR_NOT_FOUND)
		return e;
	int exists = e == ERR_OK;
	if (!exists) {
		memset(&x->b, 0, sizeof x->b);
		snprintf(x->b.name, sizeof x->b.name, "%s", x->name);
	}
	if ((e = if_match_valid(r, x->p.im)) || (e = versions_check(r, &backup_kind, &x->p, exists, x->b.version)))
		return e;
	if (!exists) {
		int64_t count;
		if ((e = store_backup_count(s, x->account_id, &count)))
			return e;
		if (count >= p->backups)
			return http_fail(r, ERR_BACKUP_LIMIT, "The account has %lld backup(s), the most its plan allows.",
			    (long long)count);
	}
	int64_t delta = x->p.len - (exists ? x->b.bytes : 0);
	if (delta > 0 && a->usage_bytes + delta > sync_quota(r->cfg, a))
		return http_fail(r, ERR_QUOTA_EXCEEDED, "This backup would take the account over its byte quota.");
	return ERR_OK;
}

static enum err bput_tx(struct store *s, void *arg)
{
	struct bput *x = arg;
	struct store_account a;
	enum err e = bput_check(s, x, &a);
	if (e)
		return e;
	int64_t old = x->b.id ? x->b.bytes : 0;
	x->p.created = x->b.id == 0;
	if ((e = store_backup_put(s, x->account_id, &x->b, x->p.fd, x->p.len, x->p.sha, (int64_t)time(NULL))))
		return e;
	return store_account_usage_add(s, x->account_id, x->p.len - old, 0);
}

static enum err do_backup_put(struct req *r)
{
	const struct auth *auth = r->auth;
	struct store_account a;
	struct bput x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	x.p.fd = -1;
	x.account_id = auth->account_id;
	x.name = r->params[0];
	if (!valid_name(x.name))
		return http_fail(r, ERR_INVALID_REQUEST, "Backup names are 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.");
	if ((e = store_account_by_id(r->store, auth->account_id, &a)))
		return e;
	const struct plan *p = sync_plan(r->cfg, &a);
	/* config.c bounds backup_bytes and slots.max_bytes by SQLite's largest blob */
	if ((e = put_begin(r, &x.p, p->min_backup_bytes, p->backup_bytes)))
		return e;
	/* refuse before reading a large body for nothing; checked again in the transaction */
	if ((e = bput_check(r->store, &x, &a)) || (e = put_commit(r, &x.p, bput_tx, &x)))
		return e;
	serve_changed(auth->account_id, NULL);
	put_answer(r, &backup_kind, x.b.name, x.b.version, x.b.bytes, &x.p);
	return ERR_OK;
}

static enum err do_backup_get(struct req *r)
{
	struct get x = {r, &backup_kind, r->auth->account_id, r->params[0], 0, {0}};
	if (!valid_name(x.key))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	return get_run(&x);
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

struct bdel {
	struct req *r;
	int64_t account_id;
	const char *name;
	int im;
	int64_t im_version;
};

static enum err bdel_tx(struct store *s, void *arg)
{
	struct bdel *x = arg;
	struct store_backup b;
	enum err e = store_backup_get(s, x->account_id, x->name, &b);
	if (e == ERR_NOT_FOUND)
		return http_fail(x->r, e, "No such backup.");
	if (e)
		return e;
	if (x->im == 1 && x->im_version != b.version)
		return precondition_failed(x->r, b.version, "The backup changed");
	if ((e = store_backup_delete(s, b.id)))
		return e;
	return store_account_usage_add(s, x->account_id, -b.bytes, 0);
}

static enum err do_backup_delete(struct req *r)
{
	const struct auth *a = r->auth;
	enum err e;
	struct bdel x = {r, a->account_id, r->params[0], 0, 0};
	if (!valid_name(x.name))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	x.im = upload_if_match(r, &x.im_version);
	if ((e = if_match_valid(r, x.im)) || (e = store_tx(r->store, bdel_tx, &x)))
		return e;
	serve_changed(a->account_id, NULL);
	http_respond(r, 204, NULL);
	return ERR_OK;
}

/* ---- anonymous slots ---- */

static enum err find_slot(struct store *s, const struct get *x, struct blob *b);

static const struct kind slot_kind = {
	"slot", "Not found.", "Overwriting a slot needs", "", "id", find_slot, store_slot_read,
};

static enum err find_slot(struct store *s, const struct get *x, struct blob *b)
{
	struct store_slot sl;
	enum err e = store_slot_get(s, x->key, &sl);
	if (e == ERR_OK)
		blob_set(b, sl.rowid, sl.version, sl.bytes, sl.sha256, sl.accessed_at);
	return e;
}

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

struct sput {
	struct req *r;
	const char *id;
	uint8_t key_hash[32];
	struct put p;
	struct store_slot sl;
};

/* Every rule of a slot write: the key is checked before the versions, so a wrong key learns none. */
static enum err sput_check(struct store *s, struct sput *x)
{
	struct req *r = x->r;
	enum err e = store_slot_get(s, x->id, &x->sl);
	if (e && e != ERR_NOT_FOUND)
		return e;
	int exists = e == ERR_OK;
	if ((e = if_match_valid(r, x->p.im)))
		return e;
	if (!exists) {
		memset(&x->sl, 0, sizeof x->sl);
		snprintf(x->sl.id, sizeof x->sl.id, "%s", x->id);
		memcpy(x->sl.key_hash, x->key_hash, 32);
	} else if (!bsc_equal(x->sl.key_hash, x->key_hash, 32)) {
		return http_fail(r, ERR_BAD_SLOT_KEY, "The slot key does not match.");
	}
	return versions_check(r, &slot_kind, &x->p, exists, x->sl.version);
}

static enum err sput_tx(struct store *s, void *arg)
{
	struct sput *x = arg;
	enum err e = sput_check(s, x);
	if (e)
		return e;
	x->p.created = x->sl.rowid == 0;
	e = store_slot_put(s, &x->sl, x->p.fd, x->p.len, x->p.sha, (int64_t)time(NULL));
	return e == ERR_CONFLICT ? precondition_failed(x->r, 1, "The slot was just created by another request") : e;
}

static enum err do_slot_put(struct req *r)
{
	struct sput x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	x.p.fd = -1;
	x.id = r->params[0];
	memcpy(x.key_hash, r->slot_key, sizeof x.key_hash);
	const struct config *c = r->cfg;
	if ((e = put_begin(r, &x.p, c->plans[0].min_backup_bytes, c->slots.max_bytes)) ||
	    (e = sput_check(r->store, &x)))
		return e;
	/* creating a slot is rate-limited per client address */
	if (x.sl.rowid == 0 && (e = serve_limit_as(r, "slots.create")))
		return e;
	if ((e = put_commit(r, &x.p, sput_tx, &x)))
		return e;
	put_answer(r, &slot_kind, x.sl.id, x.sl.version, x.sl.bytes, &x.p);
	return ERR_OK;
}

static enum err do_slot_get(struct req *r)
{
	struct get x = {r, &slot_kind, 0, r->params[0], 0, {0}};
	enum err e = get_run(&x);
	/* the last access is recorded lazily, at most once a day, so reads stay
	 * cheap: from the row the GET itself read, not from a second lookup */
	int64_t now = (int64_t)time(NULL);
	if (x.b.rowid && now - x.b.accessed_at >= 86400)
		store_slot_touch(r->store, x.b.rowid, now);
	return e;
}

struct sdel {
	struct req *r;
	const char *id;
	uint8_t key_hash[32];
};

static enum err sdel_tx(struct store *s, void *arg)
{
	struct sdel *x = arg;
	struct store_slot sl;
	enum err e = store_slot_get(s, x->id, &sl);
	if (e == ERR_NOT_FOUND)
		return http_fail(x->r, e, "Not found.");
	if (e)
		return e;
	if (!bsc_equal(sl.key_hash, x->key_hash, 32))
		return http_fail(x->r, ERR_BAD_SLOT_KEY, "The slot key does not match.");
	return store_slot_delete(s, sl.rowid);
}

static enum err do_slot_delete(struct req *r)
{
	struct sdel x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	x.id = r->params[0];
	memcpy(x.key_hash, r->slot_key, sizeof x.key_hash);
	if ((e = store_tx(r->store, sdel_tx, &x)))
		return e;
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
};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
