/*
 * blobs.c: the rules of backups and slots (blobs.h), shared by both: one
 * version check, one staging loop, one check-then-commit shape. Never
 * speaks HTTP; never holds a body in memory.
 */
#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bsc.h"
#include "log.h"
#include "sync.h"

#define BLOBS_CHUNK (64 * 1024)

/* ---- staging ---- */

void blobs_dir(const char *database, char *out, size_t outlen)
{
	/* where the store says: for SQLite the database's directory */
	if (store_location_spool(database, out, outlen) != 0 && outlen)
		out[0] = '\0';
}

enum err blobs_tmpfile(const char *dir, const char *what, int *fd)
{
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0) {
		log_msg(LOG_ERROR, "%s: cannot create a temporary file in the store's directory: %s", what, strerror(errno));
		return ERR_UNAVAILABLE;
	}
	return ERR_OK;
}

enum err blobs_stage(const char *dir, int64_t len, const struct core_reader *rd, int *fd_out,
    uint8_t sha256[BLOBS_SHA_LEN], int64_t *received)
{
	*fd_out = -1;
	*received = 0;
	enum err e = ERR_INTERNAL;
	char *chunk = NULL;
	struct bsc_sha256_ctx *h = NULL;
	int fd;
	enum err te = blobs_tmpfile(dir, "upload", &fd);
	if (te)
		return te;
	if (!(chunk = malloc(BLOBS_CHUNK)) || !(h = bsc_sha256_new()))
		goto out;
	int64_t have = 0;
	while (have < len) {
		size_t want = (size_t)(len - have < BLOBS_CHUNK ? len - have : BLOBS_CHUNK);
		long got = rd->fn(rd->ctx, chunk, want);
		if (got <= 0)
			break;
		if (write(fd, chunk, (size_t)got) != got || bsc_sha256_update(h, chunk, (size_t)got) != 0) {
			log_msg(LOG_ERROR, "upload: cannot write the temporary file: %s", strerror(errno));
			e = ERR_UNAVAILABLE;
			goto out;
		}
		have += got;
	}
	*received = have;
	if (have != len) {
		e = ERR_INVALID_REQUEST;
		goto out;
	}
	int rc = bsc_sha256_final(h, sha256);
	h = NULL;
	if (rc != 0)
		goto out;
	*fd_out = fd;
	fd = -1;
	e = ERR_OK;
out:
	bsc_sha256_free(h);
	free(chunk);
	if (fd >= 0)
		close(fd);
	return e;
}

/* ---- shared rules ---- */

/*
 * The version rules of a write: an existing blob (at version `current`) is
 * replaced only under an If-Match that names its version (or *) and never
 * under If-None-Match: *; a new one is created only without If-Match.
 */
static enum err versions_check(const struct blobs_cond *c, int exists, int64_t current, struct blobs_result *out)
{
	out->current = exists ? current : 0;
	if (!exists) {
		if (c->if_match == 0)
			return ERR_OK;
		out->why = BLOBS_WHY_MISSING;
		return ERR_PRECONDITION_FAILED;
	}
	if (c->if_none_match_any) {
		out->why = BLOBS_WHY_EXISTS;
		return ERR_PRECONDITION_FAILED;
	}
	if (c->if_match == 0)
		return ERR_PRECONDITION_REQUIRED;
	if (c->if_match == 1 && c->version != current) {
		out->why = BLOBS_WHY_CHANGED;
		return ERR_PRECONDITION_FAILED;
	}
	return ERR_OK;
}

/* A write in progress, for the check (read snapshot) and the commit (write transaction). */
struct put {
	const struct config *c;
	int64_t account_id;        /* backups */
	const char *key;           /* backup name or slot id */
	const uint8_t *key_hash;   /* slots */
	const struct blobs_write *w;
	struct blobs_result *out;
	struct store_backup b;     /* what the rules found (id 0: new) */
	struct store_slot sl;      /* rowid 0: new */
	int fd;
	uint8_t sha[BLOBS_SHA_LEN];
};

static void result_reset(struct blobs_result *out) { memset(out, 0, sizeof *out); }

/*
 * Stage w's body, then run tx over it in one write transaction; on success
 * out tells what is stored (from the row tx wrote: version, bytes).
 */
static enum err put_commit(struct store *s, struct put *x, enum err (*tx)(struct store *s, void *arg))
{
	char dir[4096];
	blobs_dir(x->c->database, dir, sizeof dir);
	enum err e = blobs_stage(dir, x->w->len, &x->w->body, &x->fd, x->sha, &x->out->received);
	if (e)
		return e;
	e = store_tx(s, tx, x);
	close(x->fd);
	x->fd = -1;
	if (e == ERR_OK)
		memcpy(x->out->sha256, x->sha, BLOBS_SHA_LEN);
	return e;
}

