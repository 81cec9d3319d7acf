/*
 * store_account.c: accounts, devices, tokens, invites and the activity log
 * in SQLite. Part of the store module (may include sqlite3.h through
 * store_impl.h). Every statement is prepared once (stmt.c) and bound here.
 *
 * Must never: store a token, invite code or auth key (only hashes arrive
 * here), build SQL text, or log a bound value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static void col_blob(sqlite3_stmt *st, int i, uint8_t *dst, size_t n)
{
	const void *b = sqlite3_column_blob(st, i);
	int len = sqlite3_column_bytes(st, i);
	memset(dst, 0, n);
	if (b && len > 0)
		memcpy(dst, b, (size_t)len < n ? (size_t)len : n);
}

static int64_t col_int_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* One row of the ACCOUNT_COLS list of stmt.c into *a. */
static void read_account(sqlite3_stmt *st, struct store_account *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, a->public_id, sizeof a->public_id);
	store_col_text(st, 2, a->username, sizeof a->username);
	col_blob(st, 3, a->auth_hash, sizeof a->auth_hash);
	col_blob(st, 4, a->auth_salt, sizeof a->auth_salt);
	a->auth_iterations = sqlite3_column_int64(st, 5);
	store_col_text(st, 6, a->kdf, sizeof a->kdf);
	a->keyring_version = sqlite3_column_int64(st, 7);
	a->created_at = sqlite3_column_int64(st, 8);
	a->disabled = sqlite3_column_int(st, 9);
	store_col_text(st, 10, a->plan, sizeof a->plan);
	a->quota_bytes = col_int_or(st, 11, -1);
	a->usage_bytes = sqlite3_column_int64(st, 12);
	a->usage_records = sqlite3_column_int64(st, 13);
	a->account_version = sqlite3_column_int64(st, 14);
}

enum err lite_account_insert(struct store *s, struct store_account *a, const uint8_t *keyring, size_t keyring_len)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_INSERT);
	sqlite3_bind_text(st, 1, a->public_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->username, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, a->auth_hash, sizeof a->auth_hash, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, a->auth_salt, sizeof a->auth_salt, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->auth_iterations);
	sqlite3_bind_text(st, 6, a->kdf, -1, SQLITE_STATIC);
	if (keyring)
		sqlite3_bind_blob64(st, 7, keyring, keyring_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, keyring ? 1 : 0);
	sqlite3_bind_int64(st, 9, a->created_at);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_USERNAME_TAKEN;
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "account insert");
	a->id = sqlite3_last_insert_rowid(s->db);
	a->keyring_version = keyring ? 1 : 0;
	return ERR_OK;
}

static enum err account_by(struct store *s, sqlite3_stmt *st, struct store_account *a)
{
	enum err e = store_one_row(s, st, "account lookup");
	if (e == ERR_OK)
		read_account(st, a);
	sqlite3_reset(st);
	return e;
}

enum err lite_account_by_name(struct store *s, const char *username, struct store_account *a)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_BY_NAME);
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	return account_by(s, st, a);
}

enum err lite_account_by_id(struct store *s, int64_t id, struct store_account *a)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_BY_ID);
	sqlite3_bind_int64(st, 1, id);
	return account_by(s, st, a);
}

enum err lite_account_keyring(struct store *s, int64_t id, uint8_t **out, size_t *len, int64_t *version)
{
	*out = NULL;
	*len = 0;
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_KEYRING);
	sqlite3_bind_int64(st, 1, id);
	enum err e = store_one_row(s, st, "keyring");
	if (e == ERR_OK) {
		*version = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			int n = sqlite3_column_bytes(st, 0);
			const void *b = sqlite3_column_blob(st, 0);
			*out = malloc(n > 0 ? (size_t)n : 1);
			if (!*out)
				e = ERR_INTERNAL;
			else {
				if (n > 0)
					memcpy(*out, b, (size_t)n);
				*len = (size_t)n;
			}
		}
	}
	sqlite3_reset(st);
	return e;
}

