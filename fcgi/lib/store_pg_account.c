/*
 * store_pg_account.c: accounts, devices, tokens, invites and the activity
 * log on PostgreSQL: store_account.c's counterparts, the same behaviour
 * behind store.h. Every statement is in stmt_pg.c and runs through pg_run
 * with bound parameters (store_pg_impl.h).
 *
 * What SQLite's single writer gave for free: inside store_tx,
 * store_account_by_id locks the account's row (FOR NO KEY UPDATE: it
 * never changes a key, so it does not block the foreign-key checks of rows
 * inserted for the account meanwhile, a token or an event), so that two
 * writers of one account (a quota check then a usage update, on any node)
 * follow each other; the other writes are single statements whose WHERE
 * is checked again under the row lock (a refresh token is marked used
 * once, a keyring replaced only from the version expected, an invite used
 * once).
 *
 * Must never: store a token, invite code or auth key (only hashes arrive
 * here), build SQL text, or log a bound value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

/* One row of the ACCOUNT_COLS list of stmt_pg.c into *a. */
static void read_account(const PGresult *r, int row, struct store_account *a)
{
	memset(a, 0, sizeof *a);
	a->id = pg_int(r, row, 0);
	pg_text(r, row, 1, a->public_id, sizeof a->public_id);
	pg_text(r, row, 2, a->username, sizeof a->username);
	pg_bytes_fixed(r, row, 3, a->auth_hash, sizeof a->auth_hash);
	pg_bytes_fixed(r, row, 4, a->auth_salt, sizeof a->auth_salt);
	a->auth_iterations = pg_int(r, row, 5);
	pg_text(r, row, 6, a->kdf, sizeof a->kdf);
	a->keyring_version = pg_int(r, row, 7);
	a->created_at = pg_int(r, row, 8);
	a->disabled = (int)pg_int(r, row, 9);
	pg_text(r, row, 10, a->plan, sizeof a->plan);
	a->quota_bytes = pg_int(r, row, 11); /* coalesced to -1 */
	a->usage_bytes = pg_int(r, row, 12);
	a->usage_records = pg_int(r, row, 13);
	a->account_version = pg_int(r, row, 14);
}

enum err pg_account_insert(struct store *s, struct store_account *a, const uint8_t *keyring, size_t keyring_len)
{
	struct pg_args p = {0};
	pg_arg_text(&p, a->public_id);
	pg_arg_text(&p, a->username);
	pg_arg_bytes(&p, a->auth_hash, sizeof a->auth_hash);
	pg_arg_bytes(&p, a->auth_salt, sizeof a->auth_salt);
	pg_arg_int(&p, a->auth_iterations);
	pg_arg_text(&p, a->kdf);
	if (keyring)
		pg_arg_bytes(&p, keyring, keyring_len);
	else
		pg_arg_null(&p);
	pg_arg_int(&p, keyring ? 1 : 0);
	pg_arg_int(&p, a->created_at);
	PGresult *r = NULL;
	/* ON CONFLICT DO NOTHING: a taken name returns no row and leaves the
	 * transaction usable, as SQLite's constraint error did */
	enum err e = pg_one_row(s, PG_ACCOUNT_INSERT, &p, &r, "account insert");
	if (e == ERR_NOT_FOUND || e == ERR_CONFLICT)
		return ERR_USERNAME_TAKEN;
	if (e)
		return e;
	a->id = pg_int(r, 0, 0);
	a->keyring_version = keyring ? 1 : 0;
	PQclear(r);
	return ERR_OK;
}

static enum err account_by(struct store *s, enum pgstmt id, const struct pg_args *p, struct store_account *a)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, id, p, &r, "account lookup");
	if (e == ERR_OK)
		read_account(r, 0, a);
	PQclear(r);
	return e;
}

enum err pg_account_by_name(struct store *s, const char *username, struct store_account *a)
{
	struct pg_args p = {0};
	pg_arg_text(&p, username);
	return account_by(s, PG_ACCOUNT_BY_NAME, &p, a);
}

