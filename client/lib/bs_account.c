/*
 * bs_account.c: the session and the account operations of the client
 * (client.md section 7): open and close, register, login, logout,
 * change_password, devices, and import (the keyring's data key carried
 * from the old account to this one). Passwords and keys never leave this process
 * except as the auth_key and the sealed keyring; temporaries are wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "bs_impl.h"
#include "bsc.h"

int
bs__fail(struct bs_client *c, int st, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->code, sizeof c->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	return st;
}

const char *
bs_error_code(const struct bs_client *c)
{
	return c ? c->code : "no_memory";
}

const char *
bs_error_message(const struct bs_client *c)
{
	return c ? c->msg : "out of memory";
}

const char *
bs_username(const struct bs_client *c)
{
	return c->have_key ? c->user : NULL;
}

const char *
bs_server(const struct bs_client *c)
{
	return c->server;
}

struct json_object *
bs__json_b64(const void *p, size_t n)
{
	size_t len = bsc_b64_enclen(n, BSC_B64_STD) + 1;
	char *s = malloc(len);
	struct json_object *o = NULL;

	if (s && bsc_b64_encode(p, n, s, len, BSC_B64_STD) >= 0)
		o = json_object_new_string(s);
	free(s);
	return o;
}

const char *
bs__get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *
bs__json_object(const uint8_t *p, size_t n, int depth, size_t max)
{
	struct json_tokener *tok = json_tokener_new_ex(depth);
	struct json_object *o = NULL;

	if (!tok || n > max)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)p, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
out:
	json_tokener_free(tok);
	return o;
}

int
bs__get_b64(struct bs_client *c, struct json_object *o, const char *key, uint8_t **out, size_t *n)
{
	const char *s = bs__get_str(o, key);
	size_t len, max;
	long got;

	*out = NULL;
	*n = 0;
	if (!s)
		return bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's answer lacks %s", key);
	len = strlen(s);
	max = bsc_b64_declen_max(len);
	if (!(*out = malloc(max + 1)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if ((got = bsc_b64_decode(s, len, *out, max + 1, BSC_B64_STD)) < 0) {
		free(*out);
		*out = NULL;
		return bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's %s is not base64", key);
	}
	*n = (size_t)got;
	return BS_OK;
}

int
bs__need_session(struct bs_client *c)
{
	if (!c->have_key || !c->access)
		return bs__fail(c, BS_LOCAL, "not_logged_in", "not logged in: run blindsync login USER");
	return BS_OK;
}

int
bs__coll_name(struct bs_client *c, const char *A, char out[BS1_NAME_LEN + 1])
{
	if (bs1_collection_name(&c->id_key, A, out) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "bad_name", "the collection name is not usable");
	return BS_OK;
}

int
bs_open(const char *home, const char *server, struct bs_client **out)
{
	struct bs_client *c = calloc(1, sizeof *c);

	*out = c;
	if (!c)
		return BS_LOCAL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(c->home = strdup(home)) || (server && !(c->server = strdup(server))))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if (c->server) {
		size_t n = strlen(c->server);
		while (n > 0 && c->server[n - 1] == '/')
			c->server[--n] = '\0';
	}
	return bs__state_open(c);
}

void
bs_close(struct bs_client *c)
{
	if (!c)
		return;
	bs__http_free(c);
	bs__state_close(c);
	if (c->access)
		bs1_wipe(c->access, strlen(c->access));
	if (c->refresh)
		bs1_wipe(c->refresh, strlen(c->refresh));
	free(c->access);
	free(c->refresh);
	free(c->device_id);
	free(c->user);
	free(c->owner);
	free(c->server);
	free(c->home);
	bs1_wipe(c, sizeof *c);
	free(c);
	curl_global_cleanup();
}

/* The ASCII lowercase copy of a username (malloc'd). */
char *
bs__lower(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* Map a bs1 error to a status. */
int
bs__bs1_fail(struct bs_client *c, int e, const char *what)
{
	if (e == BS1_E_DECRYPT)
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt %s (wrong password or "
		    "tampered data)", what);
	if (e == BS1_E_NOMEM)
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	return bs__fail(c, BS_LOCAL, "crypto", "%s: %s", what, bs1_strerror(e));
}

/* The kdf, auth_key and keyring_key of a password under kdf. */
int
bs__derive(struct bs_client *c, const char *pw, const struct bs1_kdf *kdf, struct bs1_key *auth,
    struct bs1_key *kk)
{
	struct bs1_key master;
	int e;

	if ((e = bs1_master(pw, strlen(pw), kdf, &master)) == BS1_OK)
		e = bs1_account_keys(&master, auth, kk);
	bs1_wipe(&master, sizeof master);
	if (e == BS1_E_INPUT)
		return bs__fail(c, BS_LOCAL, "bad_password", "the password is not valid UTF-8");
	return e ? bs__bs1_fail(c, e, "the password") : BS_OK;
}

/* POST /v1/account/prelogin and the floor: *kdf, or BS_DECRYPT kdf_floor. */
int
bs__prelogin(struct bs_client *c, const char *user, struct bs1_kdf *kdf)
{
	struct json_object *body = json_object_new_object(), *k;
	struct bs_resp r = {0};
	const char *reason = NULL;
	int rc;

	if (!body || json_object_object_add(body, "username", json_object_new_string(user))) {
		json_object_put(body);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	rc = bs__request(c, "POST", "/v1/account/prelogin", body, 0, &r);
	json_object_put(body);
	if (rc)
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (!r.json || !json_object_object_get_ex(r.json, "kdf", &k))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's prelogin answer is malformed");
	else if (bs1_kdf_check(k, kdf, &reason) != BS1_OK)
		rc = bs__fail(c, BS_DECRYPT, "kdf_floor", "the server's kdf is below the bs1 floor (%s); "
		    "refusing to log in", reason ? reason : "refused");
	bs__resp_clear(&r);
	return rc;
}

/* A kdf as a json object (for register and password). */
struct json_object *
bs__kdf_json(const struct bs1_kdf *kdf)
{
	char buf[BS1_KDF_MAX_JSON];

	if (bs1_kdf_json(kdf, buf, sizeof buf) != BS1_OK)
		return NULL;
	return json_tokener_parse(buf);
}

/* Add key: b64(p, n) to o; 0 or -1. */
int
bs__add_b64(struct json_object *o, const char *key, const void *p, size_t n)
{
	struct json_object *v = bs__json_b64(p, n);

	return v && json_object_object_add(o, key, v) == 0 ? 0 : -1;
}

int
bs_register(struct bs_client *c, const char *user, const char *password)
{
	struct bs1_kdf kdf;
	struct bs1_key auth, kk, dk;
	struct json_object *body = NULL, *k;
	struct bs_resp r = {0};
	uint8_t *pt = NULL, *env = NULL, *pt0 = NULL;
	size_t ptlen = 0, envlen = 0, pt0len = 0;
	char *lu = bs__lower(user);
	int rc, e;

	if (!lu)
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if ((e = bs1_kdf_new(&kdf)) || (e = bs1_data_key_new(&dk))) {
		rc = bs__bs1_fail(c, e, "new keys");
		goto out;
	}
	if ((rc = bs__derive(c, password, &kdf, &auth, &kk)))
		goto out;
	/* the identity of sharing (client.md section 9) is born with the keyring */
	if ((e = bs1_keyring_new(&dk, &pt0, &pt0len))) {
		rc = bs__bs1_fail(c, e, "the keyring");
		goto out;
	}
	if ((rc = bs__keyring_add_identity(c, pt0, pt0len, &pt, &ptlen)))
		goto out;
	if ((e = bs1_keyring_seal(&kk, lu, 1, pt, ptlen, &env, &envlen))) {
		rc = bs__bs1_fail(c, e, "the keyring");
		goto out;
	}
	if (!(body = json_object_new_object()) ||
	    json_object_object_add(body, "username", json_object_new_string(user)) ||
	    bs__add_b64(body, "auth_key", auth.b, sizeof auth.b) || !(k = bs__kdf_json(&kdf)) ||
	    json_object_object_add(body, "kdf", k) || bs__add_b64(body, "keyring", env, envlen)) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, "POST", "/v1/account/register", body, 0, &r)))
		goto out;
	if (r.status != 201)
		rc = bs__refused(c, &r);
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&auth, sizeof auth);
	bs1_wipe(&kk, sizeof kk);
	bs1_wipe(&dk, sizeof dk);
	bs1_free(pt, ptlen);
	bs1_free(pt0, pt0len);
	free(env);
	free(lu);
	return rc;
}

