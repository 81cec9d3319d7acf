/*
 * store_blob.c: backups and slots, whose data is written and read in
 * STORE_BLOB_CHUNK pieces with SQLite's incremental blob I/O, so memory does
 * not depend on the blob's size. Part of the store module.
 *
 * Must never: hold a whole blob in memory, or write a blob outside the
 * transaction that publishes its new version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

/* Copy size bytes from fd into table.data of rowid (a zeroblob of that size). */
enum err store_blob_fill(struct store *s, const char *table, int64_t rowid, int fd, int64_t size)
{
	sqlite3_blob *blob = NULL;
	char *chunk = NULL;
	enum err e = ERR_INTERNAL;
	int rc = sqlite3_blob_open(s->db, "main", table, "data", rowid, 1, &blob);
	if (rc != SQLITE_OK) {
		e = store_sqlite_err(s, rc, "blob open");
		goto out;
	}
	chunk = malloc(STORE_BLOB_CHUNK);
	if (!chunk)
		goto out;
	for (int64_t off = 0; off < size;) {
		size_t want = (size_t)(size - off < STORE_BLOB_CHUNK ? size - off : STORE_BLOB_CHUNK);
		ssize_t got = pread(fd, chunk, want, (off_t)off);
		if (got <= 0) {
			e = ERR_INTERNAL;
			goto out;
		}
		if ((rc = sqlite3_blob_write(blob, chunk, (int)got, (int)off)) != SQLITE_OK) {
			e = store_sqlite_err(s, rc, "blob write");
			goto out;
		}
		off += got;
	}
	e = ERR_OK;
out:
	free(chunk);
	if (blob)
		sqlite3_blob_close(blob);
	return e;
}

/* Stream table.data of rowid into sink. */
static enum err blob_stream(struct store *s, const char *table, int64_t rowid, store_sink_fn sink, void *ctx)
{
	sqlite3_blob *blob = NULL;
	char *chunk = NULL;
	enum err e = ERR_INTERNAL;
	int rc = sqlite3_blob_open(s->db, "main", table, "data", rowid, 0, &blob);
	if (rc != SQLITE_OK) {
		e = rc == SQLITE_ERROR ? ERR_NOT_FOUND : store_sqlite_err(s, rc, "blob open");
		goto out;
	}
	chunk = malloc(STORE_BLOB_CHUNK);
	if (!chunk)
		goto out;
	int size = sqlite3_blob_bytes(blob);
	for (int off = 0; off < size;) {
		int want = size - off < STORE_BLOB_CHUNK ? size - off : STORE_BLOB_CHUNK;
		if ((rc = sqlite3_blob_read(blob, chunk, want, off)) != SQLITE_OK) {
			e = store_sqlite_err(s, rc, "blob read");
			goto out;
		}
		if (sink(ctx, chunk, (size_t)want) != 0) {
			e = ERR_OK; /* the client went away: nothing to answer */
			goto out;
		}
		off += want;
	}
	e = ERR_OK;
out:
	free(chunk);
	if (blob)
		sqlite3_blob_close(blob);
	return e;
}

/* The next version for a backup or slot write (in the caller's transaction). */
static enum err next_version(struct store *s, int64_t *v)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_VERSION_NEXT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	/* step to the end so the UPDATE ... RETURNING completes */
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "blob version");
}

static void read_backup(sqlite3_stmt *st, struct store_backup *b)
{
	memset(b, 0, sizeof *b);
	b->id = sqlite3_column_int64(st, 0);
	const unsigned char *n = sqlite3_column_text(st, 1);
	snprintf(b->name, sizeof b->name, "%s", n ? (const char *)n : "");
	b->version = sqlite3_column_int64(st, 2);
	b->bytes = sqlite3_column_int64(st, 3);
	const void *h = sqlite3_column_blob(st, 4);
	if (h && sqlite3_column_bytes(st, 4) == 32)
		memcpy(b->sha256, h, 32);
	b->created_at = sqlite3_column_int64(st, 5);
	b->modified_at = sqlite3_column_int64(st, 6);
}

enum err store_backup_get(struct store *s, int64_t account_id, const char *name, struct store_backup *b)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BACKUP_GET);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	enum err e = rc == SQLITE_ROW ? ERR_OK : rc == SQLITE_DONE ? ERR_NOT_FOUND : store_sqlite_err(s, rc, "backup get");
	if (e == ERR_OK)
		read_backup(st, b);
	sqlite3_reset(st);
	return e;
}

enum err store_backup_count(struct store *s, int64_t account_id, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BACKUP_COUNT);
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ERR_OK : store_sqlite_err(s, rc, "backup count");
}

