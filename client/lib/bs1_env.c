/*
 * bs1_env.c: the frame, its padding and the envelope of client.md section
 * 3 (kinds 1 keyring, 2 record, 3 collection meta, 6 recovery blob), their
 * contexts, and the keyring's JSON plaintext (section 4).
 *
 * Must never hand out a byte of plaintext before the tag and the frame
 * checked out, and must fail every bad envelope with the one error
 * BS1_E_DECRYPT, whatever check caught it.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"
#include "bs1_test.h"

static const uint8_t magic[3] = { 'B', 'S', '1' };

/* floor(log2(x)) for x >= 1. */
static unsigned
log2_floor(size_t x)
{
	unsigned r = 0;

	while (x >>= 1)
		r++;
	return r;
}

/* P for L = 4 + len(plaintext): 64, or L rounded up Padme-style. */
static size_t
padded(size_t L)
{
	unsigned E, S;
	size_t mask;

	if (L <= 64)
		return 64;
	E = log2_floor(L);
	S = log2_floor(E) + 1;
	mask = ((size_t)1 << (E - S)) - 1;
	return (L + mask) & ~mask;
}

/* The frame length of a plaintext of ptlen bytes. */
size_t
bs1_frame_len(size_t ptlen)
{
	if (ptlen > BS1_MAX_PLAINTEXT)
		return 0;
	return padded(4 + ptlen);
}

/* The envelope length of a plaintext of ptlen bytes. */
size_t
bs1_envelope_len(size_t ptlen)
{
	size_t p = bs1_frame_len(ptlen);

	return p ? BS1_ENV_MIN + p : 0;
}

/* frame(pt) = u32be(len) || pt || zeros, malloc'd. */
int
bs1__frame(const uint8_t *pt, size_t ptlen, uint8_t **frame, size_t *flen)
{
	size_t p = bs1_frame_len(ptlen);
	uint8_t *f;

	*frame = NULL;
	*flen = 0;
	if (p == 0 || (ptlen && !pt))
		return BS1_E_INPUT;
	f = calloc(1, p);
	if (!f)
		return BS1_E_NOMEM;
	f[0] = (uint8_t)(ptlen >> 24);
	f[1] = (uint8_t)(ptlen >> 16);
	f[2] = (uint8_t)(ptlen >> 8);
	f[3] = (uint8_t)ptlen;
	if (ptlen)
		memcpy(f + 4, pt, ptlen);
	*frame = f;
	*flen = p;
	return BS1_OK;
}

/*
 * The frame checks, in the spec's order: a length that fits, exactly P
 * bytes for it (one valid form), every padding byte zero (all of them are
 * read, whatever their values).
 */
int
bs1__unframe(const uint8_t *frame, size_t flen, size_t *ptlen)
{
	uint32_t n;
	uint8_t acc = 0;
	size_t i;

	if (flen < 4)
		return -1;
	n = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 |
	    frame[3];
	if (n > flen - 4 || n > BS1_MAX_PLAINTEXT || padded(4 + (size_t)n) != flen)
		return -1;
	for (i = 4 + (size_t)n; i < flen; i++)
		acc |= frame[i];
	if (acc != 0)
		return -1;
	*ptlen = n;
	return 0;
}

static int
kind_is_envelope(enum bs1_kind kind)
{
	return kind == BS1_KIND_KEYRING || kind == BS1_KIND_RECORD ||
	    kind == BS1_KIND_META || kind == BS1_KIND_RECOVERY;
}

/* Seal with the given nonce: the one sealing path. */
int
bs1_seal_with_nonce(enum bs1_kind kind, uint32_t kv, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *pt, size_t ptlen,
    const uint8_t nonce[12], uint8_t **env, size_t *envlen)
{
	struct bs1_bytes aad = { 0 };
	uint8_t *frame = NULL, *e = NULL;
	size_t flen = 0;
	int rc;

	if (!env || !envlen)
		return BS1_E_INPUT;
	*env = NULL;
	*envlen = 0;
	if (!kind_is_envelope(kind) || !key || !nonce || (ctxlen && !ctx) ||
	    ((kind == BS1_KIND_KEYRING || kind == BS1_KIND_RECOVERY) && kv != 0))
		return BS1_E_INPUT;
	rc = bs1__frame(pt, ptlen, &frame, &flen);
	if (rc != BS1_OK)
		return rc;
	e = malloc(BS1_ENV_MIN + flen);
	if (!e) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	memcpy(e, magic, 3);
	e[3] = (uint8_t)kind;
	e[4] = (uint8_t)(kv >> 24);
	e[5] = (uint8_t)(kv >> 16);
	e[6] = (uint8_t)(kv >> 8);
	e[7] = (uint8_t)kv;
	memcpy(e + BS1_ENV_HEADER, nonce, BS1_NONCE);
	bs1__put(&aad, e, BS1_ENV_HEADER);
	if (ctxlen)
		bs1__put(&aad, ctx, ctxlen);
	rc = bs1__bytes_status(&aad);
	if (rc != BS1_OK)
		goto out;
	if (bs1__aead_seal(key, nonce, aad.p, aad.n, frame, flen,
	    e + BS1_ENV_HEADER + BS1_NONCE) != 0) {
		rc = BS1_E_CRYPTO;
		goto out;
	}
	*env = e;
	*envlen = BS1_ENV_MIN + flen;
	e = NULL;
out:
	free(e);
	bs1_free(frame, flen);
	bs1__bytes_free(&aad);
	return rc;
}

