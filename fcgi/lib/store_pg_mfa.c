/*
 * store_pg_mfa.c: two-factor login (TOTP state, recovery codes) and the
 * recovery key on PostgreSQL: store_mfa.c's counterparts, the same
 * behaviour behind store.h. Every statement is in stmt_pg.c.
 *
 * Concurrency: the callers (accounts_mfa.c) read and write an account's
 * second factor only inside store_tx after store_account_by_id, which
 * locks the account's row, so that two code checks of one account (on any
 * node) follow each other: a TOTP step is used once, the wrong-code count
 * is exact. A recovery code, a recovery key and a reset token are used by
 * a DELETE that must change one row, so two uses cannot both succeed.
 *
 * Must never: see a secret in clear (only sealed bytes and hashes arrive
 * here), build SQL text, or log a bound value.
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

enum err pg_mfa_get(struct store *s, int64_t account_id, struct store_mfa *m)
{
	memset(m, 0, sizeof *m);
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_MFA_GET, &p, &r, "mfa get");
	if (e)
		return e;
	const uint8_t *b;
	size_t n = pg_bytes(r, 0, 0, &b);
	if (b && n > 0 && n <= sizeof m->totp_sealed) {
		memcpy(m->totp_sealed, b, n);
		m->totp_sealed_len = n;
	}
	m->totp_on = (int)pg_int(r, 0, 1);
	m->last_step = pg_int(r, 0, 2);
	m->fails = pg_int(r, 0, 3);
	m->locked_until = pg_int(r, 0, 4);
	m->recovery_key = (int)pg_int(r, 0, 5);
	m->recovery_codes = pg_int(r, 0, 6);
	PQclear(r);
	return ERR_OK;
}

enum err pg_mfa_set(struct store *s, int64_t account_id, const struct store_mfa *m)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	if (m->totp_sealed_len)
		pg_arg_bytes(&p, m->totp_sealed, m->totp_sealed_len);
	else
		pg_arg_null(&p);
	pg_arg_int(&p, m->totp_on ? 1 : 0);
	pg_arg_int(&p, m->last_step);
	pg_arg_int(&p, m->fails);
	pg_arg_int(&p, m->locked_until);
	return pg_run(s, PG_MFA_SET, &p, NULL, "mfa set");
}

enum err pg_mfa_codes_set(struct store *s, int64_t account_id, const uint8_t (*hashes)[STORE_HASH_LEN], int n)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	enum err e = pg_run(s, PG_MFA_CODES_DELETE, &p, NULL, "recovery codes delete");
	for (int i = 0; e == ERR_OK && i < n; i++) {
		struct pg_args q = {0};
		pg_arg_int(&q, account_id);
		pg_arg_bytes(&q, hashes[i], STORE_HASH_LEN);
		e = pg_run(s, PG_MFA_CODE_INSERT, &q, NULL, "recovery code insert");
	}
	return e;
}

enum err pg_mfa_code_use(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN])
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	return pg_one_change(s, PG_MFA_CODE_USE, &p, ERR_NOT_FOUND, "recovery code use");
}

enum err pg_recovery_get(struct store *s, int64_t account_id, struct store_recovery *k)
{
	memset(k, 0, sizeof *k);
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_RECOVERY_GET, &p, &r, "recovery key get");
	if (e)
		return e;
	pg_bytes_fixed(r, 0, 0, k->auth_hash, STORE_HASH_LEN);
	pg_bytes_fixed(r, 0, 1, k->auth_salt, STORE_SALT_LEN);
	k->auth_iterations = pg_int(r, 0, 2);
	const uint8_t *b;
	size_t n = pg_bytes(r, 0, 3, &b);
	k->blob = malloc(n > 0 ? n : 1);
	if (!k->blob) {
		e = ERR_INTERNAL;
	} else {
		if (b && n > 0)
			memcpy(k->blob, b, n);
		k->blob_len = n;
	}
	PQclear(r);
	return e;
}

enum err pg_recovery_put(struct store *s, int64_t account_id, const struct store_recovery *k, int64_t now)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_bytes(&p, k->auth_hash, STORE_HASH_LEN);
	pg_arg_bytes(&p, k->auth_salt, STORE_SALT_LEN);
	pg_arg_int(&p, k->auth_iterations);
	pg_arg_bytes(&p, k->blob ? (const void *)k->blob : "", k->blob_len);
	pg_arg_int(&p, now);
	return pg_run(s, PG_RECOVERY_PUT, &p, NULL, "recovery key put");
}

enum err pg_recovery_delete(struct store *s, int64_t account_id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	return pg_one_change(s, PG_RECOVERY_DELETE, &p, ERR_NOT_FOUND, "recovery key delete");
}

enum err pg_recovery_reset_set(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN],
    int64_t expires_at)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, expires_at);
	return pg_one_change(s, PG_RECOVERY_RESET_SET, &p, ERR_NOT_FOUND, "recovery reset set");
}

enum err pg_recovery_reset_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, now);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_RECOVERY_RESET_FIND, &p, &r, "recovery reset find");
	if (e)
		return e;
	*account_id = pg_int(r, 0, 0);
	PQclear(r);
	return ERR_OK;
}
