/*
 * store_transfer.c: what the export and import of a whole account
 * (transfer.c) need beyond the sync functions: history with payloads, plain
 * inserts that keep versions as given (backups included, their data copied
 * in pieces as store_blob.c does), and a setter for the counters an import
 * computes. Part of the store module.
 *
 * Must never: overwrite a row (an import inserts; a repeated id or version
 * is a constraint error the caller answers), or be used outside
 * store_tx()/store_read().
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

enum err lite_transfer_history(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TRANSFER_HISTORY);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	return store_walk_records(s, st, fn, ctx, NULL, "transfer history");
}

/* Bind and run one of the two inserts of a version row (records or history). */
static enum err insert_version(struct store *s, enum stmt id, int64_t collection_id, const struct store_record *r,
    const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	store_bind_version(st, collection_id, r);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_CONFLICT;
	return rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, what);
}

enum err lite_transfer_record_insert(struct store *s, int64_t collection_id, const struct store_record *r)
{
	return insert_version(s, STMT_TRANSFER_RECORD_INSERT, collection_id, r, "transfer record insert");
}

enum err lite_transfer_history_insert(struct store *s, int64_t collection_id, const struct store_record *r)
{
	return insert_version(s, STMT_TRANSFER_HISTORY_INSERT, collection_id, r, "transfer history insert");
}

enum err lite_transfer_collection_set(struct store *s, int64_t id, int64_t version, int64_t records,
    int64_t bytes, int64_t purged_version, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TRANSFER_COLLECTION_SET);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, records);
	sqlite3_bind_int64(st, 4, bytes);
	sqlite3_bind_int64(st, 5, purged_version);
	sqlite3_bind_int64(st, 6, now);
	return store_exec(s, st, "transfer collection set");
}

/* The version for an imported backup that had `want`; see store_transfer_backup_insert(). */
static enum err import_version(struct store *s, int64_t want, int64_t *v)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TRANSFER_BLOB_VERSION);
	sqlite3_bind_int64(st, 1, want);
	*v = want; /* a store without the counter row keeps versions per backup */
	return store_returning_int(s, st, v, "transfer blob version");
}

enum err lite_transfer_backup_insert(struct store *s, int64_t account_id, struct store_backup *b, int fd,
    int64_t size, const uint8_t sha256[32], int64_t now)
{
	enum err e = import_version(s, b->version, &b->version);
	if (e)
		return e;
	sqlite3_stmt *st = store_stmt(s, STMT_TRANSFER_BACKUP_INSERT);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, b->version);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_blob(st, 5, sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, b->modified_at);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_CONFLICT;
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "transfer backup insert");
	b->id = sqlite3_last_insert_rowid(s->db);
	b->bytes = size;
	b->created_at = now;
	memcpy(b->sha256, sha256, 32);
	return store_blob_fill(s, "backups", b->id, fd, size);
}