enum err lite_account_set_auth(struct store *s, int64_t id, const uint8_t hash[STORE_HASH_LEN],
    const uint8_t salt[STORE_SALT_LEN], int64_t iterations)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_AUTH);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob(st, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, salt, STORE_SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, iterations);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set auth");
}

enum err lite_account_set_kdf(struct store *s, int64_t id, const char *kdf)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_KDF);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, kdf, -1, SQLITE_STATIC);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set kdf");
}

enum err lite_account_set_keyring(struct store *s, int64_t id, const uint8_t *keyring, size_t len,
    int64_t expected, int64_t *new_version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_KEYRING);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob64(st, 2, keyring ? (const void *)keyring : "", len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, expected);
	enum err e = store_one_change(s, st, ERR_PRECONDITION_FAILED, "account set keyring");
	if (e == ERR_OK && new_version)
		*new_version = expected + 1;
	return e;
}

enum err lite_account_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_DELETE);
	sqlite3_bind_int64(st, 1, id);
	return store_one_change(s, st, ERR_NOT_FOUND, "account delete");
}

enum err lite_account_set_disabled(struct store *s, const char *username, int disabled)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_DISABLED);
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, disabled ? 1 : 0);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set disabled");
}

enum err lite_account_list(struct store *s, int (*fn)(void *ctx, const struct store_account *a), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_LIST);
	struct store_account a;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_account(st, &a);
		if (fn(ctx, &a) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "account list");
}

enum err lite_account_bump(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_BUMP);
	sqlite3_bind_int64(st, 1, id);
	return store_one_change(s, st, ERR_NOT_FOUND, "account bump");
}

/* ---- devices ---- */

enum err lite_device_insert(struct store *s, int64_t account_id, const char *public_id, const char *name,
    const char *type, int64_t now, int64_t *id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_INSERT);
	sqlite3_bind_text(st, 1, public_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	enum err e = store_exec(s, st, "device insert");
	if (e == ERR_OK)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

enum err lite_device_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_device *d), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_LIST);
	sqlite3_bind_int64(st, 1, account_id);
	struct store_device d;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof d);
		d.id = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, d.public_id, sizeof d.public_id);
		store_col_text(st, 2, d.name, sizeof d.name);
		store_col_text(st, 3, d.type, sizeof d.type);
		d.created_at = sqlite3_column_int64(st, 4);
		d.last_seen_at = sqlite3_column_int64(st, 5);
		if (fn(ctx, &d) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "device list");
}

enum err lite_device_find(struct store *s, int64_t account_id, const char *public_id, int64_t *id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_BY_PUBLIC);
	sqlite3_bind_text(st, 1, public_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, account_id);
	enum err e = store_one_row(s, st, "device find");
	if (e == ERR_OK)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return e;
}

enum err lite_device_delete(struct store *s, int64_t device_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_DELETE);
	sqlite3_bind_int64(st, 1, device_id);
	return store_one_change(s, st, ERR_NOT_FOUND, "device delete");
}

enum err lite_device_delete_others(struct store *s, int64_t account_id, int64_t keep)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_DELETE_OTHERS);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, keep);
	return store_exec(s, st, "device delete others");
}

enum err lite_device_touch(struct store *s, int64_t device_id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DEVICE_TOUCH);
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, now);
	return store_exec(s, st, "device touch");
}

/* ---- tokens ---- */

enum err lite_token_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    int64_t account_id, int64_t device_id, int64_t expires_at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_INSERT);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)kind);
	sqlite3_bind_int64(st, 3, account_id);
	sqlite3_bind_int64(st, 4, device_id);
	sqlite3_bind_int64(st, 5, expires_at);
	return store_exec(s, st, "token insert");
}

