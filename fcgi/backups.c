/*
 * backups.c: blindsync-backups, whole-blob backups (api.md §6) and
 * anonymous slots (§7). Bodies stream: uploads go from the request into a
 * temporary file and from there into the store in one short transaction;
 * downloads go from the store to the response in fixed-size pieces.
 * Overwrites need If-Match, so a device never replaces a backup it has not
 * seen; an upload under min_backup_bytes is refused, so an empty upload can
 * never wipe one.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "crypto.h"
#include "json.h"
#include "serve.h"
#include "sync.h"
#include "upload.h"
#include "valid.h"

#define BLOB_MAX 1000000000LL  /* SQLite's largest blob (SQLITE_MAX_LENGTH) */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void sha_header(struct req *r, const uint8_t sha[32])
{
	char hex[65];
	crypto_hex(sha, 32, hex, sizeof hex);
	http_add_header(r, "X-Content-SHA256", "%s", hex);
}

static enum err precondition_failed(struct req *r, int64_t current, const char *why)
{
	buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)current);
	return http_fail(r, ERR_PRECONDITION_FAILED, "%s (the current version is %lld).", why, (long long)current);
}

/* ---- backups ---- */

struct bput {
	struct req *r;
	int64_t account_id;
	const char *name;
	int64_t len;
	int im;            /* upload_if_match() */
	int64_t im_version;
	int inm_star;      /* If-None-Match: * */
	int fd;            /* staged body, -1 during the pre-check */
	uint8_t sha[32];
	struct store_backup b;
	int created;
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
	if (x->im < 0)
		return http_fail(r, ERR_INVALID_REQUEST, "If-Match: expected \"<version>\" or *.");
	if (exists) {
		if (x->inm_star)
			return precondition_failed(r, x->b.version, "The backup exists (If-None-Match: *)");
		if (x->im == 0) {
			buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)x->b.version);
			return http_fail(r, ERR_PRECONDITION_REQUIRED,
			    "The backup exists: overwriting it needs If-Match: \"%lld\" (fetch, merge, retry).",
			    (long long)x->b.version);
		}
		if (x->im == 1 && x->im_version != x->b.version)
			return precondition_failed(r, x->b.version, "The backup changed");
	} else {
		if (x->im != 0)
			return precondition_failed(r, 0, "There is no such backup to match");
		int64_t count;
		if ((e = store_backup_count(s, x->account_id, &count)))
			return e;
		if (count >= p->backups)
			return http_fail(r, ERR_BACKUP_LIMIT, "The account has %lld backup(s), the most its plan allows.",
			    (long long)count);
	}
	int64_t delta = x->len - (exists ? x->b.bytes : 0);
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
	x->created = x->b.id == 0;
	if ((e = store_backup_put(s, x->account_id, &x->b, x->fd, x->len, x->sha, (int64_t)time(NULL))))
		return e;
	return store_account_usage_add(s, x->account_id, x->len - old, 0);
}

static enum err do_backup_put(struct req *r)
{
	struct auth auth;
	struct store_account a;
	struct bput x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	x.fd = -1;
	if ((e = auth_require(r, &auth)))
		return e;
	x.account_id = auth.account_id;
	x.name = r->params[0];
	if (!valid_name(x.name))
		return http_fail(r, ERR_INVALID_REQUEST, "Backup names are 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.");
	if ((e = store_account_by_id(r->store, auth.account_id, &a)))
		return e;
	const struct plan *p = sync_plan(r->cfg, &a);
	if ((e = upload_length(r, p->min_backup_bytes, min64(p->backup_bytes, BLOB_MAX), &x.len)))
		return e;
	x.im = upload_if_match(r, &x.im_version);
	const char *inm = http_header(r, "If-None-Match");
	x.inm_star = inm && strcmp(inm, "*") == 0;
	/* refuse before reading a large body for nothing; checked again in the transaction */
	if ((e = bput_check(r->store, &x, &a)))
		return e;
	char dir[4096];
	upload_dir(r->cfg->database, dir, sizeof dir);
	if ((e = upload_stage(r, dir, x.len, &x.fd, x.sha)))
		return e;
	e = store_tx(r->store, bput_tx, &x);
	close(x.fd);
	if (e)
		return e;
	serve_changed(auth.account_id, NULL);
	http_add_header(r, "ETag", "\"%lld\"", (long long)x.b.version);
	sha_header(r, x.sha);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "name"); jw_str(&w, x.b.name);
	jw_key(&w, "version"); jw_int(&w, x.b.version);
	jw_key(&w, "bytes"); jw_int(&w, x.b.bytes);
	jw_obj_end(&w);
	http_respond_json(r, x.created ? 201 : 200);
	return ERR_OK;
}

struct bget {
	struct req *r;
	int64_t account_id;
	const char *name;
	int streamed;
};

static int sink_response(void *ctx, const void *data, size_t n) { return http_write(ctx, data, n); }

