/*
 * bs1_grant.c: identities and grants of client.md section 9: X25519 and
 * Ed25519 key pairs (OpenSSL 3), fingerprints, a grant sealed to a
 * recipient (ephemeral X25519, HKDF, AES-256-GCM with a zero nonce under a
 * single-use key) and signed by the inviter, and the grant's JSON.
 *
 * Must check the signature against the pinned key before anything else,
 * refuse an all-zero shared secret, and fail every bad grant with the one
 * error BS1_E_DECRYPT and no plaintext.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"
#include "bs1_test.h"

static const char grant_label[] = "blindsync bs1 grant";

/* The public half of a raw X25519 or Ed25519 secret. */
static int
raw_public(int type, const uint8_t sk[32], uint8_t pk[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, sk, 32);
	size_t n = 32;
	int rc = BS1_E_CRYPTO;

	if (k && EVP_PKEY_get_raw_public_key(k, pk, &n) == 1 && n == 32)
		rc = BS1_OK;
	EVP_PKEY_free(k);
	return rc;
}

/* The identity of two secrets. */
int
bs1_identity_from_secrets(const uint8_t x25519_sk[32], const uint8_t ed25519_seed[32],
    struct bs1_identity *id)
{
	int rc;

	if (!x25519_sk || !ed25519_seed || !id)
		return BS1_E_INPUT;
	memmove(id->x25519_sk, x25519_sk, 32);
	memmove(id->ed25519_seed, ed25519_seed, 32);
	rc = raw_public(EVP_PKEY_X25519, id->x25519_sk, id->x25519_pk.b);
	if (rc == BS1_OK)
		rc = raw_public(EVP_PKEY_ED25519, id->ed25519_seed, id->ed25519_pk.b);
	if (rc != BS1_OK)
		bs1_wipe(id, sizeof *id);
	return rc;
}

/* A fresh identity. */
int
bs1_identity_new(struct bs1_identity *id)
{
	uint8_t s[64];
	int rc;

	if (!id)
		return BS1_E_INPUT;
	if (bsc_random(s, sizeof s) != 0)
		return BS1_E_CRYPTO;
	rc = bs1_identity_from_secrets(s, s + 32, id);
	bs1_wipe(s, sizeof s);
	return rc;
}

/* b64url(SHA-256(x25519_pk || ed25519_pk))[0:16]. */
int
bs1_fingerprint(const struct bs1_x25519_pk *xpk, const struct bs1_ed25519_pk *epk,
    char out[BS1_FINGERPRINT_LEN + 1])
{
	uint8_t both[64], h[BSC_SHA256_LEN];
	char b64[48];

	if (!xpk || !epk || !out)
		return BS1_E_INPUT;
	memcpy(both, xpk->b, 32);
	memcpy(both + 32, epk->b, 32);
	if (bsc_sha256(both, sizeof both, h) != 0 ||
	    bsc_b64_encode(h, sizeof h, b64, sizeof b64, BSC_B64_URL) < BS1_FINGERPRINT_LEN)
		return BS1_E_CRYPTO;
	memcpy(out, b64, BS1_FINGERPRINT_LEN);
	out[BS1_FINGERPRINT_LEN] = '\0';
	return BS1_OK;
}

/* shared = X25519(sk, pk); an all-zero result is refused (-1). */
static int
x25519(const uint8_t sk[32], const uint8_t pk[32], uint8_t shared[32])
{
	static const uint8_t zero[32];
	EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, 32);
	EVP_PKEY_CTX *c = priv ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
	size_t n = 32;
	int rc = -1;

	/* OpenSSL itself fails on a zero result; checked again all the same */
	if (c && peer && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
	    EVP_PKEY_derive(c, shared, &n) == 1 && n == 32 && !bsc_equal(shared, zero, 32))
		rc = 0;
	if (rc != 0)
		bs1_wipe(shared, 32);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(priv);
	return rc;
}

/* wrap_key = HKDF(shared, label || eph_pk || recipient_pk). */
static int
wrap_key(const uint8_t shared[32], const uint8_t eph_pk[32], const uint8_t rcpt_pk[32],
    struct bs1_key *out)
{
	uint8_t info[sizeof grant_label - 1 + 64];

