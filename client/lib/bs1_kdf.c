/*
 * bs1_kdf.c: from a password or a passphrase to keys (client.md sections 2
 * and 6): the kdf object and its floor, NFC, Argon2id (libsodium's
 * crypto_pwhash, the only libsodium call of the client), account keys and
 * slot derivations.
 *
 * Must never derive anything from a kdf object that did not pass the floor
 * (a server could weaken the KDF), and never keep a password, its NFC form,
 * a master key or a seed past the call: all are wiped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>
#include <unistr.h>
#include <uninorm.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"
#include "bs1_test.h"

#define KDF_M_MIN 19456u
#define KDF_M_MAX 4194304u
#define KDF_T_MIN 2u
#define KDF_T_MAX 64u

/* The string member name of obj equals want exactly (no NUL games). */
static int
member_is(const struct json_object *obj, const char *name, const char *want, int *present)
{
	struct json_object *v;
	size_t n = strlen(want);

	*present = json_object_object_get_ex(obj, name, &v);
	if (!*present || !json_object_is_type(v, json_type_string))
		return 0;
	return (size_t)json_object_get_string_len(v) == n &&
	    memcmp(json_object_get_string(v), want, n) == 0;
}

/*
 * A member that must be a JSON number with an integer value (65536,
 * 65536.0 and 6.5536e4 alike) in [lo, hi]. 0 and *out, or -1 with *why.
 */
static int
member_uint(const struct json_object *obj, const char *name, uint32_t lo, uint32_t hi,
    uint32_t *out, const char **why, const char *missing, const char *notint,
    const char *range)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v)) {
		*why = missing;
		return -1;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);

		/* json-c saturates what int64 cannot hold, still out of range */
		if (x < (int64_t)lo || x > (int64_t)hi) {
			*why = range;
			return -1;
		}
		*out = (uint32_t)x;
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (!isfinite(d) || floor(d) != d) {
			*why = notint;
			return -1;
		}
		if (d < (double)lo || d > (double)hi) {
			*why = range;
			return -1;
		}
		*out = (uint32_t)d;
		return 0;
	}
	*why = notint;
	return -1;
}

/* The floor on a parsed kdf object. */
int
bs1_kdf_check(const struct json_object *obj, struct bs1_kdf *out, const char **reason)
{
	struct bs1_kdf k;
	struct json_object *s;
	const char *why = NULL, *txt;
	uint8_t salt[20];
	long got;
	int present;

	if (reason)
		*reason = NULL;
	if (!out)
		return BS1_E_INPUT;
	memset(&k, 0, sizeof k);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		why = "the kdf is not a JSON object";
		goto refuse;
	}
	if (!member_is(obj, "alg", "argon2id", &present)) {
		why = present ? "alg is not argon2id" : "alg is missing";
		goto refuse;
	}
	if (!member_is(obj, "suite", "bs1", &present)) {
		why = present ? "suite is not bs1" : "suite is missing";
		goto refuse;
	}
	if (member_uint(obj, "m", KDF_M_MIN, KDF_M_MAX, &k.m, &why, "m is missing",
	    "m is not an integer", "m is outside 19456..4194304") != 0 ||
	    member_uint(obj, "t", KDF_T_MIN, KDF_T_MAX, &k.t, &why, "t is missing",
	    "t is not an integer", "t is outside 2..64") != 0 ||
	    member_uint(obj, "p", 1, 1, &k.p, &why, "p is missing",
	    "p is not an integer", "p is not 1") != 0)
		goto refuse;
	if (!json_object_object_get_ex(obj, "salt", &s)) {
		why = "salt is missing";
		goto refuse;
	}
	if (!json_object_is_type(s, json_type_string)) {
		why = "salt is not a string";
		goto refuse;
	}
	txt = json_object_get_string(s);
	got = bsc_b64_decode(txt, (size_t)json_object_get_string_len(s), salt, sizeof salt,
	    BSC_B64_STD);
	if (got != 16) {
		why = got < 0 ? "salt is not strict base64" : "salt is not 16 bytes";
		goto refuse;
	}
	memcpy(k.salt, salt, 16);
	*out = k;
	return BS1_OK;
refuse:
	if (reason)
		*reason = why;
	return BS1_E_KDF_FLOOR;
}

/* Parse kdf JSON text strictly, then the floor. */
int
bs1_kdf_parse(const char *json, size_t len, struct bs1_kdf *out, const char **reason)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	int rc;

	if (reason)
		*reason = NULL;
	if (!json || !out)
		return BS1_E_INPUT;
	if (len > BS1_KDF_MAX_JSON) {
		if (reason)
			*reason = "the kdf object is longer than 1 KiB";
		return BS1_E_KDF_FLOOR;
	}
	if (memchr(json, 0, len)) {
		if (reason)
			*reason = "the kdf is not valid JSON";
		return BS1_E_KDF_FLOOR;
	}
	tok = json_tokener_new_ex(8);
	if (!tok)
		return BS1_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(obj);
		json_tokener_free(tok);
		if (reason)
			*reason = "the kdf is not valid JSON";
		return BS1_E_KDF_FLOOR;
	}
	json_tokener_free(tok);
	rc = bs1_kdf_check(obj, out, reason);
	json_object_put(obj);
	return rc;
}

