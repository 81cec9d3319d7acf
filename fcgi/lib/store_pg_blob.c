/*
 * store_pg_blob.c: backups and slots on PostgreSQL, the counterpart of
 * store_blob.c. Part of the store module.
 *
 * A blob's bytes live in a chunk table (backup_chunks, slot_chunks:
 * sql/pg/001_init.sql), PG_BLOB_CHUNK bytes a row, chunk seq holding bytes
 * [seq * PG_BLOB_CHUNK, ...). They are written one chunk at a time from the
 * staged file and read one chunk at a time into the sink, so memory holds
 * one chunk (and libpq's buffer of it) whatever the blob's size: no
 * whole-blob bytea, and no large objects (which outlive their row). A new
 * version deletes the old chunks and writes the new ones in the
 * transaction that updates the row; a deleted row takes its chunks with it
 * (ON DELETE CASCADE): no chunk is ever orphaned, and a reader inside
 * store_read (one snapshot) sees the old bytes or the new ones, never a mix.
 *
 * Inside store_tx the getters lock the row they return (a backup: its
 * account's row first, store_pg_impl.h; a slot: its id first, even before
 * it exists), so that a precondition checked on it still holds at the
 * commit and concurrent creates follow each other as on SQLite. The store-wide version counter (meta
 * 'blob_version') is taken by the last statement of a write, so that its
 * row lock, which every blob write of the store waits for, is held from
 * there to the commit only, not while the chunks are written.
 *
 * Must never: hold a whole blob in memory, or write a blob outside the
 * transaction that publishes its new version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_pg_impl.h"

/* 256 KiB a row: few rows for a large blob, one small allocation at a time. */
#define PG_BLOB_CHUNK (256 * 1024)

/* What differs between the two tables of blobs (statements of stmt_pg.c). */
struct pg_blob_res {
	const char *what;  /* names the resource in log lines */
	enum pgstmt replace, version, del, size, chunk_insert, chunk_read;
	int taken_is_conflict;  /* a taken key is ERR_CONFLICT for the caller (slots) */
};

static const struct pg_blob_res backups = {
	"backup", PG_BACKUP_REPLACE, PG_BACKUP_VERSION, PG_BACKUP_DELETE, PG_BACKUP_SIZE,
	PG_BACKUP_CHUNK_INSERT, PG_BACKUP_CHUNK_READ, 0,
};
static const struct pg_blob_res slots = {
	"slot", PG_SLOT_REPLACE, PG_SLOT_VERSION, PG_SLOT_DELETE, PG_SLOT_SIZE,
	PG_SLOT_CHUNK_INSERT, PG_SLOT_CHUNK_READ, 1,
};

/*
 * Copy size bytes from fd (from offset 0) into the chunks of row rowid of
 * res, which has none, one PG_BLOB_CHUNK piece at a time. ERR_INTERNAL
 * (logged) when the file is shorter than size.
 */
static enum err chunks_write(struct store *s, const struct pg_blob_res *res, int64_t rowid, int fd, int64_t size)
{
	enum err e = ERR_OK;
	uint8_t *chunk = NULL;
	if (size > 0 && !(chunk = malloc(PG_BLOB_CHUNK))) {
		log_msg(LOG_ERROR, "store: %s write: out of memory", res->what);
		return ERR_INTERNAL;
	}
	int64_t seq = 0;
	for (int64_t off = 0; off < size; seq++) {
		size_t want = (size_t)(size - off < PG_BLOB_CHUNK ? size - off : PG_BLOB_CHUNK);
		size_t have = 0;
		while (have < want) {
			ssize_t got = pread(fd, chunk + have, want - have, (off_t)(off + (int64_t)have));
			if (got <= 0) {
				log_msg(LOG_ERROR, "store: %s write: the staged file ended early", res->what);
				e = ERR_INTERNAL;
				goto out;
			}
			have += (size_t)got;
		}
		struct pg_args a = {0};
		pg_arg_int(&a, rowid);
		pg_arg_int(&a, seq);
		pg_arg_bytes(&a, chunk, want);
		if ((e = pg_run(s, res->chunk_insert, &a, NULL, "blob chunk write")))
			goto out;
		off += (int64_t)want;
	}
out:
	free(chunk);
	return e;
}

/*
 * Stream the bytes of row rowid of res into sink, chunk after chunk, in
 * one snapshot (store_read: a caller already in a transaction keeps its
 * own). ERR_NOT_FOUND when the row is gone; a sink that stops (the client
 * went away) is no error; a chunk missing is ERR_INTERNAL, logged.
 */
struct stream {
	const struct pg_blob_res *res;
	int64_t rowid;
	store_sink_fn sink;
	void *ctx;
};

