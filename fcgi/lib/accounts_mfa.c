/*
 * accounts_mfa.c: two-factor login (TOTP, recovery codes) and the recovery
 * key (issue 15, docs/API-account.md) over the store's typed functions and
 * mfa.c, one transaction each.
 *
 * Every check of a code runs inside the transaction that records its
 * outcome, after store_account_by_id (which on PostgreSQL locks the
 * account's row), so that the checks of one account follow each other on
 * every worker and every node: a TOTP step is accepted once, a recovery
 * code used once, and the count of wrong codes is exact. Code checks are
 * cheap (three HMACs, or one HMAC and an indexed delete); the slow PBKDF2
 * of an auth_key or a recovery_auth always runs before the transaction.
 *
 * Must never: keep a TOTP secret, a code, a recovery_auth or a reset token
 * longer than needed (all wiped), store one in clear, read anything of the
 * second factor before the auth key is proven, or answer an unknown name
 * and a wrong recovery key differently (or after different work).
 */
#include "accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int64_t now_s(void) { return (int64_t)time(NULL); }

/* ---- the code check shared by login and the MFA routes ---- */

/*
 * Check f against the account's second factor inside the caller's
 * transaction and record the outcome. Returns a store error (the
 * transaction rolls back), or ERR_OK with *outcome set: ERR_OK (the code
 * was right: its step or recovery code is used up, the count reset),
 * ERR_MFA_REQUIRED (no code sent), ERR_INVALID_MFA (wrong: counted, and the
 * MFA_FAILS_MAX-th locks), ERR_RATE_LIMITED (*retry_after), so that a
 * wrong code's count commits although the answer is an error. totp_only:
 * a recovery code is not accepted (confirming the authenticator).
 * *used_code is set when a recovery code was used.
 */
enum err accounts_factor_check(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *public_id, int64_t account_id, struct store_mfa *m, const struct accounts_factor *f,
    int totp_only, int64_t now, enum err *outcome, int *retry_after, int *used_code)
{
	enum err e;
	*outcome = ERR_OK;
	*used_code = 0;
	if (!f || (!f->totp && !f->recovery_code)) {
		*outcome = ERR_MFA_REQUIRED;
		return ERR_OK;
	}
	if (m->locked_until > now) {
		*outcome = ERR_RATE_LIMITED;
		*retry_after = (int)(m->locked_until - now);
		return ERR_OK;
	}
	if (m->locked_until) {
		/* a lockout that has run out: a fresh count */
		m->locked_until = 0;
		m->fails = 0;
	}
	int ok = 0;
	if (f->totp) {
		uint8_t key[MFA_TOTP_SECRET_LEN];
		int64_t step = 0;
		if (!secret || mfa_totp_open(secret, public_id, m->totp_sealed, m->totp_sealed_len, key) != 0) {
			log_msg(LOG_ERROR, "mfa: the TOTP secret of account %lld does not open (was the secret file replaced?)",
			    (long long)account_id);
			return ERR_INTERNAL;
		}
		ok = mfa_totp_check(key, f->totp, f->totp_len, now, m->last_step, &step);
		bsc_wipe(key, sizeof key);
		if (ok)
			m->last_step = step;
	} else if (!totp_only) {
		char norm[MFA_CODE_CHARS + 1];
		uint8_t h[BSC_SHA256_LEN];
		if (secret && mfa_code_norm(f->recovery_code, f->recovery_code_len, norm) == 0) {
			if (mfa_code_hash(secret, public_id, norm, h) != 0)
				return ERR_INTERNAL;
			e = store_mfa_code_use(s, account_id, h);
			if (e && e != ERR_NOT_FOUND)
				return e;
			ok = e == ERR_OK;
			*used_code = ok;
		}
		bsc_wipe(norm, sizeof norm);
	}
	if (ok) {
		m->fails = 0;
		return store_mfa_set(s, account_id, m);
	}
	m->fails++;
	if (m->fails >= MFA_FAILS_MAX) {
		m->locked_until = now + c->mfa.lockout_seconds;
		m->fails = 0;
	}
	if ((e = store_mfa_set(s, account_id, m)) || (e = store_event_add(s, account_id, "mfa_failed", NULL, now)))
		return e;
	*outcome = ERR_INVALID_MFA;
	return ERR_OK;
}

