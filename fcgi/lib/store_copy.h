/*
 * store_copy.h: every row of a store, as it is, for `blindsync-admin
 * migrate-store` (move.c): read table by table in key order, and written
 * into another store (of the other backend, or the same) with its ids,
 * versions and times unchanged. Both backends implement it (store_copy.c
 * for SQLite, store_pg_copy.c for PostgreSQL); only move.c includes it.
 *
 * Rows travel as arrays of typed values, one per column of the table's
 * column list below (the same on both backends: a PostgreSQL boolean or
 * integer reads as an int64, bytea and BLOB as bytes). The data of a
 * backup or a slot is not a column: it streams through store_backup_read /
 * store_slot_read out of one store and from a file into the other, so no
 * blob is ever whole in memory.
 *
 * Must never: change a value on the way, or be used on a store that
 * handlers are writing (the caller reads one snapshot; writes after it are
 * not copied).
 */
#ifndef BLINDSYNC_STORE_COPY_H
#define BLINDSYNC_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The tables, in the order a copy writes them (a row after those it refers to). */
enum store_table {
	ST_META,          /* key, value: the store's own (created_at, blob_version, ...) */
	ST_ACCOUNTS,
	ST_DEVICES,
	ST_TOKENS,
	ST_INVITES,
	ST_EVENTS,
	ST_COLLECTIONS,
	ST_FLOORS,        /* collection_floors */
	ST_RECORDS,
	ST_HISTORY,
	ST_BACKUPS,       /* + data */
	ST_SLOTS,         /* + data */
	ST_SLOT_ACCESS,
	ST_MFA,           /* account_mfa: two-factor login (sealed secret, counters) */
	ST_RECOVERY_CODES,
	ST_RECOVERY_KEYS,
	ST_ACCOUNT_KEYS,  /* sharing: public keys, members, invitations, grants */
	ST_MEMBERS,
	ST_INVITATIONS,
	ST_GRANTS,
	ST__MAX
};

enum store_col_type { SC_INT, SC_TEXT, SC_BLOB };

#define STORE_COPY_COLS_MAX 16

/* What a table is: its name and columns (in the order of a row's values). */
struct store_table_info {
	const char *name;                 /* the SQL table, for messages too */
	int ncols;
	const char *cols[STORE_COPY_COLS_MAX];
	enum store_col_type types[STORE_COPY_COLS_MAX];
	int has_data;                     /* backups, slots: the row is followed by its blob */
};

/* The description of table t (t < ST__MAX). */
const struct store_table_info *store_table_info(enum store_table t);

/* One value of a row. NULL: null set. Text and bytes are borrowed. */
struct store_value {
	int null;
	int64_t i;          /* SC_INT */
	const void *p;      /* SC_TEXT (not NUL-terminated here), SC_BLOB */
	size_t len;
};

/* The number of rows of table t, in the current transaction. */
enum err store_copy_count(struct store *s, enum store_table t, int64_t *n);

/*
 * Call fn with every row of table t in key order (the values valid during
 * the call only; row[0] is the table's key, or its first part), until fn
 * returns non-zero. Streams: memory does not grow with the table. Call
 * inside store_read() so that every table comes from one snapshot.
 */
enum err store_copy_rows(struct store *s, enum store_table t,
    int (*fn)(void *ctx, const struct store_value *row), void *ctx);

/*
 * Insert one row into table t exactly as given (ST_META: insert or replace
 * the key's value). For a table with data, fd holds its `bytes` column's
 * worth of data from offset 0 (written in STORE_BLOB_CHUNK pieces); fd is
 * ignored otherwise. Inside store_tx(). ERR_CONFLICT if the row's key exists.
 */
enum err store_copy_insert(struct store *s, enum store_table t, const struct store_value *row, int fd);

/*
 * After every row was inserted (same transaction): whatever the backend
 * derives from the rows and does not copy (PostgreSQL: its id sequences,
 * the counter of blob versions) is set from them.
 */
enum err store_copy_finish(struct store *s);

#endif
