/*
 * store_copy.c: every row of a store as it is (store_copy.h): the tables'
 * descriptions shared by both backends, and the SQLite side (lite_copy_*,
 * behind store_copy_* through store_ops.h). The SQL is in
 * stmt.c (STMT_COPY_*), three statements per table in enum store_table's
 * order.
 *
 * Must never: change a value on the way (ids, versions and times are
 * copied as they are), or hold a blob whole in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_copy.h"
#include "store_impl.h"

#define I SC_INT
#define T SC_TEXT
#define B SC_BLOB

static const struct store_table_info tables[ST__MAX] = {
	[ST_META] = {"meta", 2, {"key", "value"}, {T, T}, 0},
	[ST_ACCOUNTS] = {"accounts", 16,
	    {"id", "public_id", "username", "auth_hash", "auth_salt", "auth_iterations", "kdf", "keyring",
	        "keyring_version", "created_at", "disabled", "plan", "quota_bytes", "usage_bytes", "usage_records",
	        "account_version"},
	    {I, T, T, B, B, I, T, B, I, I, I, T, I, I, I, I}, 0},
	[ST_DEVICES] = {"devices", 7, {"id", "public_id", "account_id", "name", "type", "created_at", "last_seen_at"},
	    {I, T, I, T, T, I, I}, 0},
	[ST_TOKENS] = {"tokens", 6, {"hash", "kind", "account_id", "device_id", "expires_at", "used_at"},
	    {B, I, I, I, I, I}, 0},
	[ST_INVITES] = {"invites", 6, {"id", "hash", "created_at", "expires_at", "used_at", "used_by"},
	    {I, B, I, I, I, I}, 0},
	[ST_EVENTS] = {"events", 5, {"id", "account_id", "at", "type", "device"}, {I, I, I, T, T}, 0},
	[ST_COLLECTIONS] = {"collections", 13,
	    {"id", "account_id", "name", "version", "records", "bytes", "meta", "created_at", "modified_at",
	        "purged_version", "key_version", "members_version", "rotate_due"},
	    {I, I, T, I, I, I, B, I, I, I, I, I, I}, 0},
	[ST_FLOORS] = {"collection_floors", 4, {"account_id", "name", "version", "members_version"}, {I, T, I, I}, 0},
	/* records: by their key, without SQLite's rowid (PostgreSQL's have no id: sql/pg/010) */
	[ST_RECORDS] = {"records", 6, {"collection_id", "rid", "version", "modified_at", "deleted", "payload"},
	    {I, T, I, I, I, B}, 0},
	[ST_HISTORY] = {"history", 7, {"id", "collection_id", "rid", "version", "modified_at", "deleted", "payload"},
	    {I, I, T, I, I, I, B}, 0},
	[ST_BACKUPS] = {"backups", 8,
	    {"id", "account_id", "name", "version", "bytes", "sha256", "created_at", "modified_at"},
	    {I, I, T, I, I, B, I, I}, 1},
	[ST_SLOTS] = {"slots", 9,
	    {"rowid_", "slot_id", "key_hash", "version", "bytes", "sha256", "created_at", "modified_at",
	        "accessed_at"},
	    {I, T, B, I, I, B, I, I, I}, 1},
	[ST_SLOT_ACCESS] = {"slot_access", 2, {"slot", "accessed_at"}, {I, I}, 0},
	[ST_MFA] = {"account_mfa", 6, {"account_id", "totp_secret", "totp_on", "last_step", "fails", "locked_until"},
	    {I, B, I, I, I, I}, 0},
	[ST_RECOVERY_CODES] = {"recovery_codes", 2, {"account_id", "hash"}, {I, B}, 0},
	[ST_RECOVERY_KEYS] = {"recovery_keys", 8,
	    {"account_id", "auth_hash", "auth_salt", "auth_iterations", "blob", "created_at", "reset_hash",
	        "reset_expires"},
	    {I, B, B, I, B, I, B, I}, 0},
	[ST_ACCOUNT_KEYS] = {"account_keys", 4, {"account_id", "x25519", "ed25519", "updated_at"}, {I, B, B, I}, 0},
	[ST_MEMBERS] = {"members", 4, {"collection_id", "account_id", "role", "joined_at"}, {I, I, I, I}, 0},
	[ST_INVITATIONS] = {"invitations", 11,
	    {"id", "public_id", "collection_id", "from_id", "to_id", "role", "key_version", "sealed", "signature",
	        "created_at", "expires_at"},
	    {I, T, I, I, I, I, I, B, B, I, I}, 0},
	[ST_GRANTS] = {"grants", 9,
	    {"collection_id", "account_id", "key_version", "from_name", "from_x25519", "from_ed25519", "sealed",
	        "signature", "created_at"},
	    {I, I, I, T, B, B, B, B, I}, 0},
};

