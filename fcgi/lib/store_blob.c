/*
 * store_blob.c: backups and slots, whose data is written and read in
 * STORE_BLOB_CHUNK pieces with SQLite's incremental blob I/O, so memory does
 * not depend on the blob's size. Part of the store module.
 *
 * Backups and slots are the same resource in two tables: a row found by a
 * key, holding one data blob, with bytes, sha256, version and times written
 * together. struct blob_res says what differs (table, statements, how a key
 * is bound); the functions below do the rest once for both.
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

/*
 * A table of blobs. `get` binds the key values (?1, ?2) and answers one row;
 * `insert` binds the key values to ?1 and ?2 and then, like `replace` after
 * the rowid in ?1, bytes, sha256, now and version, in that order (stmt.c);
 * `del` binds the rowid to ?1.
 */
struct blob_res {
	const char *table;  /* our table name for sqlite3_blob_open, never input */
	const char *what;   /* names the resource in log lines */
	enum stmt get, insert, replace, del;
	int taken_is_conflict;  /* a constraint failure on insert is ERR_CONFLICT, not logged */
};

static const struct blob_res backups = {
	"backups", "backup", STMT_BACKUP_GET, STMT_BACKUP_INSERT, STMT_BACKUP_REPLACE, STMT_BACKUP_DELETE, 0,
};
static const struct blob_res slots = {
	"slots", "slot", STMT_SLOT_GET, STMT_SLOT_INSERT, STMT_SLOT_REPLACE, STMT_SLOT_DELETE, 1,
};

/* One key value: none, an integer, a text (NUL-terminated) or a blob of n bytes. */
struct blob_key {
	enum { KEY_NONE, KEY_INT, KEY_TEXT, KEY_BLOB } type;
	int64_t i;
	const void *p;
	int n;
};

/* Where the columns every row has live in the caller's struct (store_backup, store_slot). */
struct blob_cols {
	int64_t *rowid;
	char *name;          /* the text key (backup name, slot id), name_size bytes */
	size_t name_size;
	int64_t *version, *bytes, *created_at, *modified_at;
	uint8_t *sha256;
};

/* Bind key[0] and key[1] to ?1 and ?2 (borrowed until the statement is reset). */
static void bind_keys(sqlite3_stmt *st, const struct blob_key key[2])
{
	for (int i = 0; i < 2; i++) {
		if (key[i].type == KEY_INT)
			sqlite3_bind_int64(st, i + 1, key[i].i);
		else if (key[i].type == KEY_TEXT)
			sqlite3_bind_text(st, i + 1, key[i].p, -1, SQLITE_STATIC);
		else if (key[i].type == KEY_BLOB)
			sqlite3_bind_blob(st, i + 1, key[i].p, key[i].n, SQLITE_STATIC);
	}
}

/*
 * Read the columns every blob row has into *c: the rowid from column 0, the
 * text key from column 1, and version, bytes, sha256, created_at,
 * modified_at from column `at` on.
 */
static void read_cols(sqlite3_stmt *st, int at, const struct blob_cols *c)
{
	*c->rowid = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, c->name, c->name_size);
	*c->version = sqlite3_column_int64(st, at);
	*c->bytes = sqlite3_column_int64(st, at + 1);
	const void *h = sqlite3_column_blob(st, at + 2);
	if (h && sqlite3_column_bytes(st, at + 2) == 32)
		memcpy(c->sha256, h, 32);
	*c->created_at = sqlite3_column_int64(st, at + 3);
	*c->modified_at = sqlite3_column_int64(st, at + 4);
}

/*
 * Step st (a write that returns no rows) and reset it. A failure is logged
 * as "<resource> <op>"; with `taken`, a constraint failure is ERR_CONFLICT
 * instead, with no log line.
 */
static enum err blob_exec(struct store *s, const struct blob_res *res, sqlite3_stmt *st, const char *op, int taken)
{
	int rc = sqlite3_step(st);
	enum err e = ERR_OK;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		char what[32];
		snprintf(what, sizeof what, "%s %s", res->what, op);
		e = taken && (rc & 0xff) == SQLITE_CONSTRAINT ? ERR_CONFLICT : store_sqlite_err(s, rc, what);
	}
	sqlite3_reset(st);
	return e;
}

/* An open blob and its chunk buffer: all or nothing (blob_io_open), released by blob_io_close. */
struct blob_io {
	sqlite3_blob *blob;
	char *chunk;
};

/*
 * Open table.data of rowid, for writing when `write`, with a buffer of
 * STORE_BLOB_CHUNK bytes. A reader that finds no such row gets ERR_NOT_FOUND
 * (it was deleted); a writer has just written the row, so any failure is
 * an error. On failure nothing is held, and blob_io_close is still fine.
 */
