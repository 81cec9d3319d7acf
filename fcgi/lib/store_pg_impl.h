/*
 * store_pg_impl.h: private to the PostgreSQL backend (store_pg*.c). The only
 * header that includes <libpq-fe.h>.
 *
 * One struct store_pg per struct store (per thread): one libpq connection,
 * the statements prepared on it, and the transaction state. The helpers
 * below are the only way the backend talks to the server:
 *
 * - pg_run() runs statement `id` of stmt_pg.c, prepared on this connection
 *   the first time it is used (PQprepare, then PQexecPrepared). Parameters
 *   are bound through struct pg_args: integers and text in TEXT format
 *   (the server converts them to the column's type), bytes in BINARY
 *   format (bytea, no escaping). Results come back in BINARY format: read
 *   them with pg_int(), pg_text(), pg_bytes() (which check the length).
 * - pg_run_deferred() sends a write without waiting for its result
 *   (libpq's pipeline mode, inside a write transaction): its result is read
 *   with the next statement's, one round trip for both, and always before
 *   the COMMIT.
 * - pg_tx() / pg_read() (store_tx / store_read): BEGIN, fn, COMMIT or
 *   ROLLBACK, with bounded retry of serialization failures (40001) and
 *   deadlocks (40P01), then ERR_UNAVAILABLE (503 + Retry-After).
 *
 * Isolation: a write transaction (store_tx) is READ COMMITTED; what SQLite's
 * single writer gave for free is had with row locks taken by the backend:
 * inside store_tx, store_account_by_id locks the account's row (FOR NO KEY UPDATE),
 * so that the writers of one account (quota checks, usage counters) follow
 * each other on every node, and the push locks its collection's row for the
 * version counter. Take them in that order: account, then collection. A
 * read transaction (store_read) is REPEATABLE READ READ ONLY: one snapshot.
 *
 * A lost connection (the server restarted, a network cut) is noticed by the
 * failing call, which answers ERR_UNAVAILABLE; the next call reconnects by
 * itself (at most every PG_RECONNECT_MS while the server stays down), and a
 * transaction that lost its connection before fn ran is retried on a new one.
 *
 * Must never: build SQL from input, log a bound value or a DETAIL (which
 * quotes values), leave a transaction open, or share a connection between
 * threads or across fork().
 */
#ifndef BLINDSYNC_STORE_PG_IMPL_H
#define BLINDSYNC_STORE_PG_IMPL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "stmt_pg.h"
#include "store_impl.h"

#define PG_MAX_PARAMS 16
#define PG_TX_TRIES 6          /* runs of a transaction that hit 40001/40P01 */
#define PG_RECONNECT_MS 250    /* while down, a reconnect at most this often */
#define PG_CONNECT_TIMEOUT "5" /* seconds, unless the URI says otherwise */
#define PG_IDLE_IN_TX_MS 300000 /* the server ends a session idle inside a transaction this long */

enum pg_tx_kind { PG_TX_NONE, PG_TX_WRITE, PG_TX_READ };

#define PG_PIPELINE_MAX 64 /* deferred statements in flight before their results are read */

#define PG_AHEAD_MAX 6      /* reads sent ahead in one read transaction */
#define PG_AHEAD_PARAMS 6   /* parameters of one */
#define PG_AHEAD_BYTES 72   /* a parameter kept in place, NUL included (a collection name, a token hash fit); longer: a copy */

/*
 * A read sent ahead (pg_ahead) and the key its result is taken by: the
 * pg_run of statement id with exactly these parameters. open: parameter 0
 * is not known yet; it is the id in row 0, column 0 of the result of slot
 * from - 1, filled in when that one is taken (no row: this one never
 * matches).
 */