/* Verify the account's current key (outside any transaction); *acc filled. */
static enum err check_key(struct store *s, int64_t account_id, const uint8_t *key, size_t keylen,
    struct store_account *acc)
{
	enum err e = store_account_by_id(s, account_id, acc);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	return auth_verify_key(acc, key, keylen, acc->auth_iterations) ? ERR_OK : ERR_INVALID_CREDENTIALS;
}

/* Inside a transaction: lock the account (PostgreSQL) and check its key is still the one verified. */
static enum err relock(struct store *s, int64_t account_id, const struct store_account *verified,
    struct store_account *now_acc)
{
	enum err e = store_account_by_id(s, account_id, now_acc);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	if (verified && !bsc_equal(now_acc->auth_hash, verified->auth_hash, STORE_HASH_LEN))
		return ERR_INVALID_CREDENTIALS;
	return ERR_OK;
}

/* A new set of codes and their hashes. 0 or -1. */
static int new_codes(const uint8_t secret[AUTH_SECRET_LEN], const char *public_id, struct accounts_codes *codes,
    uint8_t hashes[MFA_CODES][STORE_HASH_LEN])
{
	char norm[MFA_CODE_CHARS + 1];
	int rc = 0;
	for (int i = 0; rc == 0 && i < MFA_CODES; i++)
		if (mfa_code_new(codes->code[i]) != 0 ||
		    mfa_code_norm(codes->code[i], strlen(codes->code[i]), norm) != 0 ||
		    mfa_code_hash(secret, public_id, norm, hashes[i]) != 0)
			rc = -1;
	bsc_wipe(norm, sizeof norm);
	return rc;
}

/* ---- begin, confirm, disable, renew ---- */

struct begin_ctx {
	const struct auth *a;
	struct store_account acc;
	uint8_t sealed[MFA_SEALED_LEN];
};

static enum err begin_tx(struct store *s, void *arg)
{
	struct begin_ctx *x = arg;
	struct store_account cur;
	struct store_mfa m;
	enum err e;
	if ((e = relock(s, x->a->account_id, &x->acc, &cur)) || (e = store_mfa_get(s, x->a->account_id, &m)))
		return e;
	if (m.totp_on)
		return ERR_CONFLICT;
	memcpy(m.totp_sealed, x->sealed, MFA_SEALED_LEN);
	m.totp_sealed_len = MFA_SEALED_LEN;
	m.last_step = 0;
	e = store_mfa_set(s, x->a->account_id, &m);
	bsc_wipe(&m, sizeof m);
	return e;
}

enum err accounts_totp_begin(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, struct accounts_totp_new *out)
{
	struct begin_ctx x;
	uint8_t raw[MFA_TOTP_SECRET_LEN];
	memset(&x, 0, sizeof x);
	memset(out, 0, sizeof *out);
	x.a = a;
	enum err e = check_key(s, a->account_id, key, keylen, &x.acc);
	if (e)
		goto out;
	e = ERR_INTERNAL;
	if (bsc_random(raw, sizeof raw) != 0 || mfa_totp_seal(secret, x.acc.public_id, raw, x.sealed) != 0 ||
	    mfa_base32(raw, sizeof raw, out->secret, sizeof out->secret) != MFA_TOTP_B32_LEN ||
	    mfa_totp_uri(c->mfa.issuer, x.acc.username, out->secret, out->uri, sizeof out->uri) != 0)
		goto out;
	e = store_tx(s, begin_tx, &x);
out:
	if (e)
		bsc_wipe(out, sizeof *out);
	bsc_wipe(raw, sizeof raw);
	bsc_wipe(&x, sizeof x);
	return e;
}

enum mfa_op { OP_CONFIRM, OP_DISABLE, OP_RENEW };

