/*
 * bs_share.c: sharing a collection between accounts (client.md section 9,
 * docs/API-sharing.md). The account's identity (X25519 + Ed25519) lives in
 * the keyring's plaintext and in the state, its public halves are
 * published with PUT /v1/account/keys; other accounts' keys are pinned in
 * the state on first use; a grant (the collection's keys) is sealed and
 * signed to one recipient and opened only after its signature checked with
 * the inviter's pinned key; members, roles, removal with a key rotation at
 * once (an admin's with a random key kept first in its keyring's "granted",
 * where its other homes find it); the grants this account holds are kept
 * per key version, re-fetched with GET .../grant when a version is missing.
 *
 * It must never send a collection key, a grant or an identity secret
 * unsealed, nor open a grant whose signature did not verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "bs_impl.h"
#include "bsc.h"

#define ROTATE_TRIES 5     /* rotations answered 412 before giving up */
#define KEYRING_TRIES 3    /* keyring rewrites that met a concurrent one */
#define MAX_KV 100000      /* key versions a grant may carry (previous) */

static const char *const roles[] = { "read", "write", "admin" };

/* The role index of s (BS1_ROLE_*), -1 if none. */
static int
role_of(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, roles[i]) == 0)
			return i;
	return -1;
}

/* A username as the server spells its rules: 3 to 64 of a-z 0-9 . _ - @ +. */
static int
username_ok(const char *u)
{
	size_t n = u ? strlen(u) : 0;

	return n >= 3 && n <= 64 && strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789._-@+") == n;
}