/* Inside store_tx the row is locked until the commit (see the file's header). */
enum err pg_account_by_id(struct store *s, int64_t id, struct store_account *a)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	int lock = pg_in_write_tx(s);
	enum err e = account_by(s, lock ? PG_ACCOUNT_BY_ID_LOCK : PG_ACCOUNT_BY_ID, &p, a);
	if (e == ERR_OK && lock)
		pg_lock_noted(s, id);
	return e;
}

enum err pg_account_keyring(struct store *s, int64_t id, uint8_t **out, size_t *len, int64_t *version)
{
	*out = NULL;
	*len = 0;
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_ACCOUNT_KEYRING, &p, &r, "keyring");
	if (e)
		return e;
	*version = pg_int(r, 0, 1);
	const uint8_t *b;
	size_t n = pg_bytes(r, 0, 0, &b);
	if (b) {
		*out = malloc(n > 0 ? n : 1);
		if (!*out) {
			e = ERR_INTERNAL;
		} else {
			if (n > 0)
				memcpy(*out, b, n);
			*len = n;
		}
	}
	PQclear(r);
	return e;
}

enum err pg_account_set_auth(struct store *s, int64_t id, const uint8_t hash[STORE_HASH_LEN],
    const uint8_t salt[STORE_SALT_LEN], int64_t iterations)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_bytes(&p, salt, STORE_SALT_LEN);
	pg_arg_int(&p, iterations);
	return pg_one_change(s, PG_ACCOUNT_SET_AUTH, &p, ERR_NOT_FOUND, "account set auth");
}

enum err pg_account_set_kdf(struct store *s, int64_t id, const char *kdf)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	pg_arg_text(&p, kdf);
	return pg_one_change(s, PG_ACCOUNT_SET_KDF, &p, ERR_NOT_FOUND, "account set kdf");
}

enum err pg_account_set_keyring(struct store *s, int64_t id, const uint8_t *keyring, size_t len,
    int64_t expected, int64_t *new_version)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	pg_arg_bytes(&p, keyring ? (const void *)keyring : "", keyring ? len : 0);
	pg_arg_int(&p, expected);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_ACCOUNT_SET_KEYRING, &p, &r, "account set keyring");
	if (e == ERR_NOT_FOUND)
		return ERR_PRECONDITION_FAILED;
	if (e)
		return e;
	if (new_version)
		*new_version = pg_int(r, 0, 0);
	PQclear(r);
	return ERR_OK;
}

enum err pg_account_delete(struct store *s, int64_t id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	return pg_one_change(s, PG_ACCOUNT_DELETE, &p, ERR_NOT_FOUND, "account delete");
}

enum err pg_account_set_disabled(struct store *s, const char *username, int disabled)
{
	struct pg_args p = {0};
	pg_arg_text(&p, username);
	pg_arg_int(&p, disabled ? 1 : 0);
	return pg_one_change(s, PG_ACCOUNT_SET_DISABLED, &p, ERR_NOT_FOUND, "account set disabled");
}

enum err pg_account_list(struct store *s, int (*fn)(void *ctx, const struct store_account *a), void *ctx)
{
	PGresult *r = NULL;
	enum err e = pg_run(s, PG_ACCOUNT_LIST, NULL, &r, "account list");
	if (e)
		return e;
	struct store_account a;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		read_account(r, i, &a);
		if (fn(ctx, &a) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_account_bump(struct store *s, int64_t id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, id);
	return pg_one_change(s, PG_ACCOUNT_BUMP, &p, ERR_NOT_FOUND, "account bump");
}

/* ---- devices ---- */

enum err pg_device_insert(struct store *s, int64_t account_id, const char *public_id, const char *name,
    const char *type, int64_t now, int64_t *id)
{
	struct pg_args p = {0};
	pg_arg_text(&p, public_id);
	pg_arg_int(&p, account_id);
	pg_arg_text(&p, name);
	pg_arg_text(&p, type);
	pg_arg_int(&p, now);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_DEVICE_INSERT, &p, &r, "device insert");
	if (e)
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	*id = pg_int(r, 0, 0);
	PQclear(r);
	return ERR_OK;
}