/* Seal with a fresh random nonce. */
int
bs1_seal(enum bs1_kind kind, uint32_t kv, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *pt, size_t ptlen,
    uint8_t **env, size_t *envlen)
{
	uint8_t nonce[BS1_NONCE];

	if (bsc_random(nonce, sizeof nonce) != 0)
		return BS1_E_CRYPTO;
	return bs1_seal_with_nonce(kind, kv, key, ctx, ctxlen, pt, ptlen, nonce, env, envlen);
}

/* The header's kv. */
int
bs1_envelope_kv(const uint8_t *env, size_t envlen, uint32_t *kv)
{
	if (!env || !kv || envlen < BS1_ENV_MIN || memcmp(env, magic, 3) != 0)
		return BS1_E_DECRYPT;
	*kv = (uint32_t)env[4] << 24 | (uint32_t)env[5] << 16 | (uint32_t)env[6] << 8 | env[7];
	return BS1_OK;
}

/* Open, checks in the order of section 3. */
int
bs1_open(enum bs1_kind kind, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *env, size_t envlen,
    uint8_t **pt, size_t *ptlen)
{
	struct bs1_bytes aad = { 0 };
	uint8_t *frame = NULL, *out = NULL;
	size_t flen = 0, n = 0;
	uint32_t kv;
	int rc = BS1_E_DECRYPT;

	if (!pt || !ptlen)
		return BS1_E_INPUT;
	*pt = NULL;
	*ptlen = 0;
	if (!kind_is_envelope(kind) || !key || (ctxlen && !ctx))
		return BS1_E_INPUT;
	if (!env || envlen < BS1_ENV_MIN || memcmp(env, magic, 3) != 0 || env[3] != kind)
		return BS1_E_DECRYPT;
	if (bs1_envelope_kv(env, envlen, &kv) != BS1_OK ||
	    ((kind == BS1_KIND_KEYRING || kind == BS1_KIND_RECOVERY) && kv != 0))
		return BS1_E_DECRYPT;
	bs1__put(&aad, env, BS1_ENV_HEADER);
	if (ctxlen)
		bs1__put(&aad, ctx, ctxlen);
	if (bs1__bytes_status(&aad) != BS1_OK) {
		rc = bs1__bytes_status(&aad);
		goto out;
	}
	flen = envlen - BS1_ENV_MIN;
	frame = malloc(flen ? flen : 1);
	if (!frame) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	if (bs1__aead_open(key, env + BS1_ENV_HEADER, aad.p, aad.n,
	    env + BS1_ENV_HEADER + BS1_NONCE, envlen - BS1_ENV_HEADER - BS1_NONCE, frame) != 0)
		goto out;
	if (bs1__unframe(frame, flen, &n) != 0)
		goto out;
	out = malloc(n ? n : 1);
	if (!out) {
		rc = BS1_E_NOMEM;
		goto out;
	}
	if (n)
		memcpy(out, frame + 4, n);
	*pt = out;
	*ptlen = n;
	rc = BS1_OK;
out:
	bs1_free(frame, flen);
	bs1__bytes_free(&aad);
	return rc;
}

/* Hand a finished builder over as a malloc'd context (exactly n bytes). */
static int
take(struct bs1_bytes *b, uint8_t **ctx, size_t *ctxlen)
{
	int rc = bs1__bytes_status(b);

	*ctx = NULL;
	*ctxlen = 0;
	if (rc == BS1_OK) {
		*ctx = b->p;
		*ctxlen = b->n;
		memset(b, 0, sizeof *b);
	}
	bs1__bytes_free(b);
	return rc;
}

/* lp(lower(username)) || u64be(version). */
int
bs1_ctx_keyring(const char *username, uint64_t version, uint8_t **ctx, size_t *ctxlen)
{
	struct bs1_bytes b = { 0 };

	if (!username || !ctx || !ctxlen)
		return BS1_E_INPUT;
	bs1__put_lp_lower(&b, username);
	bs1__put_u64be(&b, version);
	return take(&b, ctx, ctxlen);
}