enum err lite_token_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    struct store_token *t)
{
	sqlite3_stmt *st = store_stmt(s, kind == STORE_TOKEN_ACCESS ? STMT_TOKEN_ACCESS : STMT_TOKEN_REFRESH);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	enum err e = store_one_row(s, st, "token lookup");
	if (e == ERR_OK) {
		memset(t, 0, sizeof *t);
		t->account_id = sqlite3_column_int64(st, 0);
		t->device_id = sqlite3_column_int64(st, 1);
		t->expires_at = sqlite3_column_int64(st, 2);
		t->disabled = sqlite3_column_int(st, 3);
		store_col_text(st, 4, t->device_public_id, sizeof t->device_public_id);
		if (kind == STORE_TOKEN_ACCESS)
			t->last_seen_at = sqlite3_column_int64(st, 5);
		else
			t->used_at = col_int_or(st, 5, 0);
	}
	sqlite3_reset(st);
	return e;
}

enum err lite_token_mark_used(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_MARK_USED);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return store_one_change(s, st, ERR_CONFLICT, "token mark used");
}

enum err lite_token_delete_device(struct store *s, int64_t device_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_DELETE_DEVICE);
	sqlite3_bind_int64(st, 1, device_id);
	return store_exec(s, st, "token delete device");
}

enum err lite_token_prune_device(struct store *s, int64_t device_id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_PRUNE_DEVICE);
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, now);
	return store_exec(s, st, "token prune device");
}

enum err lite_token_delete_account(struct store *s, int64_t account_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_DELETE_ACCOUNT);
	sqlite3_bind_int64(st, 1, account_id);
	return store_exec(s, st, "token delete account");
}

/* ---- invites ---- */

enum err lite_invite_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITE_INSERT);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, expires_at);
	return store_exec(s, st, "invite insert");
}

enum err lite_invite_usable(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITE_USABLE);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	enum err e = store_one_row(s, st, "invite usable");
	sqlite3_reset(st);
	return e == ERR_NOT_FOUND ? ERR_INVALID_INVITE : e;
}

enum err lite_invite_use(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t account_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITE_USE);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, account_id);
	return store_one_change(s, st, ERR_INVALID_INVITE, "invite use");
}

enum err lite_invite_list(struct store *s, int (*fn)(void *ctx, const struct store_invite *i), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITE_LIST);
	struct store_invite iv;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&iv, 0, sizeof iv);
		iv.id = sqlite3_column_int64(st, 0);
		iv.created_at = sqlite3_column_int64(st, 1);
		iv.expires_at = sqlite3_column_int64(st, 2);
		iv.used_at = col_int_or(st, 3, 0);
		store_col_text(st, 4, iv.used_by, sizeof iv.used_by);
		if (fn(ctx, &iv) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "invite list");
}

/* ---- events ---- */

enum err lite_event_add(struct store *s, int64_t account_id, const char *type, const char *device, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_EVENT_INSERT);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	if (device && *device)
		sqlite3_bind_text(st, 4, device, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	enum err e = store_exec(s, st, "event insert");
	if (e)
		return e;
	st = store_stmt(s, STMT_EVENT_PRUNE);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, STORE_EVENTS_KEEP);
	return store_exec(s, st, "event prune");
}

enum err lite_event_list(struct store *s, int64_t account_id, int64_t limit,
    int (*fn)(void *ctx, const struct store_event *e), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_EVENT_LIST);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, limit);
	struct store_event ev;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof ev);
		ev.at = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, ev.type, sizeof ev.type);
		store_col_text(st, 2, ev.device, sizeof ev.device);
		if (fn(ctx, &ev) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "event list");
}

/* ---- usage and quotas ---- */

enum err lite_account_usage_add(struct store *s, int64_t account_id, int64_t bytes, int64_t records)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_USAGE_ADD);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, bytes);
	sqlite3_bind_int64(st, 3, records);
	return store_one_change(s, st, ERR_NOT_FOUND, "account usage");
}

enum err lite_account_set_quota(struct store *s, const char *username, int64_t bytes)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_QUOTA);
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	if (bytes < 0)
		sqlite3_bind_null(st, 2);
	else
		sqlite3_bind_int64(st, 2, bytes);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set quota");
}

enum err lite_account_set_plan(struct store *s, const char *username, const char *plan)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ACCOUNT_SET_PLAN);
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, plan, -1, SQLITE_STATIC);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set plan");
}