enum err pg_device_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_device *d), void *ctx)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	PGresult *r = NULL;
	enum err e = pg_run(s, PG_DEVICE_LIST, &p, &r, "device list");
	if (e)
		return e;
	struct store_device d;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&d, 0, sizeof d);
		d.id = pg_int(r, i, 0);
		pg_text(r, i, 1, d.public_id, sizeof d.public_id);
		pg_text(r, i, 2, d.name, sizeof d.name);
		pg_text(r, i, 3, d.type, sizeof d.type);
		d.created_at = pg_int(r, i, 4);
		d.last_seen_at = pg_int(r, i, 5);
		if (fn(ctx, &d) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_device_find(struct store *s, int64_t account_id, const char *public_id, int64_t *id)
{
	struct pg_args p = {0};
	pg_arg_text(&p, public_id);
	pg_arg_int(&p, account_id);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_DEVICE_BY_PUBLIC, &p, &r, "device find");
	if (e)
		return e;
	*id = pg_int(r, 0, 0);
	PQclear(r);
	return ERR_OK;
}

enum err pg_device_delete(struct store *s, int64_t device_id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, device_id);
	return pg_one_change(s, PG_DEVICE_DELETE, &p, ERR_NOT_FOUND, "device delete");
}

enum err pg_device_delete_others(struct store *s, int64_t account_id, int64_t keep)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, keep);
	return pg_run(s, PG_DEVICE_DELETE_OTHERS, &p, NULL, "device delete others");
}

enum err pg_device_touch(struct store *s, int64_t device_id, int64_t now)
{
	struct pg_args p = {0};
	pg_arg_int(&p, device_id);
	pg_arg_int(&p, now);
	return pg_run(s, PG_DEVICE_TOUCH, &p, NULL, "device touch");
}

/* ---- tokens ---- */

enum err pg_token_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    int64_t account_id, int64_t device_id, int64_t expires_at)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, (int64_t)kind);
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, device_id);
	pg_arg_int(&p, expires_at);
	return pg_run(s, PG_TOKEN_INSERT, &p, NULL, "token insert");
}

enum err pg_token_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    struct store_token *t)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, kind == STORE_TOKEN_ACCESS ? PG_TOKEN_ACCESS : PG_TOKEN_REFRESH, &p, &r,
	    "token lookup");
	if (e)
		return e;
	memset(t, 0, sizeof *t);
	t->account_id = pg_int(r, 0, 0);
	t->device_id = pg_int(r, 0, 1);
	t->expires_at = pg_int(r, 0, 2);
	t->disabled = (int)pg_int(r, 0, 3);
	pg_text(r, 0, 4, t->device_public_id, sizeof t->device_public_id);
	if (kind == STORE_TOKEN_ACCESS)
		t->last_seen_at = pg_int(r, 0, 5);
	else
		t->used_at = pg_int(r, 0, 5);
	PQclear(r);
	return ERR_OK;
}

enum err pg_token_mark_used(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, now);
	return pg_one_change(s, PG_TOKEN_MARK_USED, &p, ERR_CONFLICT, "token mark used");
}

enum err pg_token_delete_device(struct store *s, int64_t device_id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, device_id);
	return pg_run(s, PG_TOKEN_DELETE_DEVICE, &p, NULL, "token delete device");
}

enum err pg_token_prune_device(struct store *s, int64_t device_id, int64_t now)
{
	struct pg_args p = {0};
	pg_arg_int(&p, device_id);
	pg_arg_int(&p, now);
	return pg_run(s, PG_TOKEN_PRUNE_DEVICE, &p, NULL, "token prune device");
}

enum err pg_token_delete_account(struct store *s, int64_t account_id)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	return pg_run(s, PG_TOKEN_DELETE_ACCOUNT, &p, NULL, "token delete account");
}

/* ---- invites ---- */