struct pg_ahead {
	enum pgstmt id;
	int n;
	char val[PG_AHEAD_PARAMS][PG_AHEAD_BYTES];
	char *big[PG_AHEAD_PARAMS];   /* a longer value's copy (a push's rids), freed with the slot */
	int null[PG_AHEAD_PARAMS];
	int len[PG_AHEAD_PARAMS];     /* the value's bytes (a text's without its NUL) */
	int fmt[PG_AHEAD_PARAMS];     /* as pg_args: 0 text, 1 binary */
	int from, open;
	int state;         /* 0 taken or dropped, 1 sent, 2 its result read and kept in res */
	PGresult *res;
};

/* A statement sent in pipeline mode whose result is not read yet. */
struct pg_pending {
	enum pgstmt id;
	int ahead;         /* >0: a read sent ahead, whose result goes to slot ahead - 1 */
	int prepare;       /* 1: the PQsendPrepare of id; 0: a deferred run of it */
	const char *what;  /* for the log */
	enum err none;     /* not ERR_OK: the statement must change one row, else this is its failure */
	int sync;          /* 1: not a statement but the end of a round sent earlier (PGRES_PIPELINE_SYNC) */
	int (*row)(void *ctx, int64_t id); /* a deferred statement's rows: called with column 0 of each */
	void *row_ctx;
};

struct store_pg {
	PGconn *conn;                 /* NULL while down */
	char uri[STORE_LOCATION_MAX]; /* as configured; never holds a password */
	uint8_t prepared[PG__MAX];    /* 1: prepared on this connection */
	enum pg_tx_kind in_tx;
	int retry;                    /* the last error was 40001/40P01: run the transaction again */
	int lost;                     /* the last error was the connection's */
	int64_t next_connect_ms;      /* while down: no attempt before this (monotonic) */
	int64_t warned_ms;            /* the last "database is down" log line */
	/* pipeline mode: entered at a transaction's BEGIN (which goes with
	 * its first statement), left at the end of its body with the COMMIT;
	 * after a read transaction, whose COMMIT's answer waits for the next
	 * round trip, at the end of the next one */
	int pipeline;
	int npending;
	struct pg_pending pending[2 * PG_PIPELINE_MAX + 2];
	enum err deferred_err;        /* the first failure of a deferred statement: the transaction's */
	int trips;                    /* round trips of the transaction so far (pipeline syncs) */
	int64_t round_trips;          /* of the connection's life (store_round_trips) */
	int64_t locked_account;       /* the account whose row transaction tx_serial locked (pg_lock_noted) */
	uint64_t locked_serial;
	struct pg_ahead ahead[PG_AHEAD_MAX]; /* reads sent ahead in this read transaction */
	int nahead;
	/* an early read transaction (pg_early_begin): 1 from its BEGIN until
	 * a store_read joins it or another call ends it; early_tx: 1 while the
	 * store_read that joined it runs (its hints send nothing again) */
	int early, early_tx;
	/* 1 once an early read transaction's COMMIT went with its reads
	 * (pg_early_commit): the store_read that joins it takes those reads
	 * and nothing else */
	int early_done;
	uint64_t tx_serial;           /* counts transactions begun: what a cache is valid for */
	struct pg_heads *heads;       /* the record heads of a push, read at once (store_pg_sync.c) */
	struct pg_batch *batch;       /* a push's new records, written by one statement (store_pg_sync.c) */
	int batched;                  /* records wait in batch: pg_run, pg_run_deferred and run_tx send them first */
};

/* Parameters of one statement; pg_arg_*() append $1, $2, ... in order. */
struct pg_args {
	int n;
	const char *val[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];       /* 0 text, 1 binary */
	char num[PG_MAX_PARAMS][24];  /* integers, as text */
};

/* Append an integer (text format). */
void pg_arg_int(struct pg_args *a, int64_t v);
/* Append a NUL-terminated text (text format); NULL binds SQL NULL. Borrowed until the statement ran. */
void pg_arg_text(struct pg_args *a, const char *t);
/* Append n bytes as bytea (binary format); NULL binds SQL NULL. Borrowed until the statement ran. */
void pg_arg_bytes(struct pg_args *a, const void *p, size_t n);
/* Append SQL NULL. */
void pg_arg_null(struct pg_args *a);