/* GET /v1/account/keyring: the keyring and its version (for a login answer
 * without keyring_version, and for a password change). */
int
bs__fetch_keyring(struct bs_client *c, uint8_t **env, size_t *envlen, int64_t *version)
{
	struct bs_resp r = {0};
	struct json_object *v;
	int rc;

	if ((rc = bs__request(c, "GET", "/v1/account/keyring", NULL, 1, &r)))
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (!json_object_object_get_ex(r.json, "version", &v) || !json_object_is_type(v, json_type_int))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the keyring answer lacks its version");
	else {
		*version = json_object_get_int64(v);
		rc = bs__get_b64(c, r.json, "keyring", env, envlen);
	}
	bs__resp_clear(&r);
	return rc;
}

int
bs_login(struct bs_client *c, const char *user, const char *password, const char *device)
{
	return bs_login_mfa(c, user, password, device, NULL);
}

int
bs__mfa_field(struct json_object *body, const char *code)
{
	size_t n = 0, digits = 0;

	json_object_object_del(body, "totp");
	json_object_object_del(body, "recovery_code");
	for (const char *p = code; *p; p++, n++)
		digits += *p >= '0' && *p <= '9';
	/* six digits are a TOTP code; anything else is a recovery code */
	return json_object_object_add(body, n == 6 && digits == 6 ? "totp" : "recovery_code",
	    json_object_new_string(code));
}