struct op_ctx {
	enum mfa_op op;
	const struct config *c;
	const uint8_t *secret;
	const struct auth *a;
	const struct store_account *verified; /* NULL: confirm takes no auth_key */
	const struct accounts_factor *f;
	uint8_t hashes[MFA_CODES][STORE_HASH_LEN];
	enum err outcome;
	int retry_after;
};

static enum err op_tx(struct store *s, void *arg)
{
	struct op_ctx *x = arg;
	struct store_account cur;
	struct store_mfa m;
	int64_t id = x->a->account_id, now = now_s();
	int used = 0;
	enum err e;
	if ((e = relock(s, id, x->verified, &cur)) || (e = store_mfa_get(s, id, &m)))
		goto out;
	/* confirm needs a begun secret not yet on; disable and renew need TOTP on */
	if (x->op == OP_CONFIRM ? (m.totp_on || !m.totp_sealed_len) : !m.totp_on) {
		x->outcome = ERR_CONFLICT;
		goto out;
	}
	if ((e = accounts_factor_check(s, x->c, x->secret, cur.public_id, id, &m, x->f, x->op == OP_CONFIRM, now,
	    &x->outcome, &x->retry_after, &used)) || x->outcome)
		goto out;
	const char *dev = x->a->device_public_id;
	if (used && (e = store_event_add(s, id, "recovery_code_used", dev, now)))
		goto out;
	switch (x->op) {
	case OP_CONFIRM:
		m.totp_on = 1;
		if ((e = store_mfa_set(s, id, &m)) || (e = store_mfa_codes_set(s, id, x->hashes, MFA_CODES)))
			goto out;
		e = store_event_add(s, id, "mfa_enabled", dev, now);
		break;
	case OP_DISABLE:
		memset(&m, 0, sizeof m);
		if ((e = store_mfa_set(s, id, &m)) || (e = store_mfa_codes_set(s, id, NULL, 0)))
			goto out;
		e = store_event_add(s, id, "mfa_disabled", dev, now);
		break;
	case OP_RENEW:
		if ((e = store_mfa_codes_set(s, id, x->hashes, MFA_CODES)))
			goto out;
		e = store_event_add(s, id, "recovery_codes_renewed", dev, now);
		break;
	}
out:
	bsc_wipe(&m, sizeof m);
	return e;
}

enum err accounts_mfa_off(struct store *s, int64_t account_id, int *was_on)
{
	struct store_account acc;
	struct store_mfa m;
	enum err e;
	*was_on = 0;
	memset(&m, 0, sizeof m);
	/* the account's row first: on PostgreSQL it orders us after a login's code check */
	if ((e = store_account_by_id(s, account_id, &acc)) || (e = store_mfa_get(s, account_id, &m)))
		goto out;
	*was_on = m.totp_on || m.totp_sealed_len > 0 || m.recovery_codes > 0;
	if (!*was_on)
		goto out;
	memset(&m, 0, sizeof m);
	if ((e = store_mfa_set(s, account_id, &m)) || (e = store_mfa_codes_set(s, account_id, NULL, 0)))
		goto out;
	e = store_event_add(s, account_id, "mfa_disabled_by_admin", NULL, now_s());
out:
	bsc_wipe(&m, sizeof m);
	bsc_wipe(&acc, sizeof acc);
	return e;
}

/* The three operations of a code: check the key (unless confirm), make codes if any, run op_tx. */
static enum err run_op(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    enum mfa_op op, const struct auth *a, const uint8_t *key, size_t keylen, const struct accounts_factor *f,
    struct accounts_codes *codes, int *retry_after)
{
	struct op_ctx x;
	struct store_account acc;
	memset(&x, 0, sizeof x);
	memset(&acc, 0, sizeof acc);
	x.op = op;
	x.c = c;
	x.secret = secret;
	x.a = a;
	x.f = f;
	enum err e;
	if (key) {
		if ((e = check_key(s, a->account_id, key, keylen, &acc)))
			goto out;
		x.verified = &acc;
	} else if ((e = store_account_by_id(s, a->account_id, &acc))) {
		e = e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
		goto out;
	}
	if (codes && new_codes(secret, acc.public_id, codes, x.hashes) != 0) {
		e = ERR_INTERNAL;
		goto out;
	}
	if ((e = store_tx(s, op_tx, &x)) == ERR_OK)
		e = x.outcome;
	if (e == ERR_RATE_LIMITED && retry_after)
		*retry_after = x.retry_after;
out:
	if (e && codes)
		bsc_wipe(codes, sizeof *codes);
	bsc_wipe(&x, sizeof x);
	bsc_wipe(&acc, sizeof acc);
	return e;
}