/* Percent-encode a username for a path or query (out holds 3 * 64 + 1). */
static void
esc(const char *u, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;

	for (; *u && j + 4 < n; u++) {
		unsigned char ch = (unsigned char)*u;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-') {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
}

/* The lowercased username u checked against the rules (malloc'd), or NULL
 * with a failure recorded. */
static char *
user_arg(struct bs_client *c, const char *u)
{
	char *l = u ? bs__lower(u) : NULL;

	if (u && !l) {
		bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		return NULL;
	}
	if (!username_ok(l)) {
		bs__fail(c, BS_LOCAL, "bad_username", "%s is not a username", u ? u : "(none)");
		free(l);
		return NULL;
	}
	return l;
}

/* Decode b64 text s into exactly n bytes of out; 0, or -1. */
static int
b64_exact(const char *s, uint8_t *out, size_t n)
{
	uint8_t buf[80];
	long got;

	if (!s || n > 64)
		return -1;
	got = bsc_b64_decode(s, strlen(s), buf, sizeof buf, BSC_B64_STD);
	if (got == (long)n)
		memcpy(out, buf, n);
	bs1_wipe(buf, sizeof buf);
	return got == (long)n ? 0 : -1;
}

/* Wipe the text of a json string object (a key in it) before it is freed. */
static void
wipe_str(struct json_object *v)
{
	if (v && json_object_is_type(v, json_type_string))
		bs1_wipe((void *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

/* Wipe the secrets in a parsed keyring plaintext o before it is freed: the
 * data key, the identity's halves, the keys of "granted". */
static void
keyring_wipe(struct json_object *o)
{
	struct json_object *v;

	wipe_str(json_object_object_get(o, "data_key"));
	if (json_object_object_get_ex(o, "identity", &v) && json_object_is_type(v, json_type_object)) {
		wipe_str(json_object_object_get(v, "x25519"));
		wipe_str(json_object_object_get(v, "ed25519"));
	}
	if (json_object_object_get_ex(o, "granted", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, seg, per) {
			(void)seg;
			if (!json_object_is_type(per, json_type_object))
				continue;
			json_object_object_foreach(per, kv, k) {
				(void)kv;
				wipe_str(k);
			}
		}
	}
}

/* A keyring plaintext o as text in *out (malloc'd, *outlen bytes, NUL
 * after them); json-c's own copy of the text wiped. BS_OK or BS_LOCAL. */
static int
keyring_text(struct bs_client *c, struct json_object *o, uint8_t **out, size_t *outlen)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s || !(*out = malloc(strlen(s) + 1)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	*outlen = strlen(s);
	memcpy(*out, s, *outlen + 1);
	bs1_wipe((void *)s, *outlen);
	return BS_OK;
}

/* ---- the identity ------------------------------------------------------- */

/* The identity the state keeps (*have 0 when none). */
static int
load_identity(struct bs_client *c, struct bs1_identity *id, int *have)
{
	void *v = NULL;
	size_t n = 0;
	int rc;

	*have = 0;
	if ((rc = bs__get_setting(c, "identity", &v, &n)))
		return rc;
	if (v && n == 64 && bs1_identity_from_secrets(v, (uint8_t *)v + 32, id) == BS1_OK)
		*have = 1;
	bs1_free(v, n);
	return BS_OK;
}

/* Keep the identity's secret halves in the state. */
static int
save_identity(struct bs_client *c, const struct bs1_identity *id)
{
	uint8_t b[64];
	int rc;

	memcpy(b, id->x25519_sk, 32);
	memcpy(b + 32, id->ed25519_seed, 32);
	rc = bs__set(c, "identity", b, sizeof b);
	bs1_wipe(b, sizeof b);
	return rc;
}

/* PUT /v1/account/keys with the identity's public halves. */
static int
publish(struct bs_client *c, const struct bs1_identity *id)
{
	struct json_object *body = json_object_new_object();
	struct bs_resp r = {0};
	int rc;

	if (!body || bs__add_b64(body, "x25519", id->x25519_pk.b, 32) ||
	    bs__add_b64(body, "ed25519", id->ed25519_pk.b, 32)) {
		json_object_put(body);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	rc = bs__request(c, "PUT", "/v1/account/keys", body, 1, &r);
	if (rc == BS_OK && r.status != 204 && r.status != 200)
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	json_object_put(body);
	return rc;
}

/* The identity in a keyring's plaintext: 1 found (into *id), 0 none, -1 malformed. */
static int
keyring_identity(const uint8_t *pt, size_t ptlen, struct bs1_identity *id)
{
	struct json_object *o = bs__json_object(pt, ptlen, 32, BS1_MAX_PLAINTEXT), *idn, *x, *e;
	uint8_t xs[32], es[32];
	int rc = -1;

	if (!o)
		return -1;
	if (!json_object_object_get_ex(o, "identity", &idn)) {
		rc = 0;
		goto out;
	}
	if (json_object_is_type(idn, json_type_object) && json_object_object_get_ex(idn, "x25519", &x) &&
	    json_object_object_get_ex(idn, "ed25519", &e) && json_object_is_type(x, json_type_string) &&
	    json_object_is_type(e, json_type_string) &&
	    b64_exact(json_object_get_string(x), xs, 32) == 0 &&
	    b64_exact(json_object_get_string(e), es, 32) == 0 &&
	    bs1_identity_from_secrets(xs, es, id) == BS1_OK)
		rc = 1;
	if (json_object_is_type(idn, json_type_object)) {
		wipe_str(json_object_object_get(idn, "x25519"));
		wipe_str(json_object_object_get(idn, "ed25519"));
	}
out:
	keyring_wipe(o);
	json_object_put(o);
	bs1_wipe(xs, sizeof xs);
	bs1_wipe(es, sizeof es);
	return rc;
}

/* The keyring plaintext pt with "identity" set to id, into *out (bs1_free). */
static int
keyring_add(struct bs_client *c, const uint8_t *pt, size_t ptlen, const struct bs1_identity *id,
    uint8_t **out, size_t *outlen)
{
	struct json_object *o = bs__json_object(pt, ptlen, 32, BS1_MAX_PLAINTEXT);
	struct json_object *idn = NULL, *x = NULL, *e = NULL;
	int rc = BS_OK;

	*out = NULL;
	*outlen = 0;
	if (!o)
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the keyring's plaintext is malformed");
	if (!(idn = json_object_new_object()) || !(x = bs__json_b64(id->x25519_sk, 32)) ||
	    json_object_object_add(idn, "x25519", x) || (x = NULL) ||
	    !(e = bs__json_b64(id->ed25519_seed, 32)) || json_object_object_add(idn, "ed25519", e) ||
	    (e = NULL) || json_object_object_add(o, "identity", idn)) {
		json_object_put(x);
		json_object_put(e);
		json_object_put(idn);
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = keyring_text(c, o, out, outlen)))
		goto out;
	wipe_str(json_object_object_get(idn, "x25519"));
	wipe_str(json_object_object_get(idn, "ed25519"));
out:
	keyring_wipe(o);
	json_object_put(o);
	return rc;
}

int
bs__keyring_add_identity(struct bs_client *c, const uint8_t *pt, size_t ptlen, uint8_t **out,
    size_t *outlen)
{
	struct bs1_identity id;
	int rc;

	if (bs1_identity_new(&id) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "crypto", "cannot make the identity keys");
	rc = keyring_add(c, pt, ptlen, &id, out, outlen);
	bs1_wipe(&id, sizeof id);
	return rc;
}

void
bs__share_login(struct bs_client *c, const struct bs1_key *keyring_key, const uint8_t *pt,
    size_t ptlen)
{
	struct bs1_identity id;
	char code[sizeof c->code], msg[sizeof c->msg];

	memcpy(code, c->code, sizeof code);
	memcpy(msg, c->msg, sizeof msg);
	/* best effort: a first share makes or publishes what is missing here */
	if (bs__set(c, "keyring_key", keyring_key->b, sizeof keyring_key->b) == BS_OK &&
	    keyring_identity(pt, ptlen, &id) == 1 && save_identity(c, &id) == BS_OK)
		(void)publish(c, &id);
	bs1_wipe(&id, sizeof id);
	memcpy(c->code, code, sizeof code);
	memcpy(c->msg, msg, sizeof msg);
}

/*
 * An edit of the keyring's plaintext pt: the new plaintext into *out
 * (bs1_free), or *out left NULL when nothing needs writing.
 */
typedef int (*keyring_edit_fn)(struct bs_client *c, const uint8_t *pt, size_t ptlen, void *arg,
    uint8_t **out, size_t *outlen);

/* The keyring key kept since the password login into *kk: 1, or 0 when
 * this home keeps none (logged in before a version that kept it). */
static int
keyring_key(struct bs_client *c, struct bs1_key *kk)
{
	void *k = NULL;
	size_t kn = 0;
	int found = 0;

	if (bs__get_setting(c, "keyring_key", &k, &kn) == BS_OK && k && kn == sizeof kk->b) {
		memcpy(kk->b, k, sizeof kk->b);
		found = 1;
	}
	bs1_free(k, kn);
	return found;
}

/*
 * Rewrite the account's keyring with edit: GET it (version N), open it
 * under kk, edit the plaintext, seal it as N + 1 and PUT it with version N
 * as the precondition; a concurrent rewrite (409, 412) is read again,
 * KEYRING_TRIES times in all. An edit that leaves *out NULL ends it with
 * nothing written.
 */
static int
keyring_rewrite(struct bs_client *c, const struct bs1_key *kk, keyring_edit_fn edit, void *arg)
{
	int rc = BS_CONFLICT;

	for (int t = 0; t < KEYRING_TRIES && rc == BS_CONFLICT; t++) {
		uint8_t *env = NULL, *pt = NULL, *npt = NULL, *nenv = NULL;
		size_t envlen = 0, ptlen = 0, nptlen = 0, nenvlen = 0;
		struct json_object *body = NULL, *nv;
		struct bs_resp r = {0};
		int64_t v = 0;

		if ((rc = bs__fetch_keyring(c, &env, &envlen, &v)))
			goto next;
		if (v < 1 || bs1_keyring_open(kk, c->user, (uint64_t)v, env, envlen, &pt, &ptlen) != BS1_OK) {
			rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot open the account's keyring "
			    "(the password changed on another device?): log in again");
			goto next;
		}
		if ((rc = edit(c, pt, ptlen, arg, &npt, &nptlen)) || !npt)
			goto next;
		if (bs1_keyring_seal(kk, c->user, (uint64_t)v + 1, npt, nptlen, &nenv, &nenvlen) != BS1_OK) {
			rc = bs__fail(c, BS_LOCAL, "crypto", "cannot seal the keyring");
			goto next;
		}
		if (!(body = json_object_new_object()) || bs__add_b64(body, "keyring", nenv, nenvlen) ||
		    json_object_object_add(body, "version", json_object_new_int64(v))) {
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
			goto next;
		}
		if ((rc = bs__request(c, "PUT", "/v1/account/keyring", body, 1, &r)))
			goto next;
		if (r.status == 409 || r.status == 412)
			rc = BS_CONFLICT;     /* another device rewrote it: read it again */
		else if (r.status != 200 || !json_object_object_get_ex(r.json, "version", &nv))
			rc = bs__refused(c, &r);
	next:
		bs__resp_clear(&r);
		json_object_put(body);
		free(env);
		free(nenv);
		bs1_free(pt, ptlen);
		bs1_free(npt, nptlen);
	}
	if (rc == BS_CONFLICT)
		rc = bs__fail(c, BS_CONFLICT, "conflict", "the keyring kept changing on another device");
	return rc;
}

/* keyring_edit_fn: the keyring's identity into arg, else a fresh one added. */
static int
edit_identity(struct bs_client *c, const uint8_t *pt, size_t ptlen, void *arg, uint8_t **out,
    size_t *outlen)
{
	struct bs1_identity *id = arg;
	int found = keyring_identity(pt, ptlen, id);

	if (found == 1)
		return BS_OK;
	if (found < 0 || bs1_identity_new(id) != BS1_OK)
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the keyring's identity is malformed");
	return keyring_add(c, pt, ptlen, id, out, outlen);
}

/*
 * The session's identity: the state's, else the keyring's (another device
 * made it), else a fresh one written into the keyring (PUT with the version
 * read; a concurrent rewrite is read again) and published.
 */
static int
identity(struct bs_client *c, struct bs1_identity *id)
{
	struct bs1_key kk;
	int have, rc;

	if ((rc = bs__need_session(c)) || (rc = load_identity(c, id, &have)))
		return rc;
	if (have)
		return BS_OK;
	if (!keyring_key(c, &kk))
		return bs__fail(c, BS_LOCAL, "no_identity", "this device has no sharing keys yet: log in "
		    "again (blindsync login) so that they can be made");
	rc = keyring_rewrite(c, &kk, edit_identity, id);
	bs1_wipe(&kk, sizeof kk);
	if (rc == BS_OK && !(rc = save_identity(c, id)))
		rc = publish(c, id);
	return rc;
}

/* ---- public keys and pins ----------------------------------------------- */

/* GET /v1/users/{user}/keys. */
static int
fetch_keys(struct bs_client *c, const char *user, struct bs1_x25519_pk *x, struct bs1_ed25519_pk *e)
{
	char path[640], u[200];
	struct bs_resp r = {0};
	int rc;

	esc(user, u, sizeof u);
	snprintf(path, sizeof path, "/v1/users/%s/keys", u);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status == 404)
		rc = bs__fail(c, BS_REFUSED, "not_found", "%s is not a user who can be shared with (no such "
		    "user, or no sharing keys yet: they log in once with a current client) (not_found)", user);
	else if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (b64_exact(bs__get_str(r.json, "x25519"), x->b, 32) ||
	    b64_exact(bs__get_str(r.json, "ed25519"), e->b, 32))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the keys answer for %s is malformed", user);
	bs__resp_clear(&r);
	return rc;
}

/* The fingerprint of a key pair ("?" when it cannot be computed). */
static void
fingerprint(const struct bs1_x25519_pk *x, const struct bs1_ed25519_pk *e,
    char fp[BS1_FINGERPRINT_LEN + 1])
{
	if (bs1_fingerprint(x, e, fp) != BS1_OK)
		snprintf(fp, BS1_FINGERPRINT_LEN + 1, "?");
}

/*
 * user's keys against the pin: pinned when none yet (or when trust), the
 * same as pinned is fine, another is BS_DECRYPT key_changed.
 */
static int
pin(struct bs_client *c, const char *user, const struct bs1_x25519_pk *x,
    const struct bs1_ed25519_pk *e, int trust)
{
	sqlite3_stmt *st = bs__prep(c, "SELECT x25519, ed25519 FROM pins WHERE username = ?1");
	struct bs1_x25519_pk ox;
	struct bs1_ed25519_pk oe;
	int found = 0;

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
	    sqlite3_column_bytes(st, 1) == 32) {
		memcpy(ox.b, sqlite3_column_blob(st, 0), 32);
		memcpy(oe.b, sqlite3_column_blob(st, 1), 32);
		found = 1;
	}
	sqlite3_finalize(st);
	if (found && !trust) {
		char a[BS1_FINGERPRINT_LEN + 1], b[BS1_FINGERPRINT_LEN + 1];
		if (memcmp(ox.b, x->b, 32) == 0 && memcmp(oe.b, e->b, 32) == 0)
			return BS_OK;
		fingerprint(&ox, &oe, a);
		fingerprint(x, e, b);
		return bs__fail(c, BS_DECRYPT, "key_changed", "the public key of %s changed: fingerprint "
		    "%s -> %s; confirm it with %s (blindsync trust %s) once %s told you the new one",
		    user, a, b, user, user, user);
	}
	if (!(st = bs__prep(c, "INSERT OR REPLACE INTO pins (username, x25519, ed25519) VALUES (?1, ?2, ?3)")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, x->b, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, e->b, 32, SQLITE_STATIC);
	return bs__run(c, st);
}

int
bs_keys(struct bs_client *c, char fp[BS_FINGERPRINT_LEN + 1])
{
	struct bs1_identity id;
	int rc = identity(c, &id);

	if (rc == BS_OK)
		fingerprint(&id.x25519_pk, &id.ed25519_pk, fp);
	bs1_wipe(&id, sizeof id);
	return rc;
}

/* bs_user_keys and bs_trust. */
static int
user_keys(struct bs_client *c, const char *user, char fp[BS_FINGERPRINT_LEN + 1], int trust)
{
	struct bs1_x25519_pk x;
	struct bs1_ed25519_pk e;
	char *u;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!(u = user_arg(c, user)))
		return BS_LOCAL;
	if (!(rc = fetch_keys(c, u, &x, &e)) && !(rc = pin(c, u, &x, &e, trust)))
		fingerprint(&x, &e, fp);
	free(u);
	return rc;
}

int
bs_user_keys(struct bs_client *c, const char *user, char fp[BS_FINGERPRINT_LEN + 1])
{
	return user_keys(c, user, fp, 0);
}

int
bs_trust(struct bs_client *c, const char *user, char fp[BS_FINGERPRINT_LEN + 1])
{
	return user_keys(c, user, fp, 1);
}

/* ---- grants ------------------------------------------------------------- */

/* One key version of a collection. */
struct kvkey {
	uint32_t kv;
	struct bs1_key key;
};

/*
 * The grant's JSON (client.md section 9) for keys[0..n) (ascending, the
 * last the current version) with the "previous" extension listing the
 * older ones, into *out (bs1_free).
 */
static int
grant_build(struct bs_client *c, const char *sname, const char *name, int role,
    const struct kvkey *keys, size_t n, const struct bs1_key *cid, uint8_t **out, size_t *outlen)
{
	struct bs1_grant g;
	uint8_t *j = NULL;
	size_t jn = 0, cap, len;
	char *b;
	int e;

	*out = NULL;
	*outlen = 0;
	memset(&g, 0, sizeof g);
	snprintf(g.collection, sizeof g.collection, "%s", sname);
	g.name = (char *)name;
	g.kv = keys[n - 1].kv;
	g.key = keys[n - 1].key;
	g.id_key = *cid;
	g.role = (enum bs1_role)role;
	e = bs1_grant_json(&g, &j, &jn);
	bs1_wipe(&g, sizeof g);
	if (e)
		return bs__bs1_fail(c, e, "the grant");
	cap = jn + 16 + (n - 1) * 80;
	if (!(b = malloc(cap))) {
		bs1_free(j, jn);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	memcpy(b, j, jn - 1);    /* without its closing brace */
	len = jn - 1;
	bs1_free(j, jn);
	if (n > 1) {
		len += (size_t)snprintf(b + len, cap - len, ",\"previous\":[");
		for (size_t i = 0; i + 1 < n; i++) {
			char k64[48];
			if (bsc_b64_encode(keys[i].key.b, 32, k64, sizeof k64, BSC_B64_STD) != 44) {
				bs1_free(b, cap);
				return bs__fail(c, BS_LOCAL, "crypto", "cannot encode a key");
			}
			len += (size_t)snprintf(b + len, cap - len, "%s{\"kv\":%u,\"key\":\"%s\"}",
			    i ? "," : "", (unsigned)keys[i].kv, k64);
			bs1_wipe(k64, sizeof k64);
		}
		len += (size_t)snprintf(b + len, cap - len, "]");
	}
	len += (size_t)snprintf(b + len, cap - len, "}");
	*out = (uint8_t *)b;
	*outlen = len;
	return BS_OK;
}

/* A grant opened: its members, and the older keys of "previous". */
struct opened {
	struct bs1_grant g;
	struct kvkey *prev;
	size_t nprev;
};

static void
opened_clear(struct opened *o)
{
	bs1_grant_clear(&o->g);
	bs1_free(o->prev, o->nprev * sizeof *o->prev);
	o->prev = NULL;
	o->nprev = 0;
}

/* The "previous" member of an opened grant (absent is none); -1 if malformed. */
static int
grant_previous(const uint8_t *pt, size_t ptlen, struct opened *o)
{
	struct json_object *j = bs__json_object(pt, ptlen, 32, BS1_MAX_PLAINTEXT), *arr;
	int rc = 0;
	size_t n;

	if (!j)
		return -1;
	if (!json_object_object_get_ex(j, "previous", &arr))
		goto out;
	if (!json_object_is_type(arr, json_type_array) || (n = json_object_array_length(arr)) > MAX_KV ||
	    (n && !(o->prev = calloc(n, sizeof *o->prev)))) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i), *kv, *k;
		int64_t v;
		if (!json_object_is_type(p, json_type_object) || !json_object_object_get_ex(p, "kv", &kv) ||
		    !json_object_is_type(kv, json_type_int) || !json_object_object_get_ex(p, "key", &k) ||
		    !json_object_is_type(k, json_type_string)) {
			rc = -1;
			break;
		}
		v = json_object_get_int64(kv);
		if (v < 1 || v >= (int64_t)o->g.kv ||
		    b64_exact(json_object_get_string(k), o->prev[i].key.b, 32) != 0) {
			rc = -1;
			break;
		}
		o->prev[i].kv = (uint32_t)v;
		o->nprev = i + 1;
		wipe_str(k);
	}
out:
	if (j) {
		wipe_str(json_object_object_get(j, "key"));
		wipe_str(json_object_object_get(j, "id_key"));
		if (json_object_object_get_ex(j, "previous", &arr) && json_object_is_type(arr, json_type_array))
			for (size_t i = 0; i < json_object_array_length(arr); i++)
				wipe_str(json_object_object_get(json_object_array_get_idx(arr, i), "key"));
	}
	json_object_put(j);
	return rc;
}

