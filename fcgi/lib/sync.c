/*
 * sync.c: push and collection writes (api.md §4) over the store's typed
 * functions. Must never: write anything before every record validated (the
 * caller does that), answer before the commit, or let a failed push leave
 * counters changed (they move in the same transaction as the data).
 */
#include "sync.h"

#include "share.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct plan *sync_plan(const struct config *c, const struct store_account *a)
{
	const struct plan *p = config_plan(c, a->plan);
	return p ? p : &c->plans[0];
}

int64_t sync_quota(const struct config *c, const struct store_account *a)
{
	return a->quota_bytes >= 0 ? a->quota_bytes : sync_plan(c, a)->bytes;
}

/* The collection, created if it does not exist (within the plan's count). */
static enum err get_or_create(struct store *s, const struct config *c, const struct store_account *a,
    const char *name, int64_t now, struct store_collection *col, int *created)
{
	*created = 0;
	enum err e = store_collection_get(s, a->id, name, col);
	if (e != ERR_NOT_FOUND)
		return e;
	int64_t count;
	if ((e = store_collection_count(s, a->id, &count)))
		return e;
	if (count >= sync_plan(c, a)->collections)
		return ERR_COLLECTION_LIMIT;
	*created = 1;
	return store_collection_create(s, a->id, name, NULL, 0, now, col);
}

/* *owner becomes NULL when it names the caller (the same as no ?owner=); ERR_NOT_FOUND for no such account. */
static enum err owner_is_caller(struct store *s, int64_t caller_id, const char **owner)
{
	struct store_account a;
	enum err e = store_account_by_name(s, *owner, &a);
	if (e == ERR_OK && a.id == caller_id)
		*owner = NULL;
	return e;
}

struct push_ctx {
	const struct config *c;
	int64_t account_id;        /* the caller */
	const char *owner;         /* NULL: the caller's own collection */
	const char *name;
	struct share_ids *ids;
	struct sync_rec *recs;
	size_t n;
	int atomic;
	size_t nconflicts;
	int64_t version;
};

static enum err push_tx(struct store *s, void *arg)
{
	struct push_ctx *x = arg;
	struct store_account a;
	struct store_collection col;
	int created = 0, role;
	int64_t now = (int64_t)time(NULL);
	enum err e;
	if (x->ids)
		x->ids->n = 0;
	if (x->owner && (e = owner_is_caller(s, x->account_id, &x->owner)))
		return e;
	/* the heads of the records, at once where the store can (hints: without
	 * memory for the list, each head is read on its own) */
	const char **rids = x->n ? malloc(x->n * sizeof *rids) : NULL;
	for (size_t i = 0; rids && i < x->n; i++)
		rids[i] = x->recs[i].id;
	if (!x->owner)
		e = store_push_hint(s, x->account_id, x->name, rids, rids ? x->n : 0);
	else /* another account's collection: a member with write; never created here */
		e = share_access(s, x->account_id, x->owner, x->name, STORE_ROLE_WRITE, &col, &role);
	if (e || (e = store_account_by_id(s, x->owner ? col.account_id : x->account_id, &a)) ||
	    (!x->owner && (e = get_or_create(s, x->c, &a, x->name, now, &col, &created))) ||
	    (rids && (e = store_record_heads_hint(s, col.id, rids, x->n)))) {
		free(rids);
		return e;
	}
	free(rids);
	share_ids_add(x->ids, a.id); /* the owner first: the caller wakes its collection's waiters */
	int64_t keep = sync_plan(x->c, &a)->history_depth;
	int64_t version = col.version, bytes = 0, records = 0, freed = 0;
	size_t accepted = 0, nreplaced = 0;
	/* the replaced records, whose history is pruned at once after the loop */
	const char **replaced = x->n ? malloc(x->n * sizeof *replaced) : NULL;
	if (x->n && !replaced)
		return ERR_INTERNAL;
	x->nconflicts = 0;
	for (size_t i = 0; i < x->n; i++) {
		struct sync_rec *r = &x->recs[i];
		int64_t cur = 0, cur_bytes = 0;
		int cur_deleted = 0;
		e = store_record_head(s, col.id, r->id, &cur, &cur_deleted, &cur_bytes);
		if (e && e != ERR_NOT_FOUND)
			goto out;
		int exists = e == ERR_OK;
		r->version = 0;
		r->conflict = !r->force && r->base_version != cur;
		if (r->conflict) {
			x->nconflicts++;
			continue;
		}
		if (x->atomic && x->nconflicts)
			continue; /* the push will be refused: no need to write */
		r->version = ++version;
		if (exists) {
			/* the replaced version becomes history: its bytes stay counted */
			if ((e = store_record_to_history(s, col.id, r->id)))
				goto out;
			if (!cur_deleted)
				records--;
			replaced[nreplaced++] = r->id;
		}
		if ((e = store_record_put(s, col.id, r->id, r->version, now, r->deleted, r->payload, r->len)))
			goto out;
		if (!r->deleted) {
			records++;
			bytes += (int64_t)r->len;
		}
		accepted++;
	}
	e = store_history_prune_many(s, col.id, replaced, nreplaced, keep, &freed);
out:
	free(replaced);
	if (e)
		return e;
	bytes -= freed;
	if (x->atomic && x->nconflicts)
		return ERR_CONFLICT;
	if (bytes > 0 && a.usage_bytes + bytes > sync_quota(x->c, &a))
		return ERR_QUOTA_EXCEEDED;
	x->version = version;
	if (!accepted && !created)
		return ERR_OK; /* nothing changed: account_version stays */
	if ((e = store_collection_update(s, col.id, version, records, bytes, now)) ||
	    (e = store_account_usage_add(s, a.id, bytes, records)))
		return e;
	/* the quota and the counters are the owner's; every member's status moves too */
	return share_touch(s, col.id, x->ids);
}