	memcpy(info, grant_label, sizeof grant_label - 1);
	memcpy(info + sizeof grant_label - 1, eph_pk, 32);
	memcpy(info + sizeof grant_label - 1 + 32, rcpt_pk, 32);
	return bs1__hkdf(shared, 32, info, sizeof info, out);
}

/* The signed message: label || lp(lower(username)) || sealed. */
static int
signed_message(const char *username, const uint8_t *sealed, size_t n, struct bs1_bytes *m)
{
	bs1__put_str(m, grant_label);
	bs1__put_lp_lower(m, username);
	bs1__put(m, sealed, n);
	return bs1__bytes_status(m);
}

/* Seal with the given ephemeral secret. */
int
bs1_grant_seal_with_eph(const struct bs1_identity *inviter,
    const struct bs1_x25519_pk *recipient, const char *username, const uint8_t *grant,
    size_t n, const uint8_t eph_sk[32], uint8_t **sealed, size_t *sealedlen,
    struct bs1_sig *sig)
{
	struct bs1_bytes aad = { 0 }, msg = { 0 };
	struct bs1_key wk;
	uint8_t eph_pk[32], shared[32], *frame = NULL, *out = NULL;
	size_t flen = 0, siglen = sizeof sig->b;
	EVP_PKEY *sk = NULL;
	EVP_MD_CTX *md = NULL;
	int rc;

	if (!sealed || !sealedlen)
		return BS1_E_INPUT;
	*sealed = NULL;
	*sealedlen = 0;
	if (!inviter || !recipient || !username || !eph_sk || !sig || (n && !grant))
		return BS1_E_INPUT;
	memset(&wk, 0, sizeof wk);
	rc = raw_public(EVP_PKEY_X25519, eph_sk, eph_pk);
	if (rc != BS1_OK)
		goto out;
	if (x25519(eph_sk, recipient->b, shared) != 0) {
		rc = BS1_E_INPUT;   /* a recipient key of low order */
		goto out;
	}
	rc = wrap_key(shared, eph_pk, recipient->b, &wk);
	if (rc == BS1_OK)
		rc = bs1__frame(grant, n, &frame, &flen);
	if (rc != BS1_OK)
		goto out;
	bs1__put_str(&aad, "BS1grant");
	bs1__put_lp_lower(&aad, username);
	rc = bs1__bytes_status(&aad);
	if (rc != BS1_OK)
		goto out;
	out = malloc(32 + flen + BS1_TAG);
	if (!out) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	memcpy(out, eph_pk, 32);
	if (bs1__aead_seal(&wk, (const uint8_t[12]){ 0 }, aad.p, aad.n, frame, flen,
	    out + 32) != 0) {
		rc = BS1_E_CRYPTO;
		goto out;
	}
	rc = signed_message(username, out, 32 + flen + BS1_TAG, &msg);
	if (rc != BS1_OK)
		goto out;
	rc = BS1_E_CRYPTO;
	sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, inviter->ed25519_seed, 32);
	md = EVP_MD_CTX_new();
	if (!sk || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, sk) != 1 ||
	    EVP_DigestSign(md, sig->b, &siglen, msg.p, msg.n) != 1 || siglen != 64)
		goto out;
	*sealed = out;
	*sealedlen = 32 + flen + BS1_TAG;
	out = NULL;
	rc = BS1_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(sk);
	free(out);
	bs1_free(frame, flen);
	bs1__bytes_free(&aad);
	bs1__bytes_free(&msg);
	bs1_wipe(shared, sizeof shared);
	bs1_wipe(&wk, sizeof wk);
	return rc;
}

/* Seal with a fresh ephemeral key. */
int
bs1_grant_seal(const struct bs1_identity *inviter, const struct bs1_x25519_pk *recipient,
    const char *username, const uint8_t *grant, size_t n, uint8_t **sealed, size_t *sealedlen,
    struct bs1_sig *sig)
{
	uint8_t eph[32];
	int rc;