static enum err stream_tx(struct store *s, void *arg)
{
	struct stream *x = arg;
	struct pg_args a = {0};
	pg_arg_int(&a, x->rowid);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, x->res->size, &a, &r, "blob size");
	if (e)
		return e; /* ERR_NOT_FOUND: it was deleted */
	int64_t size = pg_int(r, 0, 0);
	PQclear(r);
	r = NULL;
	for (int64_t off = 0, seq = 0; off < size; seq++) {
		struct pg_args c = {0};
		pg_arg_int(&c, x->rowid);
		pg_arg_int(&c, seq);
		if ((e = pg_one_row(s, x->res->chunk_read, &c, &r, "blob chunk read")))
			break;
		const uint8_t *p;
		size_t n = pg_bytes(r, 0, 0, &p);
		if (!p || n == 0 || (int64_t)n > size - off) {
			e = ERR_NOT_FOUND;
			break;
		}
		int stop = x->sink(x->ctx, p, n);
		PQclear(r);
		r = NULL;
		if (stop)
			break; /* nothing to answer */
		off += (int64_t)n;
	}
	PQclear(r);
	if (e == ERR_NOT_FOUND) {
		log_msg(LOG_ERROR, "store: %s read: a chunk is missing or the wrong size", x->res->what);
		e = ERR_INTERNAL;
	}
	return e;
}

static enum err blob_stream(struct store *s, const struct pg_blob_res *res, int64_t rowid, store_sink_fn sink,
    void *ctx)
{
	struct stream x = {res, rowid, sink, ctx};
	return pg_read(s, stream_tx, &x);
}

/*
 * The second half of a write of row rowid of res, whose row is written
 * (inserted, or replaced with its chunks deleted): its chunks from fd, then
 * its version from the store-wide counter (*version).
 */
static enum err blob_fill(struct store *s, const struct pg_blob_res *res, int64_t rowid, int fd, int64_t size,
    int64_t *version)
{
	enum err e = chunks_write(s, res, rowid, fd, size);
	if (e)
		return e;
	struct pg_args a = {0};
	pg_arg_int(&a, rowid);
	PGresult *r = NULL;
	if ((e = pg_one_row(s, res->version, &a, &r, "blob version")) == ERR_OK)
		*version = pg_int(r, 0, 0);
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
}

/* Replace row rowid's bytes, sha256 and modified_at, and drop its chunks; ERR_NOT_FOUND if it is gone. */
static enum err blob_replace(struct store *s, const struct pg_blob_res *res, int64_t rowid, int64_t size,
    const uint8_t sha256[32], int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, rowid);
	pg_arg_int(&a, size);
	pg_arg_bytes(&a, sha256, 32);
	pg_arg_int(&a, now);
	return pg_one_change(s, res->replace, &a, ERR_NOT_FOUND, "blob replace");
}

/*
 * Insert a new row with statement id and the arguments a, which returns
 * its id into *rowid. A taken key returns no row: ERR_CONFLICT.
 */
static enum err blob_insert(struct store *s, enum pgstmt id, const struct pg_args *a, int64_t *rowid)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, id, a, &r, "blob insert");
	if (e == ERR_OK)
		*rowid = pg_int(r, 0, 0);
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

static enum err blob_delete(struct store *s, const struct pg_blob_res *res, int64_t rowid)
{
	struct pg_args a = {0};
	pg_arg_int(&a, rowid);
	/* the chunks go with the row (ON DELETE CASCADE) */
	return pg_run(s, res->del, &a, NULL, "blob delete");
}

/* ---- backups ---- */

/* Row i of a backup query: id, name, version, bytes, sha256, created_at, modified_at. */
static void read_backup(const PGresult *r, int i, struct store_backup *b)
{
	memset(b, 0, sizeof *b);
	b->id = pg_int(r, i, 0);
	pg_text(r, i, 1, b->name, sizeof b->name);
	b->version = pg_int(r, i, 2);
	b->bytes = pg_int(r, i, 3);
	pg_bytes_fixed(r, i, 4, b->sha256, sizeof b->sha256);
	b->created_at = pg_int(r, i, 5);
	b->modified_at = pg_int(r, i, 6);
}

enum err pg_backup_get(struct store *s, int64_t account_id, const char *name, struct store_backup *b)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, name);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, pg_in_write_tx(s) ? PG_BACKUP_GET_LOCK : PG_BACKUP_GET, &a, &r, "backup get");
	if (e == ERR_OK)
		read_backup(r, 0, b);
	PQclear(r);
	return e;
}

enum err pg_backup_count(struct store *s, int64_t account_id, int64_t *n)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	return pg_count(s, PG_BACKUP_COUNT, &a, n, "backup count");
}

