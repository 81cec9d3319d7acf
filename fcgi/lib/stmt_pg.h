/*
 * stmt_pg.h: every SQL statement of the PostgreSQL store, by index.
 *
 * The text lives in stmt_pg.c, in one table beside this enum (a static
 * assert keeps them in step), as stmt.h/stmt.c do for SQLite. Each is
 * prepared once per connection, on first use, under the name "s<index>",
 * and run with bound parameters ($1, $2, ...) through pg_run
 * (store_pg_impl.h); SQL is never built from input.
 */
#ifndef BLINDSYNC_STMT_PG_H
#define BLINDSYNC_STMT_PG_H

enum pgstmt {
	/* the connection (store_pg.c) */
	PG_BEGIN,           /* a write transaction: READ COMMITTED, with row locks */
	PG_BEGIN_READ,      /* a read transaction: one snapshot */
	PG_COMMIT,
	PG_ROLLBACK,
	PG_HEALTH,
	PG_SCHEMA_VERSION,
	PG_STATS,

	/* accounts, devices, tokens, invites, events (store_pg_account.c) */
	PG_ACCOUNT_INSERT,
	PG_ACCOUNT_BY_NAME,
	PG_ACCOUNT_BY_ID,
	PG_ACCOUNT_BY_ID_LOCK,
	PG_ACCOUNT_KEYRING,
	PG_ACCOUNT_SET_AUTH,
	PG_ACCOUNT_SET_KDF,
	PG_ACCOUNT_SET_KEYRING,
	PG_ACCOUNT_DELETE,
	PG_ACCOUNT_SET_DISABLED,
	PG_ACCOUNT_LIST,
	PG_ACCOUNT_BUMP,
	PG_DEVICE_INSERT,
	PG_DEVICE_LIST,
	PG_DEVICE_BY_PUBLIC,
	PG_DEVICE_DELETE,
	PG_DEVICE_DELETE_OTHERS,
	PG_DEVICE_TOUCH,
	PG_TOKEN_INSERT,
	PG_TOKEN_ACCESS,
	PG_TOKEN_REFRESH,
	PG_TOKEN_MARK_USED,
	PG_TOKEN_DELETE_DEVICE,
	PG_TOKEN_PRUNE_DEVICE,
	PG_TOKEN_DELETE_ACCOUNT,
	PG_INVITE_INSERT,
	PG_INVITE_USABLE,
	PG_INVITE_USE,
	PG_INVITE_LIST,
	PG_EVENT_INSERT,
	PG_EVENT_PRUNE,
	PG_EVENT_LIST,
	PG_ACCOUNT_USAGE_ADD,
	PG_ACCOUNT_SET_QUOTA,
	PG_ACCOUNT_SET_PLAN,

	/* collections, records, history (store_pg_sync.c) */
	PG_COLLECTION_GET,
	PG_COLLECTION_GET_LOCK,
	PG_COLLECTION_INSERT,
	PG_COLLECTION_FLOOR_SET,
	PG_COLLECTION_COUNT,
	PG_COLLECTION_SET_META,
	PG_COLLECTION_DELETE,
	PG_COLLECTION_LIST,
	PG_COLLECTION_UPDATE,
	PG_RECORD_HEADS,
	PG_RECORD_HEAD,
	PG_RECORD_GET,
	PG_RECORD_UPSERT,
	PG_RECORD_TO_HISTORY,
	PG_HISTORY_PRUNE,
	PG_RECORD_PULL,
	PG_HISTORY_LIST,
	PG_HISTORY_GET,

	/* backups and slots (store_pg_blob.c) */
	PG_BACKUP_GET,
	PG_BACKUP_GET_LOCK,
	PG_BACKUP_COUNT,
	PG_BACKUP_LIST,
	PG_BACKUP_INSERT,
	PG_BACKUP_REPLACE,
	PG_BACKUP_VERSION,
	PG_BACKUP_DELETE,
	PG_BACKUP_SIZE,
	PG_BACKUP_CHUNK_INSERT,
	PG_BACKUP_CHUNK_READ,
	PG_SLOT_GET,
	PG_SLOT_GET_LOCK,
	PG_SLOT_ID_LOCK,
	PG_SLOT_INSERT,
	PG_SLOT_REPLACE,
	PG_SLOT_VERSION,
	PG_SLOT_DELETE,
	PG_SLOT_SIZE,
	PG_SLOT_CHUNK_INSERT,
	PG_SLOT_CHUNK_READ,
	PG_SLOT_TOUCH,

	/* export and import (store_pg_transfer.c) */
	PG_TRANSFER_HISTORY,
	PG_TRANSFER_RECORD_INSERT,
	PG_TRANSFER_HISTORY_INSERT,
	PG_TRANSFER_COLLECTION_SET,
	PG_TRANSFER_BACKUP_INSERT,
	PG_TRANSFER_BACKUP_VERSION,

	/* maintenance and blindsync-admin (store_pg_admin.c) */

	PG__MAX
};

extern const char *const pg_stmt_sql[PG__MAX];

#endif