static enum err bget_tx(struct store *s, void *arg)
{
	struct bget *x = arg;
	struct req *r = x->r;
	struct store_backup b;
	enum err e = store_backup_get(s, x->account_id, x->name, &b);
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "No such backup.");
	if (e)
		return e;
	http_add_header(r, "ETag", "\"%lld\"", (long long)b.version);
	sha_header(r, b.sha256);
	if (upload_none_match(r, b.version)) {
		http_respond(r, 304, NULL);
		return ERR_OK;
	}
	http_begin_stream(r, 200, "application/octet-stream", b.bytes);
	x->streamed = 1;
	if (r->method == M_HEAD)
		return ERR_OK;
	return store_backup_read(s, b.id, sink_response, r);
}

static enum err do_backup_get(struct req *r)
{
	struct auth a;
	enum err e;
	if ((e = auth_require(r, &a)))
		return e;
	struct bget x = {r, a.account_id, r->params[0], 0};
	if (!valid_name(x.name))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	e = store_read(r->store, bget_tx, &x);
	return x.streamed ? ERR_OK : e;
}

static int emit_backup(void *ctx, const struct store_backup *b)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "name"); jw_str(w, b->name);
	jw_key(w, "version"); jw_int(w, b->version);
	jw_key(w, "bytes"); jw_int(w, b->bytes);
	jw_key(w, "modified_at"); jw_time(w, b->modified_at);
	jw_obj_end(w);
	return 0;
}

static enum err do_backup_list(struct req *r)
{
	struct auth a;
	enum err e;
	if ((e = auth_require(r, &a)))
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "backups");
	jw_arr_begin(&w);
	if ((e = store_backup_list(r->store, a.account_id, emit_backup, &w)))
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
	struct auth a;
	enum err e;
	if ((e = auth_require(r, &a)))
		return e;
	struct bdel x = {r, a.account_id, r->params[0], 0, 0};
	if (!valid_name(x.name))
		return http_fail(r, ERR_NOT_FOUND, "No such backup.");
	if ((x.im = upload_if_match(r, &x.im_version)) < 0)
		return http_fail(r, ERR_INVALID_REQUEST, "If-Match: expected \"<version>\" or *.");
	if ((e = store_tx(r->store, bdel_tx, &x)))
		return e;
	serve_changed(a.account_id, NULL);
	http_respond(r, 204, NULL);
	return ERR_OK;
}

/* ---- anonymous slots ---- */

/* Slots are off unless the config enables them; then every route is a 404. */
static enum err slot_id(struct req *r, const char **id)
{
	*id = r->params[0];
	if (!r->cfg->slots.enabled || !valid_slot_id(*id))
		return http_fail(r, ERR_NOT_FOUND, "Not found.");
	return ERR_OK;
}

/* The SHA-256 of the X-Slot-Key header (base64 of 32-64 bytes). */
static enum err slot_key(struct req *r, uint8_t hash[32])
{
	const char *k = http_header(r, "X-Slot-Key");
	uint8_t raw[64];
	if (!k)
		return http_fail(r, ERR_BAD_SLOT_KEY, "X-Slot-Key is required.");
	size_t n = strlen(k);
	long got = n <= 88 ? crypto_b64_decode(k, n, raw, sizeof raw, CRYPTO_B64_STD) : -1;
	if (got < 32 || got > 64) {
		crypto_wipe(raw, sizeof raw);
		return http_fail(r, ERR_INVALID_REQUEST, "X-Slot-Key: expected standard base64 of 32 to 64 bytes.");
	}
	crypto_sha256(raw, (size_t)got, hash);
	crypto_wipe(raw, sizeof raw);
	return ERR_OK;
}

struct sput {
	struct req *r;
	const char *id;
	uint8_t key_hash[32];
	int64_t len;
	int im;
	int64_t im_version;
	int inm_star;
	int fd;
	uint8_t sha[32];
	struct store_slot sl;
	int created;
};

static enum err sput_check(struct store *s, struct sput *x)
{
	struct req *r = x->r;
	enum err e = store_slot_get(s, x->id, &x->sl);
	if (e && e != ERR_NOT_FOUND)
		return e;
	if (x->im < 0)
		return http_fail(r, ERR_INVALID_REQUEST, "If-Match: expected \"<version>\" or *.");
	if (e == ERR_NOT_FOUND) {
		memset(&x->sl, 0, sizeof x->sl);
		snprintf(x->sl.id, sizeof x->sl.id, "%s", x->id);
		memcpy(x->sl.key_hash, x->key_hash, 32);
		if (x->im != 0)
			return precondition_failed(r, 0, "There is no such slot to match");
		return ERR_OK;
	}
	if (!crypto_equal(x->sl.key_hash, x->key_hash, 32))
		return http_fail(r, ERR_BAD_SLOT_KEY, "The slot key does not match.");
	if (x->inm_star)
		return precondition_failed(r, x->sl.version, "The slot exists (If-None-Match: *)");
	if (x->im == 0) {
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)x->sl.version);
		return http_fail(r, ERR_PRECONDITION_REQUIRED, "Overwriting a slot needs If-Match: \"%lld\".",
		    (long long)x->sl.version);
	}
	if (x->im == 1 && x->im_version != x->sl.version)
		return precondition_failed(r, x->sl.version, "The slot changed");
	return ERR_OK;
}

