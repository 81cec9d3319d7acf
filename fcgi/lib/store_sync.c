/*
 * store_sync.c: collections, records and their history in SQLite. Part of
 * the store module. Payloads are opaque bytes: bound and returned, never
 * looked into. Callers compose these inside store_tx()/store_read().
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

void store_read_collection(sqlite3_stmt *st, struct store_collection *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	c->account_id = sqlite3_column_int64(st, 1);
	store_col_text(st, 2, c->name, sizeof c->name);
	c->version = sqlite3_column_int64(st, 3);
	c->records = sqlite3_column_int64(st, 4);
	c->bytes = sqlite3_column_int64(st, 5);
	c->created_at = sqlite3_column_int64(st, 6);
	c->modified_at = sqlite3_column_int64(st, 7);
	c->purged_version = sqlite3_column_int64(st, 8);
	c->key_version = sqlite3_column_int64(st, 9);
	c->members_version = sqlite3_column_int64(st, 10);
	c->rotate_due = sqlite3_column_int(st, 11) != 0;
}

void store_read_collection_meta(sqlite3_stmt *st, struct store_collection *c)
{
	store_read_collection(st, c);
	if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
		c->meta = sqlite3_column_blob(st, 12);
		c->meta_len = (size_t)sqlite3_column_bytes(st, 12);
		if (!c->meta)
			c->meta = (const uint8_t *)"";
	}
}

enum err lite_collection_get(struct store *s, int64_t account_id, const char *name, struct store_collection *c)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_GET);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	enum err e = store_one_row(s, st, "collection get");
	if (e == ERR_OK)
		store_read_collection(st, c);
	sqlite3_reset(st);
	return e;
}

enum err lite_collection_create(struct store *s, int64_t account_id, const char *name, const uint8_t *meta,
    size_t meta_len, int64_t now, struct store_collection *c)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_INSERT);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (meta)
		sqlite3_bind_blob64(st, 3, meta, meta_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_CONFLICT;
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "collection insert");
	/* read it back: a name used before starts at a higher version */
	return store_collection_get(s, account_id, name, c);
}

enum err lite_collection_count(struct store *s, int64_t account_id, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_COUNT);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_one_row(s, st, "collection count");
	*n = e == ERR_OK ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return e == ERR_NOT_FOUND ? ERR_OK : e;
}

enum err lite_collection_set_meta(struct store *s, int64_t id, const uint8_t *meta, size_t meta_len, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_SET_META);
	sqlite3_bind_int64(st, 1, id);
	if (meta)
		sqlite3_bind_blob64(st, 2, meta, meta_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, now);
	return store_exec(s, st, "collection set meta");
}

enum err lite_collection_floor(struct store *s, int64_t account_id, const char *name, int64_t version,
    int64_t members_version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_FLOOR_SET);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int64(st, 4, members_version);
	return store_exec(s, st, "collection floor");
}

enum err lite_collection_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_DELETE);
	sqlite3_bind_int64(st, 1, id);
	return store_exec(s, st, "collection delete");
}

enum err lite_collection_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_LIST);
	sqlite3_bind_int64(st, 1, account_id);
	struct store_collection c;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_read_collection_meta(st, &c);
		if (fn(ctx, &c) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "collection list");
}

enum err lite_collection_update(struct store *s, int64_t id, int64_t version, int64_t records_delta,
    int64_t bytes_delta, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_COLLECTION_UPDATE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, records_delta);
	sqlite3_bind_int64(st, 4, bytes_delta);
	sqlite3_bind_int64(st, 5, now);
	return store_exec(s, st, "collection update");
}

/* SQLite reads a head from its page cache as fast as from a list: nothing to do. */
/* Read-ahead is PostgreSQL's (a round trip saved); SQLite reads in-process. */
enum err lite_status_hint(struct store *s, int64_t account_id)
{
	(void)s;
	(void)account_id;
	return ERR_OK;
}

enum err lite_pull_hint(struct store *s, int64_t account_id, const char *name, int64_t since, int64_t limit)
{
	(void)s;
	(void)account_id;
	(void)name;
	(void)since;
	(void)limit;
	return ERR_OK;
}

enum err lite_status_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN])
{
	(void)s;
	(void)token_hash;
	return ERR_OK;
}

enum err lite_pull_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], const char *name, int64_t since,
    int64_t limit)
{
	(void)s;
	(void)token_hash;
	(void)name;
	(void)since;
	(void)limit;
	return ERR_OK;
}

enum err lite_early_end(struct store *s)
{
	(void)s;
	return ERR_OK;
}

enum err lite_push_hint(struct store *s, int64_t account_id, const char *name, const char *const *rids, size_t n)
{
	(void)s;
	(void)account_id;
	(void)name;
	(void)rids;
	(void)n;
	return ERR_OK;
}