/*
 * Open the grant in answer a (members from, from_keys, sealed, signature;
 * an invitation or a GET .../grant answer) addressed to this account for
 * collection want: the inviter's keys against the pin first, then the
 * signature, the seal, the frame, the collection.
 */
static int
grant_open(struct bs_client *c, struct json_object *a, const char *want, struct opened *o,
    char fp[BS1_FINGERPRINT_LEN + 1])
{
	struct json_object *fk;
	struct bs1_x25519_pk x;
	struct bs1_ed25519_pk e;
	struct bs1_sig sig;
	struct bs1_identity me;
	const char *from = bs__get_str(a, "from");
	char *f = NULL;
	uint8_t *sealed = NULL, *pt = NULL;
	size_t sealedlen = 0, ptlen = 0;
	int rc;

	memset(o, 0, sizeof *o);
	memset(&me, 0, sizeof me);
	if (!from || !(f = bs__lower(from)) || !username_ok(f)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the grant names no inviter");
		goto out;
	}
	if (!json_object_object_get_ex(a, "from_keys", &fk) ||
	    b64_exact(bs__get_str(fk, "x25519"), x.b, 32) || b64_exact(bs__get_str(fk, "ed25519"), e.b, 32)) {
		/* an inviter without keys (null) cannot have signed it */
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt the grant from %s: it comes "
		    "without the inviter's public keys: refused", f);
		goto out;
	}
	if (fp)
		fingerprint(&x, &e, fp);
	if ((rc = pin(c, f, &x, &e, 0)) || (rc = identity(c, &me)))
		goto out;
	if (b64_exact(bs__get_str(a, "signature"), sig.b, 64) ||
	    (rc = bs__get_b64(c, a, "sealed", &sealed, &sealedlen)) ||
	    bs1_grant_open(&me, c->user, &e, sealed, sealedlen, &sig, &pt, &ptlen) != BS1_OK ||
	    bs1_grant_parse(pt, ptlen, &o->g) != BS1_OK || grant_previous(pt, ptlen, o) != 0) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt the grant from %s (a bad "
		    "signature, tampered, or not sealed to you): refused", f);
		goto out;
	}
	if (strcmp(o->g.collection, want) != 0 || !o->g.name[0]) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the grant from %s is for another "
		    "collection than the one offered: refused", f);
		goto out;
	}
	rc = BS_OK;
out:
	if (rc)
		opened_clear(o);
	bs1_wipe(&me, sizeof me);
	bs1_free(pt, ptlen);
	free(sealed);
	free(f);
	return rc;
}

/* Keep an opened grant of owner's collection (in the caller's transaction
 * if one is open, else in one of its own). */
static int
grant_store(struct bs_client *c, const char *owner, const char *role, const struct opened *o)
{
	const char *sname = o->g.collection;
	sqlite3_stmt *st;
	int own = sqlite3_get_autocommit(c->db), rc;

	if (own && (rc = bs__begin(c)))
		return rc;
	if (!(st = bs__prep(c, "INSERT INTO shared (sname, owner, name, role, id_key) VALUES "
	    "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (sname) DO UPDATE SET owner = excluded.owner, "
	    "name = excluded.name, role = excluded.role, id_key = excluded.id_key"))) {
		rc = BS_LOCAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->g.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, role ? role : roles[o->g.role], -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, o->g.id_key.b, 32, SQLITE_STATIC);
	if ((rc = bs__run(c, st)))
		goto out;
	for (size_t i = 0; i <= o->nprev && !rc; i++) {
		const struct bs1_key *k = i < o->nprev ? &o->prev[i].key : &o->g.key;
		uint32_t kv = i < o->nprev ? o->prev[i].kv : o->g.kv;
		if (!(st = bs__prep(c, i < o->nprev ?
		    "INSERT OR IGNORE INTO share_keys (sname, kv, key) VALUES (?1, ?2, ?3)" :
		    "INSERT OR REPLACE INTO share_keys (sname, kv, key) VALUES (?1, ?2, ?3)"))) {
			rc = BS_LOCAL;
			break;
		}
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, kv);
		sqlite3_bind_blob(st, 3, k->b, 32, SQLITE_STATIC);
		rc = bs__run(c, st);
	}
	if (!rc && (st = bs__prep(c, "INSERT INTO collections (sname) VALUES (?1) ON CONFLICT DO NOTHING"))) {
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		rc = bs__run(c, st);
	} else if (!rc)
		rc = BS_LOCAL;
