/*
 * account.c: blindsync-account, the routes of api.md §3. The route table
 * at the end says what each route needs (credentials, body, field table,
 * cap) and the dispatcher checks it; each handler then reads its members
 * with the typed getters, calls accounts.c, and answers. Never logs or
 * echoes a credential.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "auth.h"
#include "json.h"
#include "jstream.h"
#include "log.h"
#include "serve.h"
#include "share.h"
#include "transfer.h"

static uint8_t server_secret[AUTH_SECRET_LEN];

static int init(const struct config *c, char *errbuf, size_t errlen)
{
	if (auth_secret_load(c->secret_file, server_secret, errbuf, errlen) != 0)
		return -1;
	serve_limit_key(server_secret);
	return 0;
}

/* ---- input helpers ---- */

/* The username member, validated and lowercased into out. */
static enum err get_username(struct req *r, char *out)
{
	const char *s = NULL;
	size_t n = 0;
	enum err e = json_get_str(r->json, "username", 1, 0, 256, &s, &n, r->errmsg);
	if (e)
		return e;
	if (auth_username(s, n, out) != 0)
		return http_fail(r, ERR_INVALID_REQUEST,
		    "username: 3 to 64 characters of a-z 0-9 . _ - @ +, starting with a letter or digit.");
	return ERR_OK;
}

/* A base64 auth key member of 32..64 bytes; *out is freed by the caller (wipe first). */
static enum err get_key(struct req *r, const char *name, uint8_t **out, size_t *len)
{
	return json_get_b64(r->json, name, 1, AUTH_KEY_MIN, AUTH_KEY_MAX, out, len, r->errmsg);
}

static void free_key(uint8_t *k, size_t n)
{
	if (k)
		bsc_wipe(k, n);
	free(k);
}

/*
 * The kdf object member `name`, kept verbatim: its exact text in the body,
 * copied into out (<= STORE_KDF_MAX bytes and a NUL), so that prelogin and
 * export give back the very bytes the client sent (json-c would turn a huge
 * integer into 18446744073709551615 and a lone surrogate into U+FFFD). The
 * text must also be one the import of an export reads (transfer.h bounds:
 * no U+0000 or lone surrogate, at most TRANSFER_MAX_DEPTH - 1 levels below
 * the document). The dispatcher keeps small bodies for this.
 */
static enum err get_kdf(struct req *r, const char *name, char *out)
{
	const struct jstream_opts check = {0, TRANSFER_MAX_STRING, TRANSFER_MAX_DEPTH - 1};
	size_t off, n;
	enum err e;
	if (!r->body)
		return http_fail(r, ERR_BODY_TOO_LARGE, "%s: the body is too large for a kdf.", name);
	if ((e = json_member_text(r->body, r->body_len, name, &check, &off, &n, r->errmsg)))
		return e;
	if (n > STORE_KDF_MAX)
		return http_fail(r, ERR_INVALID_REQUEST, "%s: at most %d bytes of JSON.", name, STORE_KDF_MAX);
	memcpy(out, r->body + off, n);
	out[n] = '\0';
	return ERR_OK;
}

/* Text shown back to the user (device name/type): no control characters. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void write_session(struct req *r, const struct accounts_session *s, int with_keyring)
{
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "access_token"); jw_str(&w, s->access.text);
	jw_key(&w, "token_type"); jw_str(&w, "Bearer");
	jw_key(&w, "expires_in"); jw_int(&w, s->expires_in);
	jw_key(&w, "refresh_token"); jw_str(&w, s->refresh.text);
	jw_key(&w, "device_id"); jw_str(&w, s->device_id);
	jw_key(&w, "account_id"); jw_str(&w, s->account_id);
	if (with_keyring) {
		jw_key(&w, "keyring");
		if (s->keyring)
			jw_b64(&w, s->keyring, s->keyring_len);
		else
			jw_null(&w);
		/* the keyring's AAD binds its version (client.md §3): a login needs no second request */
		jw_key(&w, "keyring_version"); jw_int(&w, s->keyring_version);
	}
	jw_obj_end(&w);
	http_respond_json(r, 200);
}

/* ---- public routes ---- */

static const struct jfield register_fields[] = {
	{"username", JT_STRING, 1}, {"auth_key", JT_STRING, 1}, {"kdf", JT_OBJECT, 1},
	{"keyring", JT_NULLABLE_STRING, 0}, {"invite", JT_NULLABLE_STRING, 0},
};

static enum err do_register(struct req *r)
{
	char username[STORE_USERNAME_MAX + 1], kdf[STORE_KDF_MAX + 1], id[STORE_PUBLIC_ID_MAX + 1];
	uint8_t *key = NULL, *keyring = NULL;
	size_t keylen = 0, keyringlen = 0;
	const char *invite = NULL;
	size_t invitelen = 0;
	enum err e;
	if ((e = get_username(r, username)) ||
	    (e = serve_limit(r, username, 0)) || (e = get_key(r, "auth_key", &key, &keylen)) ||
	    (e = get_kdf(r, "kdf", kdf)) ||
	    (e = json_get_b64(r->json, "keyring", 0, 0, ACCOUNTS_KEYRING_MAX, &keyring, &keyringlen, r->errmsg)) ||
	    (e = json_get_str(r->json, "invite", 0, 1, 128, &invite, &invitelen, r->errmsg)))
		goto out;
	struct accounts_register_in in = {username, key, keylen, kdf, keyring, keyringlen, invite, invitelen};
	if ((e = accounts_register(r->store, r->cfg, &in, id)))
		goto out;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "account_id"); jw_str(&w, id);
	jw_obj_end(&w);
	http_respond_json(r, 201);