static enum err sput_tx(struct store *s, void *arg)
{
	struct sput *x = arg;
	enum err e = sput_check(s, x);
	if (e)
		return e;
	x->created = x->sl.rowid == 0;
	e = store_slot_put(s, &x->sl, x->fd, x->len, x->sha, (int64_t)time(NULL));
	return e == ERR_CONFLICT ? precondition_failed(x->r, 1, "The slot was just created by another request") : e;
}

static enum err do_slot_put(struct req *r)
{
	struct sput x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	x.fd = -1;
	if ((e = slot_id(r, &x.id)) || (e = slot_key(r, x.key_hash)))
		return e;
	const struct config *c = r->cfg;
	if ((e = upload_length(r, c->plans[0].min_backup_bytes, min64(c->slots.max_bytes, BLOB_MAX), &x.len)))
		return e;
	x.im = upload_if_match(r, &x.im_version);
	const char *inm = http_header(r, "If-None-Match");
	x.inm_star = inm && strcmp(inm, "*") == 0;
	if ((e = sput_check(r->store, &x)))
		return e;
	/* creating a slot is rate-limited per client address */
	if (x.sl.rowid == 0 && (e = serve_limit_as(r, "slots.create")))
		return e;
	char dir[4096];
	upload_dir(c->database, dir, sizeof dir);
	if ((e = upload_stage(r, dir, x.len, &x.fd, x.sha)))
		return e;
	e = store_tx(r->store, sput_tx, &x);
	close(x.fd);
	if (e)
		return e;
	http_add_header(r, "ETag", "\"%lld\"", (long long)x.sl.version);
	sha_header(r, x.sha);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "id"); jw_str(&w, x.sl.id);
	jw_key(&w, "version"); jw_int(&w, x.sl.version);
	jw_key(&w, "bytes"); jw_int(&w, x.sl.bytes);
	jw_obj_end(&w);
	http_respond_json(r, x.created ? 201 : 200);
	return ERR_OK;
}

struct sget {
	struct req *r;
	const char *id;
	int streamed;
};

static enum err sget_tx(struct store *s, void *arg)
{
	struct sget *x = arg;
	struct req *r = x->r;
	struct store_slot sl;
	enum err e = store_slot_get(s, x->id, &sl);
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "Not found.");
	if (e)
		return e;
	http_add_header(r, "ETag", "\"%lld\"", (long long)sl.version);
	sha_header(r, sl.sha256);
	if (upload_none_match(r, sl.version)) {
		http_respond(r, 304, NULL);
		return ERR_OK;
	}
	http_begin_stream(r, 200, "application/octet-stream", sl.bytes);
	x->streamed = 1;
	if (r->method == M_HEAD)
		return ERR_OK;
	return store_slot_read(s, sl.rowid, sink_response, r);
}

static enum err do_slot_get(struct req *r)
{
	struct sget x = {r, NULL, 0};
	struct store_slot sl;
	enum err e;
	if ((e = slot_id(r, &x.id)))
		return e;
	/* the last access is recorded lazily, at most once a day, so reads stay cheap */
	int64_t now = (int64_t)time(NULL);
	if (store_slot_get(r->store, x.id, &sl) == ERR_OK && now - sl.accessed_at >= 86400)
		store_slot_touch(r->store, sl.rowid, now);
	e = store_read(r->store, sget_tx, &x);
	return x.streamed ? ERR_OK : e;
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
	if (!crypto_equal(sl.key_hash, x->key_hash, 32))
		return http_fail(x->r, ERR_BAD_SLOT_KEY, "The slot key does not match.");
	return store_slot_delete(s, sl.rowid);
}

static enum err do_slot_delete(struct req *r)
{
	struct sdel x;
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	if ((e = slot_id(r, &x.id)) || (e = slot_key(r, x.key_hash)) || (e = store_tx(r->store, sdel_tx, &x)))
		return e;
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static const struct route routes[] = {
	{M_GET, "/backups", do_backup_list, "backups.get", 0},
	{M_PUT, "/backups/*", do_backup_put, "backups.put", ROUTE_RAW_BODY},
	{M_GET, "/backups/*", do_backup_get, "backups.get", 0},
	{M_DELETE, "/backups/*", do_backup_delete, "backups.put", 0},
	{M_PUT, "/slots/*", do_slot_put, "slots.put", ROUTE_RAW_BODY},
	{M_GET, "/slots/*", do_slot_get, "slots.get", 0},
	{M_DELETE, "/slots/*", do_slot_delete, "slots.put", 0},
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