/* Ask the application's prompt for a second factor into code[size]; 0 when
 * it gave one. */
static int
mfa_ask(struct bs_client *c, int again, char *code, size_t size)
{
	if (!c->mfa_prompt)
		return -1;
	memset(code, 0, size);
	if (c->mfa_prompt(c->mfa_prompt_arg, again, code, size) != 0 || !code[0])
		return -1;
	return 0;
}

int
bs_login_mfa(struct bs_client *c, const char *user, const char *password, const char *device,
    const char *mfa_code)
{
	char asked[BS_MFA_CODE_MAX];
	int prompts = 0;
	struct bs1_kdf kdf;
	struct bs1_key auth, kk, dk;
	struct json_object *body = NULL, *dev = NULL, *v;
	struct bs_resp r = {0};
	uint8_t *env = NULL, *pt = NULL;
	size_t envlen = 0, ptlen = 0;
	int64_t kv = -1;
	const char *a, *f, *d;
	char *lu = bs__lower(user);
	int rc, e, same;

	memset(&auth, 0, sizeof auth);
	memset(&kk, 0, sizeof kk);
	memset(&dk, 0, sizeof dk);
	if (!lu)
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if ((rc = bs__prelogin(c, user, &kdf)))     /* the floor, before any login request */
		goto out;
	if ((rc = bs__derive(c, password, &kdf, &auth, &kk)))
		goto out;
	if (!(body = json_object_new_object()) || !(dev = json_object_new_object()) ||
	    json_object_object_add(dev, "name", json_object_new_string(device ? device : "cli")) ||
	    json_object_object_add(dev, "type", json_object_new_string("cli")) ||
	    json_object_object_add(body, "username", json_object_new_string(user)) ||
	    bs__add_b64(body, "auth_key", auth.b, sizeof auth.b) ||
	    json_object_object_add(body, "device", dev)) {
		json_object_put(dev);
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if (mfa_code && *mfa_code && bs__mfa_field(body, mfa_code)) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
again:
	if ((rc = bs__request(c, "POST", "/v1/account/login", body, 0, &r)))
		goto out;
	if (r.status == 401) {
		rc = bs__refused(c, &r);
		if (strcmp(c->code, "invalid_credentials") == 0)
			rc = bs__fail(c, BS_DECRYPT, "invalid_credentials",
			    "wrong username or password (invalid_credentials)");
		else if (strcmp(c->code, "mfa_required") == 0 || strcmp(c->code, "invalid_mfa") == 0) {
			/* the password was right: ask for the second factor, the same auth_key resent */
			int wrong = c->code[0] == 'i';
			if (prompts < BS_MFA_PROMPTS && (!mfa_code || !*mfa_code || prompts) &&
			    mfa_ask(c, wrong, asked, sizeof asked) == 0) {
				prompts++;
				if (bs__mfa_field(body, asked)) {
					rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
					goto out;
				}
				bs__resp_clear(&r);
				goto again;
			}
			if (!wrong)
				rc = bs__fail(c, BS_REFUSED, "mfa_required", "this account has two-factor "
				    "login: give a code from the authenticator app or a recovery code (mfa_required)");
			else
				rc = bs__fail(c, BS_REFUSED, "invalid_mfa", "the two-factor code or recovery "
				    "code is wrong or was already used (invalid_mfa)");
		}
		goto out;
	}
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (!(a = bs__get_str(r.json, "access_token")) || !(f = bs__get_str(r.json, "refresh_token")) ||
	    !(d = bs__get_str(r.json, "device_id"))) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's login answer is malformed");
		goto out;
	}
	free(c->access);
	free(c->refresh);
	free(c->device_id);
	c->access = strdup(a);
	c->refresh = strdup(f);
	c->device_id = strdup(d);
	if (!c->access || !c->refresh || !c->device_id) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if (json_object_object_get_ex(r.json, "keyring_version", &v) && json_object_is_type(v, json_type_int)) {
		kv = json_object_get_int64(v);
		if (kv < 1 || !bs__get_str(r.json, "keyring")) {
			rc = bs__fail(c, BS_REFUSED, "no_keyring", "the account has no keyring: it was not "
			    "registered by a bs1 client");
			goto out;
		}
		if ((rc = bs__get_b64(c, r.json, "keyring", &env, &envlen)))
			goto out;
	} else if ((rc = bs__fetch_keyring(c, &env, &envlen, &kv)))
		/* a server without keyring_version in its login answer: one more request */
		goto out;
	if (kv < 1 || (e = bs1_keyring_open(&kk, lu, (uint64_t)kv, env, envlen, &pt, &ptlen)) ||
	    (e = bs1_keyring_data_key(pt, ptlen, &dk))) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt",
		    "cannot decrypt the account's keyring (tampered on the server, or not sealed for this password)");
		goto out;
	}
	/* save the session in one transaction */
	if ((rc = bs__begin(c)))
		goto out;
	same = c->user && strcmp(c->user, lu) == 0 && c->server;
	if ((!same && (rc = bs__state_clear_data(c))) ||
	    (rc = bs__set(c, "server", c->server, strlen(c->server))) ||
	    (rc = bs__set(c, "user", lu, strlen(lu))) ||
	    (rc = bs__set(c, "access", c->access, strlen(c->access))) ||
	    (rc = bs__set(c, "refresh", c->refresh, strlen(c->refresh))) ||
	    (rc = bs__set(c, "device_id", c->device_id, strlen(c->device_id))) ||
	    (rc = bs__set(c, "data_key", dk.b, sizeof dk.b))) {
		bs__rollback(c);
		goto out;
	}
	if ((rc = bs__commit(c)))
		goto out;
	free(c->user);
	c->user = lu;
	lu = NULL;
	c->data_key = dk;
	if (bs1_id_key(&c->data_key, &c->id_key) != BS1_OK) {
		rc = bs__fail(c, BS_LOCAL, "crypto", "cannot derive the id key");
		goto out;
	}
	c->have_key = 1;
	bs__share_login(c, &kk, pt, ptlen);
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&auth, sizeof auth);
	bs1_wipe(&kk, sizeof kk);
	bs1_wipe(&dk, sizeof dk);
	bs1_free(pt, ptlen);
	free(env);
	free(lu);
	bs1_wipe(asked, sizeof asked);
	return rc;
}