enum err lite_record_heads_hint(struct store *s, int64_t collection_id, const char *const *rids, size_t n)
{
	(void)s;
	(void)collection_id;
	(void)rids;
	(void)n;
	return ERR_OK;
}

enum err lite_record_head(struct store *s, int64_t collection_id, const char *rid, int64_t *version,
    int *deleted, int64_t *bytes)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECORD_HEAD);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	enum err e = store_one_row(s, st, "record head");
	if (e == ERR_OK) {
		*version = sqlite3_column_int64(st, 0);
		*deleted = sqlite3_column_int(st, 1);
		*bytes = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return e;
}

enum err store_walk_records(struct store *s, sqlite3_stmt *st, int (*fn)(void *, const struct store_record *),
    void *ctx, int *count, const char *what)
{
	struct store_record r;
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.rid = (const char *)sqlite3_column_text(st, 0);
		r.version = sqlite3_column_int64(st, 1);
		r.modified_at = sqlite3_column_int64(st, 2);
		r.deleted = sqlite3_column_int(st, 3);
		if (!r.deleted && sqlite3_column_type(st, 4) != SQLITE_NULL) {
			r.payload = sqlite3_column_blob(st, 4);
			r.payload_len = (size_t)sqlite3_column_bytes(st, 4);
			if (!r.payload)
				r.payload = (const uint8_t *)"";
		}
		n++;
		if (fn(ctx, &r) != 0)
			break;
	}
	if (count)
		*count = n;
	return store_rows_end(s, st, rc, what);
}

enum err lite_record_get(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECORD_GET);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	int n = 0;
	enum err e = store_walk_records(s, st, fn, ctx, &n, "record get");
	return e ? e : n ? ERR_OK : ERR_NOT_FOUND;
}

void store_bind_version(sqlite3_stmt *st, int64_t collection_id, const struct store_record *r)
{
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, r->rid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->version);
	sqlite3_bind_int64(st, 4, r->modified_at);
	sqlite3_bind_int(st, 5, r->deleted ? 1 : 0);
	if (r->deleted || !r->payload)
		sqlite3_bind_null(st, 6);
	else
		sqlite3_bind_blob64(st, 6, r->payload, r->payload_len, SQLITE_STATIC);
}

enum err lite_record_put(struct store *s, int64_t collection_id, const char *rid, int64_t version, int64_t now,
    int deleted, const uint8_t *payload, size_t len)
{
	struct store_record r = {.rid = rid, .version = version, .modified_at = now, .deleted = deleted,
	    .payload = payload, .payload_len = len};
	sqlite3_stmt *st = store_stmt(s, STMT_RECORD_UPSERT);
	store_bind_version(st, collection_id, &r);
	return store_exec(s, st, "record put");
}

enum err lite_record_to_history(struct store *s, int64_t collection_id, const char *rid)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECORD_TO_HISTORY);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	return store_exec(s, st, "record to history");
}

enum err lite_history_prune(struct store *s, int64_t collection_id, const char *rid, int64_t keep, int64_t *freed)
{
	/* one statement on the push path: the DELETE returns the size of each version it removes */
	sqlite3_stmt *st = store_stmt(s, STMT_HISTORY_PRUNE);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, keep);
	int64_t sum = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sum += sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	*freed = rc == SQLITE_DONE ? sum : 0;
	return rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "history prune");
}

enum err lite_history_prune_many(struct store *s, int64_t collection_id, const char *const *rids, size_t n,
    int64_t keep, int64_t *freed)
{
	/* in process, a statement per record costs no round trip */
	*freed = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t f = 0;
		enum err e = lite_history_prune(s, collection_id, rids[i], keep, &f);
		if (e)
			return e;
		*freed += f;
	}
	return ERR_OK;
}

enum err lite_record_pull(struct store *s, int64_t collection_id, int64_t since, int64_t limit,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECORD_PULL);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit);
	return store_walk_records(s, st, fn, ctx, NULL, "record pull");
}

enum err lite_history_list(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_HISTORY_LIST);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	struct store_record r;
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.rid = rid;
		r.version = sqlite3_column_int64(st, 0);
		r.modified_at = sqlite3_column_int64(st, 1);
		r.deleted = sqlite3_column_int(st, 2);
		r.payload_len = (size_t)sqlite3_column_int64(st, 3);
		n++;
		if (fn(ctx, &r) != 0)
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "history list");
	return n ? ERR_OK : ERR_NOT_FOUND;
}

enum err lite_history_get(struct store *s, int64_t collection_id, const char *rid, int64_t version,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_HISTORY_GET);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	int n = 0;
	enum err e = store_walk_records(s, st, fn, ctx, &n, "history get");
	return e ? e : n ? ERR_OK : ERR_NOT_FOUND;
}
