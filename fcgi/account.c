/*
 * account.c: blindsync-account, the routes of api.md §3. Each handler
 * parses and validates its input (field tables, typed getters), authorizes,
 * calls accounts.c, and answers. Never logs or echoes a credential.
 */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "json.h"
#include "serve.h"
#include "transfer.h"

static uint8_t server_secret[AUTH_SECRET_LEN];

static int init(const struct config *c, char *errbuf, size_t errlen)
{
	return auth_secret_load(c->secret_file, server_secret, errbuf, errlen);
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

/* A kdf object member serialised compactly into out (<= STORE_KDF_MAX). */
static enum err get_kdf(struct req *r, const char *name, char *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(r->json, name, &v) || !json_object_is_type(v, json_type_object))
		return http_fail(r, ERR_INVALID_REQUEST, "%s: expected a JSON object.", name);
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || strlen(s) > STORE_KDF_MAX)
		return http_fail(r, ERR_INVALID_REQUEST, "%s: at most %d bytes of JSON.", name, STORE_KDF_MAX);
	snprintf(out, STORE_KDF_MAX + 1, "%s", s);
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
	}
	jw_obj_end(&w);
	http_respond_json(r, 200);
}

/* ---- public routes ---- */

static enum err do_register(struct req *r)
{
	static const struct jfield f[] = {
		{"username", JT_STRING, 1}, {"auth_key", JT_STRING, 1}, {"kdf", JT_OBJECT, 1},
		{"keyring", JT_NULLABLE_STRING, 0}, {"invite", JT_NULLABLE_STRING, 0},
	};
	char username[STORE_USERNAME_MAX + 1], kdf[STORE_KDF_MAX + 1], id[STORE_PUBLIC_ID_MAX + 1];
	uint8_t *key = NULL, *keyring = NULL;
	size_t keylen = 0, keyringlen = 0;
	const char *invite = NULL;
	size_t invitelen = 0;
	enum err e;
	if ((e = json_check_fields(r->json, f, 5, "body", r->errmsg)) || (e = get_username(r, username)) ||
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

static enum err do_prelogin(struct req *r)
{
	static const struct jfield f[] = {{"username", JT_STRING, 1}};
	char username[STORE_USERNAME_MAX + 1];
	enum err e;
	if ((e = json_check_fields(r->json, f, 1, "body", r->errmsg)) || (e = get_username(r, username)) ||
	    (e = serve_limit(r, username, 0)))
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

static enum err do_login(struct req *r)
{
	static const struct jfield f[] = {{"username", JT_STRING, 1}, {"auth_key", JT_STRING, 1}, {"device", JT_OBJECT, 0}};
	static const struct jfield df[] = {{"name", JT_STRING, 0}, {"type", JT_STRING, 0}};
	char username[STORE_USERNAME_MAX + 1];
	uint8_t *key = NULL;
	size_t keylen = 0;
	const char *name = "unnamed", *type = "unknown";
	struct accounts_session s;
	memset(&s, 0, sizeof s);
	enum err e;
	if ((e = json_check_fields(r->json, f, 3, "body", r->errmsg)) || (e = get_username(r, username)) ||
	    (e = serve_limit(r, username, 0)) || (e = get_key(r, "auth_key", &key, &keylen)))
		goto out;
	struct json_object *dev;
	if (json_object_object_get_ex(r->json, "device", &dev) && dev) {
		if ((e = json_check_fields(dev, df, 2, "device", r->errmsg)) ||
		    (e = json_get_str(dev, "name", 0, 1, 64, &name, NULL, r->errmsg)) ||
		    (e = json_get_str(dev, "type", 0, 1, 32, &type, NULL, r->errmsg)))
			goto out;
		if (!printable(name) || !printable(type)) {
			e = http_fail(r, ERR_INVALID_REQUEST, "device: name and type must not contain control characters.");
			goto out;
		}
	}
	if ((e = accounts_login(r->store, r->cfg, username, key, keylen, name, type, &s))) {
		if (e == ERR_FORBIDDEN)
			http_fail(r, e, "This account is disabled.");
		goto out;
	}
	r->account_id = 0; /* known only after the commit; not needed in the log */
	write_session(r, &s, 1);
out:
	accounts_session_clear(&s);
	free_key(key, keylen);
	return e;
}

static enum err do_refresh(struct req *r)
{
	static const struct jfield f[] = {{"refresh_token", JT_STRING, 1}};
	const char *tok = NULL;
	size_t len = 0;
	struct accounts_session s;
	memset(&s, 0, sizeof s);
	enum err e;
	if ((e = json_check_fields(r->json, f, 1, "body", r->errmsg)) ||
	    (e = json_get_str(r->json, "refresh_token", 1, 1, 128, &tok, &len, r->errmsg)))
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
	struct auth a;
	enum err e = auth_require(r, &a);
	if (e || (e = accounts_logout(r->store, &a)))
		return e;
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static enum err do_get(struct req *r)
{
	struct auth a;
	struct store_account acc;
	enum err e = auth_require(r, &a);
	if (e || (e = store_account_by_id(r->store, a.account_id, &acc)))
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
	jw_obj_end(&w);
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
	struct auth a;
	enum err e = auth_require(r, &a);
	if (e)
		return e;
	struct jw w;
	struct devlist x = {&w, a.device_id};
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "devices");
	jw_arr_begin(&w);
	if ((e = store_device_list(r->store, a.account_id, emit_device, &x)))
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_device_delete(struct req *r)
{
	struct auth a;
	enum err e = auth_require(r, &a);
	if (e)
		return e;
	const char *id = r->params[0];
	if (strlen(id) > STORE_PUBLIC_ID_MAX || (e = accounts_device_revoke(r->store, &a, id)) == ERR_NOT_FOUND)
		return http_fail(r, ERR_NOT_FOUND, "No such device.");
	if (e)
		return e;
	http_respond(r, 204, NULL);
	return ERR_OK;
}

static enum err do_keyring_get(struct req *r)
{
	struct auth a;
	uint8_t *k = NULL;
	size_t n = 0;
	int64_t version = 0;
	enum err e = auth_require(r, &a);
	if (e || (e = store_account_keyring(r->store, a.account_id, &k, &n, &version)))
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

static enum err do_keyring_put(struct req *r)
{
	static const struct jfield f[] = {{"keyring", JT_STRING, 1}, {"version", JT_INT, 1}};
	struct auth a;
	uint8_t *k = NULL;
	size_t n = 0;
	int64_t version = 0, nv = 0, cur = 0;
	enum err e;
	if ((e = auth_require(r, &a)) || (e = json_check_fields(r->json, f, 2, "body", r->errmsg)) ||
	    (e = json_get_b64(r->json, "keyring", 1, 0, ACCOUNTS_KEYRING_MAX, &k, &n, r->errmsg)) ||
	    (e = json_get_int(r->json, "version", 1, 0, INT64_MAX - 1, &version, r->errmsg)))
		goto out;
	e = accounts_keyring_put(r->store, &a, k, n, version, &nv, &cur);
	if (e == ERR_PRECONDITION_FAILED) {
		buf_printf(&r->err_extra, "\"current_version\":%lld", (long long)cur);
		http_fail(r, e, "The keyring is at version %lld; fetch it, merge and retry.", (long long)cur);
		goto out;
	}
	if (e)
		goto out;
	serve_changed(a.account_id, NULL);
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

static enum err do_password(struct req *r)
{
	static const struct jfield f[] = {
		{"auth_key", JT_STRING, 1}, {"new_auth_key", JT_STRING, 1}, {"new_kdf", JT_OBJECT, 1},
		{"new_keyring", JT_NULLABLE_STRING, 0}, {"revoke_other_devices", JT_BOOL, 0},
	};
	struct auth a;
	struct accounts_password_in in;
	memset(&in, 0, sizeof in);
	char kdf[STORE_KDF_MAX + 1];
	uint8_t *key = NULL, *nkey = NULL, *nk = NULL;
	size_t keylen = 0, nkeylen = 0, nklen = 0;
	enum err e;
	if ((e = auth_require(r, &a)) || (e = json_check_fields(r->json, f, 5, "body", r->errmsg)) ||
	    (e = get_key(r, "auth_key", &key, &keylen)) || (e = get_key(r, "new_auth_key", &nkey, &nkeylen)) ||
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
	if ((e = accounts_password(r->store, r->cfg, &a, &in)))
		goto out;
	serve_changed(a.account_id, NULL);
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
	struct auth a;
	int64_t limit;
	enum err e;
	if ((e = auth_require(r, &a)) || (e = http_query_int(r, "limit", 1, 1000, 50, &limit)))
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "events");
	jw_arr_begin(&w);
	if ((e = store_event_list(r->store, a.account_id, limit, emit_event, &w)))
		return e;
	jw_arr_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err do_delete(struct req *r)
{
	static const struct jfield f[] = {{"auth_key", JT_STRING, 1}};
	struct auth a;
	uint8_t *key = NULL;
	size_t keylen = 0;
	enum err e;
	if ((e = auth_require(r, &a)) || (e = json_check_fields(r->json, f, 1, "body", r->errmsg)) ||
	    (e = get_key(r, "auth_key", &key, &keylen)) || (e = accounts_delete(r->store, &a, key, keylen)))
		goto out;
	http_respond(r, 204, NULL);
out:
	free_key(key, keylen);
	return e;
}

/* ---- export and import (api.md §8; transfer.c does the work) ---- */

static enum err do_export(struct req *r)
{
	struct auth a;
	enum err e = auth_require(r, &a);
	return e ? e : transfer_export(r, &a);
}

static enum err do_import(struct req *r)
{
	struct auth a;
	enum err e = auth_require(r, &a);
	return e ? e : transfer_import(r, &a);
}

static const struct route routes[] = {
	{M_POST, "/account/register", do_register, "account.register", ROUTE_JSON},
	{M_POST, "/account/prelogin", do_prelogin, "account.prelogin", ROUTE_JSON},
	{M_POST, "/account/login", do_login, "account.login", ROUTE_JSON},
	{M_POST, "/account/refresh", do_refresh, "account.refresh", ROUTE_JSON},
	{M_POST, "/account/logout", do_logout, "account.logout", ROUTE_JSON_OPT},
	{M_GET, "/account", do_get, "account.get", 0},
	{M_DELETE, "/account", do_delete, "account.delete", ROUTE_JSON},
	{M_GET, "/account/devices", do_devices, "account.devices", 0},
	{M_DELETE, "/account/devices/*", do_device_delete, "account.device_delete", 0},
	{M_GET, "/account/keyring", do_keyring_get, "account.keyring_get", 0},
	{M_PUT, "/account/keyring", do_keyring_put, "account.keyring_put", ROUTE_JSON},
	{M_POST, "/account/password", do_password, "account.password", ROUTE_JSON},
	{M_GET, "/account/activity", do_activity, "account.activity", 0},
	{M_GET, "/account/export", do_export, "export", 0},
	{M_POST, "/account/import", do_import, "import", ROUTE_RAW_BODY},
};

static const struct handler handler = {"account", routes, sizeof routes / sizeof routes[0], STORE_RW, init, NULL};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