enum err pg_backup_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_backup *b), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	PGresult *r = NULL;
	/* rows without their bytes, as many as the plan allows: one result */
	enum err e = pg_run(s, PG_BACKUP_LIST, &a, &r, "backup list");
	if (e)
		return e;
	struct store_backup b;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		read_backup(r, i, &b);
		if (fn(ctx, &b) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_backup_put(struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size,
    const uint8_t sha256[32], int64_t now)
{
	enum err e;
	int64_t id = b->id, version = 0;
	if (id == 0) {
		struct pg_args a = {0};
		pg_arg_int(&a, account_id);
		pg_arg_text(&a, b->name);
		pg_arg_int(&a, size);
		pg_arg_bytes(&a, sha256, 32);
		pg_arg_int(&a, now);
		e = blob_insert(s, PG_BACKUP_INSERT, &a, &id);
	} else {
		e = blob_replace(s, &backups, id, size, sha256, now);
	}
	if (e || (e = blob_fill(s, &backups, id, fd, size, &version)))
		return e;
	/* *b changes only once everything is written (pg_tx may run the caller again) */
	if (b->id == 0) {
		b->id = id;
		b->created_at = now;
	}
	b->version = version;
	b->bytes = size;
	b->modified_at = now;
	memcpy(b->sha256, sha256, 32);
	return ERR_OK;
}

enum err pg_backup_delete(struct store *s, int64_t id)
{
	return blob_delete(s, &backups, id);
}

enum err pg_backup_read(struct store *s, int64_t id, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, &backups, id, sink, ctx);
}

/* ---- slots ---- */

/* Row 0 of PG_SLOT_GET: rowid_, slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at. */
static void read_slot(const PGresult *r, struct store_slot *sl)
{
	memset(sl, 0, sizeof *sl);
	sl->rowid = pg_int(r, 0, 0);
	pg_text(r, 0, 1, sl->id, sizeof sl->id);
	pg_bytes_fixed(r, 0, 2, sl->key_hash, sizeof sl->key_hash);
	sl->version = pg_int(r, 0, 3);
	sl->bytes = pg_int(r, 0, 4);
	pg_bytes_fixed(r, 0, 5, sl->sha256, sizeof sl->sha256);
	sl->created_at = pg_int(r, 0, 6);
	sl->modified_at = pg_int(r, 0, 7);
	sl->accessed_at = pg_int(r, 0, 8);
}

enum err pg_slot_get(struct store *s, const char *id, struct store_slot *sl)
{
	struct pg_args a = {0};
	pg_arg_text(&a, id);
	PGresult *r = NULL;
	int write = pg_in_write_tx(s);
	/* the id's lock first, in a statement of its own: the next one then
	 * sees a slot that a writer we waited for has just created */
	enum err e = write ? pg_run(s, PG_SLOT_ID_LOCK, &a, NULL, "slot lock") : ERR_OK;
	if (e)
		return e;
	e = pg_one_row(s, write ? PG_SLOT_GET_LOCK : PG_SLOT_GET, &a, &r, "slot get");
	if (e == ERR_OK)
		read_slot(r, sl);
	PQclear(r);
	return e;
}

enum err pg_slot_put(struct store *s, struct store_slot *sl, int fd, int64_t size, const uint8_t sha256[32],
    int64_t now)
{
	enum err e;
	int64_t rowid = sl->rowid, version = 0;
	if (rowid == 0) {
		struct pg_args a = {0};
		pg_arg_text(&a, sl->id);
		pg_arg_bytes(&a, sl->key_hash, 32);
		pg_arg_int(&a, size);
		pg_arg_bytes(&a, sha256, 32);
		pg_arg_int(&a, now);
		e = blob_insert(s, PG_SLOT_INSERT, &a, &rowid);
	} else {
		e = blob_replace(s, &slots, rowid, size, sha256, now);
	}
	if (e || (e = blob_fill(s, &slots, rowid, fd, size, &version)))
		return e;
	if (sl->rowid == 0) {
		sl->rowid = rowid;
		sl->created_at = now;
	}
	sl->version = version;
	sl->bytes = size;
	sl->modified_at = now;
	sl->accessed_at = now; /* the write is an access (slots.accessed_at = now in both statements) */
	memcpy(sl->sha256, sha256, 32);
	return ERR_OK;
}

enum err pg_slot_delete(struct store *s, int64_t rowid)
{
	return blob_delete(s, &slots, rowid);
}

enum err pg_slot_touch(struct store *s, int64_t rowid, int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, rowid);
	pg_arg_int(&a, now);
	return pg_run(s, PG_SLOT_TOUCH, &a, NULL, "slot touch");
}

enum err pg_slot_read(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, &slots, rowid, sink, ctx);
}

/* ---- shared with store_pg_transfer.c ---- */

enum err pg_backup_fill(struct store *s, int64_t id, int fd, int64_t size)
{
	return chunks_write(s, &backups, id, fd, size);
}

/* ---- shared with store_pg_copy.c ---- */

enum err pg_slot_fill(struct store *s, int64_t rowid, int fd, int64_t size)
{
	return chunks_write(s, &slots, rowid, fd, size);
}