void
bs_set_mfa_prompt(struct bs_client *c, bs_mfa_prompt_fn fn, void *arg)
{
	c->mfa_prompt = fn;
	c->mfa_prompt_arg = arg;
}

int
bs_logout(struct bs_client *c)
{
	struct bs_resp r = {0};

	if (c->access && c->server) {
		/* best effort: the local session goes whatever the server says */
		if (bs__request(c, "POST", "/v1/account/logout", NULL, 1, &r) == BS_OK)
			bs__resp_clear(&r);
	}
	return bs__state_forget(c);
}

int
bs__new_password(struct bs_client *c, const char *user, const char *newpw, int64_t kv,
    const uint8_t *pt, size_t ptlen, struct json_object *body, struct bs1_key *nkk)
{
	struct bs1_kdf nkdf;
	struct bs1_key nauth;
	struct json_object *k;
	uint8_t *nenv = NULL;
	size_t nenvlen = 0;
	int rc, e;

	memset(&nauth, 0, sizeof nauth);
	if ((e = bs1_kdf_new(&nkdf))) {
		rc = bs__bs1_fail(c, e, "a new kdf");
		goto out;
	}
	if ((rc = bs__derive(c, newpw, &nkdf, &nauth, nkk)))
		goto out;
	if ((e = bs1_keyring_seal(nkk, user, (uint64_t)kv, pt, ptlen, &nenv, &nenvlen))) {
		rc = bs__bs1_fail(c, e, "the keyring");
		goto out;
	}
	if (bs__add_b64(body, "new_auth_key", nauth.b, sizeof nauth.b) || !(k = bs__kdf_json(&nkdf)) ||
	    json_object_object_add(body, "new_kdf", k) || bs__add_b64(body, "new_keyring", nenv, nenvlen))
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
out:
	bs1_wipe(&nauth, sizeof nauth);
	free(nenv);
	return rc;
}

