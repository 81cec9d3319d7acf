/*
 * bs_mfa.c: account security on the client (issue 15): two-factor login
 * with TOTP (turn on, confirm, turn off, renew the recovery codes) and the
 * recovery key of client.md section 10 (make one, remove it, and reset a
 * forgotten password with it while every record stays readable). The
 * login's second factor itself is in bs_account.c (bs_login_mfa).
 *
 * Must never send the recovery key, recovery_wrap or the keyring's
 * plaintext; only recovery_auth and the sealed blob leave the process.
 * Every temporary key, code and token is wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bs_impl.h"
#include "bsc.h"

_Static_assert(BS_RECOVERY_TEXT_LEN == BS1_RECOVERY_TEXT_LEN, "recovery text length");

/*
 * The proof of the account for the routes that take the current auth_key:
 * prelogin, the floor, Argon2id. *auth and (when kk is not NULL) *kk are
 * filled; the caller wipes them.
 */
static int
proof(struct bs_client *c, const char *password, struct bs1_key *auth, struct bs1_key *kk)
{
	struct bs1_kdf kdf;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if ((rc = bs__prelogin(c, c->user, &kdf)))
		return rc;
	return bs__derive(c, password, &kdf, auth, kk);
}

/* A 401 invalid_credentials from a route that took the auth_key: the
 * password was wrong (exit 5, as for login). */
static int
refused(struct bs_client *c, const struct bs_resp *r)
{
	int rc = bs__refused(c, r);

	if (r->status == 401 && strcmp(c->code, "invalid_credentials") == 0)
		rc = bs__fail(c, BS_DECRYPT, "invalid_credentials", "the password is wrong "
		    "(invalid_credentials)");
	else if (r->status == 401 && strcmp(c->code, "invalid_mfa") == 0)
		rc = bs__fail(c, BS_REFUSED, "invalid_mfa", "the two-factor code is wrong or was "
		    "already used (invalid_mfa)");
	return rc;
}

/* A new JSON object with auth_key (when auth) and the code's field (when code). */
static struct json_object *
body_new(const struct bs1_key *auth, const char *code)
{
	struct json_object *b = json_object_new_object();

	if (!b)
		return NULL;
	if ((auth && bs__add_b64(b, "auth_key", auth->b, sizeof auth->b)) ||
	    (code && json_object_object_add(b, "code", json_object_new_string(code)))) {
		json_object_put(b);
		return NULL;
	}
	return b;
}

int
bs_security(struct bs_client *c, int *totp, int *recovery_key)
{
	struct bs_resp r = {0};
	struct json_object *m, *v;
	int rc;

	*totp = *recovery_key = 0;
	if ((rc = bs__need_session(c)))
		return rc;
	if ((rc = bs__request(c, "GET", "/v1/account", NULL, 1, &r)))
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else {
		if (json_object_object_get_ex(r.json, "mfa", &m) &&
		    json_object_object_get_ex(m, "totp", &v))
			*totp = json_object_get_boolean(v);
		if (json_object_object_get_ex(r.json, "recovery_key", &v))
			*recovery_key = json_object_get_boolean(v);
	}
	bs__resp_clear(&r);
	return rc;
}

/* strdup of the string member key of o into *out; a bad answer otherwise. */
static int
dup_member(struct bs_client *c, struct json_object *o, const char *key, char **out)
{
	const char *s = bs__get_str(o, key);

	if (!s)
		return bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's answer lacks %s", key);
	if (!(*out = strdup(s)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	return BS_OK;
}

int
bs_totp_enable(struct bs_client *c, const char *password, char **secret, char **uri)
{
	struct bs1_key auth;
	struct json_object *body = NULL;
	struct bs_resp r = {0};
	int rc;

	*secret = *uri = NULL;
	memset(&auth, 0, sizeof auth);
	if ((rc = proof(c, password, &auth, NULL)))
		goto out;
	if (!(body = body_new(&auth, NULL))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, "POST", "/v1/account/mfa/totp", body, 1, &r)))
		goto out;
	if (r.status != 200)
		rc = refused(c, &r);
	else if ((rc = dup_member(c, r.json, "secret", secret)) == BS_OK)
		rc = dup_member(c, r.json, "uri", uri);
	if (rc && *secret) {
		bs_free(*secret, strlen(*secret) + 1);
		*secret = NULL;
	}
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&auth, sizeof auth);
	return rc;
}