/* lp(collection) || lp(record_id). */
int
bs1_ctx_record(const char *collection, const char *record_id, uint8_t **ctx, size_t *ctxlen)
{
	struct bs1_bytes b = { 0 };

	if (!collection || !record_id || !ctx || !ctxlen)
		return BS1_E_INPUT;
	bs1__put_lp(&b, collection, strlen(collection));
	bs1__put_lp(&b, record_id, strlen(record_id));
	return take(&b, ctx, ctxlen);
}

/* lp(collection). */
int
bs1_ctx_meta(const char *collection, uint8_t **ctx, size_t *ctxlen)
{
	struct bs1_bytes b = { 0 };

	if (!collection || !ctx || !ctxlen)
		return BS1_E_INPUT;
	bs1__put_lp(&b, collection, strlen(collection));
	return take(&b, ctx, ctxlen);
}

/* lp(lower(username)). */
int
bs1_ctx_recovery(const char *username, uint8_t **ctx, size_t *ctxlen)
{
	struct bs1_bytes b = { 0 };

	if (!username || !ctx || !ctxlen)
		return BS1_E_INPUT;
	bs1__put_lp_lower(&b, username);
	return take(&b, ctx, ctxlen);
}

/* Seal under a context made by mk (which failed if rc says so). */
static int
seal_ctx(int rc, enum bs1_kind kind, uint32_t kv, const struct bs1_key *key, uint8_t *ctx,
    size_t ctxlen, const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen)
{
	if (rc == BS1_OK)
		rc = bs1_seal(kind, kv, key, ctx, ctxlen, pt, ptlen, env, envlen);
	free(ctx);
	return rc;
}