enum err pg_invite_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t expires_at)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, now);
	pg_arg_int(&p, expires_at);
	return pg_run(s, PG_INVITE_INSERT, &p, NULL, "invite insert");
}

enum err pg_invite_usable(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, now);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_INVITE_USABLE, &p, &r, "invite usable");
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_INVALID_INVITE : e;
}

enum err pg_invite_use(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t account_id)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	pg_arg_int(&p, now);
	pg_arg_int(&p, account_id);
	return pg_one_change(s, PG_INVITE_USE, &p, ERR_INVALID_INVITE, "invite use");
}

enum err pg_invite_list(struct store *s, int (*fn)(void *ctx, const struct store_invite *i), void *ctx)
{
	PGresult *r = NULL;
	enum err e = pg_run(s, PG_INVITE_LIST, NULL, &r, "invite list");
	if (e)
		return e;
	struct store_invite iv;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&iv, 0, sizeof iv);
		iv.id = pg_int(r, i, 0);
		iv.created_at = pg_int(r, i, 1);
		iv.expires_at = pg_int(r, i, 2);
		iv.used_at = pg_int(r, i, 3);
		pg_text(r, i, 4, iv.used_by, sizeof iv.used_by);
		if (fn(ctx, &iv) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

/* ---- events ---- */

enum err pg_event_add(struct store *s, int64_t account_id, const char *type, const char *device, int64_t now)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, now);
	pg_arg_text(&p, type);
	pg_arg_text(&p, device && *device ? device : NULL);
	enum err e = pg_run(s, PG_EVENT_INSERT, &p, NULL, "event insert");
	if (e)
		return e;
	struct pg_args q = {0};
	pg_arg_int(&q, account_id);
	pg_arg_int(&q, STORE_EVENTS_KEEP);
	return pg_run(s, PG_EVENT_PRUNE, &q, NULL, "event prune");
}

enum err pg_event_list(struct store *s, int64_t account_id, int64_t limit,
    int (*fn)(void *ctx, const struct store_event *e), void *ctx)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, limit);
	PGresult *r = NULL;
	enum err e = pg_run(s, PG_EVENT_LIST, &p, &r, "event list");
	if (e)
		return e;
	struct store_event ev;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&ev, 0, sizeof ev);
		ev.at = pg_int(r, i, 0);
		pg_text(r, i, 1, ev.type, sizeof ev.type);
		pg_text(r, i, 2, ev.device, sizeof ev.device);
		if (fn(ctx, &ev) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

/* ---- usage and quotas ---- */

enum err pg_account_usage_add(struct store *s, int64_t account_id, int64_t bytes, int64_t records)
{
	struct pg_args p = {0};
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, bytes);
	pg_arg_int(&p, records);
	/* in a write transaction, deferred: its count is checked with the
	 * last round trip before the COMMIT; unless the transaction holds the
	 * row locked (a push: then it is there, and the COMMIT goes with it) */
	if (pg_batch_tail_usage(s, account_id, bytes, records))
		return ERR_OK; /* with the push's records and collection counters */
	if (pg_lock_held(s, account_id))
		return pg_run_deferred(s, PG_ACCOUNT_USAGE_ADD, &p, "account usage");
	return pg_one_change_deferred(s, PG_ACCOUNT_USAGE_ADD, &p, ERR_NOT_FOUND, "account usage");
}

enum err pg_account_set_quota(struct store *s, const char *username, int64_t bytes)
{
	struct pg_args p = {0};
	pg_arg_text(&p, username);
	if (bytes < 0)
		pg_arg_null(&p);
	else
		pg_arg_int(&p, bytes);
	return pg_one_change(s, PG_ACCOUNT_SET_QUOTA, &p, ERR_NOT_FOUND, "account set quota");
}

enum err pg_account_set_plan(struct store *s, const char *username, const char *plan)
{
	struct pg_args p = {0};
	pg_arg_text(&p, username);
	pg_arg_text(&p, plan);
	return pg_one_change(s, PG_ACCOUNT_SET_PLAN, &p, ERR_NOT_FOUND, "account set plan");
}