out:
	free_key(key, keylen);
	free(keyring);
	return e;
}

static const struct jfield prelogin_fields[] = {{"username", JT_STRING, 1}};

static enum err do_prelogin(struct req *r)
{
	char username[STORE_USERNAME_MAX + 1];
	enum err e;
	if ((e = get_username(r, username)) || (e = serve_limit(r, username, 0)))
		return e;
	struct buf kdf;
	buf_init(&kdf, STORE_KDF_MAX + 256);
	e = accounts_prelogin(r->store, r->cfg, server_secret, username, &kdf);
	if (e == ERR_OK) {
		struct jw w;
		jw_init(&w, &r->out);
		jw_obj_begin(&w);
		jw_key(&w, "kdf"); jw_raw(&w, kdf.p, kdf.len);
		jw_obj_end(&w);
		http_respond_json(r, 200);
	}
	buf_free(&kdf);
	return e;
}

static const struct jfield login_fields[] = {
	{"username", JT_STRING, 1}, {"auth_key", JT_STRING, 1}, {"device", JT_OBJECT, 0},
	{"totp", JT_STRING, 0}, {"recovery_code", JT_STRING, 0},
};

/*
 * A second factor from the members `totp` and `recovery_code` (login), or
 * from the one member `code` (the MFA routes: six digits are a TOTP code,
 * anything else a recovery code), checked for shape only: 400 for a code
 * that cannot be one, whatever the account.
 */
static enum err get_factor(struct req *r, int from_code, struct accounts_factor *f)
{
	const char *t = NULL, *rc = NULL;
	size_t tn = 0, rcn = 0;
	char norm[MFA_CODE_CHARS + 1];
	enum err e;
	memset(f, 0, sizeof *f);
	if (from_code) {
		if ((e = json_get_str(r->json, "code", 1, 1, 64, &t, &tn, r->errmsg)))
			return e;
		if (!mfa_totp_shape(t, tn)) {
			rc = t;
			rcn = tn;
			t = NULL;
		}
	} else if ((e = json_get_str(r->json, "totp", 0, 1, 64, &t, &tn, r->errmsg)) ||
	    (e = json_get_str(r->json, "recovery_code", 0, 1, 64, &rc, &rcn, r->errmsg))) {
		return e;
	}
	if (t && rc)
		return http_fail(r, ERR_INVALID_REQUEST, "Send totp or recovery_code, not both.");
	if (t && !mfa_totp_shape(t, tn))
		return http_fail(r, ERR_INVALID_REQUEST, "totp: 6 digits.");
	if (rc && mfa_code_norm(rc, rcn, norm) != 0)
		return http_fail(r, ERR_INVALID_REQUEST,
		    "%s: a TOTP code is 6 digits, a recovery code 12 letters and digits (xxxx-xxxx-xxxx).",
		    from_code ? "code" : "recovery_code");
	bsc_wipe(norm, sizeof norm);
	f->totp = t;
	f->totp_len = tn;
	f->recovery_code = rc;
	f->recovery_code_len = rcn;
	return ERR_OK;
}

/* The answer to a code while the account's codes are locked: 429 with Retry-After. */
static enum err mfa_locked(struct req *r, int retry_after)
{
	http_add_header(r, "Retry-After", "%d", retry_after > 0 ? retry_after : 1);
	return http_fail(r, ERR_RATE_LIMITED, "Too many wrong codes; retry in %d seconds.",
	    retry_after > 0 ? retry_after : 1);
}

/* After a 401 for a wrong key has gone out: the account's `kind` event
 * ("login_failed", "recovery_failed"). */
static void record_failed(struct store *s, int64_t account_id, const char *kind)
{
	enum err e = accounts_failed(s, account_id, kind);
	if (e != ERR_OK)
		log_msg(LOG_ERROR, "cannot record the %s event of account %" PRId64 ": %s", kind, account_id,
		    err_code(e));
}

/* serve_after() callbacks: a wrong key at login, a wrong recovery key. */
static void record_login_failed(struct store *s, int64_t account_id)
{
	record_failed(s, account_id, "login_failed");
}

static void record_recover_failed(struct store *s, int64_t account_id)
{
	record_failed(s, account_id, "recovery_failed");
}

