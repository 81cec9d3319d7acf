/*
 * store_impl.h: private to the store module (store*.c). The only header
 * that includes <sqlite3.h>; nothing outside fcgi/lib/store*.c may include it.
 */
#ifndef BLINDSYNC_STORE_IMPL_H
#define BLINDSYNC_STORE_IMPL_H

#include <sqlite3.h>
#include <sys/types.h>

#include "stmt.h"
#include "store.h"
#include "store_ops.h"

struct store_wlock; /* the shared write queue (store.c) */
struct store_pg;    /* a PostgreSQL connection (store_pg_impl.h) */

/*
 * One thread's store. ops and mode are the backend's choice and common to
 * both; the SQLite fields are unused (NULL) on PostgreSQL, where pg holds
 * the connection instead.
 */
struct store {
	const struct store_ops *ops;  /* the backend (store_ops.h) */
	struct store_pg *pg;          /* PostgreSQL only (NULL while a pooled store holds none) */
	int pooled;                   /* PostgreSQL: pg is borrowed from the process's pool (store_share_connections) */
	sqlite3 *db;
	struct store_wlock *wl;  /* RW stores: taken around every write transaction */
	sqlite3_stmt *st[STMT__MAX];  /* prepared on first use (store_stmt) */
	sqlite3_stmt *failing;        /* stands in for one that cannot be prepared */
	enum store_mode mode;
	char path[STORE_LOCATION_MAX]; /* the location: for SQLite the file */
	dev_t dev;       /* identity of the file opened, for health */
	ino_t ino;
	int fd;          /* the file, read by health for its header */
	int in_tx;
};

/*
 * Hold the write queue of the store at dbpath outside store_tx, for a whole
 * operation on the file (restore): handlers' writers wait behind it as they
 * wait for each other. NULL with a message when it cannot be opened or stays
 * busy past the busy timeout. Release with store_wlock_release (NULL is fine).
 */
struct store_wlock *store_wlock_hold(const char *dbpath, char *errbuf, size_t errlen);
void store_wlock_release(struct store_wlock *w);

/* One caller's transaction body waiting in a group commit (store_group.c). */
struct store_group_job {
	int64_t key;             /* the batch runs in key order (store_tx_group) */
	enum err (*fn)(struct store *, void *);
	void *arg;
	const char *path;        /* the location it is for */
	enum err rc;             /* fn's answer; the transaction's failure if it did not commit */
	int done;
	struct store_group_job *next;
};

/*
 * store_tx_group for both backends: queue fn(s, arg) with the concurrent
 * callers of this process on the same location; a leader among them calls
 * run(its store, the batch of n jobs, oldest first), which must run every
 * job's fn in one transaction, each isolated (a job that fails changes
 * nothing), set each job's rc, and return ERR_OK only when the transaction
 * committed. fn may run on another thread's store. The batch is in key
 * order, ties oldest first. Returns this job's rc.
 */
enum err store_group_commit(struct store *s, int64_t key, enum err (*fn)(struct store *, void *), void *arg,
    enum err (*run)(struct store *s, struct store_group_job *batch, int n));

/* The prepared statement `id`, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(struct store *s, enum stmt id);

/*
 * Map an SQLite result code to an enum err, logging what is unexpected
 * (`what` names the operation; never a value). BUSY/LOCKED -> ERR_UNAVAILABLE,
 * I/O, corruption, read-only, full disk -> ERR_UNAVAILABLE with a log line,
 * anything else ERR_INTERNAL with a log line.
 */
enum err store_sqlite_err(struct store *s, int rc, const char *what);

/*
 * Copy size bytes from fd (from offset 0) into `table`.data of rowid, which
 * must hold a zeroblob of that size, in STORE_BLOB_CHUNK pieces (store_blob.c).
 * `table` is one of our table names, never input.
 */
enum err store_blob_fill(struct store *s, const char *table, int64_t rowid, int fd, int64_t size);

/* Step a statement that returns no rows; ERR_OK on SQLITE_DONE. */
enum err store_exec(struct store *s, sqlite3_stmt *st, const char *what);

/* Step a one-row query; ERR_NOT_FOUND when it has none. Leaves the row current. */
enum err store_one_row(struct store *s, sqlite3_stmt *st, const char *what);

/*
 * End a loop of sqlite3_step over st that stopped with rc: reset st, then
 * ERR_OK when the rows ran out (SQLITE_DONE) or the caller stopped on one
 * (SQLITE_ROW), else store_sqlite_err's mapping of rc. The listings end so.
 */
enum err store_rows_end(struct store *s, sqlite3_stmt *st, int rc, const char *what);

/* Step a write that must change exactly one row; `none` if it changed none. */
enum err store_one_change(struct store *s, sqlite3_stmt *st, enum err none, const char *what);

/* Copy text column i of st into dst (dstlen bytes), "" for NULL, truncated safely. */
void store_col_text(sqlite3_stmt *st, int i, char *dst, size_t dstlen);

/*
 * Step a write ... RETURNING of one integer to its end and reset it; *v gets
 * the value returned, and is left as it was when no row was returned.
 */
enum err store_returning_int(struct store *s, sqlite3_stmt *st, int64_t *v, const char *what);

/*
 * Step st, whose rows are (rid, version, modified_at, deleted, payload),
 * calling fn with each until it returns nonzero; then reset st. *count
 * (when not NULL) gets the rows passed to fn. The record passed is valid
 * during the call only (store_sync.c).
 */
enum err store_walk_records(struct store *s, sqlite3_stmt *st, int (*fn)(void *, const struct store_record *),
    void *ctx, int *count, const char *what);

/*
 * Bind a version of a record to ?1..?6 of an insert into records or
 * history: collection_id, rid, version, modified_at, deleted, payload
 * (NULL for a tombstone). Borrows r until st is reset (store_sync.c).
 */
void store_bind_version(sqlite3_stmt *st, int64_t collection_id, const struct store_record *r);

/* Fill *c from the columns 0..10 of st (COLLECTION_COLS of stmt.c), meta unset (store_sync.c). */
void store_read_collection(sqlite3_stmt *st, struct store_collection *c);

/*
 * The same, then column 12 (meta, a blob or NULL) into c->meta and
 * c->meta_len: pointers into st's row, valid until it steps or resets; an
 * empty meta is "" (not NULL, which means none). The listings (own and
 * shared) use it (store_sync.c).
 */
void store_read_collection_meta(sqlite3_stmt *st, struct store_collection *c);

#endif
