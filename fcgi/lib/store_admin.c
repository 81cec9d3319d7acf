/*
 * store_admin.c: the store's maintenance functions for blindsync-admin:
 * the integrity check, recounting the counters of collections and accounts
 * (and setting them right), and purging what has expired. Part of the store
 * module: the statements are in stmt.c, values are bound, SQL is never built.
 *
 * Must never: write outside the caller's store_tx(), leave a counter out of
 * step with the data it counts (a purge moves the counters in the same
 * transaction as the rows), or log a bound value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* Copy text column i of st into dst (dstlen bytes), "" for NULL, truncated safely. */
static void admin_col_text(sqlite3_stmt *st, int i, char *dst, size_t dstlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

/* Step a write; ERR_NOT_FOUND unless it changed exactly one row. */
static enum err admin_one_change(struct store *s, sqlite3_stmt *st, const char *what)
{
	enum err e = store_exec(s, st, what);
	if (e)
		return e;
	return sqlite3_changes(s->db) == 1 ? ERR_OK : ERR_NOT_FOUND;
}

/* Step a DELETE and put the number of rows it removed in *n. */
static enum err admin_delete(struct store *s, sqlite3_stmt *st, int64_t *n, const char *what)
{
	enum err e = store_exec(s, st, what);
	*n = e == ERR_OK ? (int64_t)sqlite3_changes64(s->db) : 0;
	return e;
}

enum err store_integrity_check(struct store *s, int (*fn)(void *ctx, const char *line), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_INTEGRITY);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (fn(ctx, t ? (const char *)t : "") != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "integrity check");
}

enum err store_recount_collections(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_collection *c), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_RECOUNT_COLLECTIONS);
	struct store_recount_collection c;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof c);
		c.id = sqlite3_column_int64(st, 0);
		c.account_id = sqlite3_column_int64(st, 1);
		admin_col_text(st, 2, c.username, sizeof c.username);
		admin_col_text(st, 3, c.name, sizeof c.name);
		c.records = sqlite3_column_int64(st, 4);
		c.bytes = sqlite3_column_int64(st, 5);
		c.version = sqlite3_column_int64(st, 6);
		c.real_records = sqlite3_column_int64(st, 7);
		c.real_bytes = sqlite3_column_int64(st, 8);
		c.real_version = sqlite3_column_int64(st, 9);
		if (fn(ctx, &c) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "recount collections");
}

enum err store_recount_accounts(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_account *a), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_RECOUNT_ACCOUNTS);
	struct store_recount_account a;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof a);
		a.id = sqlite3_column_int64(st, 0);
		admin_col_text(st, 1, a.username, sizeof a.username);
		a.usage_bytes = sqlite3_column_int64(st, 2);
		a.usage_records = sqlite3_column_int64(st, 3);
		a.real_bytes = sqlite3_column_int64(st, 4);
		a.real_records = sqlite3_column_int64(st, 5);
		if (fn(ctx, &a) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "recount accounts");
}

enum err store_collection_set_counters(struct store *s, int64_t id, int64_t records, int64_t bytes,
    int64_t version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_COLLECTION_SET_COUNTERS);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, records);
	sqlite3_bind_int64(st, 3, bytes);
	sqlite3_bind_int64(st, 4, version);
	return admin_one_change(s, st, "collection set counters");
}

enum err store_account_set_usage(struct store *s, int64_t id, int64_t bytes, int64_t records)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_ACCOUNT_SET_USAGE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, bytes);
	sqlite3_bind_int64(st, 3, records);
	return admin_one_change(s, st, "account set usage");
}

/* ---- purge ---- */

enum err store_purge_tokens(struct store *s, int64_t now, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_TOKENS);
	sqlite3_bind_int64(st, 1, now);
	return admin_delete(s, st, n, "purge tokens");
}

enum err store_purge_invites(struct store *s, int64_t now, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_INVITES);
	sqlite3_bind_int64(st, 1, now);
	return admin_delete(s, st, n, "purge invites");
}

enum err store_purge_events(struct store *s, int64_t before, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_EVENTS);
	sqlite3_bind_int64(st, 1, before);
	return admin_delete(s, st, n, "purge events");
}

enum err store_purge_slots(struct store *s, int64_t before, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SLOT_PURGE);
	sqlite3_bind_int64(st, 1, before);
	return admin_delete(s, st, n, "purge slots");
}