enum err accounts_totp_confirm(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const struct accounts_factor *f, struct accounts_codes *codes, int *retry_after)
{
	return run_op(s, c, secret, OP_CONFIRM, a, NULL, 0, f, codes, retry_after);
}

enum err accounts_totp_disable(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, const struct accounts_factor *f, int *retry_after)
{
	return run_op(s, c, secret, OP_DISABLE, a, key, keylen, f, NULL, retry_after);
}

enum err accounts_codes_renew(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, const struct accounts_factor *f,
    struct accounts_codes *codes, int *retry_after)
{
	return run_op(s, c, secret, OP_RENEW, a, key, keylen, f, codes, retry_after);
}

/* ---- the recovery key ---- */

struct rk_ctx {
	const struct auth *a;
	struct store_account acc;
	struct store_recovery k;
	int remove;
};

static enum err rk_tx(struct store *s, void *arg)
{
	struct rk_ctx *x = arg;
	struct store_account cur;
	int64_t id = x->a->account_id, now = now_s();
	enum err e;
	if ((e = relock(s, id, &x->acc, &cur)))
		return e;
	if (x->remove) {
		if ((e = store_recovery_delete(s, id)))
			return e;
		return store_event_add(s, id, "recovery_key_removed", x->a->device_public_id, now);
	}
	if ((e = store_recovery_put(s, id, &x->k, now)))
		return e;
	return store_event_add(s, id, "recovery_key_set", x->a->device_public_id, now);
}

enum err accounts_recovery_put(struct store *s, const struct config *c, const struct auth *a, const uint8_t *key,
    size_t keylen, const uint8_t *recovery_auth, size_t ralen, const uint8_t *blob, size_t bloblen)
{
	struct rk_ctx x;
	memset(&x, 0, sizeof x);
	x.a = a;
	enum err e = check_key(s, a->account_id, key, keylen, &x.acc);
	if (e)
		goto out;
	x.k.auth_iterations = c->password_hash.iterations;
	x.k.blob = (uint8_t *)blob;
	x.k.blob_len = bloblen;
	e = ERR_INTERNAL;
	if (bsc_random(x.k.auth_salt, sizeof x.k.auth_salt) != 0 ||
	    auth_hash_key(recovery_auth, ralen, x.k.auth_salt, x.k.auth_iterations, x.k.auth_hash) != 0)
		goto out;
	e = store_tx(s, rk_tx, &x);
out:
	bsc_wipe(&x, sizeof x);
	return e;
}

enum err accounts_recovery_delete(struct store *s, const struct auth *a, const uint8_t *key, size_t keylen)
{
	struct rk_ctx x;
	memset(&x, 0, sizeof x);
	x.a = a;
	x.remove = 1;
	enum err e = check_key(s, a->account_id, key, keylen, &x.acc);
	if (e == ERR_OK)
		e = store_tx(s, rk_tx, &x);
	bsc_wipe(&x, sizeof x);
	return e;
}

struct reset_ctx {
	int64_t id;
	uint8_t hash[BSC_SHA256_LEN];
};

static enum err reset_tx(struct store *s, void *arg)
{
	struct reset_ctx *x = arg;
	return store_recovery_reset_set(s, x->id, x->hash, now_s() + ACCOUNTS_RESET_TTL);
}

