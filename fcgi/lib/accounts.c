/*
 * accounts.c: account operations (api.md §3) over the store's typed
 * functions, one transaction each. Must never: hash inside a write
 * transaction, keep a secret longer than needed, or answer differently (or
 * after a different amount of work) for an unknown user and a wrong key.
 */
#include "accounts.h"
#include "share.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"

static int64_t now_s(void) { return (int64_t)time(NULL); }

void accounts_session_clear(struct accounts_session *s)
{
	if (!s)
		return;
	free(s->keyring);
	bsc_wipe(s, sizeof *s);
}

/* ---- register ---- */

struct reg_ctx {
	const struct accounts_register_in *in;
	struct store_account a;
	int invite_needed;
	uint8_t invite_hash[BSC_SHA256_LEN];
};

static enum err reg_tx(struct store *s, void *arg)
{
	struct reg_ctx *x = arg;
	enum err e;
	/* the invite first: a made-up invite must not tell a taken name from a
	 * free one (409 username_taken would answer only for a taken one) */
	if (x->invite_needed && (e = store_invite_usable(s, x->invite_hash, x->a.created_at)))
		return e;
	if ((e = store_account_insert(s, &x->a, x->in->keyring, x->in->keyring_len)))
		return e;
	if (x->invite_needed && (e = store_invite_use(s, x->invite_hash, x->a.created_at, x->a.id)))
		return e;
	return store_event_add(s, x->a.id, "register", NULL, x->a.created_at);
}

enum err accounts_register(struct store *s, const struct config *c, const struct accounts_register_in *in,
    char account_id[STORE_PUBLIC_ID_MAX + 1])
{
	struct reg_ctx x;
	memset(&x, 0, sizeof x);
	x.in = in;
	if (c->registration == REG_CLOSED)
		return ERR_REGISTRATION_CLOSED;
	if (c->registration == REG_INVITE) {
		if (!in->invite || in->invite_len == 0)
			return ERR_INVALID_INVITE;
		bsc_sha256(in->invite, in->invite_len, x.invite_hash);
		x.invite_needed = 1;
	}
	snprintf(x.a.username, sizeof x.a.username, "%s", in->username);
	snprintf(x.a.kdf, sizeof x.a.kdf, "%s", in->kdf);
	x.a.auth_iterations = c->password_hash.iterations;
	x.a.created_at = now_s();
	enum err e = ERR_INTERNAL;
	if (auth_public_id(x.a.public_id, sizeof x.a.public_id) != 0 ||
	    bsc_random(x.a.auth_salt, sizeof x.a.auth_salt) != 0 ||
	    auth_hash_key(in->auth_key, in->auth_key_len, x.a.auth_salt, x.a.auth_iterations, x.a.auth_hash) != 0)
		goto out;
	e = store_tx(s, reg_tx, &x);
	if (e == ERR_OK)
		snprintf(account_id, STORE_PUBLIC_ID_MAX + 1, "%s", x.a.public_id);
out:
	bsc_wipe(&x, sizeof x);
	return e;
}

/* ---- prelogin ---- */

enum err accounts_prelogin(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *username, struct buf *out)
{
	struct store_account a;
	enum err e = store_account_by_name(s, username, &a);
	if (e == ERR_OK) {
		buf_adds(out, a.kdf);
		return buf_error(out) ? ERR_INTERNAL : ERR_OK;
	}
	if (e != ERR_NOT_FOUND)
		return e;
	/* the fake: the template with a salt only the server can derive */
	uint8_t mac[BSC_SHA256_LEN];
	char salt[32];
	if (bsc_hmac_sha256(secret, AUTH_SECRET_LEN, username, strlen(username), mac) != 0 ||
	    bsc_b64_encode(mac, 16, salt, sizeof salt, BSC_B64_STD) < 0)
		return ERR_INTERNAL;
	const char *tpl = c->prelogin_fake_kdf_json;
	size_t n = strlen(tpl);
	if (n < 2 || tpl[n - 1] != '}')
		return ERR_INTERNAL;
	buf_add(out, tpl, n - 1);
	if (n > 2)
		buf_addc(out, ',');
	buf_printf(out, "\"salt\":\"%s\"}", salt);
	return buf_error(out) ? ERR_INTERNAL : ERR_OK;
}