/* One collection that has tombstones to purge, as STMT_PURGE_TOMBSTONE_SCAN finds it. */
struct purge_target {
	int64_t collection_id, account_id;
	int64_t max_version; /* the highest version purged: the new purged_version floor */
	int64_t bytes;       /* payload bytes the purge drops (history of the records) */
};

/*
 * The collections with tombstones modified before `before`, read completely
 * (the deletes come after the scan is reset, never while it steps) into a
 * new array *out of *n entries that the caller frees. ERR_INTERNAL when out
 * of memory.
 */
static enum err purge_scan(struct store *s, int64_t before, struct purge_target **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_TOMBSTONE_SCAN);
	struct purge_target *v = NULL;
	size_t len = 0, cap = 0;
	enum err e = ERR_OK;
	int rc;
	sqlite3_bind_int64(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct purge_target *nv = ncap <= SIZE_MAX / sizeof *nv ? realloc(v, ncap * sizeof *nv) : NULL;
			if (!nv) {
				e = ERR_INTERNAL;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[len].collection_id = sqlite3_column_int64(st, 0);
		v[len].account_id = sqlite3_column_int64(st, 1);
		v[len].max_version = sqlite3_column_int64(st, 2);
		v[len].bytes = sqlite3_column_int64(st, 4);
		len++;
	}
	sqlite3_reset(st);
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = store_sqlite_err(s, rc, "purge tombstones scan");
	if (e) {
		free(v);
		return e;
	}
	*out = v;
	*n = len;
	return ERR_OK;
}

/* Purge the tombstones of one collection found by purge_scan; adds to *out. */
/*
 * After tombstones up to `horizon` are gone, give every record still at or
 * below the horizon a version above the collection's (in the same order),
 * and raise the collection's version to match. Then any cursor a pull from 0
 * hands out is above the horizon, so only a client whose cursor predates
 * the purge gets 410 resync_required; clients that were up to date simply
 * see those records once more (same payloads, new versions).
 */
static enum err reversion_below(struct store *s, int64_t collection_id, int64_t horizon)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_REVERSION_SCAN);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, horizon);
	int rc = sqlite3_step(st);
	int64_t cv = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int64_t top = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ERR_INTERNAL : store_sqlite_err(s, rc, "purge reversion scan");
	if (top == 0)
		return ERR_OK; /* nothing left below the horizon */
	st = store_stmt(s, STMT_PURGE_REVERSION);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, horizon);
	sqlite3_bind_int64(st, 3, cv);
	enum err e = store_exec(s, st, "purge reversion");
	if (e)
		return e;
	st = store_stmt(s, STMT_PURGE_REVERSION_COLLECTION);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, cv + top);
	return store_exec(s, st, "purge reversion collection");
}

static enum err purge_collection(struct store *s, const struct purge_target *t, int64_t before,
    struct store_purged_tombstones *out)
{
	int64_t n = 0;
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_TOMBSTONE_HISTORY);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, before);
	enum err e = store_exec(s, st, "purge tombstones history");
	if (e)
		return e;
	st = store_stmt(s, STMT_PURGE_TOMBSTONE_RECORDS);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, before);
	if ((e = admin_delete(s, st, &n, "purge tombstones")))
		return e;
	st = store_stmt(s, STMT_PURGE_TOMBSTONE_COLLECTION);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, t->bytes);
	sqlite3_bind_int64(st, 3, t->max_version);
	if ((e = admin_one_change(s, st, "purge tombstones collection")))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	if ((e = reversion_below(s, t->collection_id, t->max_version)))
		return e;
	/* the account gives the bytes back and its account_version moves */
	if ((e = store_account_usage_add(s, t->account_id, -t->bytes, 0)))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	out->tombstones += n;
	out->collections++;
	out->bytes += t->bytes;
	return ERR_OK;
}

enum err store_purge_tombstones(struct store *s, int64_t before, struct store_purged_tombstones *out)
{
	struct purge_target *t = NULL;
	size_t n = 0;
	memset(out, 0, sizeof *out);
	enum err e = purge_scan(s, before, &t, &n);
	for (size_t i = 0; e == ERR_OK && i < n; i++)
		e = purge_collection(s, &t[i], before, out);
	free(t);
	return e;
}