out:
	if (own) {
		if (rc)
			bs__rollback(c);
		else
			rc = bs__commit(c);
	}
	return rc;
}

/*
 * GET /v1/collections/{sname}/grant?owner=O[&key_version=kv]: open it and
 * keep it. A 404 is BS_REFUSED not_found.
 */
static int
grant_fetch(struct bs_client *c, const char *sname, const char *owner, uint32_t kv)
{
	struct bs_resp r = {0};
	struct opened o;
	char path[640], u[200];
	struct json_object *v;
	int rc;

	esc(owner, u, sizeof u);
	if (kv)
		snprintf(path, sizeof path, "/v1/collections/%s/grant?owner=%s&key_version=%u", sname, u,
		    (unsigned)kv);
	else
		snprintf(path, sizeof path, "/v1/collections/%s/grant?owner=%s", sname, u);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status == 404) {
		rc = bs__fail(c, BS_REFUSED, "not_found", "no grant of collection %s of %s for you%s "
		    "(not_found)", sname, owner, kv ? " at that key version" : "");
		goto out;
	}
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if ((rc = grant_open(c, r.json, sname, &o, NULL)))
		goto out;
	if ((kv && o.g.kv != kv) || !json_object_object_get_ex(r.json, "key_version", &v) ||
	    json_object_get_int64(v) != (int64_t)o.g.kv)
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the grant of collection %s names another "
		    "key version than the server: refused", sname);
	else
		rc = grant_store(c, owner, bs__get_str(r.json, "role"), &o);
	opened_clear(&o);
out:
	bs__resp_clear(&r);
	return rc;
}

/* ---- collections as the record code sees them ---------------------------- */

void
bs__coll_clear(struct bs__coll *x)
{
	bs1_wipe(x, sizeof *x);
}

/* The kept key of version kv of shared collection sname: 1 found, 0 not. */
static int
kept_key(struct bs_client *c, const char *sname, uint32_t kv, struct bs1_key *ck)
{
	sqlite3_stmt *st = bs__prep(c, "SELECT key FROM share_keys WHERE sname = ?1 AND kv = ?2");
	int found = 0;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kv);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(ck->b, sqlite3_column_blob(st, 0), 32);
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

/* Keep key version kv's key of collection sname in share_keys. */
static int
keep_key(struct bs_client *c, const char *sname, uint32_t kv, const struct bs1_key *k)
{
	sqlite3_stmt *st = bs__prep(c, "INSERT OR REPLACE INTO share_keys (sname, kv, key) VALUES (?1, ?2, ?3)");

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kv);
	sqlite3_bind_blob(st, 3, k->b, 32, SQLITE_STATIC);
	return bs__run(c, st);
}

/* ---- keys made as an admin: the keyring's "granted" ---------------------- */

/* A key this account made as an admin rotating a collection it does not own. */
struct granted {
	char seg[BS1_NAME_LEN + 80];    /* "<owner>:<server name>", the JavaScript SDK's */
	uint32_t kv;
	const struct bs1_key *key;
};

/* parent's member key as an object, made empty when missing: BS_OK, or the failure reported. */
static int
member_object(struct bs_client *c, struct json_object *parent, const char *key, struct json_object **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(parent, key, &v)) {
		if (!(v = json_object_new_object()) || json_object_object_add(parent, key, v)) {
			json_object_put(v);
			return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		}
	}
	if (!json_object_is_type(v, json_type_object))
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the keyring's granted keys are malformed");
	*out = v;
	return BS_OK;
}

/*
 * keyring_edit_fn (client.md section 9, docs/CLIENT.md "Rotation by an
 * admin"): the keyring plaintext with arg's key added to its member
 * "granted", {"<owner>:<c>": {"<kv>": b64(key)}}; the other members kept.
 */
static int
edit_granted(struct bs_client *c, const uint8_t *pt, size_t ptlen, void *arg, uint8_t **out,
    size_t *outlen)
{
	const struct granted *g = arg;
	struct json_object *o = bs__json_object(pt, ptlen, 32, BS1_MAX_PLAINTEXT), *all, *per, *k;
	char kv[16];
	int rc = BS_OK;

	if (!o)
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the keyring's plaintext is malformed");
	if ((rc = member_object(c, o, "granted", &all)) || (rc = member_object(c, all, g->seg, &per)))
		goto out;
	snprintf(kv, sizeof kv, "%u", (unsigned)g->kv);
	wipe_str(json_object_object_get(per, kv));     /* replaced: an earlier try's */
	if (!(k = bs__json_b64(g->key->b, sizeof g->key->b)) || json_object_object_add(per, kv, k)) {
		wipe_str(k);
		json_object_put(k);
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	rc = keyring_text(c, o, out, outlen);
out:
	keyring_wipe(o);
	json_object_put(o);
	return rc;
}

/*
 * Keep in share_keys (under sname) the keys of seg in the keyring
 * plaintext's "granted" whose version is in lo..hi (a version a grant
 * gave is kept as it is). 0, or -1 when the member is malformed (as the
 * JavaScript SDK: a version below 2 or a key not b64 of 32 bytes).
 */
static int
granted_keep(struct bs_client *c, const uint8_t *pt, size_t ptlen, const char *seg, const char *sname,
    uint32_t lo, uint32_t hi)
{
	struct json_object *o = bs__json_object(pt, ptlen, 32, BS1_MAX_PLAINTEXT), *all, *per;
	int rc = 0;

	if (!o)
		return -1;
	if (!json_object_object_get_ex(o, "granted", &all) || !json_object_object_get_ex(all, seg, &per))
		goto out;
	if (!json_object_is_type(all, json_type_object) || !json_object_is_type(per, json_type_object)) {
		rc = -1;
		goto out;
	}
	json_object_object_foreach(per, kvs, k) {
		struct bs1_key key;
		sqlite3_stmt *st;
		char *end;
		unsigned long v = strtoul(kvs, &end, 10);
		if (!*kvs || *end || kvs[0] < '1' || kvs[0] > '9' || v < 2 || v > UINT32_MAX ||
		    !json_object_is_type(k, json_type_string) || b64_exact(json_object_get_string(k), key.b, 32)) {
			rc = -1;
			break;
		}
		if (v >= lo && v <= hi &&
		    (st = bs__prep(c, "INSERT OR IGNORE INTO share_keys (sname, kv, key) VALUES (?1, ?2, ?3)"))) {
			sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)v);
			sqlite3_bind_blob(st, 3, key.b, 32, SQLITE_STATIC);
			(void)bs__run(c, st);
		}
		bs1_wipe(&key, sizeof key);
	}
out:
	keyring_wipe(o);
	json_object_put(o);
	return rc;
}

/*
 * The keys of versions lo..hi of owner's collection sname that this
 * account made rotating it as an admin, from its keyring's "granted"
 * (made on another device, or on this one before its state was lost),
 * kept in share_keys. BS_OK also when there is none, or when this home
 * keeps no keyring key (nothing to open it with).
 */
static int
granted_learn(struct bs_client *c, const char *owner, const char *sname, uint32_t lo, uint32_t hi)
{
	struct bs1_key kk;
	uint8_t *env = NULL, *pt = NULL;
	size_t envlen = 0, ptlen = 0;
	char seg[BS1_NAME_LEN + 80];
	int64_t v = 0;
	int rc;

	if (!keyring_key(c, &kk))
		return BS_OK;
	snprintf(seg, sizeof seg, "%s:%s", owner, sname);
	if ((rc = bs__fetch_keyring(c, &env, &envlen, &v)))
		goto out;
	if (v < 1 || bs1_keyring_open(&kk, c->user, (uint64_t)v, env, envlen, &pt, &ptlen) != BS1_OK)
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot open the account's keyring "
		    "(the password changed on another device?): log in again");
	else if (granted_keep(c, pt, ptlen, seg, sname, lo, hi) != 0)
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the keyring's granted keys are malformed");
out:
	bs1_wipe(&kk, sizeof kk);
	bs1_free(pt, ptlen);
	free(env);
	return rc;
}

/*
 * Key version kv of own collection sname into *ck: ck(sname, kv) derived,
 * unless an admin's rotation made kv (client.md section 9: a random key,
 * sealed to the owner too): then the grant it gave us, GET
 * .../grant?owner=ME&key_version=kv, opened under the admin's pinned key.
 * Version 1 is always derived. A version up to known (the newest one this
 * home has seen, so settled) is kept in share_keys (an own collection has
 * no row in shared, so it stays own) and looked up once; one above it is
 * the one our own rotation is making, asked each time, since an admin's
 * rotation may beat ours.
 */