#undef I
#undef T
#undef B

/* the statements of table t: read, insert, count, in this order from STMT_COPY_READ_META */
_Static_assert(STMT_COPY_READ_GRANTS == STMT_COPY_READ_META + 3 * ST_GRANTS, "stmt.h in table order");
_Static_assert(STMT_COPY_COUNT_GRANTS + 1 == STMT__MAX, "the copy statements come last");

/* The backups' byte column, where the data's size is read from (both tables: the fifth). */
#define COPY_BYTES_COL 4

const struct store_table_info *store_table_info(enum store_table t)
{
	return t < ST__MAX ? &tables[t] : NULL;
}

static enum stmt copy_stmt(enum store_table t, int k) { return (enum stmt)(STMT_COPY_READ_META + 3 * (int)t + k); }

enum err lite_copy_count(struct store *s, enum store_table t, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, copy_stmt(t, 2));
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ERR_OK : store_sqlite_err(s, rc, "copy count");
}

enum err lite_copy_rows(struct store *s, enum store_table t,
    int (*fn)(void *ctx, const struct store_value *row), void *ctx)
{
	const struct store_table_info *ti = &tables[t];
	struct store_value row[STORE_COPY_COLS_MAX];
	sqlite3_stmt *st = store_stmt(s, copy_stmt(t, 0));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(row, 0, sizeof row);
		for (int i = 0; i < ti->ncols; i++) {
			struct store_value *v = &row[i];
			v->null = sqlite3_column_type(st, i) == SQLITE_NULL;
			if (v->null)
				continue;
			if (ti->types[i] == SC_INT) {
				v->i = sqlite3_column_int64(st, i);
			} else {
				/* text or bytes, as they are (a BLOB column may hold text in SQLite) */
				v->p = ti->types[i] == SC_TEXT ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
				v->len = (size_t)sqlite3_column_bytes(st, i);
				if (!v->p)
					v->p = "";
			}
		}
		if (fn(ctx, row) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "copy rows");
}

enum err lite_copy_insert(struct store *s, enum store_table t, const struct store_value *row, int fd)
{
	const struct store_table_info *ti = &tables[t];
	sqlite3_stmt *st = store_stmt(s, copy_stmt(t, 1));
	for (int i = 0; i < ti->ncols; i++) {
		const struct store_value *v = &row[i];
		if (v->null)
			sqlite3_bind_null(st, i + 1);
		else if (ti->types[i] == SC_INT)
			sqlite3_bind_int64(st, i + 1, v->i);
		else if (ti->types[i] == SC_TEXT)
			sqlite3_bind_text(st, i + 1, v->p, (int)v->len, SQLITE_STATIC);
		else
			sqlite3_bind_blob(st, i + 1, v->p, (int)v->len, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc & 0xff) == SQLITE_CONSTRAINT ? ERR_CONFLICT : store_sqlite_err(s, rc, "copy insert");
	if (!ti->has_data)
		return ERR_OK;
	return store_blob_fill(s, ti->name, row[0].i, fd, row[COPY_BYTES_COL].i);
}

enum err lite_copy_finish(struct store *s)
{
	/* SQLite derives nothing: an INTEGER PRIMARY KEY goes on from the
	 * largest id, and blob_version is a row of meta, copied */
	(void)s;
	return ERR_OK;
}