/* ---- sessions ---- */

/* A new token pair for a device, inserted in the current transaction. */
static enum err new_pair(struct store *s, const struct config *c, int64_t account_id, int64_t device_id,
    int64_t now, struct accounts_session *out)
{
	if (auth_token_new(&out->access) != 0 || auth_token_new(&out->refresh) != 0)
		return ERR_INTERNAL;
	enum err e = store_token_insert(s, out->access.hash, STORE_TOKEN_ACCESS, account_id, device_id,
	    now + c->tokens.access_ttl);
	if (e)
		return e;
	out->expires_in = c->tokens.access_ttl;
	return store_token_insert(s, out->refresh.hash, STORE_TOKEN_REFRESH, account_id, device_id,
	    now + c->tokens.refresh_ttl);
}

struct login_ctx {
	const struct config *c;
	struct store_account a;
	const char *dev_name, *dev_type;
	int ok;                  /* the key matched */
	int rehash;
	uint8_t new_hash[STORE_HASH_LEN], new_salt[STORE_SALT_LEN];
	const uint8_t *secret;   /* the server secret (NULL: no factor can be checked) */
	const struct accounts_factor *f;
	enum err outcome;        /* the second factor's answer, decided in a committed transaction */
	struct accounts_session *out;
};

/*
 * The second factor, first in the login's transaction (the key is proven):
 * nothing for an account without TOTP; otherwise the code is checked and
 * its outcome recorded (x->outcome), a wrong one committed as such.
 */
static enum err login_factor(struct store *s, struct login_ctx *x, int64_t now)
{
	struct store_account cur;
	struct store_mfa m;
	int used = 0;
	/* locks the account's row on PostgreSQL: the code checks of one account follow each other */
	enum err e = store_account_by_id(s, x->a.id, &cur);
	if (e == ERR_OK)
		e = store_mfa_get(s, x->a.id, &m);
	if (e || !m.totp_on)
		goto out;
	if ((e = accounts_factor_check(s, x->c, x->secret, x->a.public_id, x->a.id, &m, x->f, 0, now, &x->outcome,
	    &x->out->retry_after, &used)) || x->outcome)
		goto out;
	if (used)
		e = store_event_add(s, x->a.id, "recovery_code_used", NULL, now);
out:
	bsc_wipe(&m, sizeof m);
	return e;
}

static enum err login_tx(struct store *s, void *arg)
{
	struct login_ctx *x = arg;
	int64_t now = now_s();
	enum err e;
	if ((e = login_factor(s, x, now)) || x->outcome)
		return e;
	if (x->rehash && (e = store_account_set_auth(s, x->a.id, x->new_hash, x->new_salt,
	    x->c->password_hash.iterations)))
		return e;
	int64_t dev;
	if (auth_public_id(x->out->device_id, sizeof x->out->device_id) != 0)
		return ERR_INTERNAL;
	if ((e = store_device_insert(s, x->a.id, x->out->device_id, x->dev_name, x->dev_type, now, &dev)))
		return e;
	if ((e = new_pair(s, x->c, x->a.id, dev, now, x->out)))
		return e;
	if ((e = store_event_add(s, x->a.id, "login", x->out->device_id, now)))
		return e;
	if ((e = store_account_keyring(s, x->a.id, &x->out->keyring, &x->out->keyring_len, &x->a.keyring_version)))
		return e;
	x->out->keyring_version = x->out->keyring ? x->a.keyring_version : 0;
	return ERR_OK;
}

enum err accounts_login(struct store *s, const struct config *c, const char *username, const uint8_t *key,
    size_t keylen, const char *device_name, const char *device_type, struct accounts_session *out)
{
	return accounts_login_factor(s, c, NULL, username, key, keylen, device_name, device_type, NULL, out);
}