static int
own_key(struct bs_client *c, const char *sname, uint32_t kv, uint32_t known, struct bs1_key *ck)
{
	struct bs_resp r = {0};
	struct opened o;
	char path[640], u[200];
	int rc;

	if (kv <= 1)
		goto derive;
	if (kept_key(c, sname, kv, ck))
		return BS_OK;
	esc(c->user, u, sizeof u);
	snprintf(path, sizeof path, "/v1/collections/%s/grant?owner=%s&key_version=%u", sname, u, (unsigned)kv);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status == 404) {
		bs__resp_clear(&r);
		goto derive;
	}
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		bs__resp_clear(&r);
		return rc;
	}
	rc = grant_open(c, r.json, sname, &o, NULL);
	bs__resp_clear(&r);
	if (rc)
		return rc;
	if (o.g.kv != kv)
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "the grant of collection %s names another key "
		    "version than asked: refused", sname);
	else if (!(rc = keep_key(c, sname, kv, &o.g.key)))
		*ck = o.g.key;
	opened_clear(&o);
	return rc;
derive:
	if (bs1_ck(&c->data_key, sname, kv, ck) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "crypto", "cannot derive the collection key");
	return kv > 1 && kv <= known ? keep_key(c, sname, kv, ck) : BS_OK;
}

int
bs__coll_by_sname(struct bs_client *c, const char *sname, struct bs__coll *x)
{
	sqlite3_stmt *st;
	int rc, shared = 0;

	memset(x, 0, sizeof *x);
	if ((rc = bs__need_session(c)))
		return rc;
	if (strlen(sname) != BS1_NAME_LEN)
		return bs__fail(c, BS_LOCAL, "bad_name", "%s is not a collection's server name", sname);
	memcpy(x->sname, sname, BS1_NAME_LEN + 1);
	if (!(st = bs__prep(c, "SELECT s.owner, s.id_key, (SELECT MAX(kv) FROM share_keys k "
	    "WHERE k.sname = s.sname) FROM shared s WHERE s.sname = ?1")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
		char u[200];
		shared = 1;
		snprintf(x->owner, sizeof x->owner, "%s", (const char *)sqlite3_column_text(st, 0));
		memcpy(x->cid.b, sqlite3_column_blob(st, 1), 32);
		x->kv = (uint32_t)sqlite3_column_int64(st, 2);
		esc(x->owner, u, sizeof u);
		snprintf(x->q, sizeof x->q, "owner=%s", u);
	}
	sqlite3_finalize(st);
	if (shared) {
		if (x->kv < 1 || !kept_key(c, sname, x->kv, &x->ck)) {
			bs__coll_clear(x);
			return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "no key is kept for a collection "
			    "shared with you");
		}
		return BS_OK;
	}
	int64_t kv = bs__state_int(c, "SELECT kv FROM key_versions WHERE sname = ?1", sname);
	x->kv = kv > 1 ? (uint32_t)kv : 1;
	if (bs1_cid_key(&c->data_key, sname, &x->cid) != BS1_OK) {
		bs__coll_clear(x);
		return bs__fail(c, BS_LOCAL, "crypto", "cannot derive the collection's keys");
	}
	if ((rc = own_key(c, sname, x->kv, x->kv, &x->ck)))
		bs__coll_clear(x);
	return rc;
}

/* The server name of owner's shared collection A kept here: 1 found, 0 not. */
static int
shared_sname(struct bs_client *c, const char *owner, const char *A, char sname[BS1_NAME_LEN + 1])
{
	sqlite3_stmt *st = bs__prep(c, "SELECT sname FROM shared WHERE owner = ?1 AND name = ?2");
	int found = 0;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, A, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sname, BS1_NAME_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

/* GET /v1/collections and learn what it says of shared collections. */
static int
learn_listing(struct bs_client *c)
{
	struct bs_resp r = {0};
	int rc;

	if ((rc = bs__request(c, "GET", "/v1/collections", NULL, 1, &r)))
		return rc;
	rc = r.status == 200 ? bs__share_learn(c, r.json) : bs__refused(c, &r);
	bs__resp_clear(&r);
	return rc;
}

int
bs__coll_by_name(struct bs_client *c, const char *A, struct bs__coll *x)
{
	char sname[BS1_NAME_LEN + 1];
	int rc;

	memset(x, 0, sizeof *x);
	if ((rc = bs__need_session(c)))
		return rc;
	if (!c->owner)
		return (rc = bs__coll_name(c, A, sname)) ? rc : bs__coll_by_sname(c, sname, x);
	if (!shared_sname(c, c->owner, A, sname)) {
		/* accepted on another device? the server lists what is shared with us */
		if ((rc = learn_listing(c)))
			return rc;
		if (!shared_sname(c, c->owner, A, sname))
			return bs__fail(c, BS_REFUSED, "not_found", "%s has shared no collection %s with you "
			    "(not_found)", c->owner, A);
	}
	return bs__coll_by_sname(c, sname, x);
}

int
bs__coll_key(struct bs_client *c, const struct bs__coll *x, uint32_t kv, struct bs1_key *ck)
{
	int rc;

	if (!x->owner[0])
		return own_key(c, x->sname, kv, x->kv, ck);
	if (kv == x->kv) {
		*ck = x->ck;
		return BS_OK;
	}
	if (kept_key(c, x->sname, kv, ck))
		return BS_OK;
	if ((rc = grant_fetch(c, x->sname, x->owner, kv)) && rc != BS_REFUSED)
		return rc;
	/* none granted: a version this account made rotating as an admin? */
	if (rc == BS_REFUSED && (rc = granted_learn(c, x->owner, x->sname, kv, kv)))
		return rc;
	if (kept_key(c, x->sname, kv, ck))
		return BS_OK;
	return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt: no key of version %u of "
	    "the collection %s of %s was granted to you", (unsigned)kv, x->sname, x->owner);
}

int
bs__coll_refresh(struct bs_client *c, struct bs__coll *x)
{
	struct bs__coll y;
	int rc;

	if (!x->owner[0])
		return BS_OK;
	if ((rc = grant_fetch(c, x->sname, x->owner, 0))) {
		if (strcmp(c->code, "not_found") == 0)
			bs__fail(c, BS_REFUSED, "not_found", "the collection %s of %s is not shared with you "
			    "(any more) (not_found)", x->sname, x->owner);
		return rc;
	}
	if ((rc = bs__coll_by_sname(c, x->sname, &y)))
		return rc;
	*x = y;
	bs__coll_clear(&y);
	return BS_OK;
}

/* The newest key version kept of shared collection sname (0 if none). */
static int64_t
kept_kv(struct bs_client *c, const char *sname)
{
	return bs__state_int(c, "SELECT MAX(kv) FROM share_keys WHERE sname = ?1", sname);
}

/*
 * What an entry o of the server (a listing's or the members answer) says of
 * own collection sname: its key version kv, the one new records are sealed
 * under (kept when above 1), and its "rotate_due" (a member removed or
 * gone: kept until the rotation before the next push, bs__rotate_due).
 */
/* The statement that keeps kv as sname's key version unless a higher one is kept, bound; NULL when it cannot be prepared. */
static sqlite3_stmt *
kv_upsert(struct bs_client *c, const char *sname, int64_t kv)
{
	sqlite3_stmt *st = bs__prep(c, "INSERT INTO key_versions (sname, kv) VALUES (?1, ?2) "
	    "ON CONFLICT (sname) DO UPDATE SET kv = MAX(kv, excluded.kv)");

	if (st) {
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, kv);
	}
	return st;
}

static int
own_mark(struct bs_client *c, const char *sname, int64_t kv, struct json_object *o)
{
	struct json_object *v;
	sqlite3_stmt *st;
	int rc = BS_OK;

	if (kv > 1 && (st = kv_upsert(c, sname, kv)))
		rc = bs__run(c, st);
	if (!rc && json_object_object_get_ex(o, "rotate_due", &v) &&
	    (st = bs__prep(c, json_object_get_boolean(v) ?
	    "INSERT INTO rotate_due (sname) VALUES (?1) ON CONFLICT (sname) DO NOTHING" :
	    "DELETE FROM rotate_due WHERE sname = ?1"))) {
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		rc = bs__run(c, st);
	}
	return rc;
}

int
bs__share_learn(struct bs_client *c, struct json_object *listing)
{
	struct json_object *arr, *v;
	int rc = BS_OK;

	if (!json_object_object_get_ex(listing, "collections", &arr) || !json_object_is_type(arr, json_type_array))
		return BS_OK;
	for (size_t i = 0; !rc && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *sname = bs__get_str(o, "name"), *owner = bs__get_str(o, "owner");
		int64_t kv = json_object_object_get_ex(o, "key_version", &v) ? json_object_get_int64(v) : 1;
		char *ow;

		if (!sname || strlen(sname) != BS1_NAME_LEN || kv < 1 || kv > UINT32_MAX)
			continue;
		if (!owner || (c->user && strcmp(owner, c->user) == 0)) {
			rc = own_mark(c, sname, kv, o);
			continue;
		}
		if (kept_kv(c, sname) >= kv || !(ow = bs__lower(owner)))
			continue;
		if (username_ok(ow) && (rc = grant_fetch(c, sname, ow, 0)) == BS_REFUSED)
			rc = BS_OK;     /* no grant (any more): nothing to learn */
		/* a version above the newest granted: one this account made as an admin */
		int64_t have = rc ? 0 : kept_kv(c, sname);
		if (username_ok(ow) && have > 0 && have < kv)
			rc = granted_learn(c, ow, sname, (uint32_t)have + 1, (uint32_t)kv);
		free(ow);
	}
	return rc;
}