static enum err do_login(struct req *r)
{
	static const struct jfield df[] = {{"name", JT_STRING, 0}, {"type", JT_STRING, 0}};
	char username[STORE_USERNAME_MAX + 1];
	uint8_t *key = NULL;
	size_t keylen = 0;
	const char *name = "unnamed", *type = "unknown";
	struct accounts_session s;
	memset(&s, 0, sizeof s);
	enum err e;
	if ((e = get_username(r, username)) || (e = serve_limit(r, username, 0)) ||
	    (e = get_key(r, "auth_key", &key, &keylen)))
		goto out;
	struct json_object *dev;
	if (json_object_object_get_ex(r->json, "device", &dev) && dev) {
		if ((e = json_check_fields(dev, df, sizeof df / sizeof *df, "device", r->errmsg)) ||
		    (e = json_get_str(dev, "name", 0, 1, 64, &name, NULL, r->errmsg)) ||
		    (e = json_get_str(dev, "type", 0, 1, 32, &type, NULL, r->errmsg)))
			goto out;
		if (!printable(name) || !printable(type)) {
			e = http_fail(r, ERR_INVALID_REQUEST, "device: name and type must not contain control characters.");
			goto out;
		}
	}
	struct accounts_factor f;
	if ((e = get_factor(r, 0, &f)))
		goto out;
	if ((e = accounts_login_factor(r->store, r->cfg, server_secret, username, key, keylen, name, type, &f, &s))) {
		if (e == ERR_INVALID_CREDENTIALS && s.failed_account)
			serve_after(r, record_login_failed, s.failed_account);
		if (e == ERR_FORBIDDEN)
			http_fail(r, e, "This account is disabled.");
		if (e == ERR_RATE_LIMITED)
			mfa_locked(r, s.retry_after);
		goto out;
	}
	r->account_id = 0; /* known only after the commit; not needed in the log */
	write_session(r, &s, 1);
out:
	accounts_session_clear(&s);
	free_key(key, keylen);
	return e;
}

static const struct jfield refresh_fields[] = {{"refresh_token", JT_STRING, 1}};

static enum err do_refresh(struct req *r)
{
	const char *tok = NULL;
	size_t len = 0;
	struct accounts_session s;
	memset(&s, 0, sizeof s);
	enum err e;
	if ((e = json_get_str(r->json, "refresh_token", 1, 1, 128, &tok, &len, r->errmsg)))
		return e;
	e = accounts_refresh(r->store, r->cfg, tok, len, &s);
	if (e == ERR_UNAUTHORIZED)
		http_fail(r, e, "The refresh token is not valid.");
	if (e == ERR_OK)
		write_session(r, &s, 0);
	accounts_session_clear(&s);
	return e;
}

/* ---- authenticated routes ---- */

static enum err do_logout(struct req *r)
{
	enum err e = accounts_logout(r->store, r->auth);
	if (e)
		return e;
	serve_changed(r->auth->account_id, NULL); /* blindsync-live closes this device's sockets */
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static enum err do_get(struct req *r)
{
	struct store_account acc;
	struct store_mfa m;
	enum err e = store_account_by_id(r->store, r->auth->account_id, &acc);
	if (e == ERR_OK)
		e = store_mfa_get(r->store, r->auth->account_id, &m);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	const struct plan *p = config_plan(r->cfg, acc.plan);
	if (!p)
		p = &r->cfg->plans[0];
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "account_id"); jw_str(&w, acc.public_id);
	jw_key(&w, "username"); jw_str(&w, acc.username);
	jw_key(&w, "created_at"); jw_time(&w, acc.created_at);
	jw_key(&w, "usage");
	jw_obj_begin(&w);
	jw_key(&w, "bytes"); jw_int(&w, acc.usage_bytes);
	jw_key(&w, "records"); jw_int(&w, acc.usage_records);
	jw_obj_end(&w);
	jw_key(&w, "quota");
	jw_obj_begin(&w);
	jw_key(&w, "bytes"); jw_int(&w, acc.quota_bytes >= 0 ? acc.quota_bytes : p->bytes);
	jw_obj_end(&w);
	jw_key(&w, "keyring_version"); jw_int(&w, acc.keyring_version);
	jw_key(&w, "mfa");
	jw_obj_begin(&w);
	jw_key(&w, "totp"); jw_bool(&w, m.totp_on);
	jw_key(&w, "recovery_codes"); jw_int(&w, m.totp_on ? m.recovery_codes : 0);
	jw_obj_end(&w);
	jw_key(&w, "recovery_key"); jw_bool(&w, m.recovery_key);
	jw_obj_end(&w);
	bsc_wipe(&m, sizeof m);
	http_respond_json(r, 200);
	return ERR_OK;
}

struct devlist {
	struct jw *w;
	int64_t current;
};

static int emit_device(void *ctx, const struct store_device *d)
{
	struct devlist *x = ctx;
	struct jw *w = x->w;
	jw_obj_begin(w);
	jw_key(w, "device_id"); jw_str(w, d->public_id);
	jw_key(w, "name"); jw_str(w, d->name);
	jw_key(w, "type"); jw_str(w, d->type);
	jw_key(w, "created_at"); jw_time(w, d->created_at);
	jw_key(w, "last_seen_at"); jw_time(w, d->last_seen_at);
	jw_key(w, "current"); jw_bool(w, d->id == x->current);
	jw_obj_end(w);
	return 0;
}