enum err accounts_recover(struct store *s, const struct config *c, const char *username, const uint8_t *ra,
    size_t ralen, uint8_t **blob, size_t *bloblen, struct auth_token *reset, int64_t *failed_account)
{
	struct store_account acc;
	struct store_recovery k;
	*blob = NULL;
	*bloblen = 0;
	*failed_account = 0;
	memset(reset, 0, sizeof *reset);
	enum err e = store_account_by_name(s, username, &acc);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		return e;
	int known = e == ERR_OK;
	/* the same queries whatever the name: id 0 is no account */
	e = store_recovery_get(s, known ? acc.id : 0, &k);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		return e;
	int has_key = e == ERR_OK;
	/* the same PBKDF2 for an unknown name or no key (a dummy) as for a real check */
	struct store_account probe;
	memset(&probe, 0, sizeof probe);
	if (has_key) {
		memcpy(probe.auth_hash, k.auth_hash, STORE_HASH_LEN);
		memcpy(probe.auth_salt, k.auth_salt, STORE_SALT_LEN);
		probe.auth_iterations = k.auth_iterations;
	}
	int ok = auth_verify_key(has_key ? &probe : NULL, ra, ralen, c->password_hash.iterations);
	bsc_wipe(&probe, sizeof probe);
	if (!ok || acc.disabled) {
		if (has_key && !ok)
			*failed_account = acc.id;
		e = ERR_INVALID_CREDENTIALS;
		goto out;
	}
	struct reset_ctx x = {acc.id, {0}};
	if (auth_token_new(reset) != 0) {
		e = ERR_INTERNAL;
		goto out;
	}
	memcpy(x.hash, reset->hash, sizeof x.hash);
	if ((e = store_tx(s, reset_tx, &x)))
		goto out;
	*blob = k.blob;
	*bloblen = k.blob_len;
	k.blob = NULL;
out:
	if (e)
		bsc_wipe(reset, sizeof *reset);
	free(k.blob);
	bsc_wipe(&k, sizeof k);
	return e;
}

struct complete_ctx {
	const struct config *c;
	const struct accounts_recover_in *in;
	uint8_t token_hash[BSC_SHA256_LEN];
	uint8_t hash[STORE_HASH_LEN], salt[STORE_SALT_LEN];
};

static enum err complete_tx(struct store *s, void *arg)
{
	struct complete_ctx *x = arg;
	struct store_account acc;
	int64_t id = 0, now = now_s(), nv;
	enum err e = store_recovery_reset_find(s, x->token_hash, now, &id);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	/* lock the account, then use the key up: of two completions with one token, one wins */
	if ((e = store_account_by_id(s, id, &acc)))
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	if ((e = store_recovery_delete(s, id)))
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	if ((e = store_account_set_auth(s, id, x->hash, x->salt, x->c->password_hash.iterations)) ||
	    (e = store_account_set_kdf(s, id, x->in->new_kdf)) ||
	    (e = store_account_set_keyring(s, id, x->in->new_keyring, x->in->new_keyring_len, acc.keyring_version,
	        &nv)) ||
	    (e = store_device_delete_others(s, id, 0)) || (e = store_token_delete_account(s, id)))
		return e;
	return store_event_add(s, id, "account_recovered", NULL, now);
}

enum err accounts_recover_complete(struct store *s, const struct config *c, const struct accounts_recover_in *in)
{
	struct complete_ctx x;
	memset(&x, 0, sizeof x);
	x.c = c;
	x.in = in;
	int64_t id = 0;
	enum err e = ERR_UNAUTHORIZED;
	if (auth_token_hash(in->reset_token, in->reset_token_len, x.token_hash) != 0)
		goto out;
	/* a token that cannot be right costs no PBKDF2 (checked again in the transaction) */
	if ((e = store_recovery_reset_find(s, x.token_hash, now_s(), &id))) {
		e = e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
		goto out;
	}
	e = ERR_INTERNAL;
	if (bsc_random(x.salt, sizeof x.salt) != 0 ||
	    auth_hash_key(in->new_auth_key, in->new_auth_key_len, x.salt, c->password_hash.iterations, x.hash) != 0)
		goto out;
	e = store_tx(s, complete_tx, &x);
out:
	bsc_wipe(&x, sizeof x);
	return e;
}