/*
 * Run statement id with the parameters a (NULL: none). With res NULL the
 * result is checked and dropped; otherwise *res gets it (the caller
 * PQclear()s it; NULL on error). Reconnects first when the connection was
 * lost outside a transaction. Errors: ERR_CONFLICT for a constraint
 * violation (23xxx: unique, foreign key, check; not logged: the caller maps
 * it), ERR_UNAVAILABLE for a lost connection, a server shutting down or
 * starting, too many connections, a lock wait past STORE_BUSY_TIMEOUT_MS,
 * a serialization failure or a deadlock (s->pg->retry set: pg_tx runs the
 * transaction again), ERR_INTERNAL for anything else (logged with `what`,
 * the SQLSTATE and the primary message, never DETAIL).
 */
enum err pg_run(struct store *s, enum pgstmt id, const struct pg_args *a, PGresult **res, const char *what);

/*
 * Run a write whose result nobody needs (no rows, no count) without waiting
 * for it: inside a write transaction it is sent in libpq's pipeline mode
 * and its result read with the next pg_run's (one round trip for both) or
 * at the end of the transaction, at most PG_PIPELINE_MAX later. Its failure
 * then becomes the error of that later call, of every call after it, and
 * of the transaction (which rolls back, as any failed statement makes it);
 * a deferred write is never acknowledged before its result is read. Use
 * it only where any failure of the statement fails the transaction, never
 * where the caller maps an error (ERR_CONFLICT) to an answer. Outside a
 * write transaction it is pg_run.
 */
enum err pg_run_deferred(struct store *s, enum pgstmt id, const struct pg_args *a, const char *what);

/*
 * pg_run_deferred of a write whose rows (RETURNING an id) matter only
 * after the transaction: row(ctx, column 0) is called for each when its
 * answer is read (with the next statement's, at the latest the COMMIT's),
 * never if the transaction fails first. Outside a write transaction it
 * runs at once and calls row before returning.
 */
enum err pg_run_deferred_rows(struct store *s, enum pgstmt id, const struct pg_args *a,
    int (*row)(void *ctx, int64_t id), void *ctx, const char *what);

/*
 * pg_one_change, deferred as pg_run_deferred: a write that must change
 * exactly one row, whose count is checked when its result is read (a
 * count other than one is then the failure `none` of the transaction).
 */
enum err pg_one_change_deferred(struct store *s, enum pgstmt id, const struct pg_args *a, enum err none,
    const char *what);

/*
 * Read-ahead, inside a read transaction (store_read: one snapshot, no
 * writes, so a read gives the same rows whenever it runs), or at the start
 * of a write transaction's work for reads that no write of it comes
 * before the take of (pg_push_hint: the row locks a push takes first; the
 * statements of a pipeline run in order, so such a read sees every
 * earlier write of the transaction as it would later): send statement
 * sid with parameters sa now, without waiting, and keep its result for the
 * pg_run of statement mid with parameters ma later in
 * the transaction, which then takes it instead of running a statement:
 * several reads cost one round trip. from > 0: parameter 0 of ma is
 * unknown yet, it is the id the read-ahead of slot from - 1 finds (row 0,
 * column 0). Returns the slot + 1, or 0 when nothing was sent (not in a
 * transaction, no room, no memory for a long parameter's copy: the later
 * pg_run runs the statement as usual). Unused results are dropped at the end of the
 * transaction. A failed send drops the connection as any failed send does
 * (the transaction's next call answers ERR_UNAVAILABLE and it runs again).
 */
int pg_ahead(struct store *s, enum pgstmt sid, const struct pg_args *sa, enum pgstmt mid,
    const struct pg_args *ma, int from);