static enum err do_devices(struct req *r)
{
	const struct auth *a = r->auth;
	enum err e;
	struct jw w;
	struct devlist x = {&w, a->device_id};
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "devices");
	jw_arr_begin(&w);
	if ((e = store_device_list(r->store, a->account_id, emit_device, &x)))
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_device_delete(struct req *r)
{
	enum err e = ERR_OK;
	const char *id = r->params[0];
	if (strlen(id) > STORE_PUBLIC_ID_MAX || (e = accounts_device_revoke(r->store, r->auth, id)) == ERR_NOT_FOUND)
		return http_fail(r, ERR_NOT_FOUND, "No such device.");
	if (e)
		return e;
	serve_changed(r->auth->account_id, NULL); /* blindsync-live closes the device's sockets */
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static enum err do_keyring_get(struct req *r)
{
	uint8_t *k = NULL;
	size_t n = 0;
	int64_t version = 0;
	enum err e = store_account_keyring(r->store, r->auth->account_id, &k, &n, &version);
	if (e)
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "keyring");
	if (k)
		jw_b64(&w, k, n);
	else
		jw_null(&w);
	jw_key(&w, "version"); jw_int(&w, version);
	jw_obj_end(&w);
	free(k);
	http_respond_json(r, 200);
	return ERR_OK;
}

static const struct jfield keyring_fields[] = {{"keyring", JT_STRING, 1}, {"version", JT_INT, 1}};

static enum err do_keyring_put(struct req *r)
{
	const struct auth *a = r->auth;
	uint8_t *k = NULL;
	size_t n = 0;
	int64_t version = 0, nv = 0, cur = 0;
	enum err e;
	if ((e = json_get_b64(r->json, "keyring", 1, 0, ACCOUNTS_KEYRING_MAX, &k, &n, r->errmsg)) ||
	    (e = json_get_int(r->json, "version", 1, 0, INT64_MAX - 1, &version, r->errmsg)))
		goto out;
	e = accounts_keyring_put(r->store, a, k, n, version, &nv, &cur);
	if (e == ERR_PRECONDITION_FAILED) {
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)cur);
		http_fail(r, e, "The keyring is at version %lld; fetch it, merge and retry.", (long long)cur);
		goto out;
	}
	if (e)
		goto out;
	serve_changed(a->account_id, NULL);
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "version"); jw_int(&w, nv);
	jw_obj_end(&w);
	http_respond_json(r, 200);
out:
	free(k);
	return e;
}

static const struct jfield password_fields[] = {
	{"auth_key", JT_STRING, 1}, {"new_auth_key", JT_STRING, 1}, {"new_kdf", JT_OBJECT, 1},
	{"new_keyring", JT_NULLABLE_STRING, 0}, {"revoke_other_devices", JT_BOOL, 0},
};

static enum err do_password(struct req *r)
{
	const struct auth *a = r->auth;
	struct accounts_password_in in;
	memset(&in, 0, sizeof in);
	char kdf[STORE_KDF_MAX + 1];
	uint8_t *key = NULL, *nkey = NULL, *nk = NULL;
	size_t keylen = 0, nkeylen = 0, nklen = 0;
	enum err e;
	if ((e = get_key(r, "auth_key", &key, &keylen)) || (e = get_key(r, "new_auth_key", &nkey, &nkeylen)) ||
	    (e = get_kdf(r, "new_kdf", kdf)) ||
	    (e = json_get_b64(r->json, "new_keyring", 0, 0, ACCOUNTS_KEYRING_MAX, &nk, &nklen, r->errmsg)) ||
	    (e = json_get_bool(r->json, "revoke_other_devices", 0, &in.revoke_other_devices, r->errmsg)))
		goto out;
	in.auth_key = key;
	in.auth_key_len = keylen;
	in.new_auth_key = nkey;
	in.new_auth_key_len = nkeylen;
	in.new_kdf = kdf;
	in.new_keyring = nk;
	in.new_keyring_len = nklen;
	if ((e = accounts_password(r->store, r->cfg, a, &in)))
		goto out;
	serve_changed(a->account_id, NULL);
	http_respond(r, 204, NULL);
out:
	free_key(key, keylen);
	free_key(nkey, nkeylen);
	free(nk);
	return e;
}

static int emit_event(void *ctx, const struct store_event *ev)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "at"); jw_time(w, ev->at);
	jw_key(w, "type"); jw_str(w, ev->type);
	jw_key(w, "device_id");
	if (ev->device[0])
		jw_str(w, ev->device);
	else
		jw_null(w);
	jw_obj_end(w);
	return 0;
}

static enum err do_activity(struct req *r)
{
	int64_t limit;
	enum err e;
	if ((e = http_query_int(r, "limit", 1, 1000, 50, &limit)))
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "events");
	jw_arr_begin(&w);
	if ((e = store_event_list(r->store, r->auth->account_id, limit, emit_event, &w)))
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static const struct jfield delete_fields[] = {{"auth_key", JT_STRING, 1}};

static enum err do_delete(struct req *r)
{
	uint8_t *key = NULL;
	size_t keylen = 0;
	enum err e;
	struct share_ids peers = {0};
	if ((e = get_key(r, "auth_key", &key, &keylen)) ||
	    (e = accounts_delete(r->store, r->auth, key, keylen, &peers)))
		goto out;
	serve_changed(r->auth->account_id, NULL); /* blindsync-live closes the account's sockets */
	for (size_t i = 0; i < peers.n; i++)
		serve_changed(peers.v[i], NULL);
	http_respond(r, 204, NULL);
out:
	share_ids_free(&peers);
	free_key(key, keylen);
	return e;
}