/* ---- backups ---- */

enum err blobs_backup_bounds(struct store *s, const struct config *c, int64_t account_id, int64_t *min,
    int64_t *max)
{
	struct store_account a;
	enum err e = store_account_by_id(s, account_id, &a);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	const struct plan *p = sync_plan(c, &a);
	*min = p->min_backup_bytes;
	/* config.c bounds backup_bytes by SQLite's largest blob */
	*max = p->backup_bytes;
	return ERR_OK;
}

/* Every rule of a backup write, against the store as this snapshot or transaction sees it. */
static enum err backup_rules(struct store *s, void *arg)
{
	struct put *x = arg;
	struct store_account a;
	enum err e = store_account_by_id(s, x->account_id, &a);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	const struct plan *p = sync_plan(x->c, &a);
	e = store_backup_get(s, x->account_id, x->key, &x->b);
	if (e && e != ERR_NOT_FOUND)
		return e;
	int exists = e == ERR_OK;
	if (!exists) {
		memset(&x->b, 0, sizeof x->b);
		snprintf(x->b.name, sizeof x->b.name, "%s", x->key);
	}
	/* an existing name is judged by the preconditions alone */
	if ((e = versions_check(&x->w->cond, exists, x->b.version, x->out)))
		return e;
	if (!exists) {
		int64_t count;
		if ((e = store_backup_count(s, x->account_id, &count)))
			return e;
		if (count >= p->backups) {
			x->out->count = count;
			return ERR_BACKUP_LIMIT;
		}
	}
	int64_t delta = x->w->len - (exists ? x->b.bytes : 0);
	if (delta > 0 && a.usage_bytes + delta > sync_quota(x->c, &a))
		return ERR_QUOTA_EXCEEDED;
	x->out->created = !exists;
	return ERR_OK;
}

enum err blobs_backup_check(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const struct blobs_write *w, struct blobs_result *out)
{
	struct put x = {.c = c, .account_id = account_id, .key = name, .w = w, .out = out, .fd = -1};
	result_reset(out);
	/* one snapshot: the name's absence and the count of names are read
	 * together, so that a create that commits between them cannot make a
	 * name that now exists look like one over the plan's limit */
	return store_read(s, backup_rules, &x);
}

static enum err backup_tx(struct store *s, void *arg)
{
	struct put *x = arg;
	enum err e = backup_rules(s, x);
	if (e)
		return e;
	int64_t old = x->b.id ? x->b.bytes : 0;
	if ((e = store_backup_put(s, x->account_id, &x->b, x->fd, x->w->len, x->sha, (int64_t)time(NULL))))
		return e;
	x->out->version = x->b.version;
	x->out->bytes = x->b.bytes;
	return store_account_usage_add(s, x->account_id, x->w->len - old, 0);
}

enum err blobs_backup_put(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const struct blobs_write *w, struct blobs_result *out)
{
	struct put x = {.c = c, .account_id = account_id, .key = name, .w = w, .out = out, .fd = -1};
	result_reset(out);
	return put_commit(s, &x, backup_tx);
}

/* A delete: its key and preconditions. */
struct del {
	int64_t account_id;
	const char *key;
	const uint8_t *key_hash;
	const struct blobs_cond *cond;
	struct blobs_result *out;
};

static enum err backup_delete_tx(struct store *s, void *arg)
{
	struct del *x = arg;
	struct store_backup b;
	enum err e = store_backup_get(s, x->account_id, x->key, &b);
	if (e)
		return e;
	x->out->current = b.version;
	if (x->cond->if_match == 1 && x->cond->version != b.version) {
		x->out->why = BLOBS_WHY_CHANGED;
		return ERR_PRECONDITION_FAILED;
	}
	if ((e = store_backup_delete(s, b.id)))
		return e;
	return store_account_usage_add(s, x->account_id, -b.bytes, 0);
}

enum err blobs_backup_delete(struct store *s, int64_t account_id, const char *name, const struct blobs_cond *cond,
    struct blobs_result *out)
{
	struct del x = {account_id, name, NULL, cond, out};
	result_reset(out);
	return store_tx(s, backup_delete_tx, &x);
}

/* A read: what to find, how to answer, what was found. */
struct get {
	int64_t account_id;
	const char *key;
	const struct blobs_reply *rp;
	int64_t rowid, accessed_at;
};

/* Answer what was found through rp, then stream its bytes if begin() asks for them. */
static enum err get_answer(struct store *s, struct get *x, const struct blobs_info *b,
    enum err (*read)(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx))
{
	int more = x->rp->begin(x->rp->ctx, b);
	if (more <= 0)
		return ERR_OK;
	return read(s, x->rowid, x->rp->out.fn, x->rp->out.ctx);
}