int
bs__own_learn(struct bs_client *c, const char *sname)
{
	struct bs_resp r = {0};
	struct json_object *v;
	char path[640];
	int64_t kv;
	int rc;

	snprintf(path, sizeof path, "/v1/collections/%s/members", sname);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status == 200) {
		kv = json_object_object_get_ex(r.json, "key_version", &v) ? json_object_get_int64(v) : 1;
		rc = kv < 1 || kv > MAX_KV ? bs__fail(c, BS_UNREACHABLE, "bad_answer", "the members "
		    "answer's key_version is malformed") : own_mark(c, sname, kv, r.json);
	} else if (r.status != 404)     /* 404: not on the server yet, nothing to rotate */
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	return rc;
}

int
bs__share_forget(struct bs_client *c, const char *sname)
{
	static const char *const sql[] = {
		"DELETE FROM shared WHERE sname = ?1", "DELETE FROM share_keys WHERE sname = ?1",
		"DELETE FROM records WHERE sname = ?1", "DELETE FROM queue WHERE sname = ?1",
		"DELETE FROM conflicts WHERE sname = ?1", "DELETE FROM collections WHERE sname = ?1",
	};
	int own = sqlite3_get_autocommit(c->db), rc = BS_OK;

	if (own && (rc = bs__begin(c)))
		return rc;
	for (size_t i = 0; !rc && i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = bs__prep(c, sql[i]);
		if (!st) {
			rc = BS_LOCAL;
			break;
		}
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		rc = bs__run(c, st);
	}
	if (own) {
		if (rc)
			bs__rollback(c);
		else
			rc = bs__commit(c);
	}
	return rc;
}

/* ---- the API ------------------------------------------------------------ */

int
bs_use_owner(struct bs_client *c, const char *owner)
{
	char *o = NULL;

	if (owner && *owner && !(o = user_arg(c, owner)))
		return BS_LOCAL;
	if (o && c->user && strcmp(o, c->user) == 0) {
		free(o);        /* one's own: the same as none */
		o = NULL;
	}
	free(c->owner);
	c->owner = o;
	return BS_OK;
}

/* "/v1/collections/{sname}{suffix}" with x's owner query (and extra query q2). */
static void
coll_path(char *p, size_t n, const struct bs__coll *x, const char *suffix, const char *q2)
{
	int has = x->q[0] != '\0';

	snprintf(p, n, "/v1/collections/%s%s%s%s%s%s", x->sname, suffix, has || q2 ? "?" : "",
	    x->q, has && q2 ? "&" : "", q2 ? q2 : "");
}

/* GET .../members of x: the answer in *r (200), or a failure. */
static int
members_get(struct bs_client *c, const struct bs__coll *x, struct bs_resp *r)
{
	char path[640];
	int rc;

	coll_path(path, sizeof path, x, "/members", NULL);
	if ((rc = bs__request(c, "GET", path, NULL, 1, r)))
		return rc;
	if (r->status == 404)
		return bs__fail(c, BS_REFUSED, "not_found", "the collection is not on the server, or not "
		    "shared with you (not_found)");
	if (r->status != 200)
		return bs__refused(c, r);
	return BS_OK;
}

int
bs_members(struct bs_client *c, const char *coll, bs_member_fn fn, void *arg, int64_t *key_version)
{
	struct bs__coll x;
	struct bs_resp r = {0};
	struct json_object *arr, *v;
	int rc;

	if ((rc = bs__coll_by_name(c, coll, &x)))
		return rc;
	if ((rc = members_get(c, &x, &r)))
		goto out;
	if (!json_object_object_get_ex(r.json, "members", &arr) || !json_object_is_type(arr, json_type_array)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the members answer is malformed");
		goto out;
	}
	if (key_version)
		*key_version = json_object_object_get_ex(r.json, "key_version", &v) ? json_object_get_int64(v) : 1;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct bs_member m = { bs__get_str(o, "username"), bs__get_str(o, "role"),
		    bs__get_str(o, "joined_at") };
		if (m.username && m.role)
			fn(arg, &m);
	}
out:
	bs__resp_clear(&r);
	bs__coll_clear(&x);
	return rc;
}

/*
 * keys[0..*n) of x for versions 1..upto (a shared collection: those held;
 * upto itself required), ascending. With fresh (an admin rotating), upto
 * is fresh, the key it made, and upto - 1 is the one required. *keys
 * malloc'd (bs1_free with *n).
 */
static int
coll_keys(struct bs_client *c, const struct bs__coll *x, uint32_t upto, const struct bs1_key *fresh,
    struct kvkey **keys, size_t *n)
{
	struct kvkey *k;
	size_t m = 0;
	int rc = BS_OK;