/* ---- two-factor login and the recovery key (issue 15) ---- */

static void write_codes(struct req *r, const struct accounts_codes *c)
{
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "recovery_codes");
	jw_arr_begin(&w);
	for (int i = 0; i < MFA_CODES; i++)
		jw_str(&w, c->code[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
}

/* The sentences of the MFA routes' errors. */
static enum err mfa_answer(struct req *r, enum err e, int retry_after)
{
	if (e == ERR_RATE_LIMITED)
		return mfa_locked(r, retry_after);
	if (e == ERR_INVALID_MFA)
		return http_fail(r, e, "The code is not valid.");
	return e;
}

static const struct jfield totp_begin_fields[] = {{"auth_key", JT_STRING, 1}};

static enum err do_totp_begin(struct req *r)
{
	uint8_t *key = NULL;
	size_t keylen = 0;
	struct accounts_totp_new t;
	memset(&t, 0, sizeof t);
	enum err e;
	if ((e = get_key(r, "auth_key", &key, &keylen)))
		goto out;
	e = accounts_totp_begin(r->store, r->cfg, server_secret, r->auth, key, keylen, &t);
	if (e == ERR_CONFLICT)
		http_fail(r, e, "TOTP is already on; turn it off first.");
	if (e)
		goto out;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "secret"); jw_str(&w, t.secret);
	jw_key(&w, "uri"); jw_str(&w, t.uri);
	jw_obj_end(&w);
	http_respond_json(r, 200);
out:
	bsc_wipe(&t, sizeof t);
	free_key(key, keylen);
	return e;
}

static const struct jfield totp_confirm_fields[] = {{"code", JT_STRING, 1}};

static enum err do_totp_confirm(struct req *r)
{
	struct accounts_factor f;
	struct accounts_codes c;
	int retry = 0;
	enum err e;
	if ((e = get_factor(r, 1, &f)))
		return e;
	if (!f.totp)
		return http_fail(r, ERR_INVALID_REQUEST, "code: the 6 digits your authenticator shows.");
	e = accounts_totp_confirm(r->store, r->cfg, server_secret, r->auth, &f, &c, &retry);
	if (e == ERR_CONFLICT)
		return http_fail(r, e, "Nothing to confirm: TOTP is on already, or was not begun (POST /v1/account/mfa/totp).");
	if (e)
		return mfa_answer(r, e, retry);
	write_codes(r, &c);
	bsc_wipe(&c, sizeof c);
	return ERR_OK;
}

static const struct jfield totp_code_fields[] = {{"auth_key", JT_STRING, 1}, {"code", JT_STRING, 1}};

/* DELETE /account/mfa/totp and POST /account/mfa/recovery-codes: auth_key and a code. */
static enum err totp_change(struct req *r, int renew)
{
	uint8_t *key = NULL;
	size_t keylen = 0;
	struct accounts_factor f;
	struct accounts_codes c;
	int retry = 0;
	enum err e;
	memset(&c, 0, sizeof c);
	if ((e = get_key(r, "auth_key", &key, &keylen)) || (e = get_factor(r, 1, &f)))
		goto out;
	if (renew)
		e = accounts_codes_renew(r->store, r->cfg, server_secret, r->auth, key, keylen, &f, &c, &retry);
	else
		e = accounts_totp_disable(r->store, r->cfg, server_secret, r->auth, key, keylen, &f, &retry);
	if (e == ERR_CONFLICT) {
		e = http_fail(r, e, "TOTP is not on.");
		goto out;
	}
	if (e) {
		e = mfa_answer(r, e, retry);
		goto out;
	}
	if (renew)
		write_codes(r, &c);
	else
		http_respond(r, 204, NULL);
out:
	bsc_wipe(&c, sizeof c);
	free_key(key, keylen);
	return e;
}

static enum err do_totp_disable(struct req *r) { return totp_change(r, 0); }

static enum err do_codes_renew(struct req *r) { return totp_change(r, 1); }

/* A recovery key's blob: the keyring's plaintext sealed by the client (client.md §10), opaque here. */
#define RECOVERY_BLOB_MAX (ACCOUNTS_KEYRING_MAX + 1024)

static const struct jfield recovery_put_fields[] = {
	{"auth_key", JT_STRING, 1}, {"recovery_auth", JT_STRING, 1}, {"blob", JT_STRING, 1},
};

static enum err do_recovery_put(struct req *r)
{
	uint8_t *key = NULL, *ra = NULL, *blob = NULL;
	size_t keylen = 0, ralen = 0, bloblen = 0;
	enum err e;
	if ((e = get_key(r, "auth_key", &key, &keylen)) || (e = get_key(r, "recovery_auth", &ra, &ralen)) ||
	    (e = json_get_b64(r->json, "blob", 1, 1, RECOVERY_BLOB_MAX, &blob, &bloblen, r->errmsg)))
		goto out;
	if ((e = accounts_recovery_put(r->store, r->cfg, r->auth, key, keylen, ra, ralen, blob, bloblen)))
		goto out;
	http_respond(r, 204, NULL);
out:
	free_key(key, keylen);
	free_key(ra, ralen);
	free(blob);
	return e;
}

static const struct jfield recovery_delete_fields[] = {{"auth_key", JT_STRING, 1}};