static enum err blob_io_open(struct store *s, const char *table, int64_t rowid, int write, struct blob_io *io)
{
	io->chunk = NULL;
	int rc = sqlite3_blob_open(s->db, "main", table, "data", rowid, write, &io->blob);
	if (rc != SQLITE_OK) {
		io->blob = NULL;
		return !write && rc == SQLITE_ERROR ? ERR_NOT_FOUND : store_sqlite_err(s, rc, "blob open");
	}
	if (!(io->chunk = malloc(STORE_BLOB_CHUNK))) {
		sqlite3_blob_close(io->blob);
		io->blob = NULL;
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void blob_io_close(struct blob_io *io)
{
	free(io->chunk);
	if (io->blob)
		sqlite3_blob_close(io->blob);
}

/* Copy size bytes from fd into table.data of rowid (a zeroblob of that size). */
enum err store_blob_fill(struct store *s, const char *table, int64_t rowid, int fd, int64_t size)
{
	struct blob_io io;
	enum err e = blob_io_open(s, table, rowid, 1, &io);
	for (int64_t off = 0; e == ERR_OK && off < size;) {
		size_t want = (size_t)(size - off < STORE_BLOB_CHUNK ? size - off : STORE_BLOB_CHUNK);
		ssize_t got = pread(fd, io.chunk, want, (off_t)off);
		int rc;
		if (got <= 0)
			e = ERR_INTERNAL;
		else if ((rc = sqlite3_blob_write(io.blob, io.chunk, (int)got, (int)off)) != SQLITE_OK)
			e = store_sqlite_err(s, rc, "blob write");
		else
			off += got;
	}
	blob_io_close(&io);
	return e;
}

/* Stream the data of row rowid of res into sink; a sink that stops (the client went away) is no error. */
static enum err blob_stream(struct store *s, const struct blob_res *res, int64_t rowid, store_sink_fn sink,
    void *ctx)
{
	struct blob_io io;
	enum err e = blob_io_open(s, res->table, rowid, 0, &io);
	int size = e == ERR_OK ? sqlite3_blob_bytes(io.blob) : 0;
	for (int off = 0; e == ERR_OK && off < size;) {
		int want = size - off < STORE_BLOB_CHUNK ? size - off : STORE_BLOB_CHUNK;
		int rc = sqlite3_blob_read(io.blob, io.chunk, want, off);
		if (rc != SQLITE_OK)
			e = store_sqlite_err(s, rc, "blob read");
		else if (sink(ctx, io.chunk, (size_t)want) != 0)
			break; /* nothing to answer */
		else
			off += want;
	}
	blob_io_close(&io);
	return e;
}

/*
 * Look up the row of res whose key is key (res->get) and hand it to
 * read(st, out). ERR_NOT_FOUND when there is none.
 */
static enum err blob_get(struct store *s, const struct blob_res *res, const struct blob_key key[2],
    void (*read)(sqlite3_stmt *st, void *out), void *out)
{
	sqlite3_stmt *st = store_stmt(s, res->get);
	bind_keys(st, key);
	char what[32];
	snprintf(what, sizeof what, "%s get", res->what);
	enum err e = store_one_row(s, st, what);
	if (e == ERR_OK)
		read(st, out);
	sqlite3_reset(st);
	return e;
}

/*
 * Write a new version of a row of res in the current transaction: a new row
 * with key `key` when *c->rowid is 0 (then *c->rowid and *c->created_at are
 * set), else row *c->rowid; then its data, size bytes from fd. The version,
 * bytes, sha256 and modified_at are set in *c.
 */
static enum err blob_write(struct store *s, const struct blob_res *res, const struct blob_key key[2],
    const struct blob_cols *c, int fd, int64_t size, const uint8_t sha256[32], int64_t now)
{
	int64_t version = 0; /* the next version for a backup or slot write */
	enum err e = store_returning_int(s, store_stmt(s, STMT_BLOB_VERSION_NEXT), &version, "blob version");
	if (e)
		return e;
	int insert = *c->rowid == 0;
	sqlite3_stmt *st = store_stmt(s, insert ? res->insert : res->replace);
	int p = 2; /* the parameter after the key: bytes, sha256, now, version follow */
	if (insert) {
		bind_keys(st, key);
		p = 3;
	} else {
		sqlite3_bind_int64(st, 1, *c->rowid);
	}
	sqlite3_bind_int64(st, p, size);
	sqlite3_bind_blob(st, p + 1, sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, p + 2, now);
	sqlite3_bind_int64(st, p + 3, version);
	if ((e = blob_exec(s, res, st, insert ? "insert" : "replace", insert && res->taken_is_conflict)))
		return e;
	if (insert) {
		*c->rowid = sqlite3_last_insert_rowid(s->db);
		*c->created_at = now;
	}
	*c->version = version;
	*c->bytes = size;
	*c->modified_at = now;
	memcpy(c->sha256, sha256, 32);
	return store_blob_fill(s, res->table, *c->rowid, fd, size);
}

static enum err blob_delete(struct store *s, const struct blob_res *res, int64_t rowid)
{
	sqlite3_stmt *st = store_stmt(s, res->del);
	sqlite3_bind_int64(st, 1, rowid);
	return blob_exec(s, res, st, "delete", 0);
}

/* ---- backups ---- */

static struct blob_cols backup_cols(struct store_backup *b)
{
	return (struct blob_cols){&b->id, b->name, sizeof b->name, &b->version, &b->bytes, &b->created_at, &b->modified_at,
	    b->sha256};
}

/* A row of STMT_BACKUP_GET or _LIST: id, name, then the common columns. */
static void read_backup(sqlite3_stmt *st, void *out)
{
	struct store_backup *b = out;
	memset(b, 0, sizeof *b);
	const struct blob_cols c = backup_cols(b);
	read_cols(st, 2, &c);
}

enum err lite_backup_get(struct store *s, int64_t account_id, const char *name, struct store_backup *b)
{
	const struct blob_key key[2] = {{.type = KEY_INT, .i = account_id}, {.type = KEY_TEXT, .p = name}};
	return blob_get(s, &backups, key, read_backup, b);
}

enum err lite_backup_count(struct store *s, int64_t account_id, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BACKUP_COUNT);
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ERR_OK : store_sqlite_err(s, rc, "backup count");
}

enum err lite_backup_list(struct store *s, int64_t account_id,
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
	return store_rows_end(s, st, rc, "backup list");
}

enum err lite_backup_put(struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size,
    const uint8_t sha256[32], int64_t now)
{
	const struct blob_key key[2] = {{.type = KEY_INT, .i = account_id}, {.type = KEY_TEXT, .p = b->name}};
	const struct blob_cols c = backup_cols(b);
	return blob_write(s, &backups, key, &c, fd, size, sha256, now);
}

enum err lite_backup_delete(struct store *s, int64_t id)
{
	return blob_delete(s, &backups, id);
}

enum err lite_backup_read(struct store *s, int64_t id, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, &backups, id, sink, ctx);
}