/* Hand each string of the answer's recovery_codes to fn. */
static int
codes_out(struct bs_client *c, struct json_object *o, bs_code_fn fn, void *arg)
{
	struct json_object *a;
	size_t n;

	if (!json_object_object_get_ex(o, "recovery_codes", &a) || !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0)
		return bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's answer lacks recovery_codes");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string))
			return bs__fail(c, BS_UNREACHABLE, "bad_answer", "a recovery code is not a string");
		if (fn)
			fn(arg, json_object_get_string(e));
	}
	return BS_OK;
}

int
bs_totp_confirm(struct bs_client *c, const char *code, bs_code_fn fn, void *arg)
{
	struct json_object *body = NULL;
	struct bs_resp r = {0};
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!(body = body_new(NULL, code)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if ((rc = bs__request(c, "POST", "/v1/account/mfa/totp/confirm", body, 1, &r)) == BS_OK)
		rc = r.status == 200 ? codes_out(c, r.json, fn, arg) : refused(c, &r);
	bs__resp_clear(&r);
	json_object_put(body);
	return rc;
}

/* DELETE /v1/account/mfa/totp or POST /v1/account/mfa/recovery-codes:
 * the password's auth_key and a current code. */
static int
with_code(struct bs_client *c, const char *method, const char *path, const char *password,
    const char *code, bs_code_fn fn, void *arg)
{
	struct bs1_key auth;
	struct json_object *body = NULL;
	struct bs_resp r = {0};
	int rc;

	memset(&auth, 0, sizeof auth);
	if ((rc = proof(c, password, &auth, NULL)))
		goto out;
	if (!(body = body_new(&auth, code))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, method, path, body, 1, &r)))
		goto out;
	if (r.status < 200 || r.status > 299)
		rc = refused(c, &r);
	else if (fn)
		rc = codes_out(c, r.json, fn, arg);
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&auth, sizeof auth);
	return rc;
}

int
bs_totp_disable(struct bs_client *c, const char *password, const char *code)
{
	return with_code(c, "DELETE", "/v1/account/mfa/totp", password, code, NULL, NULL);
}

int
bs_recovery_codes(struct bs_client *c, const char *password, const char *code,
    bs_code_fn fn, void *arg)
{
	if (!fn)
		return bs__fail(c, BS_LOCAL, "usage", "the new recovery codes need somewhere to go");
	return with_code(c, "POST", "/v1/account/mfa/recovery-codes", password, code, fn, arg);
}

/* ---- the recovery key --------------------------------------------------- */

int
bs_recovery_key_create(struct bs_client *c, const char *password, char text[BS_RECOVERY_TEXT_LEN + 1])
{
	struct bs1_key auth, kk, ra, rw, dk;
	struct bs1_recovery_key rk;
	struct json_object *body = NULL;
	struct bs_resp r = {0};
	uint8_t *env = NULL, *pt = NULL, *blob = NULL;
	size_t envlen = 0, ptlen = 0, bloblen = 0;
	int64_t kv = 0;
	int rc, e;

	memset(text, 0, BS_RECOVERY_TEXT_LEN + 1);
	memset(&auth, 0, sizeof auth);
	memset(&kk, 0, sizeof kk);
	memset(&ra, 0, sizeof ra);
	memset(&rw, 0, sizeof rw);
	memset(&dk, 0, sizeof dk);
	memset(&rk, 0, sizeof rk);
	if ((rc = proof(c, password, &auth, &kk)) || (rc = bs__fetch_keyring(c, &env, &envlen, &kv)))
		goto out;
	/* the keyring as stored: its plaintext (other members included) goes into the blob */
	if (kv < 1 || bs1_keyring_open(&kk, c->user, (uint64_t)kv, env, envlen, &pt, &ptlen) != BS1_OK ||
	    bs1_keyring_data_key(pt, ptlen, &dk) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "invalid_credentials",
		    "the password is wrong: the keyring does not open (invalid_credentials)");
		goto out;
	}
	if ((e = bs1_recovery_new(&rk, text)) || (e = bs1_recovery_keys(&rk, &ra, &rw)) ||
	    (e = bs1_recovery_seal(&rw, c->user, pt, ptlen, &blob, &bloblen))) {
		rc = bs__bs1_fail(c, e, "the recovery key");
		goto out;
	}
	if (!(body = body_new(&auth, NULL)) || bs__add_b64(body, "recovery_auth", ra.b, sizeof ra.b) ||
	    bs__add_b64(body, "blob", blob, bloblen)) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, "PUT", "/v1/account/recovery", body, 1, &r)))
		goto out;
	if (r.status < 200 || r.status > 299)
		rc = refused(c, &r);