int
bs_change_password(struct bs_client *c, const char *oldpw, const char *newpw)
{
	struct bs1_kdf okdf;
	struct bs1_key oauth, okk, nkk;
	struct json_object *body = NULL;
	struct bs_resp r = {0};
	uint8_t *env = NULL, *pt = NULL;
	size_t envlen = 0, ptlen = 0;
	int64_t kv = 0;
	int rc;

	memset(&oauth, 0, sizeof oauth);
	memset(&okk, 0, sizeof okk);
	memset(&nkk, 0, sizeof nkk);
	if ((rc = bs__need_session(c)))
		return rc;
	if ((rc = bs__prelogin(c, c->user, &okdf)) || (rc = bs__derive(c, oldpw, &okdf, &oauth, &okk)))
		goto out;
	if ((rc = bs__fetch_keyring(c, &env, &envlen, &kv)))
		goto out;
	if (kv < 1 || bs1_keyring_open(&okk, c->user, (uint64_t)kv, env, envlen, &pt, &ptlen) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "invalid_credentials",
		    "the current password is wrong (the keyring does not open)");
		goto out;
	}
	if (!(body = json_object_new_object()) || bs__add_b64(body, "auth_key", oauth.b, sizeof oauth.b)) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	/* the same plaintext (members we do not know kept), version N + 1 */
	if ((rc = bs__new_password(c, c->user, newpw, kv + 1, pt, ptlen, body, &nkk)))
		goto out;
	if (json_object_object_add(body, "revoke_other_devices", json_object_new_boolean(1))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, "POST", "/v1/account/password", body, 1, &r)))
		goto out;
	if (r.status == 401) {
		rc = bs__refused(c, &r);
		if (strcmp(c->code, "invalid_credentials") == 0)
			rc = bs__fail(c, BS_DECRYPT, "invalid_credentials",
			    "the current password is wrong (invalid_credentials)");
	} else if (r.status != 204)
		rc = bs__refused(c, &r);
	else   /* the keyring key sharing keeps (a first share rewrites the keyring) */
		rc = bs__set(c, "keyring_key", nkk.b, sizeof nkk.b);
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&oauth, sizeof oauth);
	bs1_wipe(&okk, sizeof okk);
	bs1_wipe(&nkk, sizeof nkk);
	bs1_free(pt, ptlen);
	free(env);
	return rc;
}

int
bs_devices(struct bs_client *c, bs_device_fn fn, void *arg)
{
	struct bs_resp r = {0};
	struct json_object *arr, *cur;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if ((rc = bs__request(c, "GET", "/v1/account/devices", NULL, 1, &r)))
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (!json_object_object_get_ex(r.json, "devices", &arr) || !json_object_is_type(arr, json_type_array))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the devices answer is malformed");
	else
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);
			struct bs_device d = {
				bs__get_str(o, "device_id"), bs__get_str(o, "name"), bs__get_str(o, "type"),
				bs__get_str(o, "created_at"), bs__get_str(o, "last_seen_at"), 0
			};
			d.current = json_object_object_get_ex(o, "current", &cur) && json_object_get_boolean(cur);
			fn(arg, &d);
		}
	bs__resp_clear(&r);
	return rc;
}