/* Default parameters and a fresh salt. */
int
bs1_kdf_new(struct bs1_kdf *out)
{
	if (!out)
		return BS1_E_INPUT;
	out->m = BS1_KDF_M;
	out->t = BS1_KDF_T;
	out->p = BS1_KDF_P;
	return bsc_random(out->salt, sizeof out->salt) == 0 ? BS1_OK : BS1_E_CRYPTO;
}

/* The kdf object as the JSON text register sends. */
int
bs1_kdf_json(const struct bs1_kdf *kdf, char *buf, size_t len)
{
	char salt[32];
	int n;

	if (!kdf || !buf)
		return BS1_E_INPUT;
	if (bsc_b64_encode(kdf->salt, sizeof kdf->salt, salt, sizeof salt, BSC_B64_STD) < 0)
		return BS1_E_INPUT;
	n = snprintf(buf, len,
	    "{\"alg\":\"argon2id\",\"suite\":\"bs1\",\"m\":%u,\"t\":%u,\"p\":%u,\"salt\":\"%s\"}",
	    (unsigned)kdf->m, (unsigned)kdf->t, (unsigned)kdf->p, salt);
	return n > 0 && (size_t)n < len ? BS1_OK : BS1_E_INPUT;
}

/*
 * NFC of s[0..len). Rejects text that is not UTF-8 (libunistring would
 * quietly map it to U+FFFD) or holds a NUL. The output of u8_normalize is
 * copied into a buffer of ours and wiped before it is freed.
 */
int
bs1__nfc(const char *s, size_t len, uint8_t **out, size_t *outlen, size_t *ncp)
{
	uint8_t *norm, *res;
	size_t n = 0;

	*out = NULL;
	*outlen = 0;
	if (!s || memchr(s, 0, len) || u8_check((const uint8_t *)s, len) != NULL)
		return BS1_E_INPUT;
	if (len == 0) {
		res = malloc(1);
		if (!res)
			return BS1_E_NOMEM;
		*out = res;
		if (ncp)
			*ncp = 0;
		return BS1_OK;
	}
	norm = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &n);
	if (!norm)
		return BS1_E_NOMEM;
	res = malloc(n ? n : 1);
	if (!res) {
		bs1_free(norm, n);
		return BS1_E_NOMEM;
	}
	memcpy(res, norm, n);
	bs1_free(norm, n);
	if (ncp)
		*ncp = u8_mbsnlen(res, n);
	*out = res;
	*outlen = n;
	return BS1_OK;
}

/* The NFC form of a password or passphrase. */
int
bs1_nfc(const char *pw, size_t len, uint8_t **out, size_t *outlen)
{
	if (!out || !outlen)
		return BS1_E_INPUT;
	return bs1__nfc(pw, len, out, outlen, NULL);
}