	*keys = NULL;
	*n = 0;
	if (upto < 1 || upto > MAX_KV || !(k = calloc(upto, sizeof *k)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory (or a bad key version)");
	for (uint32_t v = 1; v <= upto; v++) {
		if (fresh && v == upto)
			k[m].key = *fresh;
		else if (!x->owner[0] || v == upto || (fresh && v + 1 == upto)) {
			if ((rc = bs__coll_key(c, x, v, &k[m].key)))
				break;
		} else if (!kept_key(c, x->sname, v, &k[m].key))
			continue;    /* an older version this member never held */
		k[m++].kv = v;
	}
	if (rc) {
		bs1_free(k, upto * sizeof *k);
		return rc;
	}
	*keys = k;
	*n = m;
	return BS_OK;
}

/* The grant of x (keys[0..n)) for user as role, sealed and signed by me,
 * added to o as "sealed" and "signature" (and "to"). */
static int
seal_for(struct bs_client *c, const struct bs1_identity *me, const struct bs__coll *x, const char *name,
    const char *user, int role, const struct kvkey *keys, size_t n, struct json_object *o)
{
	struct bs1_x25519_pk px;
	struct bs1_ed25519_pk pe;
	struct bs1_sig sig;
	uint8_t *g = NULL, *sealed = NULL;
	size_t gn = 0, sealedlen = 0;
	int rc;

	if ((rc = fetch_keys(c, user, &px, &pe)) || (rc = pin(c, user, &px, &pe, 0)) ||
	    (rc = grant_build(c, x->sname, name, role, keys, n, &x->cid, &g, &gn)))
		return rc;
	if (bs1_grant_seal(me, &px, user, g, gn, &sealed, &sealedlen, &sig) != BS1_OK)
		rc = bs__fail(c, BS_LOCAL, "crypto", "cannot seal the grant");
	else if (json_object_object_add(o, "to", json_object_new_string(user)) ||
	    bs__add_b64(o, "sealed", sealed, sealedlen) || bs__add_b64(o, "signature", sig.b, sizeof sig.b))
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	bs1_free(g, gn);
	free(sealed);
	return rc;
}

/* The application's name of x (own: A; shared: the grant's). */
static char *
coll_app_name(struct bs_client *c, const struct bs__coll *x, const char *A)
{
	sqlite3_stmt *st;
	char *n = NULL;

	if (!x->owner[0])
		return strdup(A);
	if ((st = bs__prep(c, "SELECT name FROM shared WHERE sname = ?1"))) {
		sqlite3_bind_text(st, 1, x->sname, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	return n;
}

int
bs_share(struct bs_client *c, const char *coll, const char *user, const char *role, char id[64])
{
	struct bs__coll x;
	struct bs1_identity me;
	struct bs_resp r = {0}, a = {0};
	struct json_object *body = NULL, *v;
	struct kvkey *keys = NULL;
	size_t n = 0;
	char path[640], *u = NULL, *name = NULL;
	int rc, ri = role_of(role ? role : "read");
	int64_t kv;

	id[0] = '\0';
	memset(&me, 0, sizeof me);
	if (ri < 0)
		return bs__fail(c, BS_LOCAL, "bad_role", "the role is read, write or admin");
	if (!(u = user_arg(c, user)))
		return BS_LOCAL;
	if ((rc = bs__coll_by_name(c, coll, &x)))
		goto out0;
	if (c->user && strcmp(u, c->user) == 0) {
		rc = bs__fail(c, BS_LOCAL, "bad_username", "you cannot share with yourself");
		goto out;
	}
	/* an own collection exists on the server once its meta was sent */
	if (!x.owner[0] && (rc = bs__ensure_collection(c, x.sname, coll)))
		goto out;
	if ((rc = members_get(c, &x, &r)))
		goto out;
	kv = json_object_object_get_ex(r.json, "key_version", &v) ? json_object_get_int64(v) : 1;
	if (kv < 1 || kv > MAX_KV) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the members answer's key_version is malformed");
		goto out;
	}
	if ((rc = identity(c, &me)) || (rc = coll_keys(c, &x, (uint32_t)kv, NULL, &keys, &n)))
		goto out;
	if (!(name = coll_app_name(c, &x, coll)) || !(body = json_object_new_object()) ||
	    json_object_object_add(body, "role", json_object_new_string(roles[ri])) ||
	    json_object_object_add(body, "key_version", json_object_new_int64(kv))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if ((rc = seal_for(c, &me, &x, name, u, ri, keys, n, body)))
		goto out;
	coll_path(path, sizeof path, &x, "/invitations", NULL);
	if ((rc = bs__request(c, "POST", path, body, 1, &a)))
		goto out;
	if (a.status != 201 || !bs__get_str(a.json, "id"))
		rc = a.status == 201 ? bs__fail(c, BS_UNREACHABLE, "bad_answer", "the invitation answer is "
		    "malformed") : bs__refused(c, &a);
	else
		snprintf(id, 64, "%s", bs__get_str(a.json, "id"));
out:
	bs__coll_clear(&x);
out0:
	bs1_wipe(&me, sizeof me);
	bs1_free(keys, n * sizeof *keys);
	bs__resp_clear(&r);
	bs__resp_clear(&a);
	json_object_put(body);
	free(name);
	free(u);
	return rc;
}

/* Fill an invitation view from an incoming invitation o, its grant opened
 * into *op (*ok set when it opened; else the failure is returned and
 * inv->problem says it). */
static int
invitation_view(struct bs_client *c, struct json_object *o, struct bs_invitation *inv,
    struct opened *op, int *ok)
{
	int rc;

	struct json_object *v;
	const char *coll = bs__get_str(o, "collection");

	memset(inv, 0, sizeof *inv);
	inv->id = bs__get_str(o, "id");
	inv->owner = bs__get_str(o, "owner");
	inv->from = bs__get_str(o, "from");
	inv->role = bs__get_str(o, "role");
	inv->expires_at = bs__get_str(o, "expires_at");
	inv->key_version = json_object_object_get_ex(o, "key_version", &v) ? json_object_get_int64(v) : 0;
	*ok = 0;
	if (!coll || strlen(coll) != BS1_NAME_LEN) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "an invitation names no collection");
		inv->problem = c->msg;
		return rc;
	}
	if ((rc = grant_open(c, o, coll, op, inv->from_fingerprint)) != BS_OK) {
		inv->problem = c->msg;
		return rc;
	}
	inv->name = op->g.name;
	*ok = 1;
	return BS_OK;
}

int
bs_invitations(struct bs_client *c, bs_invitation_fn fn, void *arg)
{
	struct bs_resp r = {0};
	struct json_object *arr;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if ((rc = bs__request(c, "GET", "/v1/invitations", NULL, 1, &r)))
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (!json_object_object_get_ex(r.json, "invitations", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the invitations answer is malformed");
	else
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct bs_invitation inv;
			struct opened op;
			int ok;
			(void)invitation_view(c, json_object_array_get_idx(arr, i), &inv, &op, &ok);
			if (inv.id)
				fn(arg, &inv);
			if (ok)
				opened_clear(&op);
			c->code[0] = c->msg[0] = '\0';
		}
	bs__resp_clear(&r);
	return rc;
}

int
bs_accept(struct bs_client *c, const char *id, bs_invitation_fn fn, void *arg)
{
	struct bs_resp r = {0}, a = {0};
	struct json_object *arr, *o = NULL;
	struct bs_invitation inv;
	struct opened op;
	char path[200];
	const char *owner;
	char *ow = NULL;
	int rc, ok = 0;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!id || !*id || strlen(id) > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != strlen(id))
		return bs__fail(c, BS_LOCAL, "bad_id", "%s is not an invitation id", id ? id : "(none)");
	if ((rc = bs__request(c, "GET", "/v1/invitations", NULL, 1, &r)))
		return rc;
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (json_object_object_get_ex(r.json, "invitations", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; !o && i < json_object_array_length(arr); i++) {
			const char *x = bs__get_str(json_object_array_get_idx(arr, i), "id");
			if (x && strcmp(x, id) == 0)
				o = json_object_array_get_idx(arr, i);
		}
	if (!o) {
		rc = bs__fail(c, BS_REFUSED, "not_found", "no pending invitation %s for you (not_found)", id);
		goto out;
	}
	/* verified and opened before the server hears of it */
	if ((rc = invitation_view(c, o, &inv, &op, &ok)))
		goto out;
	if (!(owner = inv.owner) || !(ow = bs__lower(owner)) || !username_ok(ow)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the invitation names no owner");
		goto out;
	}
	snprintf(path, sizeof path, "/v1/invitations/%s/accept", id);
	if ((rc = bs__request(c, "POST", path, NULL, 1, &a)))
		goto out;
	if (a.status != 200) {
		rc = bs__refused(c, &a);
		goto out;
	}
	if ((rc = grant_store(c, ow, bs__get_str(a.json, "role") ? bs__get_str(a.json, "role") : inv.role, &op)))
		goto out;
	if (fn)
		fn(arg, &inv);
out:
	if (ok)
		opened_clear(&op);
	free(ow);
	bs__resp_clear(&r);
	bs__resp_clear(&a);
	return rc;
}

int
bs_decline(struct bs_client *c, const char *id)
{
	struct bs_resp r = {0};
	char path[200];
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!id || !*id || strlen(id) > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != strlen(id))
		return bs__fail(c, BS_LOCAL, "bad_id", "%s is not an invitation id", id ? id : "(none)");
	snprintf(path, sizeof path, "/v1/invitations/%s", id);
	if ((rc = bs__request(c, "DELETE", path, NULL, 1, &r)))
		return rc;
	if (r.status != 204)
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	return rc;
}

int
bs_set_role(struct bs_client *c, const char *coll, const char *user, const char *role)
{
	struct bs__coll x;
	struct bs_resp r = {0};
	struct json_object *body = NULL;
	char path[640], sub[240], eu[200], *u;
	int rc;

	if (role_of(role) < 0)
		return bs__fail(c, BS_LOCAL, "bad_role", "the role is read, write or admin");
	if (!(u = user_arg(c, user)))
		return BS_LOCAL;
	if ((rc = bs__coll_by_name(c, coll, &x))) {
		free(u);
		return rc;
	}
	esc(u, eu, sizeof eu);
	snprintf(sub, sizeof sub, "/members/%s", eu);
	coll_path(path, sizeof path, &x, sub, NULL);
	if (!(body = json_object_new_object()) ||
	    json_object_object_add(body, "role", json_object_new_string(role)))
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	else if (!(rc = bs__request(c, "PATCH", path, body, 1, &r)) && r.status != 200)
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	json_object_put(body);
	bs__coll_clear(&x);
	free(u);
	return rc;
}

/* The role named in a members or invitations entry (read when unknown;
 * the owner's, in an admin's rotation, admin: the owner ignores it). */
static int
entry_role(struct json_object *o)
{
	const char *s = bs__get_str(o, "role");
	int r = role_of(s);

	if (s && strcmp(s, "owner") == 0)
		return BS1_ROLE_ADMIN;
	return r < 0 ? BS1_ROLE_READ : r;
}

/*
 * One rotation attempt of collection x (application name A): the owner's
 * next key derived; an admin's (x shared with this account, kk its
 * keyring key) a random one, kept in its keyring's "granted" before anyone
 * receives it, and returned in *fresh. BS_CONFLICT on a 412.
 */
static int
rotate_once(struct bs_client *c, const struct bs__coll *x, const char *A, const struct bs1_identity *me,
    const struct bs1_key *kk, struct bs1_key *fresh, int64_t *newkv)
{
	struct bs_resp m = {0}, iv = {0}, r = {0};
	struct json_object *body = NULL, *grants, *arr, *v;
	struct bs_xfer xf = {0};
	const char *headers[2] = { NULL, NULL };
	struct kvkey *keys = NULL;
	size_t n = 0;
	char path[640], cond[80];
	int64_t version, kv;
	int rc;

	if ((rc = members_get(c, x, &m)))
		goto out;
	if (!json_object_object_get_ex(m.json, "version", &v) || (version = json_object_get_int64(v)) < 1 ||
	    !json_object_object_get_ex(m.json, "members", &arr) || !json_object_is_type(arr, json_type_array)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the members answer is malformed");
		goto out;
	}
	kv = json_object_object_get_ex(m.json, "key_version", &v) ? json_object_get_int64(v) : 1;
	if (kv < 1 || kv >= MAX_KV) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the members answer's key_version is malformed");
		goto out;
	}
	coll_path(path, sizeof path, x, "/invitations", NULL);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &iv)))
		goto out;
	if (iv.status != 200) {
		rc = bs__refused(c, &iv);
		goto out;
	}
	if (x->owner[0]) {
		struct granted g;
		snprintf(g.seg, sizeof g.seg, "%s:%s", x->owner, x->sname);
		g.kv = (uint32_t)kv + 1;
		g.key = fresh;
		if (bsc_random(fresh->b, sizeof fresh->b) != 0) {
			rc = bs__fail(c, BS_LOCAL, "crypto", "cannot make the new key");
			goto out;
		}
		if ((rc = keyring_rewrite(c, kk, edit_granted, &g)))
			goto out;
	}
	if ((rc = coll_keys(c, x, (uint32_t)kv + 1, x->owner[0] ? fresh : NULL, &keys, &n)))
		goto out;
	if (!(body = json_object_new_object()) || !(grants = json_object_new_array()) ||
	    json_object_object_add(body, "grants", grants) ||
	    json_object_object_add(body, "key_version", json_object_new_int64(kv + 1))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	/* every member but me (the owner too when an admin rotates), then every pending invitee */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		struct json_object *list = arr;
		if (pass == 1 && (!json_object_object_get_ex(iv.json, "invitations", &list) ||
		    !json_object_is_type(list, json_type_array)))
			break;
		for (size_t i = 0; !rc && i < json_object_array_length(list); i++) {
			struct json_object *e = json_object_array_get_idx(list, i), *g;
			const char *who = bs__get_str(e, pass ? "to" : "username");
			char *w;
			if (!who)
				continue;
			if (!(w = bs__lower(who))) {
				rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
				break;
			}
			if (strcmp(w, c->user) != 0) {
				if (!(g = json_object_new_object()) || json_object_array_add(grants, g)) {
					json_object_put(g);
					rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
				} else
					rc = seal_for(c, me, x, A, w, entry_role(e), keys, n, g);
			}
			free(w);
		}
	}
	if (rc)
		goto out;
	snprintf(cond, sizeof cond, "If-Match: \"%lld\"", (long long)version);
	headers[0] = cond;
	xf.headers = headers;
	coll_path(path, sizeof path, x, "/rotate", NULL);
	if ((rc = bs__request_x(c, "POST", path, body, 1, &xf, &r)))
		goto out;
	if (r.status == 412)
		rc = BS_CONFLICT;
	else if (r.status != 200)
		rc = bs__refused(c, &r);
	else
		*newkv = kv + 1;