/* ---- slots ---- */

static struct blob_cols slot_cols(struct store_slot *sl)
{
	return (struct blob_cols){&sl->rowid, sl->id, sizeof sl->id, &sl->version, &sl->bytes, &sl->created_at,
	    &sl->modified_at, sl->sha256};
}

/* A row of STMT_SLOT_GET: rowid_, slot_id, key_hash, the common columns, then accessed_at. */
static void read_slot(sqlite3_stmt *st, void *out)
{
	struct store_slot *sl = out;
	memset(sl, 0, sizeof *sl);
	const struct blob_cols c = slot_cols(sl);
	read_cols(st, 3, &c);
	const void *k = sqlite3_column_blob(st, 2);
	if (k && sqlite3_column_bytes(st, 2) == 32)
		memcpy(sl->key_hash, k, 32);
	sl->accessed_at = sqlite3_column_int64(st, 8);
}

enum err lite_slot_get(struct store *s, const char *id, struct store_slot *sl)
{
	const struct blob_key key[2] = {{.type = KEY_TEXT, .p = id}, {.type = KEY_NONE}};
	return blob_get(s, &slots, key, read_slot, sl);
}

enum err lite_slot_put(struct store *s, struct store_slot *sl, int fd, int64_t size, const uint8_t sha256[32],
    int64_t now)
{
	const struct blob_key key[2] = {{.type = KEY_TEXT, .p = sl->id}, {.type = KEY_BLOB, .p = sl->key_hash, .n = 32}};
	const struct blob_cols c = slot_cols(sl);
	sl->accessed_at = now; /* the write is an access (slots.accessed_at = now in both statements) */
	return blob_write(s, &slots, key, &c, fd, size, sha256, now);
}

enum err lite_slot_delete(struct store *s, int64_t rowid)
{
	return blob_delete(s, &slots, rowid);
}

enum err lite_slot_touch(struct store *s, int64_t rowid, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SLOT_TOUCH);
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, now);
	return store_exec(s, st, "slot touch");
}

enum err lite_slot_read(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx)
{
	return blob_stream(s, &slots, rowid, sink, ctx);
}