enum err accounts_login_factor(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *username, const uint8_t *key, size_t keylen, const char *device_name, const char *device_type,
    const struct accounts_factor *f, struct accounts_session *out)
{
	struct login_ctx x;
	memset(&x, 0, sizeof x);
	memset(out, 0, sizeof *out);
	x.c = c;
	x.out = out;
	x.secret = secret;
	x.f = f;
	x.dev_name = device_name;
	x.dev_type = device_type;
	enum err e = store_account_by_name(s, username, &x.a);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		return e;
	int known = e == ERR_OK;
	x.ok = auth_verify_key(known ? &x.a : NULL, key, keylen, c->password_hash.iterations);
	if (!known) {
		e = ERR_INVALID_CREDENTIALS;
		goto out;
	}
	if (x.ok && x.a.disabled) {
		e = ERR_FORBIDDEN;
		goto out;
	}
	if (x.ok && x.a.auth_iterations != c->password_hash.iterations) {
		/* the config changed: rehash now that we hold the key */
		if (bsc_random(x.new_salt, sizeof x.new_salt) != 0 ||
		    auth_hash_key(key, keylen, x.new_salt, c->password_hash.iterations, x.new_hash) != 0) {
			e = ERR_INTERNAL;
			goto out;
		}
		x.rehash = 1;
	}
	if (!x.ok) {
		/*
		 * A wrong key: no write here. The login_failed event is a commit
		 * (an fsync, ~0.6 ms or more) that an unknown name does not pay;
		 * written before the answer, it told the two apart by the time
		 * taken. The caller records it once the answer is out.
		 */
		e = ERR_INVALID_CREDENTIALS;
		goto out;
	}
	e = store_tx(s, login_tx, &x);
	if (e == ERR_OK)
		e = x.outcome;
	if (e == ERR_OK)
		snprintf(out->account_id, sizeof out->account_id, "%s", x.a.public_id);
out:
	if (e != ERR_OK) {
		int retry = out->retry_after;
		accounts_session_clear(out);
		out->retry_after = retry;
	}
	if (e == ERR_INVALID_CREDENTIALS && known)
		out->failed_account = x.a.id;
	bsc_wipe(&x, sizeof x);
	return e;
}

struct failed_tx {
	int64_t account_id;
	const char *kind;
};

static enum err failed_tx(struct store *s, void *arg)
{
	const struct failed_tx *x = arg;
	return store_event_add(s, x->account_id, x->kind, NULL, now_s());
}

enum err accounts_failed(struct store *s, int64_t account_id, const char *kind)
{
	struct failed_tx x = {account_id, kind};
	return store_tx(s, failed_tx, &x);
}

struct refresh_ctx {
	const struct config *c;
	uint8_t hash[BSC_SHA256_LEN];
	enum err outcome;        /* an answer decided inside a committed transaction */
	struct store_account a;
	struct accounts_session *out;
};

static enum err refresh_tx(struct store *s, void *arg)
{
	struct refresh_ctx *x = arg;
	struct store_token t;
	int64_t now = now_s();
	enum err e = store_token_find(s, x->hash, STORE_TOKEN_REFRESH, &t);
	if (e == ERR_NOT_FOUND || (e == ERR_OK && t.disabled)) {
		x->outcome = ERR_UNAUTHORIZED;
		return ERR_OK;
	}
	if (e)
		return e;
	if (t.used_at != 0) {
		/* a second presentation: someone else has this token; end the device's session */
		if ((e = store_token_delete_device(s, t.device_id)))
			return e;
		x->outcome = ERR_TOKEN_REUSED;
		return store_event_add(s, t.account_id, "refresh_reused", t.device_public_id, now);
	}
	if (t.expires_at <= now) {
		x->outcome = ERR_TOKEN_EXPIRED;
		return ERR_OK;
	}
	if ((e = store_token_mark_used(s, x->hash, now)))
		return e;
	/* the old access token lives out its short life (requests in flight
	 * keep working); expired rows of the device go now */
	if ((e = store_token_prune_device(s, t.device_id, now)))
		return e;
	if ((e = new_pair(s, x->c, t.account_id, t.device_id, now, x->out)))
		return e;
	if ((e = store_account_by_id(s, t.account_id, &x->a)))
		return e;
	snprintf(x->out->device_id, sizeof x->out->device_id, "%s", t.device_public_id);
	snprintf(x->out->account_id, sizeof x->out->account_id, "%s", x->a.public_id);
	x->outcome = ERR_OK;
	return ERR_OK;
}

