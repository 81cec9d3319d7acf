/*
 * store_live.c: the tickets of blindsync-live and its device check
 * (store.h, "blindsync-live"), SQLite's implementations (lite_live_*,
 * reached through store_ops.h). Part of the store module: a ticket is
 * stored only as its SHA-256, is taken (deleted) by its one use, and
 * expired ones are swept whenever a new one is issued.
 *
 * Must never: keep a ticket's text, or hand out a ticket's binding
 * without deleting the ticket in the same statement.
 */
#include "store_impl.h"
#include "store_ops.h"

enum err lite_live_ticket_put(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t account_id,
    int64_t device_id, int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LIVE_TICKET_PRUNE);
	sqlite3_bind_int64(st, 1, now);
	enum err e = store_exec(s, st, "live ticket prune");
	if (e)
		return e;
	st = store_stmt(s, STMT_LIVE_TICKET_INSERT);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_int64(st, 3, device_id);
	sqlite3_bind_int64(st, 4, expires_at);
	return store_exec(s, st, "live ticket insert");
}

enum err lite_live_ticket_take(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id, int64_t *device_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LIVE_TICKET_TAKE);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	enum err e = store_one_row(s, st, "live ticket take");
	if (e == ERR_OK) {
		int64_t acc = sqlite3_column_int64(st, 0), dev = sqlite3_column_int64(st, 1);
		if (sqlite3_column_int64(st, 2) > now) {
			*account_id = acc;
			*device_id = dev;
		} else {
			e = ERR_UNAUTHORIZED;
		}
	} else if (e == ERR_NOT_FOUND) {
		e = ERR_UNAUTHORIZED;
	}
	sqlite3_reset(st);
	return e;
}

enum err lite_live_device_ok(struct store *s, int64_t account_id, int64_t device_id, int64_t now,
    int64_t *until)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LIVE_DEVICE_OK);
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_int64(st, 3, now);
	enum err e = store_one_row(s, st, "live device check");
	if (e == ERR_OK && sqlite3_column_type(st, 0) == SQLITE_NULL)
		e = ERR_NOT_FOUND; /* the device is there, its session is not */
	if (e == ERR_OK && until)
		*until = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
}