enum err sync_push(struct store *s, const struct config *c, int64_t account_id, const char *name,
    struct sync_rec *recs, size_t n, int atomic, size_t *nconflicts, int64_t *collection_version)
{
	return sync_push_as(s, c, account_id, NULL, name, recs, n, atomic, nconflicts, collection_version, NULL);
}

enum err sync_push_as(struct store *s, const struct config *c, int64_t account_id, const char *owner,
    const char *name, struct sync_rec *recs, size_t n, int atomic, size_t *nconflicts,
    int64_t *collection_version, struct share_ids *ids)
{
	struct push_ctx x = {c, account_id, owner, name, ids, recs, n, atomic, 0, 0};
	/* the batch's order is that of the account rows its pushes lock first:
	 * a member's push locks the owner's (looked up again, and checked, in
	 * the transaction; here only the order is at stake) */
	int64_t key = account_id;
	struct store_account o;
	if (owner && store_account_by_name(s, owner, &o) == ERR_OK)
		key = o.id;
	/* pushes are the hot write path: concurrent ones share a commit */
	enum err e = store_tx_group(s, key, push_tx, &x);
	*nconflicts = x.nconflicts;
	*collection_version = x.version;
	return e;
}

/*
 * The owner-only routes: ERR_OK when `owner` is NULL or the caller itself;
 * else the 403 of a member or the 404 of anybody else (share_access never
 * grants STORE_ROLE_OWNER to another account).
 */
static enum err owner_only(struct store *s, int64_t caller_id, const char *owner, const char *name)
{
	struct store_account a;
	struct store_collection col;
	int role;
	if (!owner)
		return ERR_OK;
	enum err e = store_account_by_name(s, owner, &a);
	if (e || a.id == caller_id)
		return e;
	e = share_access(s, caller_id, owner, name, STORE_ROLE_OWNER, &col, &role);
	return e ? e : ERR_FORBIDDEN;
}

struct cput_ctx {
	const struct config *c;
	int64_t account_id;
	const char *owner;
	struct share_ids *ids;
	const char *name;
	const uint8_t *meta;
	size_t len;
	int created;
	struct store_collection *out;
};

static enum err cput_tx(struct store *s, void *arg)
{
	struct cput_ctx *x = arg;
	struct store_account a;
	int64_t now = (int64_t)time(NULL);
	if (x->ids)
		x->ids->n = 0;
	enum err e = owner_only(s, x->account_id, x->owner, x->name);
	if (e || (e = store_account_by_id(s, x->account_id, &a)) ||
	    (e = get_or_create(s, x->c, &a, x->name, now, x->out, &x->created)))
		return e;
	if ((e = store_collection_set_meta(s, x->out->id, x->meta, x->len, now)))
		return e;
	x->out->modified_at = now;
	if ((e = store_account_usage_add(s, a.id, 0, 0)))
		return e;
	share_ids_add(x->ids, a.id);
	return share_touch(s, x->out->id, x->ids);
}

enum err sync_collection_put(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const uint8_t *meta, size_t meta_len, int *created, struct store_collection *out)
{
	return sync_collection_put_as(s, c, account_id, NULL, name, meta, meta_len, created, out, NULL);
}

enum err sync_collection_put_as(struct store *s, const struct config *c, int64_t account_id, const char *owner,
    const char *name, const uint8_t *meta, size_t meta_len, int *created, struct store_collection *out,
    struct share_ids *ids)
{
	struct cput_ctx x = {c, account_id, owner, ids, name, meta, meta_len, 0, out};
	enum err e = store_tx(s, cput_tx, &x);
	*created = x.created;
	return e;
}

struct cdel_ctx {
	int64_t account_id;
	const char *owner;
	const char *name;
	struct share_ids *ids;
};

static enum err cdel_tx(struct store *s, void *arg)
{
	struct cdel_ctx *x = arg;
	struct store_collection col;
	if (x->ids)
		x->ids->n = 0;
	enum err e = owner_only(s, x->account_id, x->owner, x->name);
	if (e || (e = store_collection_get(s, x->account_id, x->name, &col)))
		return e;
	/* the members see it go: their status moves before their rows cascade away */
	if ((e = share_touch(s, col.id, x->ids)) ||
	    (e = store_collection_floor(s, x->account_id, x->name, col.version, col.members_version)) ||
	    (e = store_collection_delete(s, col.id)))
		return e;
	share_ids_add(x->ids, x->account_id);
	return store_account_usage_add(s, x->account_id, -col.bytes, -col.records);
}

enum err sync_collection_delete(struct store *s, int64_t account_id, const char *name)
{
	return sync_collection_delete_as(s, account_id, NULL, name, NULL);
}

enum err sync_collection_delete_as(struct store *s, int64_t account_id, const char *owner, const char *name,
    struct share_ids *ids)
{
	struct cdel_ctx x = {account_id, owner, name, ids};
	return store_tx(s, cdel_tx, &x);
}