/*
 * Begin an early read transaction (store_status_early, store_pull_early):
 * outside any transaction, before an access token is checked, send the
 * BEGIN of a read transaction and the token's lookup (PG_TOKEN_ACCESS of
 * hash, kept for the store_token_find that checks it); the caller then
 * sends, with pg_ahead(..., from = the slot returned), the reads its
 * handler's store_read makes first, by the token's account (the _BY_TOKEN
 * statements), matched to the calls by that account's id. All of it goes
 * in the token check's round trip. The next store_read joins the
 * transaction (one snapshot: the token's) and takes those results; any
 * other call ends it first (a COMMIT sent unread, its results dropped),
 * as does pg_early_end at the end of the request. Returns the token's
 * slot + 1, or 0 when nothing was begun (then every call runs as usual).
 */
int pg_early_begin(struct store *s, const uint8_t hash[STORE_HASH_LEN]);

/*
 * An early read transaction whose caller sent every read its store_read
 * will make: its COMMIT goes now, in the same round trip, so that the
 * server wakes once for the request, not again for a COMMIT sent after.
 * The store_read that joins it then takes those reads; one it did not
 * send is an error (ERR_INTERNAL, logged), never a read outside the
 * snapshot.
 */
void pg_early_commit(struct store *s);

/*
 * Note that this write transaction holds account_id's row locked (its
 * store_account_by_id, or a collection's read that locks the account
 * first), and whether it does: a write to that row then needs no count
 * check (nobody can delete the row before the commit), so the COMMIT can
 * go in the same round trip as the write.
 */
void pg_lock_noted(struct store *s, int64_t account_id);
int pg_lock_held(const struct store *s, int64_t account_id);

/* Free the push's cache of record heads (store_pg_sync.c; pg_close). */
void pg_heads_free(struct store_pg *p);
/* Send the records waiting in the batch as one deferred statement (store_pg_sync.c). */
enum err pg_batch_send(struct store *s);
/*
 * The writes that end a push, kept in the batch with its records
 * (store_pg_sync.c): the collection's counters (pg_collection_update of
 * the batch's collection), then the account's usage (pg_account_usage_add
 * of an account whose row the transaction holds locked), then the
 * members' bumps (pg_share_accounts_bump, rows to fn as pg_run_deferred_rows).
 * Each returns 1 when kept (nothing more to do), 0 when not (records of
 * another collection or none waiting, another order, not a write
 * transaction): then the caller sends its statement as usual. All three
 * kept go as one statement with the records (PG_PUSH_WRITES); fewer, each
 * as its own after them; either way before any later statement.
 */
int pg_batch_tail_collection(struct store *s, int64_t id, int64_t version, int64_t records_delta, int64_t bytes_delta,
    int64_t now);
int pg_batch_tail_usage(struct store *s, int64_t account_id, int64_t bytes, int64_t records);
int pg_batch_tail_bump(struct store *s, int64_t collection_id, int (*fn)(void *ctx, int64_t account_id), void *ctx);
/* Free the batch's buffers (pg_close). */
void pg_batch_free(struct store_pg *p);

/*
 * Run a one-row query: ERR_OK with *res holding exactly one row,
 * ERR_NOT_FOUND when it returned none (*res NULL), or pg_run's error.
 */
enum err pg_one_row(struct store *s, enum pgstmt id, const struct pg_args *a, PGresult **res, const char *what);

/*
 * Run a query whose one row's first column is a number (a count, a sum)
 * and set *n to it: 0, and ERR_OK, when it returned no row; *n is 0 on an
 * error too, which is pg_run's.
 */
enum err pg_count(struct store *s, enum pgstmt id, const struct pg_args *a, int64_t *n, const char *what);

/* Run a write that must change exactly one row: ERR_OK, `none` if it changed none, or pg_run's error. */
enum err pg_one_change(struct store *s, enum pgstmt id, const struct pg_args *a, enum err none, const char *what);

/* Run a write and set *n to the rows it changed (NULL: not wanted). */
enum err pg_changes(struct store *s, enum pgstmt id, const struct pg_args *a, int64_t *n, const char *what);