out:
	bs1_free(keys, n * sizeof *keys);
	json_object_put(body);
	bs__resp_clear(&m);
	bs__resp_clear(&iv);
	bs__resp_clear(&r);
	return rc;
}

/*
 * Rotate collection x (application name A), retrying a 412: an own one, or
 * one shared with this account as an admin (client.md section 9: a random
 * key in its keyring, sealed to the owner too; it needs the keyring key of
 * a password login). The new key version is what new records use.
 */
static int
rotate(struct bs_client *c, const struct bs__coll *x, const char *A)
{
	struct bs1_identity me;
	struct bs1_key kk, fresh;
	sqlite3_stmt *st;
	int64_t kv = 0;
	int rc, t;

	memset(&kk, 0, sizeof kk);
	memset(&fresh, 0, sizeof fresh);
	if (x->owner[0] && !keyring_key(c, &kk))
		return bs__fail(c, BS_LOCAL, "no_keyring_key", "an admin rotates a collection it does not own "
		    "only after a login with the password (the new key goes into the keyring): log in again");
	if ((rc = identity(c, &me))) {
		bs1_wipe(&kk, sizeof kk);
		return rc;
	}
	for (t = 0, rc = BS_CONFLICT; t < ROTATE_TRIES && rc == BS_CONFLICT; t++)
		rc = rotate_once(c, x, A, &me, &kk, &fresh, &kv);
	bs1_wipe(&me, sizeof me);
	bs1_wipe(&kk, sizeof kk);
	if (rc == BS_CONFLICT)
		rc = bs__fail(c, BS_CONFLICT, "precondition_failed", "the members kept changing during "
		    "the key rotation (%d tries): run it again", ROTATE_TRIES);
	if (!rc && x->owner[0])
		/* an admin's new records go out under the key it made (bs__coll_by_sname: the newest kept) */
		rc = keep_key(c, x->sname, (uint32_t)kv, &fresh);
	bs1_wipe(&fresh, sizeof fresh);
	if (rc || x->owner[0])
		return rc;
	if (!(st = kv_upsert(c, x->sname, kv)))
		return BS_LOCAL;
	if ((rc = bs__run(c, st)))
		return rc;
	/* the server cleared its rotate_due with this rotation */
	if (!(st = bs__prep(c, "DELETE FROM rotate_due WHERE sname = ?1")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, x->sname, -1, SQLITE_STATIC);
	return bs__run(c, st);
}

int
bs__rotate_due(struct bs_client *c, const char *sname, const char *A)
{
	struct bs__coll x;
	sqlite3_stmt *st;
	char *name = NULL;
	int rc, due = 0;

	if (!(st = bs__prep(c, "SELECT r.sname IS NOT NULL, c.name FROM (SELECT ?1 AS s) q "
	    "LEFT JOIN rotate_due r ON r.sname = q.s LEFT JOIN collections c ON c.sname = q.s")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		due = sqlite3_column_int(st, 0);
		if (due && !A && sqlite3_column_type(st, 1) != SQLITE_NULL)
			name = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!due)
		return BS_OK;
	if (!A && !(A = name))
		return bs__fail(c, BS_LOCAL, "rotate_due", "the key of the collection %s must be rotated "
		    "(a member was removed or left) but its name is not known here: run blindsync ls, "
		    "then blindsync rotate", sname);
	if ((rc = bs__coll_by_sname(c, sname, &x)) == BS_OK) {
		/* a member's collection is not ours to rotate: nothing to do here */
		rc = x.owner[0] ? BS_OK : rotate(c, &x, A);
		bs__coll_clear(&x);
	}
	free(name);
	return rc;
}

int
bs_rotate(struct bs_client *c, const char *coll)
{
	struct bs__coll x;
	int rc;

	if ((rc = bs__coll_by_name(c, coll, &x)))
		return rc;
	rc = rotate(c, &x, coll);
	bs__coll_clear(&x);
	return rc;
}

/* Withdraw the pending invitation of x to user u: BS_OK, or BS_REFUSED
 * not_found when there is none. */
static int
withdraw(struct bs_client *c, const struct bs__coll *x, const char *u)
{
	struct bs_resp r = {0};
	struct json_object *arr;
	char path[640];
	const char *id = NULL;
	int rc;

	coll_path(path, sizeof path, x, "/invitations", NULL);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (json_object_object_get_ex(r.json, "invitations", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; !id && i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);
			const char *to = bs__get_str(o, "to");
			if (to && strcasecmp(to, u) == 0)
				id = bs__get_str(o, "id");
		}
	if (!id)
		rc = bs__fail(c, BS_REFUSED, "not_found", "%s is no member of the collection and has no "
		    "pending invitation to it (not_found)", u);
	else
		rc = bs_decline(c, id);
out:
	bs__resp_clear(&r);
	return rc;
}

int
bs_unshare(struct bs_client *c, const char *coll, const char *user)
{
	struct bs__coll x;
	struct bs_resp r = {0};
	char path[640], sub[240], eu[200], *u;
	int rc;

	if (!(u = user_arg(c, user)))
		return BS_LOCAL;
	if ((rc = bs__coll_by_name(c, coll, &x))) {
		free(u);
		return rc;
	}
	esc(u, eu, sizeof eu);
	snprintf(sub, sizeof sub, "/members/%s", eu);
	coll_path(path, sizeof path, &x, sub, NULL);
	if ((rc = bs__request(c, "DELETE", path, NULL, 1, &r)))
		goto out;
	if (r.status == 404)
		rc = withdraw(c, &x, u);
	else if (r.status != 204)
		rc = bs__refused(c, &r);
	/* what the removed one held must not open what comes next */
	if (rc == BS_OK && (rc = rotate(c, &x, coll)))
		snprintf(c->msg + strlen(c->msg), sizeof c->msg - strlen(c->msg),
		    " (%s was removed, but the key was not rotated: run blindsync rotate%s%s)", u,
		    x.owner[0] ? " --owner " : "", x.owner);
out:
	bs__resp_clear(&r);
	bs__coll_clear(&x);
	free(u);
	return rc;
}

int
bs_leave(struct bs_client *c, const char *coll)
{
	struct bs__coll x;
	struct bs_resp r = {0};
	char path[640], sub[240], eu[200];
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!c->owner)
		return bs__fail(c, BS_LOCAL, "owner_needed", "leaving needs the collection's owner "
		    "(--owner): you cannot leave your own collection");
	if ((rc = bs__coll_by_name(c, coll, &x)))
		return rc;
	esc(c->user, eu, sizeof eu);
	snprintf(sub, sizeof sub, "/members/%s", eu);
	coll_path(path, sizeof path, &x, sub, NULL);
	if (!(rc = bs__request(c, "DELETE", path, NULL, 1, &r))) {
		if (r.status == 204 || r.status == 404)
			rc = bs__share_forget(c, x.sname);
		if (!rc && r.status != 204)
			rc = bs__refused(c, &r);
	}
	bs__resp_clear(&r);
	bs__coll_clear(&x);
	return rc;
}

int
bs_shared(struct bs_client *c, bs_shared_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!(st = bs__prep(c, "SELECT s.owner, s.name, s.role, COALESCE(c.version, 0), "
	    "(SELECT COALESCE(SUM(length(data)), 0) FROM records r WHERE r.sname = s.sname AND r.deleted = 0) "
	    "FROM shared s LEFT JOIN collections c ON c.sname = s.sname ORDER BY s.owner, s.name")))
		return BS_LOCAL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct bs_shared_coll sc = { (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int64(st, 3), (size_t)sqlite3_column_int64(st, 4) };
		fn(arg, &sc);
	}
	sqlite3_finalize(st);
	return BS_OK;
}
