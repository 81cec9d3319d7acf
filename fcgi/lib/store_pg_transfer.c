/*
 * store_pg_transfer.c: what the export and import of a whole account
 * (transfer.c) need beyond the sync functions, on PostgreSQL: the
 * counterpart of store_transfer.c. History with payloads walked in bounded
 * batches, plain inserts that keep versions as given (backups included,
 * their bytes written chunk by chunk as store_pg_blob.c does), and a setter
 * for the counters an import computes. Part of the store module.
 *
 * Must never: overwrite a row (an import inserts; a repeated id or version
 * returns no row, which is ERR_CONFLICT, and leaves the transaction usable
 * as SQLite's constraint error does), or be used outside
 * store_tx()/store_read().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

enum err pg_transfer_history(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	int64_t below = INT64_MAX;
	for (;;) {
		struct pg_args a = {0};
		pg_arg_int(&a, collection_id);
		pg_arg_text(&a, rid);
		pg_arg_int(&a, below);
		pg_arg_int(&a, PG_WALK_ROWS);
		pg_arg_int(&a, PG_WALK_BYTES);
		struct pg_walk w;
		enum err e = pg_walk_records(s, PG_TRANSFER_HISTORY, &a, fn, ctx, &w, "transfer history");
		if (e || w.stopped || pg_walk_done(&w, PG_WALK_ROWS))
			return e;
		below = w.last; /* newest first: the next batch is below the last seen */
	}
}

/* Run one of the two inserts of a version row (records or history); a taken id or version is ERR_CONFLICT. */
static enum err insert_version(struct store *s, enum pgstmt id, int64_t collection_id, const struct store_record *r,
    const char *what)
{
	struct pg_args a = {0};
	pg_arg_version(&a, collection_id, r);
	pg_heads_free(s->pg); /* a push's cache of heads no longer says it all */
	PGresult *res = NULL;
	enum err e = pg_one_row(s, id, &a, &res, what);
	PQclear(res);
	return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

enum err pg_transfer_record_insert(struct store *s, int64_t collection_id, const struct store_record *r)
{
	return insert_version(s, PG_TRANSFER_RECORD_INSERT, collection_id, r, "transfer record insert");
}

enum err pg_transfer_history_insert(struct store *s, int64_t collection_id, const struct store_record *r)
{
	return insert_version(s, PG_TRANSFER_HISTORY_INSERT, collection_id, r, "transfer history insert");
}

enum err pg_transfer_collection_set(struct store *s, int64_t id, int64_t version, int64_t records,
    int64_t bytes, int64_t purged_version, int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_arg_int(&a, version);
	pg_arg_int(&a, records);
	pg_arg_int(&a, bytes);
	pg_arg_int(&a, purged_version);
	pg_arg_int(&a, now);
	return pg_run(s, PG_TRANSFER_COLLECTION_SET, &a, NULL, "transfer collection set");
}

enum err pg_transfer_backup_insert(struct store *s, int64_t account_id, struct store_backup *b, int fd,
    int64_t size, const uint8_t sha256[32], int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, b->name);
	pg_arg_int(&a, size);
	pg_arg_bytes(&a, sha256, 32);
	pg_arg_int(&a, now);
	pg_arg_int(&a, b->modified_at);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_TRANSFER_BACKUP_INSERT, &a, &r, "transfer backup insert");
	int64_t id = e == ERR_OK ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	r = NULL;
	if (e)
		return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
	if ((e = pg_backup_fill(s, id, fd, size)))
		return e;
	/* the version last, as store_pg_blob.c takes it: the counter's row lock
	 * is held from here to the commit */
	struct pg_args v = {0};
	pg_arg_int(&v, id);
	pg_arg_int(&v, b->version);
	if ((e = pg_one_row(s, PG_TRANSFER_BACKUP_VERSION, &v, &r, "transfer blob version")) == ERR_OK)
		b->version = pg_int(r, 0, 0);
	PQclear(r);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	b->id = id;
	b->bytes = size;
	b->created_at = now;
	memcpy(b->sha256, sha256, 32);
	return ERR_OK;
}