static enum err do_recovery_delete(struct req *r)
{
	uint8_t *key = NULL;
	size_t keylen = 0;
	enum err e;
	if ((e = get_key(r, "auth_key", &key, &keylen)))
		goto out;
	e = accounts_recovery_delete(r->store, r->auth, key, keylen);
	if (e == ERR_NOT_FOUND)
		e = http_fail(r, e, "No recovery key is set.");
	if (e)
		goto out;
	http_respond(r, 204, NULL);
out:
	free_key(key, keylen);
	return e;
}

static const struct jfield recover_fields[] = {{"username", JT_STRING, 1}, {"recovery_auth", JT_STRING, 1}};

static enum err do_recover(struct req *r)
{
	char username[STORE_USERNAME_MAX + 1];
	uint8_t *ra = NULL, *blob = NULL;
	size_t ralen = 0, bloblen = 0;
	struct auth_token reset;
	int64_t failed = 0;
	memset(&reset, 0, sizeof reset);
	enum err e;
	if ((e = get_username(r, username)) || (e = serve_limit(r, username, 0)) ||
	    (e = get_key(r, "recovery_auth", &ra, &ralen)))
		goto out;
	e = accounts_recover(r->store, r->cfg, username, ra, ralen, &blob, &bloblen, &reset, &failed);
	if (e == ERR_INVALID_CREDENTIALS) {
		if (failed)
			serve_after(r, record_recover_failed, failed);
		e = http_fail(r, e, "Unknown username or wrong recovery key.");
	}
	if (e)
		goto out;
	/* the keyring's version N: the client seals the new keyring for N + 1,
	 * the version recover/complete gives it (its AAD binds the version) */
	struct store_account acc;
	if ((e = store_account_by_name(r->store, username, &acc)))
		goto out;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "blob"); jw_b64(&w, blob, bloblen);
	jw_key(&w, "reset_token"); jw_str(&w, reset.text);
	jw_key(&w, "expires_in"); jw_int(&w, ACCOUNTS_RESET_TTL);
	jw_key(&w, "keyring_version"); jw_int(&w, acc.keyring_version);
	jw_obj_end(&w);
	http_respond_json(r, 200);
out:
	bsc_wipe(&reset, sizeof reset);
	free_key(ra, ralen);
	free(blob);
	return e;
}

static const struct jfield recover_complete_fields[] = {
	{"reset_token", JT_STRING, 1}, {"new_auth_key", JT_STRING, 1}, {"new_kdf", JT_OBJECT, 1},
	{"new_keyring", JT_STRING, 1},
};

static enum err do_recover_complete(struct req *r)
{
	struct accounts_recover_in in;
	memset(&in, 0, sizeof in);
	char kdf[STORE_KDF_MAX + 1];
	uint8_t *nkey = NULL, *nk = NULL;
	size_t nkeylen = 0, nklen = 0;
	enum err e;
	if ((e = json_get_str(r->json, "reset_token", 1, 1, 128, &in.reset_token, &in.reset_token_len, r->errmsg)) ||
	    (e = get_key(r, "new_auth_key", &nkey, &nkeylen)) || (e = get_kdf(r, "new_kdf", kdf)) ||
	    (e = json_get_b64(r->json, "new_keyring", 1, 1, ACCOUNTS_KEYRING_MAX, &nk, &nklen, r->errmsg)))
		goto out;
	in.new_auth_key = nkey;
	in.new_auth_key_len = nkeylen;
	in.new_kdf = kdf;
	in.new_keyring = nk;
	in.new_keyring_len = nklen;
	e = accounts_recover_complete(r->store, r->cfg, &in);
	if (e == ERR_UNAUTHORIZED)
		e = http_fail(r, e, "The reset token is not valid (unknown, used or older than %d seconds).",
		    ACCOUNTS_RESET_TTL);
	if (e)
		goto out;
	http_respond(r, 204, NULL);
out:
	free_key(nkey, nkeylen);
	free(nk);
	return e;
}

/* ---- blindsync-live (docs/API-live.md) ---- */

/* A single-use ticket of 30 s for the caller's device: the socket's only credential. */
static enum err do_live_ticket(struct req *r)
{
	struct auth_token t;
	enum err e = accounts_live_ticket(r->store, r->auth, &t);
	if (e == ERR_OK) {
		struct jw w;
		jw_init(&w, &r->out);
		jw_obj_begin(&w);
		jw_key(&w, "ticket"); jw_str(&w, t.text);
		jw_key(&w, "expires_in"); jw_int(&w, ACCOUNTS_LIVE_TICKET_TTL);
		jw_obj_end(&w);
		http_respond_json(r, 200);
	}
	bsc_wipe(&t, sizeof t);
	return e;
}

/* ---- export and import (api.md §8; transfer.c does the work) ---- */

static enum err do_export(struct req *r) { return transfer_export(r, r->auth); }

static enum err do_import(struct req *r) { return transfer_import(r, r->auth); }

/* ---- sharing: public keys and incoming invitations (docs/API-sharing.md) ---- */

static const struct jfield keys_fields[] = {{"x25519", JT_STRING, 1}, {"ed25519", JT_STRING, 1}};