enum err accounts_refresh(struct store *s, const struct config *c, const char *token, size_t len,
    struct accounts_session *out)
{
	struct refresh_ctx x;
	memset(&x, 0, sizeof x);
	memset(out, 0, sizeof *out);
	x.c = c;
	x.out = out;
	if (auth_token_hash(token, len, x.hash) != 0)
		return ERR_UNAUTHORIZED;
	enum err e = store_tx(s, refresh_tx, &x);
	if (e == ERR_OK)
		e = x.outcome;
	if (e != ERR_OK)
		accounts_session_clear(out);
	bsc_wipe(&x, sizeof x);
	return e;
}

/* ---- authenticated operations ---- */

struct dev_ctx {
	const struct auth *a;
	const char *device_id;
};

static enum err logout_tx(struct store *s, void *arg)
{
	const struct auth *a = arg;
	enum err e = store_token_delete_device(s, a->device_id);
	if (e)
		return e;
	return store_event_add(s, a->account_id, "logout", a->device_public_id, now_s());
}

enum err accounts_logout(struct store *s, const struct auth *a) { return store_tx(s, logout_tx, (void *)a); }

static enum err revoke_tx(struct store *s, void *arg)
{
	struct dev_ctx *x = arg;
	int64_t dev;
	enum err e = store_device_find(s, x->a->account_id, x->device_id, &dev);
	if (e)
		return e;
	if ((e = store_device_delete(s, dev)))
		return e;
	return store_event_add(s, x->a->account_id, "device_revoked", x->device_id, now_s());
}

enum err accounts_device_revoke(struct store *s, const struct auth *a, const char *device_id)
{
	struct dev_ctx x = {a, device_id};
	return store_tx(s, revoke_tx, &x);
}

struct keyring_ctx {
	const struct auth *a;
	const uint8_t *keyring;
	size_t len;
	int64_t expected, new_version, current;
};

static enum err keyring_tx(struct store *s, void *arg)
{
	struct keyring_ctx *x = arg;
	enum err e = store_account_set_keyring(s, x->a->account_id, x->keyring, x->len, x->expected, &x->new_version);
	if (e == ERR_PRECONDITION_FAILED) {
		uint8_t *old = NULL;
		size_t n = 0;
		if (store_account_keyring(s, x->a->account_id, &old, &n, &x->current) != ERR_OK)
			x->current = -1;
		free(old);
		return e;
	}
	if (e)
		return e;
	return store_event_add(s, x->a->account_id, "keyring_changed", x->a->device_public_id, now_s());
}

enum err accounts_keyring_put(struct store *s, const struct auth *a, const uint8_t *keyring, size_t len,
    int64_t expected, int64_t *new_version, int64_t *current)
{
	struct keyring_ctx x = {a, keyring, len, expected, 0, 0};
	enum err e = store_tx(s, keyring_tx, &x);
	*new_version = x.new_version;
	*current = x.current;
	return e;
}

/* Verify the account's current key (outside any transaction). */
static enum err check_key(struct store *s, int64_t account_id, const uint8_t *key, size_t keylen,
    struct store_account *acc)
{
	enum err e = store_account_by_id(s, account_id, acc);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	return auth_verify_key(acc, key, keylen, acc->auth_iterations) ? ERR_OK : ERR_INVALID_CREDENTIALS;
}

struct password_ctx {
	const struct config *c;
	const struct auth *a;
	const struct accounts_password_in *in;
	struct store_account acc;
	uint8_t hash[STORE_HASH_LEN], salt[STORE_SALT_LEN];
};

static enum err password_tx(struct store *s, void *arg)
{
	struct password_ctx *x = arg;
	struct store_account now_acc;
	int64_t id = x->a->account_id, now = now_s();
	enum err e = store_account_by_id(s, id, &now_acc);
	if (e)
		return e;
	/* the key checked outside must still be the current one */
	if (memcmp(now_acc.auth_hash, x->acc.auth_hash, STORE_HASH_LEN) != 0)
		return ERR_INVALID_CREDENTIALS;
	if ((e = store_account_set_auth(s, id, x->hash, x->salt, x->c->password_hash.iterations)))
		return e;
	if ((e = store_account_set_kdf(s, id, x->in->new_kdf)))
		return e;
	if (x->in->new_keyring) {
		int64_t nv;
		if ((e = store_account_set_keyring(s, id, x->in->new_keyring, x->in->new_keyring_len,
		    now_acc.keyring_version, &nv)))
			return e;
	}
	if (x->in->revoke_other_devices && (e = store_device_delete_others(s, id, x->a->device_id)))
		return e;
	return store_event_add(s, id, "password_changed", x->a->device_public_id, now);
}

