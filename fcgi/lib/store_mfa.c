/*
 * store_mfa.c: two-factor login (TOTP state, recovery codes) and the
 * recovery key in SQLite (store.h, "two-factor login and the recovery
 * key"). Part of the store module; every statement is in stmt.c.
 *
 * Must never: see a TOTP secret, a recovery code, a recovery_auth or a
 * reset token in clear (only sealed bytes and hashes arrive here), build
 * SQL text, or log a bound value.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

enum err lite_mfa_get(struct store *s, int64_t account_id, struct store_mfa *m)
{
	memset(m, 0, sizeof *m);
	sqlite3_stmt *st = store_stmt(s, STMT_MFA_GET);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_one_row(s, st, "mfa get");
	if (e == ERR_OK) {
		int n = sqlite3_column_bytes(st, 0);
		const void *b = sqlite3_column_blob(st, 0);
		if (b && n > 0 && (size_t)n <= sizeof m->totp_sealed) {
			memcpy(m->totp_sealed, b, (size_t)n);
			m->totp_sealed_len = (size_t)n;
		}
		m->totp_on = sqlite3_column_int(st, 1);
		m->last_step = sqlite3_column_int64(st, 2);
		m->fails = sqlite3_column_int64(st, 3);
		m->locked_until = sqlite3_column_int64(st, 4);
		m->recovery_key = sqlite3_column_int(st, 5);
		m->recovery_codes = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	return e;
}

enum err lite_mfa_set(struct store *s, int64_t account_id, const struct store_mfa *m)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MFA_SET);
	sqlite3_bind_int64(st, 1, account_id);
	if (m->totp_sealed_len)
		sqlite3_bind_blob(st, 2, m->totp_sealed, (int)m->totp_sealed_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int(st, 3, m->totp_on ? 1 : 0);
	sqlite3_bind_int64(st, 4, m->last_step);
	sqlite3_bind_int64(st, 5, m->fails);
	sqlite3_bind_int64(st, 6, m->locked_until);
	return store_exec(s, st, "mfa set");
}

enum err lite_mfa_codes_set(struct store *s, int64_t account_id, const uint8_t (*hashes)[STORE_HASH_LEN], int n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MFA_CODES_DELETE);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_exec(s, st, "recovery codes delete");
	for (int i = 0; e == ERR_OK && i < n; i++) {
		st = store_stmt(s, STMT_MFA_CODE_INSERT);
		sqlite3_bind_int64(st, 1, account_id);
		sqlite3_bind_blob(st, 2, hashes[i], STORE_HASH_LEN, SQLITE_STATIC);
		e = store_exec(s, st, "recovery code insert");
	}
	return e;
}

enum err lite_mfa_code_use(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN])
{
	sqlite3_stmt *st = store_stmt(s, STMT_MFA_CODE_USE);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_blob(st, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	return store_one_change(s, st, ERR_NOT_FOUND, "recovery code use");
}

enum err lite_recovery_get(struct store *s, int64_t account_id, struct store_recovery *k)
{
	memset(k, 0, sizeof *k);
	sqlite3_stmt *st = store_stmt(s, STMT_RECOVERY_GET);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_one_row(s, st, "recovery key get");
	if (e == ERR_OK) {
		const void *h = sqlite3_column_blob(st, 0), *salt = sqlite3_column_blob(st, 1);
		if (h && sqlite3_column_bytes(st, 0) == STORE_HASH_LEN)
			memcpy(k->auth_hash, h, STORE_HASH_LEN);
		if (salt && sqlite3_column_bytes(st, 1) == STORE_SALT_LEN)
			memcpy(k->auth_salt, salt, STORE_SALT_LEN);
		k->auth_iterations = sqlite3_column_int64(st, 2);
		int n = sqlite3_column_bytes(st, 3);
		const void *b = sqlite3_column_blob(st, 3);
		k->blob = malloc(n > 0 ? (size_t)n : 1);
		if (!k->blob) {
			e = ERR_INTERNAL;
		} else {
			if (b && n > 0)
				memcpy(k->blob, b, (size_t)n);
			k->blob_len = n > 0 ? (size_t)n : 0;
		}
	}
	sqlite3_reset(st);
	return e;
}

enum err lite_recovery_put(struct store *s, int64_t account_id, const struct store_recovery *k, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECOVERY_PUT);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_blob(st, 2, k->auth_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, k->auth_salt, STORE_SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, k->auth_iterations);
	sqlite3_bind_blob64(st, 5, k->blob ? (const void *)k->blob : "", k->blob_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	return store_exec(s, st, "recovery key put");
}

enum err lite_recovery_delete(struct store *s, int64_t account_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECOVERY_DELETE);
	sqlite3_bind_int64(st, 1, account_id);
	return store_one_change(s, st, ERR_NOT_FOUND, "recovery key delete");
}

enum err lite_recovery_reset_set(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN],
    int64_t expires_at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECOVERY_RESET_SET);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_blob(st, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, expires_at);
	return store_one_change(s, st, ERR_NOT_FOUND, "recovery reset set");
}

enum err lite_recovery_reset_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_RECOVERY_RESET_FIND);
	sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	enum err e = store_one_row(s, st, "recovery reset find");
	if (e == ERR_OK)
		*account_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return e;
}