static void write_keys(struct req *r, const char *username, const struct store_keys *k)
{
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	if (username) {
		jw_key(&w, "username"); jw_str(&w, username);
	}
	jw_key(&w, "x25519"); jw_b64(&w, k->x25519, STORE_KEY_LEN);
	jw_key(&w, "ed25519"); jw_b64(&w, k->ed25519, STORE_KEY_LEN);
	jw_obj_end(&w);
	http_respond_json(r, 200);
}

static enum err do_keys_put(struct req *r)
{
	struct store_keys k;
	uint8_t *x = NULL, *ed = NULL;
	size_t xn = 0, en = 0;
	enum err e;
	if ((e = json_get_b64(r->json, "x25519", 1, STORE_KEY_LEN, STORE_KEY_LEN, &x, &xn, r->errmsg)) ||
	    (e = json_get_b64(r->json, "ed25519", 1, STORE_KEY_LEN, STORE_KEY_LEN, &ed, &en, r->errmsg)))
		goto out;
	memcpy(k.x25519, x, STORE_KEY_LEN);
	memcpy(k.ed25519, ed, STORE_KEY_LEN);
	if ((e = share_keys_put(r->store, r->auth->account_id, &k, r->auth->device_public_id, (int64_t)time(NULL))))
		goto out;
	http_respond(r, 204, NULL);
out:
	free(x);
	free(ed);
	return e;
}

static enum err do_keys_get(struct req *r)
{
	struct store_keys k;
	enum err e = store_keys_get(r->store, r->auth->account_id, &k);
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "No public keys yet (PUT /v1/account/keys).");
	if (e)
		return e;
	write_keys(r, NULL, &k);
	return ERR_OK;
}

static enum err do_user_keys(struct req *r)
{
	char name[STORE_USERNAME_MAX + 1];
	struct store_keys k;
	const char *p = r->params[0];
	enum err e = auth_username(p, strlen(p), name) != 0 ? ERR_NOT_FOUND : share_user_keys(r->store, name, &k);
	if (e == ERR_NOT_FOUND) /* the same answer for no such name and no keys */
		return http_fail(r, e, "No such user, or the user has no public keys.");
	if (e)
		return e;
	write_keys(r, name, &k);
	return ERR_OK;
}

static enum err do_invitations(struct req *r)
{
	struct jw w;
	jw_init(&w, &r->out);
	enum err e = share_invitations_in(r->store, r->auth->account_id, (int64_t)time(NULL), &w);
	if (e)
		return e;
	http_respond_json(r, 200);
	return ERR_OK;
}

/* An invitation id path parameter: 22 base64url characters, else the 404 of an unknown one. */
static enum err invitation_param(struct req *r)
{
	const char *p = r->params[0];
	size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	if (n != STORE_INVITATION_ID_LEN || p[n])
		return http_fail(r, ERR_NOT_FOUND, "No such invitation (or it expired).");
	return ERR_OK;
}

static void wake_ids(struct share_ids *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		serve_changed(ids->v[i], NULL);
}

static enum err do_accept(struct req *r)
{
	struct share_accepted out;
	struct share_ids ids = {0};
	char msg[ERR_MSG_MAX];
	memset(&out, 0, sizeof out);
	enum err e = share_accept(r->store, r->cfg, r->auth->account_id, r->params[0], (int64_t)time(NULL), &out, &ids,
	    msg);
	if (e == ERR_OK) {
		wake_ids(&ids);
		struct jw w;
		jw_init(&w, &r->out);
		jw_obj_begin(&w);
		jw_key(&w, "collection"); jw_str(&w, out.collection);
		jw_key(&w, "owner"); jw_str(&w, out.owner);
		jw_key(&w, "role"); jw_str(&w, share_role_name(out.role));
		jw_key(&w, "key_version"); jw_int(&w, out.key_version);
		jw_obj_end(&w);
		http_respond_json(r, 200);
	} else if (msg[0]) {
		e = http_fail(r, e, "%s", msg);
	}
	share_ids_free(&ids);
	return e;
}

static enum err do_decline(struct req *r)
{
	struct share_ids ids = {0};
	char msg[ERR_MSG_MAX];
	enum err e = share_decline(r->store, r->auth->account_id, r->params[0], (int64_t)time(NULL), &ids, msg);
	if (e == ERR_OK) {
		wake_ids(&ids);
		http_respond(r, 204, NULL);
	} else if (msg[0]) {
		e = http_fail(r, e, "%s", msg);
	}
	share_ids_free(&ids);
	return e;
}

/*
 * register carries a keyring (base64 of up to ACCOUNTS_KEYRING_MAX bytes)
 * and a kdf; prelogin, login and refresh only short strings.
 */
#define CAP_REGISTER (4 * ((ACCOUNTS_KEYRING_MAX + 2) / 3) + STORE_KDF_MAX + 8192)
/* recover/complete carries a new keyring and a kdf, as register does */
#define CAP_RECOVER_COMPLETE CAP_REGISTER