out:
	if (rc)
		bs1_wipe(text, BS_RECOVERY_TEXT_LEN + 1);
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&auth, sizeof auth);
	bs1_wipe(&kk, sizeof kk);
	bs1_wipe(&ra, sizeof ra);
	bs1_wipe(&rw, sizeof rw);
	bs1_wipe(&dk, sizeof dk);
	bs1_wipe(&rk, sizeof rk);
	bs1_free(pt, ptlen);
	free(env);
	free(blob);
	return rc;
}

int
bs_recovery_key_delete(struct bs_client *c, const char *password)
{
	return with_code(c, "DELETE", "/v1/account/recovery", password, NULL, NULL, NULL);
}

int
bs_recover(struct bs_client *c, const char *user, const char *text, const char *newpw,
    const char *device)
{
	struct bs1_recovery_key rk;
	struct bs1_key ra, rw, dk, nkk;
	struct json_object *body = NULL, *v;
	struct bs_resp r = {0};
	uint8_t *blob = NULL, *pt = NULL;
	size_t bloblen = 0, ptlen = 0;
	char *lu = bs__lower(user), *token = NULL;
	int64_t kv;
	int rc, e;

	memset(&rk, 0, sizeof rk);
	memset(&ra, 0, sizeof ra);
	memset(&rw, 0, sizeof rw);
	memset(&dk, 0, sizeof dk);
	memset(&nkk, 0, sizeof nkk);
	if (!lu) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if (bs1_recovery_parse(text, strlen(text), &rk) != BS1_OK) {
		rc = bs__fail(c, BS_LOCAL, "bad_recovery_key", "that is not a recovery key (32 letters "
		    "and digits 2-7, in groups of four)");
		goto out;
	}
	if ((e = bs1_recovery_keys(&rk, &ra, &rw))) {
		rc = bs__bs1_fail(c, e, "the recovery key");
		goto out;
	}
	if (!(body = json_object_new_object()) ||
	    json_object_object_add(body, "username", json_object_new_string(user)) ||
	    bs__add_b64(body, "recovery_auth", ra.b, sizeof ra.b)) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = bs__request(c, "POST", "/v1/account/recover", body, 0, &r)))
		goto out;
	if (r.status == 401) {
		rc = bs__refused(c, &r);
		if (strcmp(c->code, "invalid_credentials") == 0)
			rc = bs__fail(c, BS_DECRYPT, "invalid_credentials", "wrong username or recovery key, "
			    "or the account has no recovery key (invalid_credentials)");
		goto out;
	}
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	/* the keyring the blob came from has version N: the new one is N + 1 */
	if (!json_object_object_get_ex(r.json, "keyring_version", &v) || !json_object_is_type(v, json_type_int) ||
	    (kv = json_object_get_int64(v)) < 1) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's recover answer lacks "
		    "keyring_version");
		goto out;
	}
	if ((rc = dup_member(c, r.json, "reset_token", &token)) ||
	    (rc = bs__get_b64(c, r.json, "blob", &blob, &bloblen)))
		goto out;
	if (bs1_recovery_open(&rw, lu, blob, bloblen, &pt, &ptlen) != BS1_OK ||
	    bs1_keyring_data_key(pt, ptlen, &dk) != BS1_OK) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt the recovery blob "
		    "(tampered on the server, or made for another account)");
		goto out;
	}
	bs__resp_clear(&r);
	json_object_put(body);
	if (!(body = json_object_new_object()) ||
	    json_object_object_add(body, "reset_token", json_object_new_string(token))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	/* the same keyring plaintext under the new password's keys */
	if ((rc = bs__new_password(c, lu, newpw, kv + 1, pt, ptlen, body, &nkk)))
		goto out;
	if ((rc = bs__request(c, "POST", "/v1/account/recover/complete", body, 0, &r)))
		goto out;
	if (r.status < 200 || r.status > 299) {
		rc = bs__refused(c, &r);
		goto out;
	}
	/* the password is set; this home logs in with it (a code, if two-factor login is on) */
	rc = bs_login(c, user, newpw, device);
out:
	bs__resp_clear(&r);
	json_object_put(body);
	bs1_wipe(&rk, sizeof rk);
	bs1_wipe(&ra, sizeof ra);
	bs1_wipe(&rw, sizeof rw);
	bs1_wipe(&dk, sizeof dk);
	bs1_wipe(&nkk, sizeof nkk);
	bs1_free(pt, ptlen);
	if (token)
		bs1_wipe(token, strlen(token));
	free(token);
	free(blob);
	free(lu);
	return rc;
}