static enum err backup_get_tx(struct store *s, void *arg)
{
	struct get *x = arg;
	struct store_backup bk;
	enum err e = store_backup_get(s, x->account_id, x->key, &bk);
	if (e)
		return e;
	struct blobs_info b = {bk.version, bk.bytes, {0}};
	memcpy(b.sha256, bk.sha256, BLOBS_SHA_LEN);
	x->rowid = bk.id;
	return get_answer(s, x, &b, store_backup_read);
}

enum err blobs_backup_get(struct store *s, int64_t account_id, const char *name, const struct blobs_reply *rp)
{
	struct get x = {account_id, name, rp, 0, 0};
	return store_read(s, backup_get_tx, &x);
}

/* ---- slots ---- */

/* Every rule of a slot write: the key is checked before the versions, so a wrong key learns none. */
static enum err slot_rules(struct store *s, void *arg)
{
	struct put *x = arg;
	enum err e = store_slot_get(s, x->key, &x->sl);
	if (e && e != ERR_NOT_FOUND)
		return e;
	int exists = e == ERR_OK;
	if (!exists) {
		memset(&x->sl, 0, sizeof x->sl);
		snprintf(x->sl.id, sizeof x->sl.id, "%s", x->key);
		memcpy(x->sl.key_hash, x->key_hash, BLOBS_SHA_LEN);
	} else if (!bsc_equal(x->sl.key_hash, x->key_hash, BLOBS_SHA_LEN)) {
		return ERR_BAD_SLOT_KEY;
	}
	if ((e = versions_check(&x->w->cond, exists, x->sl.version, x->out)))
		return e;
	x->out->created = !exists;
	return ERR_OK;
}

enum err blobs_slot_check(struct store *s, const char *id, const uint8_t key_hash[BLOBS_SHA_LEN],
    const struct blobs_write *w, struct blobs_result *out)
{
	struct put x = {.key = id, .key_hash = key_hash, .w = w, .out = out, .fd = -1};
	result_reset(out);
	return store_read(s, slot_rules, &x);
}

static enum err slot_tx(struct store *s, void *arg)
{
	struct put *x = arg;
	enum err e = slot_rules(s, x);
	if (e)
		return e;
	e = store_slot_put(s, &x->sl, x->fd, x->w->len, x->sha, (int64_t)time(NULL));
	if (e == ERR_CONFLICT) {
		x->out->current = 1;
		x->out->why = BLOBS_WHY_RACE;
		return ERR_PRECONDITION_FAILED;
	}
	x->out->version = x->sl.version;
	x->out->bytes = x->sl.bytes;
	return e;
}

enum err blobs_slot_put(struct store *s, const struct config *c, const char *id,
    const uint8_t key_hash[BLOBS_SHA_LEN], const struct blobs_write *w, struct blobs_result *out)
{
	struct put x = {.c = c, .key = id, .key_hash = key_hash, .w = w, .out = out, .fd = -1};
	result_reset(out);
	return put_commit(s, &x, slot_tx);
}

static enum err slot_delete_tx(struct store *s, void *arg)
{
	struct del *x = arg;
	struct store_slot sl;
	enum err e = store_slot_get(s, x->key, &sl);
	if (e)
		return e;
	if (!bsc_equal(sl.key_hash, x->key_hash, BLOBS_SHA_LEN))
		return ERR_BAD_SLOT_KEY;
	return store_slot_delete(s, sl.rowid);
}

enum err blobs_slot_delete(struct store *s, const char *id, const uint8_t key_hash[BLOBS_SHA_LEN])
{
	struct blobs_result unused;
	struct del x = {0, id, key_hash, NULL, &unused};
	return store_tx(s, slot_delete_tx, &x);
}

static enum err slot_get_tx(struct store *s, void *arg)
{
	struct get *x = arg;
	struct store_slot sl;
	enum err e = store_slot_get(s, x->key, &sl);
	if (e)
		return e;
	struct blobs_info b = {sl.version, sl.bytes, {0}};
	memcpy(b.sha256, sl.sha256, BLOBS_SHA_LEN);
	x->rowid = sl.rowid;
	x->accessed_at = sl.accessed_at;
	return get_answer(s, x, &b, store_slot_read);
}

enum err blobs_slot_get(struct store *s, const char *id, const struct blobs_reply *rp)
{
	struct get x = {0, id, rp, 0, 0};
	enum err e = store_read(s, slot_get_tx, &x);
	/* from the row the read itself found, not from a second lookup */
	int64_t now = (int64_t)time(NULL);
	if (x.rowid && now - x.accessed_at >= 86400)
		store_slot_touch(s, x.rowid, now);
	return e;
}