static const struct route routes[] = {
	/* before a token exists: small caps, so that no one makes us read 8 MiB for nothing */
	{.method = M_POST, .pattern = "/account/register", .fn = do_register, .name = "account.register",
	 .auth = RA_NONE, .body = RB_JSON, .max_body = CAP_REGISTER, FIELDS(register_fields)},
	{.method = M_POST, .pattern = "/account/prelogin", .fn = do_prelogin, .name = "account.prelogin",
	 .auth = RA_NONE, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(prelogin_fields)},
	{.method = M_POST, .pattern = "/account/login", .fn = do_login, .name = "account.login",
	 .auth = RA_NONE, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(login_fields)},
	{.method = M_POST, .pattern = "/account/refresh", .fn = do_refresh, .name = "account.refresh",
	 .auth = RA_NONE, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(refresh_fields)},
	{.method = M_POST, .pattern = "/account/recover", .fn = do_recover, .name = "account.recover",
	 .auth = RA_NONE, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(recover_fields)},
	{.method = M_POST, .pattern = "/account/recover/complete", .fn = do_recover_complete,
	 .name = "account.recover", .auth = RA_NONE, .body = RB_JSON, .max_body = CAP_RECOVER_COMPLETE,
	 FIELDS(recover_complete_fields)},
	/* the account of the access token (limits.max_body_bytes) */
	{.method = M_POST, .pattern = "/account/logout", .fn = do_logout, .name = "account.logout",
	 .auth = RA_BEARER, .body = RB_JSON_OPT},
	{.method = M_GET, .pattern = "/account", .fn = do_get, .name = "account.get", .auth = RA_BEARER},
	{.method = M_DELETE, .pattern = "/account", .fn = do_delete, .name = "account.delete",
	 .auth = RA_BEARER, .body = RB_JSON, FIELDS(delete_fields)},
	{.method = M_GET, .pattern = "/account/devices", .fn = do_devices, .name = "account.devices", .auth = RA_BEARER},
	{.method = M_DELETE, .pattern = "/account/devices/*", .fn = do_device_delete, .name = "account.device_delete",
	 .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/account/keyring", .fn = do_keyring_get, .name = "account.keyring_get",
	 .auth = RA_BEARER},
	{.method = M_PUT, .pattern = "/account/keyring", .fn = do_keyring_put, .name = "account.keyring_put",
	 .auth = RA_BEARER, .body = RB_JSON, FIELDS(keyring_fields)},
	{.method = M_POST, .pattern = "/account/password", .fn = do_password, .name = "account.password",
	 .auth = RA_BEARER, .body = RB_JSON, FIELDS(password_fields)},
	{.method = M_GET, .pattern = "/account/activity", .fn = do_activity, .name = "account.activity",
	 .auth = RA_BEARER},
	{.method = M_POST, .pattern = "/account/mfa/totp", .fn = do_totp_begin, .name = "account.mfa",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(totp_begin_fields)},
	{.method = M_DELETE, .pattern = "/account/mfa/totp", .fn = do_totp_disable, .name = "account.mfa",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(totp_code_fields)},
	{.method = M_POST, .pattern = "/account/mfa/totp/confirm", .fn = do_totp_confirm, .name = "account.mfa",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(totp_confirm_fields)},
	{.method = M_POST, .pattern = "/account/mfa/recovery-codes", .fn = do_codes_renew, .name = "account.mfa",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(totp_code_fields)},
	{.method = M_PUT, .pattern = "/account/recovery", .fn = do_recovery_put, .name = "account.recovery",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = CAP_REGISTER, FIELDS(recovery_put_fields)},
	{.method = M_DELETE, .pattern = "/account/recovery", .fn = do_recovery_delete, .name = "account.recovery",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(recovery_delete_fields)},
	{.method = M_POST, .pattern = "/live/ticket", .fn = do_live_ticket, .name = "live.ticket",
	 .auth = RA_BEARER, .body = RB_JSON_OPT, .max_body = ROUTE_CAP_SMALL},
	{.method = M_GET, .pattern = "/account/export", .fn = do_export, .name = "export", .auth = RA_BEARER},
	/* streamed: transfer.c checks the length against its own limit before reading */
	{.method = M_POST, .pattern = "/account/import", .fn = do_import, .name = "import",
	 .auth = RA_BEARER, .body = RB_STREAM},
	/* sharing (docs/API-sharing.md) */
	{.method = M_PUT, .pattern = "/account/keys", .fn = do_keys_put, .name = "account.keys",
	 .auth = RA_BEARER, .body = RB_JSON, .max_body = ROUTE_CAP_SMALL, FIELDS(keys_fields)},
	{.method = M_GET, .pattern = "/account/keys", .fn = do_keys_get, .name = "account.keys", .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/users/*/keys", .fn = do_user_keys, .name = "users.keys", .auth = RA_BEARER},
	{.method = M_GET, .pattern = "/invitations", .fn = do_invitations, .name = "invitations", .auth = RA_BEARER},
	{.method = M_POST, .pattern = "/invitations/*/accept", .fn = do_accept, .name = "invitations",
	 .auth = RA_BEARER, .body = RB_JSON_OPT, .max_body = ROUTE_CAP_SMALL, .check = invitation_param},
	{.method = M_DELETE, .pattern = "/invitations/*", .fn = do_decline, .name = "invitations", .auth = RA_BEARER,
	 .check = invitation_param},
};

static const struct handler handler = {"account", routes, sizeof routes / sizeof routes[0], STORE_RW, init, NULL,
    0 /* one connection a thread: an export or import holds one for its whole length */};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