	if (bsc_random(eph, sizeof eph) != 0)
		return BS1_E_CRYPTO;
	rc = bs1_grant_seal_with_eph(inviter, recipient, username, grant, n, eph, sealed,
	    sealedlen, sig);
	bs1_wipe(eph, sizeof eph);
	return rc;
}

/* Pure Ed25519 verification: 1 if sig is pk's over msg. */
static int
ed25519_verify(const struct bs1_ed25519_pk *pk, const struct bs1_sig *sig,
    const uint8_t *msg, size_t n)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk->b, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(md, sig->b, sizeof sig->b, msg, n) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

/* Open a grant: signature, length, X25519, tag, frame. */
int
bs1_grant_open(const struct bs1_identity *me, const char *username,
    const struct bs1_ed25519_pk *inviter_pk, const uint8_t *sealed, size_t sealedlen,
    const struct bs1_sig *sig, uint8_t **grant, size_t *n)
{
	struct bs1_bytes msg = { 0 }, aad = { 0 };
	struct bs1_key wk;
	uint8_t shared[32], *frame = NULL, *out = NULL;
	size_t flen = 0, ptlen = 0;
	int rc;

	if (!grant || !n)
		return BS1_E_INPUT;
	*grant = NULL;
	*n = 0;
	if (!me || !username || !inviter_pk || !sig || (sealedlen && !sealed))
		return BS1_E_INPUT;
	memset(&wk, 0, sizeof wk);
	memset(shared, 0, sizeof shared);
	rc = signed_message(username, sealed, sealedlen, &msg);
	if (rc != BS1_OK)
		goto out;
	rc = BS1_E_DECRYPT;
	if (!ed25519_verify(inviter_pk, sig, msg.p, msg.n))
		goto out;
	if (sealedlen < 32 + BS1_TAG)
		goto out;
	if (x25519(me->x25519_sk, sealed, shared) != 0)
		goto out;
	if (wrap_key(shared, sealed, me->x25519_pk.b, &wk) != BS1_OK) {
		rc = BS1_E_CRYPTO;
		goto out;
	}
	bs1__put_str(&aad, "BS1grant");
	bs1__put_lp_lower(&aad, username);
	if (bs1__bytes_status(&aad) != BS1_OK) {
		rc = bs1__bytes_status(&aad);
		goto out;
	}
	flen = sealedlen - 32 - BS1_TAG;
	frame = malloc(flen ? flen : 1);
	if (!frame) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	if (bs1__aead_open(&wk, (const uint8_t[12]){ 0 }, aad.p, aad.n, sealed + 32,
	    sealedlen - 32, frame) != 0 || bs1__unframe(frame, flen, &ptlen) != 0)
		goto out;
	out = malloc(ptlen ? ptlen : 1);
	if (!out) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	if (ptlen)
		memcpy(out, frame + 4, ptlen);
	*grant = out;
	*n = ptlen;
	rc = BS1_OK;
out:
	bs1_free(frame, flen);
	bs1__bytes_free(&msg);
	bs1__bytes_free(&aad);
	bs1_wipe(shared, sizeof shared);
	bs1_wipe(&wk, sizeof wk);
	return rc;
}

static const char *const role_names[] = { "read", "write", "admin" };

/* A server name: exactly 22 characters of the URL-safe base64 alphabet. */
static int
server_name(const char *s)
{
	return strlen(s) == BS1_NAME_LEN && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == BS1_NAME_LEN;
}

/* Append "name":"<b64 of a key>". */
static void
put_key(struct bs1_bytes *b, const char *member, const struct bs1_key *k)
{
	char b64[48];

	if (bsc_b64_encode(k->b, 32, b64, sizeof b64, BSC_B64_STD) != 44) {
		b->failed = BS1_E_CRYPTO;
		return;
	}
	bs1__put_str(b, ",\"");
	bs1__put_str(b, member);
	bs1__put_str(b, "\":\"");
	bs1__put(b, b64, 44);
	bs1__put_str(b, "\"");
	bs1_wipe(b64, sizeof b64);
}