/*
 * Column readers for binary results. pg_int reads bigint, integer,
 * smallint or boolean (by the value's length), 0 for NULL. pg_text copies
 * a text value into dst (dstlen bytes, NUL-terminated, "" for NULL,
 * truncated safely). pg_bytes points *p at a value's bytes (valid until
 * PQclear) and returns its length, with *p NULL for SQL NULL.
 * pg_is_null: 1 for SQL NULL.
 */
int64_t pg_int(const PGresult *r, int row, int col);
void pg_text(const PGresult *r, int row, int col, char *dst, size_t dstlen);
size_t pg_bytes(const PGresult *r, int row, int col, const uint8_t **p);
int pg_is_null(const PGresult *r, int row, int col);
/* Call fn with column 0 (an id) of each row of r, until it returns nonzero; fn may be NULL. */
void pg_rows_each(const PGresult *r, int (*fn)(void *ctx, int64_t id), void *ctx);
/* Copy a bytea value of exactly n bytes into dst: 0, or -1 (dst zeroed) when its length differs. */
int pg_bytes_fixed(const PGresult *r, int row, int col, uint8_t *dst, size_t n);

/*
 * ---- shared by store_pg_sync.c and store_pg_transfer.c ----
 *
 * Large reads are walked in batches of at most PG_WALK_ROWS rows and,
 * after the first row, PG_WALK_BYTES bytes of payload (the statements
 * take both bounds), each batch a query from the last version seen.
 */
#define PG_WALK_ROWS 1024
#define PG_WALK_BYTES (1024 * 1024)

/*
 * What one batch walked: rows passed to fn, whether fn stopped, the last
 * version, payload bytes, and the statement's own row bound when it gives
 * one (a sixth column, PG_RECORD_PULL), else 0.
 */
struct pg_walk {
	int n;
	int stopped;
	int64_t last;
	int64_t bytes;
	int64_t cap;
};

/*
 * Run statement id, whose rows are (rid, version, modified_at, deleted,
 * payload[, row bound]), and call fn with each until it returns nonzero;
 * *w says what was walked. The record passed is valid during the call
 * only; fn may use the store (the result was read whole before).
 */
enum err pg_walk_records(struct store *s, enum pgstmt id, const struct pg_args *a,
    int (*fn)(void *, const struct store_record *), void *ctx, struct pg_walk *w, const char *what);

/* 1 when a batch asked for `rows` rows was the last: short, and not cut by the byte bound. */
static inline int pg_walk_done(const struct pg_walk *w, int64_t rows)
{
	return w->n == 0 || (w->n < rows && w->bytes < PG_WALK_BYTES);
}

/*
 * Bind a version of a record as $1..$6 of an insert into records or
 * history: collection_id, rid, version, modified_at, deleted, payload
 * (NULL for a tombstone). Borrows r until the statement ran.
 */
void pg_arg_version(struct pg_args *a, int64_t collection_id, const struct store_record *r);

/*
 * Write size bytes from fd (from offset 0) as the chunks of backup id, which
 * has none (store_pg_blob.c; the import's inserts use it too).
 */
enum err pg_backup_fill(struct store *s, int64_t id, int fd, int64_t size);
/* The same for the chunks of slot rowid, which has none (store_pg_copy.c: a slot copied as it is). */
enum err pg_slot_fill(struct store *s, int64_t rowid, int fd, int64_t size);

/*
 * Row `row` of a result whose first columns are stmt_pg.c's COLLECTION_COLS
 * (id ... purged_version, key_version, members_version, rotate_due) into *c (meta left
 * NULL). store_pg_sync.c; the shared listing of store_pg_share.c uses it too.
 */
void pg_read_collection(const PGresult *r, int row, struct store_collection *c);

/*
 * The same, then column 12 (meta, bytea or NULL) into c->meta and
 * c->meta_len: pointers into r, valid until PQclear; an empty meta is ""
 * (not NULL, which means none). The listings (own and shared) use it.
 */
void pg_read_collection_meta(const PGresult *r, int row, struct store_collection *c);

/* 1 inside store_tx (a write transaction), where the backend takes row locks. */
int pg_in_write_tx(const struct store *s);

#endif