enum err store_backup_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_backup *b), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BACKUP_LIST);
	sqlite3_bind_int64(st, 1, account_id);
	struct store_backup b;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_backup(st, &b);
		if (fn(ctx, &b) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, "backup list");
}

enum err store_backup_put(struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size,
    const uint8_t sha256[32], int64_t now)
{
	sqlite3_stmt *st;
	int64_t version = 0;
	enum err e = next_version(s, &version);
	if (e)
		return e;
	if (b->id == 0) {
		st = store_stmt(s, STMT_BACKUP_INSERT);
		sqlite3_bind_int64(st, 1, account_id);
		sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, size);
		sqlite3_bind_blob(st, 4, sha256, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, version);
		if ((e = store_exec(s, st, "backup insert")))
			return e;
		b->id = sqlite3_last_insert_rowid(s->db);
		b->created_at = now;
	} else {
		st = store_stmt(s, STMT_BACKUP_REPLACE);
		sqlite3_bind_int64(st, 1, b->id);
		sqlite3_bind_int64(st, 2, size);
		sqlite3_bind_blob(st, 3, sha256, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, version);
		if ((e = store_exec(s, st, "backup replace")))
			return e;
	}
	b->version = version;
	b->bytes = size;
	b->modified_at = now;
	memcpy(b->sha256, sha256, 32);
	return store_blob_fill(s, "backups", b->id, fd, size);
}

enum err store_backup_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BACKUP_DELETE);
	sqlite3_bind_int64(st, 1, id);
	return store_exec(s, st, "backup delete");
}

enum err store_backup_read(struct store *s, int64_t id, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, "backups", id, sink, ctx);
}

enum err store_slot_get(struct store *s, const char *id, struct store_slot *sl)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SLOT_GET);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	enum err e = rc == SQLITE_ROW ? ERR_OK : rc == SQLITE_DONE ? ERR_NOT_FOUND : store_sqlite_err(s, rc, "slot get");
	if (e == ERR_OK) {
		memset(sl, 0, sizeof *sl);
		sl->rowid = sqlite3_column_int64(st, 0);
		const unsigned char *t = sqlite3_column_text(st, 1);
		snprintf(sl->id, sizeof sl->id, "%s", t ? (const char *)t : "");
		const void *k = sqlite3_column_blob(st, 2);
		if (k && sqlite3_column_bytes(st, 2) == 32)
			memcpy(sl->key_hash, k, 32);
		sl->version = sqlite3_column_int64(st, 3);
		sl->bytes = sqlite3_column_int64(st, 4);
		const void *h = sqlite3_column_blob(st, 5);
		if (h && sqlite3_column_bytes(st, 5) == 32)
			memcpy(sl->sha256, h, 32);
		sl->created_at = sqlite3_column_int64(st, 6);
		sl->modified_at = sqlite3_column_int64(st, 7);
		sl->accessed_at = sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	return e;
}

enum err store_slot_put(struct store *s, struct store_slot *sl, int fd, int64_t size, const uint8_t sha256[32],
    int64_t now)
{
	sqlite3_stmt *st;
	int64_t version = 0;
	enum err e = next_version(s, &version);
	if (e)
		return e;
	if (sl->rowid == 0) {
		st = store_stmt(s, STMT_SLOT_INSERT);
		sqlite3_bind_text(st, 1, sl->id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, sl->key_hash, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, size);
		sqlite3_bind_blob(st, 4, sha256, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, version);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return ERR_CONFLICT;
		if (rc != SQLITE_DONE)
			return store_sqlite_err(s, rc, "slot insert");
		sl->rowid = sqlite3_last_insert_rowid(s->db);
		sl->created_at = now;
	} else {
		st = store_stmt(s, STMT_SLOT_REPLACE);
		sqlite3_bind_int64(st, 1, sl->rowid);
		sqlite3_bind_int64(st, 2, size);
		sqlite3_bind_blob(st, 3, sha256, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, version);
		if ((e = store_exec(s, st, "slot replace")))
			return e;
	}
	sl->version = version;
	sl->bytes = size;
	sl->modified_at = sl->accessed_at = now;
	memcpy(sl->sha256, sha256, 32);
	return store_blob_fill(s, "slots", sl->rowid, fd, size);
}

enum err store_slot_delete(struct store *s, int64_t rowid)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SLOT_DELETE);
	sqlite3_bind_int64(st, 1, rowid);
	return store_exec(s, st, "slot delete");
}

enum err store_slot_touch(struct store *s, int64_t rowid, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SLOT_TOUCH);
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, now);
	return store_exec(s, st, "slot touch");
}

enum err store_slot_read(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, "slots", rowid, sink, ctx);
}