/* The grant's JSON, in the member order of client.md. */
int
bs1_grant_json(const struct bs1_grant *g, uint8_t **json, size_t *n)
{
	struct bs1_bytes b = { 0 };
	struct json_object *name;
	char kv[16];
	int rc;

	if (!json || !n)
		return BS1_E_INPUT;
	*json = NULL;
	*n = 0;
	if (!g || !g->name || !memchr(g->collection, 0, sizeof g->collection) ||
	    !server_name(g->collection) ||
	    (unsigned)g->role > BS1_ROLE_ADMIN)
		return BS1_E_INPUT;
	name = json_object_new_string(g->name);
	if (!name)
		return BS1_E_NOMEM;
	snprintf(kv, sizeof kv, "%u", (unsigned)g->kv);
	bs1__put_str(&b, "{\"collection\":\"");
	bs1__put_str(&b, g->collection);
	bs1__put_str(&b, "\",\"name\":");
	bs1__put_str(&b, json_object_to_json_string_ext(name,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	bs1__put_str(&b, ",\"kv\":");
	bs1__put_str(&b, kv);
	put_key(&b, "key", &g->key);
	put_key(&b, "id_key", &g->id_key);
	bs1__put_str(&b, ",\"role\":\"");
	bs1__put_str(&b, role_names[g->role]);
	bs1__put_str(&b, "\"}");
	json_object_put(name);
	rc = bs1__bytes_status(&b);
	if (rc == BS1_OK) {
		*json = b.p;
		*n = b.n;
		memset(&b, 0, sizeof b);
	}
	bs1__bytes_free(&b);
	return rc;
}

/* A string member that must be base64 of 32 bytes; its text is wiped. */
static int
get_key(struct json_object *obj, const char *member, struct bs1_key *k)
{
	struct json_object *v;
	uint8_t buf[36];
	long got;

	if (!json_object_object_get_ex(obj, member, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	got = bsc_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
	    buf, sizeof buf, BSC_B64_STD);
	bs1_wipe((void *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
	if (got == 32)
		memcpy(k->b, buf, 32);
	bs1_wipe(buf, sizeof buf);
	return got == 32 ? 0 : -1;
}

/* Parse an opened grant's JSON. */
int
bs1_grant_parse(const uint8_t *json, size_t n, struct bs1_grant *g)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL, *v;
	const char *s;
	int64_t kv;
	int rc = BS1_E_DECRYPT;
	size_t i;

	if (!json || !g || n > BS1_MAX_PLAINTEXT)
		return BS1_E_INPUT;
	memset(g, 0, sizeof *g);
	tok = json_tokener_new_ex(8);
	if (!tok)
		return BS1_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, (const char *)json, (int)n);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n || !json_object_is_type(obj, json_type_object))
		goto out;
	if (!json_object_object_get_ex(obj, "collection", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != BS1_NAME_LEN)
		goto out;
	memcpy(g->collection, json_object_get_string(v), BS1_NAME_LEN + 1);
	if (!server_name(g->collection))
		goto out;
	if (!json_object_object_get_ex(obj, "name", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		goto out;   /* a NUL inside */
	if (!json_object_object_get_ex(obj, "kv", &v) || !json_object_is_type(v, json_type_int))
		goto out;
	kv = json_object_get_int64(v);
	if (kv < 1 || kv > (int64_t)UINT32_MAX)
		goto out;
	g->kv = (uint32_t)kv;
	if (get_key(obj, "key", &g->key) != 0 || get_key(obj, "id_key", &g->id_key) != 0)
		goto out;
	if (!json_object_object_get_ex(obj, "role", &v) || !json_object_is_type(v, json_type_string))
		goto out;
	for (i = 0; i < 3; i++)
		if (strcmp(json_object_get_string(v), role_names[i]) == 0)
			break;
	if (i == 3)
		goto out;
	g->role = (enum bs1_role)i;
	g->name = strdup(s);
	if (!g->name) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	rc = BS1_OK;
out:
	if (rc != BS1_OK)
		bs1_grant_clear(g);
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

/* Free the name, wipe the keys. */
void
bs1_grant_clear(struct bs1_grant *g)
{
	if (!g)
		return;
	free(g->name);
	bs1_wipe(g, sizeof *g);
}