enum err accounts_password(struct store *s, const struct config *c, const struct auth *a,
    const struct accounts_password_in *in)
{
	struct password_ctx x;
	memset(&x, 0, sizeof x);
	x.c = c;
	x.a = a;
	x.in = in;
	enum err e = check_key(s, a->account_id, in->auth_key, in->auth_key_len, &x.acc);
	if (e)
		goto out;
	e = ERR_INTERNAL;
	if (bsc_random(x.salt, sizeof x.salt) != 0 ||
	    auth_hash_key(in->new_auth_key, in->new_auth_key_len, x.salt, c->password_hash.iterations, x.hash) != 0)
		goto out;
	e = store_tx(s, password_tx, &x);
out:
	bsc_wipe(&x, sizeof x);
	return e;
}

struct delete_ctx {
	int64_t id;
	uint8_t hash[STORE_HASH_LEN];
	struct share_ids *peers;
};

static enum err delete_tx(struct store *s, void *arg)
{
	struct delete_ctx *x = arg;
	struct store_account acc;
	enum err e = store_account_by_id(s, x->id, &acc);
	if (e)
		return e;
	if (memcmp(acc.auth_hash, x->hash, STORE_HASH_LEN) != 0)
		return ERR_INVALID_CREDENTIALS;
	if (x->peers)
		x->peers->n = 0;
	/* whoever shared with it sees it go; then its rows cascade away */
	if ((e = store_share_account_peers(s, x->id, x->peers ? share_ids_add : NULL, x->peers)))
		return e;
	return store_account_delete(s, x->id);
}

enum err accounts_delete(struct store *s, const struct auth *a, const uint8_t *key, size_t keylen,
    struct share_ids *peers)
{
	struct store_account acc;
	enum err e = check_key(s, a->account_id, key, keylen, &acc);
	if (e == ERR_OK) {
		struct delete_ctx x = {a->account_id, {0}, peers};
		memcpy(x.hash, acc.auth_hash, STORE_HASH_LEN);
		e = store_tx(s, delete_tx, &x);
	}
	bsc_wipe(&acc, sizeof acc);
	return e;
}

/* ---- blindsync-live tickets ---- */

struct ticket_ctx {
	const struct auth *a;
	const uint8_t *hash;
	int64_t account_id, device_id;
};

static enum err ticket_put_tx(struct store *s, void *arg)
{
	struct ticket_ctx *x = arg;
	int64_t now = now_s();
	return store_live_ticket_put(s, x->hash, x->a->account_id, x->a->device_id, now,
	    now + ACCOUNTS_LIVE_TICKET_TTL);
}

enum err accounts_live_ticket(struct store *s, const struct auth *a, struct auth_token *t)
{
	if (auth_token_new(t) != 0)
		return ERR_INTERNAL;
	struct ticket_ctx x = {a, t->hash, 0, 0};
	return store_tx(s, ticket_put_tx, &x);
}

static enum err ticket_take_tx(struct store *s, void *arg)
{
	struct ticket_ctx *x = arg;
	int64_t now = now_s();
	enum err e = store_live_ticket_take(s, x->hash, now, &x->account_id, &x->device_id);
	if (e == ERR_UNAUTHORIZED)
		return ERR_OK; /* commit the take: a used ticket stays used */
	if (e)
		return e;
	e = store_live_device_ok(s, x->account_id, x->device_id, now, NULL);
	if (e == ERR_UNAUTHORIZED) {
		x->account_id = x->device_id = 0;
		return ERR_OK;
	}
	return e;
}

enum err accounts_live_redeem(struct store *s, const char *ticket, size_t len, int64_t *account_id,
    int64_t *device_id)
{
	uint8_t hash[BSC_SHA256_LEN];
	*account_id = *device_id = 0;
	if (auth_token_hash(ticket, len, hash) != 0)
		return ERR_UNAUTHORIZED;
	struct ticket_ctx x = {NULL, hash, 0, 0};
	enum err e = store_tx(s, ticket_take_tx, &x);
	if (e)
		return e;
	if (x.account_id <= 0)
		return ERR_UNAUTHORIZED;
	*account_id = x.account_id;
	*device_id = x.device_id;
	return ERR_OK;
}