/* Argon2id version 0x13, p = 1 (libsodium's only lane count), 32 bytes. */
int
bs1__argon2id(const uint8_t *pw, size_t pwlen, const uint8_t salt[16], uint32_t t,
    uint32_t m, struct bs1_key *out)
{
	static const uint8_t none[1];

	if (sodium_init() < 0)
		return BS1_E_CRYPTO;
	if (crypto_pwhash(out->b, sizeof out->b, (const char *)(pwlen ? pw : none),
	    pwlen, salt, t, (size_t)m * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		bs1_wipe(out, sizeof *out);
		/* libsodium fails only for lack of memory within the floor */
		return BS1_E_NOMEM;
	}
	return BS1_OK;
}

/* master = Argon2id(NFC(password), kdf). */
int
bs1_master(const char *password, size_t len, const struct bs1_kdf *kdf,
    struct bs1_key *master)
{
	uint8_t *pw = NULL;
	size_t pwlen = 0;
	int rc;

	if (!kdf || !master || kdf->p != 1 || kdf->m < KDF_M_MIN || kdf->m > KDF_M_MAX ||
	    kdf->t < KDF_T_MIN || kdf->t > KDF_T_MAX)
		return BS1_E_INPUT;
	rc = bs1__nfc(password, len, &pw, &pwlen, NULL);
	if (rc != BS1_OK)
		return rc;
	rc = bs1__argon2id(pw, pwlen, kdf->salt, kdf->t, kdf->m, master);
	bs1_free(pw, pwlen);
	return rc;
}

/* auth_key and keyring_key from master. */
int
bs1_account_keys(const struct bs1_key *master, struct bs1_key *auth_key,
    struct bs1_key *keyring_key)
{
	static const char auth[] = "blindsync bs1 auth key";
	static const char ring[] = "blindsync bs1 keyring key";
	int rc = BS1_OK;

	if (!master)
		return BS1_E_INPUT;
	if (auth_key)
		rc = bs1__hkdf(master->b, sizeof master->b, auth, sizeof auth - 1, auth_key);
	if (rc == BS1_OK && keyring_key)
		rc = bs1__hkdf(master->b, sizeof master->b, ring, sizeof ring - 1, keyring_key);
	if (rc != BS1_OK) {
		if (auth_key)
			bs1_wipe(auth_key, sizeof *auth_key);
		if (keyring_key)
			bs1_wipe(keyring_key, sizeof *keyring_key);
	}
	return rc;
}

/* At least 12 code points after NFC. */
int
bs1_passphrase_check(const char *pp, size_t len)
{
	uint8_t *n = NULL;
	size_t nlen = 0, ncp = 0;
	int rc;

	rc = bs1__nfc(pp, len, &n, &nlen, &ncp);
	bs1_free(n, nlen);
	if (rc != BS1_OK)
		return rc;
	return ncp >= BS1_SLOT_MIN_CHARS ? BS1_OK : BS1_E_PASSPHRASE;
}

/* slot_salt = SHA-256("blindsync bs1 slot salt" || lp(app))[0:16]. */
int
bs1_slot_salt(const char *app, size_t applen, uint8_t salt[16])
{
	struct bs1_bytes b = { 0 };
	uint8_t h[BSC_SHA256_LEN];
	int rc;

	if (!app || !salt)
		return BS1_E_INPUT;
	bs1__put_str(&b, "blindsync bs1 slot salt");
	bs1__put_lp(&b, app, applen);
	rc = bs1__bytes_status(&b);
	if (rc == BS1_OK && bsc_sha256(b.p, b.n, h) != 0)
		rc = BS1_E_CRYPTO;
	if (rc == BS1_OK)
		memcpy(salt, h, 16);
	bs1__bytes_free(&b);
	return rc;
}

/* seed = Argon2id(NFC(pp), slot_salt(app), t = 3, m = 65536), after the
 * passphrase rule. */
int
bs1_slot_seed(const char *app, size_t applen, const char *pp, size_t pplen,
    struct bs1_key *seed)
{
	uint8_t salt[16], *n = NULL;
	size_t nlen = 0, ncp = 0;
	int rc;

	if (!seed)
		return BS1_E_INPUT;
	rc = bs1_slot_salt(app, applen, salt);
	if (rc != BS1_OK)
		return rc;
	rc = bs1__nfc(pp, pplen, &n, &nlen, &ncp);
	if (rc == BS1_OK && ncp < BS1_SLOT_MIN_CHARS)
		rc = BS1_E_PASSPHRASE;
	if (rc == BS1_OK)
		rc = bs1__argon2id(n, nlen, salt, 3, 65536, seed);
	bs1_free(n, nlen);
	return rc;
}

/* slot_id, slot_key and slot_enc from the seed. */
int
bs1_slot_from_seed(const struct bs1_key *seed, struct bs1_slot *out)
{
	static const char lid[] = "blindsync slot id", lkey[] = "blindsync slot key",
	    lenc[] = "blindsync slot encryption";
	struct bs1_key id, key;
	int rc;

	if (!seed || !out)
		return BS1_E_INPUT;
	memset(out, 0, sizeof *out);
	rc = bs1__hkdf(seed->b, 32, lid, sizeof lid - 1, &id);
	if (rc == BS1_OK)
		rc = bs1__hkdf(seed->b, 32, lkey, sizeof lkey - 1, &key);
	if (rc == BS1_OK)
		rc = bs1__hkdf(seed->b, 32, lenc, sizeof lenc - 1, &out->enc);
	if (rc == BS1_OK && (bsc_hex(id.b, 32, out->id, sizeof out->id) != 0 ||
	    bsc_b64_encode(key.b, 32, out->key_b64, sizeof out->key_b64, BSC_B64_STD) != 44))
		rc = BS1_E_CRYPTO;
	bs1_wipe(&id, sizeof id);
	bs1_wipe(&key, sizeof key);
	if (rc != BS1_OK)
		bs1_wipe(out, sizeof *out);
	return rc;
}

/* The slot of (app, passphrase). */
int
bs1_slot_derive(const char *app, size_t applen, const char *pp, size_t pplen,
    struct bs1_slot *out)
{
	struct bs1_key seed;
	int rc;

	if (!out)
		return BS1_E_INPUT;
	rc = bs1_slot_seed(app, applen, pp, pplen, &seed);
	if (rc == BS1_OK)
		rc = bs1_slot_from_seed(&seed, out);
	bs1_wipe(&seed, sizeof seed);
	return rc;
}