/* Open under a context made by mk. */
static int
open_ctx(int rc, enum bs1_kind kind, const struct bs1_key *key, uint8_t *ctx, size_t ctxlen,
    const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
{
	if (rc == BS1_OK)
		rc = bs1_open(kind, key, ctx, ctxlen, env, envlen, pt, ptlen);
	free(ctx);
	return rc;
}

/* The keyring of username at version. */
int
bs1_keyring_seal(const struct bs1_key *keyring_key, const char *username,
    uint64_t version, const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen)
{
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc = bs1_ctx_keyring(username, version, &ctx, &n);

	return seal_ctx(rc, BS1_KIND_KEYRING, 0, keyring_key, ctx, n, pt, ptlen, env, envlen);
}

/* Open the keyring of username at version. */
int
bs1_keyring_open(const struct bs1_key *keyring_key, const char *username,
    uint64_t version, const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
{
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc = bs1_ctx_keyring(username, version, &ctx, &n);

	return open_ctx(rc, BS1_KIND_KEYRING, keyring_key, ctx, n, env, envlen, pt, ptlen);
}

/* A record: plaintext lp(a) || data under ck at kv. */
int
bs1_record_seal(const struct bs1_key *ck, uint32_t kv, const char *collection,
    const char *record_id, const char *a, const uint8_t *data, size_t datalen,
    uint8_t **env, size_t *envlen)
{
	struct bs1_bytes p = { 0 };
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc;

	if (!a || (datalen && !data))
		return BS1_E_INPUT;
	bs1__put_lp(&p, a, strlen(a));
	bs1__put(&p, data, datalen);
	rc = bs1__bytes_status(&p);
	if (rc == BS1_OK)
		rc = bs1_ctx_record(collection, record_id, &ctx, &n);
	rc = seal_ctx(rc, BS1_KIND_RECORD, kv, ck, ctx, n, p.p, p.n, env, envlen);
	bs1__bytes_free(&p);
	return rc;
}

/* Open a record with ck(collection, header kv) from the data key. */
int
bs1_record_open(const struct bs1_key *data_key, const char *collection,
    const char *record_id, const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
{
	struct bs1_key ck;
	uint8_t *ctx = NULL;
	size_t n = 0;
	uint32_t kv;
	int rc;

	if (!pt || !ptlen)
		return BS1_E_INPUT;
	*pt = NULL;
	*ptlen = 0;
	if (bs1_envelope_kv(env, envlen, &kv) != BS1_OK)
		return BS1_E_DECRYPT;
	rc = bs1_ck(data_key, collection, kv, &ck);
	if (rc == BS1_OK)
		rc = bs1_ctx_record(collection, record_id, &ctx, &n);
	rc = open_ctx(rc, BS1_KIND_RECORD, &ck, ctx, n, env, envlen, pt, ptlen);
	bs1_wipe(&ck, sizeof ck);
	return rc;
}

/* Find a and data in lp(a) || data. */
int
bs1_record_split(const uint8_t *pt, size_t ptlen, const uint8_t **a, size_t *alen,
    const uint8_t **data, size_t *datalen)
{
	size_t n;

	if (!pt || !a || !alen || !data || !datalen || ptlen < 2)
		return BS1_E_DECRYPT;
	n = (size_t)pt[0] << 8 | pt[1];
	if (n > ptlen - 2)
		return BS1_E_DECRYPT;
	*a = pt + 2;
	*alen = n;
	*data = pt + 2 + n;
	*datalen = ptlen - 2 - n;
	return BS1_OK;
}

/* A collection's meta under ck at kv. */
int
bs1_meta_seal(const struct bs1_key *ck, uint32_t kv, const char *collection,
    const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen)
{
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc = bs1_ctx_meta(collection, &ctx, &n);

	return seal_ctx(rc, BS1_KIND_META, kv, ck, ctx, n, pt, ptlen, env, envlen);
}

/* Open a collection's meta with ck(collection, header kv). */
int
bs1_meta_open(const struct bs1_key *data_key, const char *collection,
    const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
{
	struct bs1_key ck;
	uint8_t *ctx = NULL;
	size_t n = 0;
	uint32_t kv;
	int rc;

	if (!pt || !ptlen)
		return BS1_E_INPUT;
	*pt = NULL;
	*ptlen = 0;
	if (bs1_envelope_kv(env, envlen, &kv) != BS1_OK)
		return BS1_E_DECRYPT;
	rc = bs1_ck(data_key, collection, kv, &ck);
	if (rc == BS1_OK)
		rc = bs1_ctx_meta(collection, &ctx, &n);
	rc = open_ctx(rc, BS1_KIND_META, &ck, ctx, n, env, envlen, pt, ptlen);
	bs1_wipe(&ck, sizeof ck);
	return rc;
}

/* A recovery blob of username. */
int
bs1_recovery_seal(const struct bs1_key *wrap, const char *username,
    const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen)
{
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc = bs1_ctx_recovery(username, &ctx, &n);

	return seal_ctx(rc, BS1_KIND_RECOVERY, 0, wrap, ctx, n, pt, ptlen, env, envlen);
}

/* Open a recovery blob of username. */
int
bs1_recovery_open(const struct bs1_key *wrap, const char *username,
    const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
{
	uint8_t *ctx = NULL;
	size_t n = 0;
	int rc = bs1_ctx_recovery(username, &ctx, &n);

	return open_ctx(rc, BS1_KIND_RECOVERY, wrap, ctx, n, env, envlen, pt, ptlen);
}

/* {"suite":"bs1","data_key":"<b64>"}. */
int
bs1_keyring_new(const struct bs1_key *data_key, uint8_t **pt, size_t *ptlen)
{
	static const char head[] = "{\"suite\":\"bs1\",\"data_key\":\"", tail[] = "\"}";
	char b64[48];
	struct bs1_bytes b = { 0 };
	int rc;

	if (!data_key || !pt || !ptlen)
		return BS1_E_INPUT;
	if (bsc_b64_encode(data_key->b, 32, b64, sizeof b64, BSC_B64_STD) != 44)
		return BS1_E_CRYPTO;
	bs1__put_str(&b, head);
	bs1__put(&b, b64, 44);
	bs1__put_str(&b, tail);
	bs1_wipe(b64, sizeof b64);
	rc = take(&b, pt, ptlen);
	return rc;
}

/*
 * Parse an opened keyring's JSON (strict json-c) for its data key. The b64
 * text inside json-c's object is wiped before the object is freed.
 */
int
bs1_keyring_data_key(const uint8_t *pt, size_t ptlen, struct bs1_key *data_key)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL, *v;
	uint8_t key[36];
	int rc = BS1_E_DECRYPT, present;
	long got;

	if (!pt || !data_key || ptlen > BS1_MAX_PLAINTEXT)
		return BS1_E_INPUT;
	tok = json_tokener_new_ex(32);
	if (!tok)
		return BS1_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, (const char *)pt, (int)ptlen);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != ptlen ||
	    !json_object_is_type(obj, json_type_object))
		goto out;
	v = json_object_object_get(obj, "suite");
	present = v && json_object_is_type(v, json_type_string);
	if (!present || json_object_get_string_len(v) != 3 ||
	    memcmp(json_object_get_string(v), "bs1", 3) != 0)
		goto out;
	if (!json_object_object_get_ex(obj, "data_key", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	got = bsc_b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
	    key, sizeof key, BSC_B64_STD);
	bs1_wipe((void *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
	if (got != 32)
		goto out;
	memcpy(data_key->b, key, 32);
	rc = BS1_OK;
out:
	bs1_wipe(key, sizeof key);
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}