int
bs_device_revoke(struct bs_client *c, const char *device_id)
{
	struct bs_resp r = {0};
	char *path;
	char *esc;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!(esc = curl_easy_escape(NULL, device_id, 0)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if (asprintf(&path, "/v1/account/devices/%s", esc) < 0) {
		curl_free(esc);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	curl_free(esc);
	if ((rc = bs__request(c, "DELETE", path, NULL, 1, &r)) == BS_OK && r.status != 204)
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	free(path);
	return rc;
}

/* ---- import ------------------------------------------------------------- */

#define IMPORT_HEAD (64 * 1024)   /* format, username, kdf, keyring and its version come first */
#define MAX_KEYRING_VERSION 10000 /* an older export does not say it: tried in turn */

/* The head of an export (what comes before "collections") as JSON. */
static struct json_object *
export_head(int fd)
{
	char *buf = malloc(IMPORT_HEAD + 2), *p;
	struct json_object *o = NULL;
	ssize_t n;
	size_t len = 0;

	if (!buf)
		return NULL;
	while (len < IMPORT_HEAD && (n = pread(fd, buf + len, IMPORT_HEAD - len, (off_t)len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	/* members come in a fixed order (docs/API-transfer.md): cut before collections */
	if ((p = strstr(buf, "\"collections\""))) {
		while (p > buf && (p[-1] == ' ' || p[-1] == '\n' || p[-1] == ','))
			p--;
		p[0] = '}';
		p[1] = '\0';
		o = json_tokener_parse(buf);
	}
	free(buf);
	return o;
}

/* A read callback over a file for the import's upload. */
struct file_up {
	int fd;
};

static size_t
file_read(char *dst, size_t sz, size_t nm, void *arg)
{
	struct file_up *f = arg;
	ssize_t n;

	do
		n = read(f->fd, dst, sz * nm);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

static int
file_rewind(void *arg)
{
	struct file_up *f = arg;

	return lseek(f->fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

int
bs_import(struct bs_client *c, const char *path, const char *password, const char *old_password)
{
	struct json_object *head = NULL, *k, *body = NULL;
	struct bs1_kdf okdf, ckdf;
	struct bs1_key okk, ckk, odk, cdk;
	struct bs_resp r = {0};
	struct bs_xfer x = {0};
	struct file_up fu;
	struct stat sb;
	const char *reason = NULL, *ouser, *kr;
	uint8_t *oenv = NULL, *opt = NULL, *cenv = NULL, *cpt = NULL, *nenv = NULL;
	size_t oenvlen = 0, optlen = 0, cenvlen = 0, cptlen = 0, nenvlen = 0;
	int64_t cv = 0, ov, lo = 1, hi = MAX_KEYRING_VERSION;
	char *lou = NULL;
	int rc, fd = -1;
	const char *headers[1] = {NULL};

	memset(&okk, 0, sizeof okk);
	memset(&ckk, 0, sizeof ckk);
	memset(&odk, 0, sizeof odk);
	memset(&cdk, 0, sizeof cdk);
	if ((rc = bs__need_session(c)))
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = bs__fail(c, BS_LOCAL, "bad_input", "cannot read the export %s", path);
		goto out;
	}
	if (!(head = export_head(fd)) || !json_object_object_get_ex(head, "kdf", &k) ||
	    !(ouser = bs__get_str(head, "username")) || !(kr = bs__get_str(head, "keyring"))) {
		rc = bs__fail(c, BS_LOCAL, "bad_input", "%s is not a blindsync export with a keyring", path);
		goto out;
	}
	if (bs1_kdf_check(k, &okdf, &reason) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "kdf_floor", "the export's kdf is below the bs1 floor (%s)",
		    reason ? reason : "refused");
		goto out;
	}
	/* the keyring's version as the export names it; only a document without it is searched */
	if (json_object_object_get_ex(head, "keyring_version", &k)) {
		if (!json_object_is_type(k, json_type_int) || json_object_get_int64(k) < 1) {
			rc = bs__fail(c, BS_LOCAL, "bad_input", "%s: keyring_version: expected an integer "
			    "of at least 1 beside a keyring", path);
			goto out;
		}
		lo = hi = json_object_get_int64(k);
	}
	/* the old data key: the export's keyring under the old password */
	if (!(lou = bs__lower(ouser))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__derive(c, old_password, &okdf, NULL, &okk)) ||
	    (rc = bs__get_b64(c, head, "keyring", &oenv, &oenvlen)))
		goto out;
	for (ov = lo;; ov++)
		if (bs1_keyring_open(&okk, lou, (uint64_t)ov, oenv, oenvlen, &opt, &optlen) == BS1_OK || ov >= hi)
			break;
	if (!opt || bs1_keyring_data_key(opt, optlen, &odk) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot open the export's keyring (wrong "
		    "password for the old account?)");
		goto out;
	}
	/* the current keyring, opened to check the current password */
	if ((rc = bs__prelogin(c, c->user, &ckdf)) || (rc = bs__derive(c, password, &ckdf, NULL, &ckk)) ||
	    (rc = bs__fetch_keyring(c, &cenv, &cenvlen, &cv)))
		goto out;
	if (cv < 1 || bs1_keyring_open(&ckk, c->user, (uint64_t)cv, cenv, cenvlen, &cpt, &cptlen) != BS1_OK ||
	    bs1_keyring_data_key(cpt, cptlen, &cdk) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot open this account's keyring (wrong "
		    "password?)");
		goto out;
	}
	/* the old keyring's plaintext (its data key and members) sealed for this
	 * account as N + 1, first: if the import then fails, the account is
	 * still empty, and running the import again finds the key in place */
	if (bsc_equal(cdk.b, odk.b, sizeof cdk.b) == 0) {
		if (bs1_keyring_seal(&ckk, c->user, (uint64_t)cv + 1, opt, optlen, &nenv, &nenvlen) != BS1_OK ||
		    !(body = json_object_new_object()) || bs__add_b64(body, "keyring", nenv, nenvlen) ||
		    json_object_object_add(body, "version", json_object_new_int64(cv))) {
			rc = bs__fail(c, BS_LOCAL, "crypto", "cannot seal the keyring");
			goto out;
		}
		if ((rc = bs__request(c, "PUT", "/v1/account/keyring", body, 1, &r)))
			goto out;
		if (r.status != 200) {
			rc = bs__refused(c, &r);
			goto out;
		}
		bs__resp_clear(&r);
	}
	/* the document, as exported */
	fu.fd = fd;
	x.headers = headers;
	x.read = file_read;
	x.rewind = file_rewind;
	x.read_arg = &fu;
	x.size = sb.st_size;
	x.content_type = "Content-Type: application/json";
	if (file_rewind(&fu) != 0) {
		rc = bs__fail(c, BS_LOCAL, "bad_input", "cannot read %s", path);
		goto out;
	}
	if ((rc = bs__request_x(c, "POST", "/v1/account/import", NULL, 1, &x, &r)))
		goto out;
	if (r.status != 204) {
		rc = bs__refused(c, &r);
		goto out;
	}
	/* this home now works with the imported data key, from a clean copy */
	if ((rc = bs__begin(c)))
		goto out;
	if ((rc = bs__state_clear_data(c)) || (rc = bs__set(c, "data_key", odk.b, sizeof odk.b))) {
		bs__rollback(c);
		goto out;
	}
	if ((rc = bs__commit(c)))
		goto out;
	c->data_key = odk;
	if (bs1_id_key(&c->data_key, &c->id_key) != BS1_OK)
		rc = bs__fail(c, BS_LOCAL, "crypto", "cannot derive the id key");
out:
	if (fd >= 0)
		close(fd);
	bs__resp_clear(&r);
	json_object_put(head);
	json_object_put(body);
	bs1_wipe(&okk, sizeof okk);
	bs1_wipe(&ckk, sizeof ckk);
	bs1_wipe(&odk, sizeof odk);
	bs1_wipe(&cdk, sizeof cdk);
	bs1_free(opt, optlen);
	bs1_free(cpt, cptlen);
	free(oenv);
	free(cenv);
	free(nenv);
	free(lou);
	return rc;
}
