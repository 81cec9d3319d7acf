/*
 * test_bs1.c: the bs1 suite (client/lib) against the reference vectors of
 * tests/client/bs1-vectors.json (a copy of ../shared/spec/bs1-vectors.json):
 * every positive reproduced byte for byte, every "expect": "fail" failing
 * with the right error, streams built by rule and checked by SHA-256, plus
 * round trips through the random (non-test) entry points.
 *
 * Usage: test_bs1 [vectors.json] (default tests/client/bs1-vectors.json,
 * run from the top of the tree as `make unit` does). Links only the client
 * library, libbscrypto and its dependencies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_test.h"
#include "t.h"

/* A check with a label naming the vector, printed when it fails. */
#define CHECK(cond, ...) do { \
	if (cond) t_pass++; \
	else { t_fail++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static struct json_object *V;   /* the vectors */

/* ---- small helpers ------------------------------------------------------ */

static struct json_object *
get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t
num(struct json_object *o, const char *k)
{
	return json_object_get_int64(get(o, k));
}

/* Decode hex into a malloc'd buffer (length in *n); aborts on bad hex. */
static uint8_t *
unhex(const char *h, size_t *n)
{
	size_t len = h ? strlen(h) : 0, i;
	uint8_t *b = malloc(len / 2 + 1);

	if (!b || len % 2) {
		fprintf(stderr, "bad hex\n");
		exit(2);
	}
	for (i = 0; i < len / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex\n");
			exit(2);
		}
		b[i] = (uint8_t)v;
	}
	*n = len / 2;
	return b;
}

/* A 32-byte key from a hex member. */
static struct bs1_key
key_hex(struct json_object *o, const char *k)
{
	struct bs1_key key;
	size_t n;
	uint8_t *b = unhex(str(o, k), &n);

	memset(&key, 0, sizeof key);
	if (n == 32)
		memcpy(key.b, b, 32);
	else
		fprintf(stderr, "%s: not 32 bytes\n", k);
	free(b);
	return key;
}

/* buf[0..n) equals the hex text h. */
static int
eq_hex(const void *buf, size_t n, const char *h)
{
	size_t m;
	uint8_t *b;
	int eq;

	if (!h)
		return 0;
	b = unhex(h, &m);
	eq = m == n && (n == 0 || memcmp(b, buf, n) == 0);
	free(b);
	return eq;
}

static int
key_eq(const struct bs1_key *k, const char *h)
{
	return eq_hex(k->b, 32, h);
}

/* bytes(i % 251 for i in range(n)). */
static uint8_t *
rule_bytes(size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i % 251);
	return b;
}

/* A growable sink for stream output. */
struct sinkbuf {
	uint8_t *p;
	size_t n, cap;
	int calls;
};

static int
sink_append(void *arg, const uint8_t *p, size_t n)
{
	struct sinkbuf *s = arg;

	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2 + 64;
		uint8_t *np = realloc(s->p, cap);

		if (!np)
			return -1;
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->calls++;
	return 0;
}

static void
sink_reset(struct sinkbuf *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

static int
sha_eq(const uint8_t *p, size_t n, const char *h)
{
	uint8_t d[32];

	return bsc_sha256(p, n, d) == 0 && eq_hex(d, 32, h);
}

/* ---- kdf ---------------------------------------------------------------- */

static void
test_kdf_derivations(void)
{
	struct json_object *ds = get(get(V, "kdf"), "derivations");
	size_t i, j;

	for (i = 0; i < json_object_array_length(ds); i++) {
		struct json_object *d = json_object_array_get_idx(ds, i), *same;
		const char *pw = str(d, "password");
		const char *kdftext = json_object_to_json_string_ext(get(d, "kdf"),
		    JSON_C_TO_STRING_PLAIN);
		struct bs1_kdf kdf;
		struct bs1_key master, auth, ring;
		const char *why = "x";
		uint8_t *nfc = NULL;
		size_t nfclen = 0;
		char b64[48];

		CHECK(bs1_nfc(pw, strlen(pw), &nfc, &nfclen) == BS1_OK, "derivation %zu", i);
		CHECK(eq_hex(nfc, nfclen, str(d, "password_nfc_utf8_hex")), "nfc %zu", i);
		bs1_free(nfc, nfclen);
		CHECK(bs1_kdf_parse(kdftext, strlen(kdftext), &kdf, &why) == BS1_OK && why == NULL,
		    "kdf %zu", i);
		CHECK(kdf.m == (uint32_t)num(get(d, "kdf"), "m") &&
		    kdf.t == (uint32_t)num(get(d, "kdf"), "t") && kdf.p == 1, "kdf %zu", i);
		CHECK(bs1_master(pw, strlen(pw), &kdf, &master) == BS1_OK, "master %zu", i);
		CHECK(key_eq(&master, str(d, "master_hex")), "master %zu", i);
		CHECK(bs1_account_keys(&master, &auth, &ring) == BS1_OK, "keys %zu", i);
		CHECK(key_eq(&auth, str(d, "auth_key_hex")), "auth_key %zu", i);
		CHECK(key_eq(&ring, str(d, "keyring_key_hex")), "keyring_key %zu", i);
		CHECK(bsc_b64_encode(auth.b, 32, b64, sizeof b64, BSC_B64_STD) == 44 &&
		    strcmp(b64, str(d, "auth_key_b64")) == 0, "auth_key_b64 %zu", i);
		same = get(d, "same_result_for_passwords_utf8_hex");
		for (j = 0; j < json_object_array_length(same); j++) {
			size_t n;
			uint8_t *other = unhex(json_object_get_string(json_object_array_get_idx(same,
			    j)), &n);
			struct bs1_key m2;

			CHECK(bs1_master((const char *)other, n, &kdf, &m2) == BS1_OK &&
			    key_eq(&m2, str(d, "master_hex")), "same result %zu.%zu", i, j);
			free(other);
			bs1_wipe(&m2, sizeof m2);
		}
		bs1_wipe(&master, sizeof master);
	}
}

static void
test_kdf_floor(void)
{
	struct json_object *k = get(V, "kdf"), *a;
	struct bs1_kdf kdf, alice;
	const char *why;
	size_t i;

	a = get(k, "floor_refused");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *text = str(e, "kdf_json");

		if (!text)
			text = json_object_to_json_string_ext(get(e, "kdf"), JSON_C_TO_STRING_PLAIN);
		why = NULL;
		CHECK(bs1_kdf_parse(text, strlen(text), &kdf, &why) == BS1_E_KDF_FLOOR && why,
		    "floor_refused %zu (%s): %s", i, str(e, "reason"), text);
		if (get(e, "kdf")) {
			why = NULL;
			CHECK(bs1_kdf_check(get(e, "kdf"), &kdf, &why) == BS1_E_KDF_FLOOR && why,
			    "floor_refused object %zu (%s)", i, str(e, "reason"));
		}
	}
	a = get(k, "floor_accepted");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *text = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);

		why = "x";
		CHECK(bs1_kdf_parse(text, strlen(text), &kdf, &why) == BS1_OK && !why,
		    "floor_accepted %zu: %s (%s)", i, text, why ? why : "");
		CHECK(kdf.m == (uint32_t)num(e, "m") && kdf.t == (uint32_t)num(e, "t"),
		    "floor_accepted %zu", i);
	}
	/* the number forms derive exactly as alice's m = 65536, t = 3, p = 1 */
	{
		const char *t0 = json_object_to_json_string_ext(get(json_object_array_get_idx(
		    get(k, "derivations"), 0), "kdf"), JSON_C_TO_STRING_PLAIN);

		CHECK(bs1_kdf_parse(t0, strlen(t0), &alice, NULL) == BS1_OK, "alice's kdf");
	}
	a = get(get(k, "floor_accepted_number_forms"), "kdf_json");
	for (i = 0; i < json_object_array_length(a); i++) {
		const char *text = str(json_object_array_get_idx(a, i), "text");

		memset(&kdf, 0xee, sizeof kdf);
		CHECK(bs1_kdf_parse(text, strlen(text), &kdf, NULL) == BS1_OK &&
		    memcmp(&kdf, &alice, sizeof kdf) == 0, "number form %s", text);
	}
}

/* Our own kdf objects, and bad text. */
static void
test_kdf_api(void)
{
	static const char *bad[] = {
		"", "[]", "{", "{}x", "null", "{\"alg\":\"argon2id\"} {}",
		"{\"alg\":\"argon2id\\u0000\",\"suite\":\"bs1\",\"m\":65536,\"t\":3,\"p\":1,"
		    "\"salt\":\"WziiSdVqHzl+NEhhd3g83A==\"}",
		"{\"alg\":\"argon2id\",\"suite\":\"bs1\",\"m\":65536,\"t\":3,\"p\":1,"
		    "\"salt\":\"WziiSdVqHzl+NEhhd3g83A==\",}",
		"{\"alg\":\"argon2id\",\"suite\":\"bs1\",\"m\":99999999999999999999999,\"t\":3,"
		    "\"p\":1,\"salt\":\"WziiSdVqHzl+NEhhd3g83A==\"}",
	};
	struct bs1_kdf k, back;
	char text[256], big[BS1_KDF_MAX_JSON + 2];
	const char *why;
	uint8_t *n = NULL;
	size_t nlen, i;

	CHECK(bs1_kdf_new(&k) == BS1_OK && k.m == 65536 && k.t == 3 && k.p == 1, "kdf_new");
	CHECK(bs1_kdf_json(&k, text, sizeof text) == BS1_OK, "kdf_json");
	CHECK(bs1_kdf_parse(text, strlen(text), &back, NULL) == BS1_OK &&
	    memcmp(&k, &back, sizeof k) == 0, "kdf round trip %s", text);
	CHECK(bs1_kdf_json(&k, text, 20) == BS1_E_INPUT, "kdf_json short buffer");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		CHECK(bs1_kdf_parse(bad[i], strlen(bad[i]), &k, &why) == BS1_E_KDF_FLOOR && why,
		    "bad kdf text %zu", i);
	}
	{
		static const char nul[] = "{\"alg\":\"argon2id\",\"suite\":\"bs1\",\"m\":65536,"
		    "\"t\":3,\"p\":1,\"salt\":\"WziiSdVqHzl+NEhhd3g83A==\"}\0";

		CHECK(bs1_kdf_parse(nul, sizeof nul - 2, &k, NULL) == BS1_OK, "kdf without the NUL");
		CHECK(bs1_kdf_parse(nul, sizeof nul - 1, &k, &why) == BS1_E_KDF_FLOOR,
		    "kdf text with a NUL after it");
	}
	memset(big, ' ', sizeof big);
	memcpy(big, text, strlen(text));
	why = NULL;
	CHECK(bs1_kdf_parse(big, sizeof big, &k, &why) == BS1_E_KDF_FLOOR && why,
	    "a kdf object over 1 KiB");
	CHECK(bs1_nfc("\xc3\x28", 2, &n, &nlen) == BS1_E_INPUT && !n, "NFC of bad UTF-8");
	CHECK(bs1_nfc("a\0b", 3, &n, &nlen) == BS1_E_INPUT && !n, "NFC with a NUL");
	CHECK(bs1_nfc("", 0, &n, &nlen) == BS1_OK && nlen == 0, "NFC of nothing");
	bs1_free(n, nlen);
	CHECK(strcmp(bs1_strerror(BS1_E_DECRYPT), "cannot decrypt") == 0, "strerror");
	CHECK(strcmp(bs1_strerror(42), "unknown error") == 0, "strerror unknown");
}

/* ---- padding, keys, names ----------------------------------------------- */

static void
test_padding(void)
{
	struct json_object *a = get(V, "padding");
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		size_t L = (size_t)num(e, "L"), P = (size_t)num(e, "P");

		CHECK(bs1_frame_len(L - 4) == P, "padding L=%zu P=%zu got %zu", L, P,
		    bs1_frame_len(L - 4));
		CHECK(bs1_envelope_len(L - 4) == P + BS1_ENV_MIN, "envelope_len L=%zu", L);
	}
	CHECK(bs1_frame_len((size_t)BS1_MAX_PLAINTEXT + 1) == 0, "too large");
}

static struct bs1_key data_key;

static void
test_keys(void)
{
	struct json_object *k = get(V, "keys"), *a;
	struct bs1_key out;
	size_t i;

	data_key = key_hex(k, "data_key_hex");
	CHECK(bs1_id_key(&data_key, &out) == BS1_OK && key_eq(&out, str(k, "id_key_hex")),
	    "id_key");
	a = get(k, "ck");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		CHECK(bs1_ck(&data_key, str(e, "collection"), (uint32_t)num(e, "kv"), &out) ==
		    BS1_OK && key_eq(&out, str(e, "key_hex")), "ck %zu", i);
	}
	a = get(k, "cid_key");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		CHECK(bs1_cid_key(&data_key, str(e, "collection"), &out) == BS1_OK &&
		    key_eq(&out, str(e, "key_hex")), "cid_key %zu", i);
	}
	a = get(k, "backup_key");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		size_t n;
		char *name = (char *)unhex(str(e, "name_utf8_hex"), &n);

		name[n] = '\0';
		CHECK(strcmp(name, str(e, "name")) == 0, "backup name %zu", i);
		CHECK(bs1_backup_key(&data_key, name, &out) == BS1_OK &&
		    key_eq(&out, str(e, "key_hex")), "backup_key %zu", i);
		free(name);
	}
}

static void
test_names(void)
{
	struct json_object *a = get(get(V, "opaque_names"), "names");
	struct bs1_key id, cid;
	char name[BS1_NAME_LEN + 1];
	size_t i, j;

	CHECK(bs1_id_key(&data_key, &id) == BS1_OK, "id_key");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *r = get(e, "records");
		size_t n;
		char *A = (char *)unhex(str(e, "A_utf8_hex"), &n);

		A[n] = '\0';
		CHECK(bs1_collection_name(&id, A, name) == BS1_OK &&
		    strcmp(name, str(e, "collection")) == 0, "collection %zu", i);
		CHECK(bs1_cid_key(&data_key, name, &cid) == BS1_OK &&
		    key_eq(&cid, str(e, "cid_key_hex")), "cid_key %zu", i);
		for (j = 0; j < json_object_array_length(r); j++) {
			struct json_object *x = json_object_array_get_idx(r, j);
			char *a1 = (char *)unhex(str(x, "a_utf8_hex"), &n);

			a1[n] = '\0';
			CHECK(bs1_record_id(&cid, a1, name) == BS1_OK &&
			    strcmp(name, str(x, "record_id")) == 0, "record id %zu.%zu", i, j);
			free(a1);
		}
		free(A);
	}
}

/* ---- envelopes ---------------------------------------------------------- */

/* The context the typed builders make for a vector entry. */
static int
make_ctx(struct json_object *e, int kind, uint8_t **ctx, size_t *n)
{
	switch (kind) {
	case 1:
		return bs1_ctx_keyring(str(e, "username"), (uint64_t)num(e, "keyring_version"),
		    ctx, n);
	case 2:
		return bs1_ctx_record(str(e, "collection"), str(e, "record_id"), ctx, n);
	case 3:
		return bs1_ctx_meta(str(e, "collection"), ctx, n);
	case 6:
		return bs1_ctx_recovery(str(e, "username"), ctx, n);
	}
	return BS1_E_INPUT;
}

/* The typed open of an envelope entry (its own key and context). */
static int
typed_open(struct json_object *e, int kind, const struct bs1_key *key, const uint8_t *env,
    size_t envlen, uint8_t **pt, size_t *ptlen)
{
	switch (kind) {
	case 1:
		return bs1_keyring_open(key, str(e, "username"), (uint64_t)num(e, "keyring_version"),
		    env, envlen, pt, ptlen);
	case 2:
		return bs1_record_open(&data_key, str(e, "collection"), str(e, "record_id"), env,
		    envlen, pt, ptlen);
	case 3:
		return bs1_meta_open(&data_key, str(e, "collection"), env, envlen, pt, ptlen);
	case 6:
		return bs1_recovery_open(key, str(e, "username"), env, envlen, pt, ptlen);
	}
	return BS1_E_INPUT;
}

static void
test_envelopes(void)
{
	struct json_object *a = get(V, "envelopes");
	size_t i, j;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *negs = get(e, "negatives");
		int kind = (int)num(e, "kind");
		uint32_t kv = (uint32_t)num(e, "kv");
		struct bs1_key key = key_hex(e, "key_hex");
		uint8_t *ctx = NULL, *pt, *nonce, *env = NULL, *out = NULL;
		size_t ctxlen = 0, ptlen, nlen, envlen = 0, outlen = 0;
		const uint8_t *ra, *rd;
		size_t ralen, rdlen;

		CHECK(make_ctx(e, kind, &ctx, &ctxlen) == BS1_OK &&
		    eq_hex(ctx, ctxlen, str(e, "context_hex")), "context of envelope %zu", i);
		pt = unhex(str(e, "plaintext_hex"), &ptlen);
		nonce = unhex(str(e, "nonce_hex"), &nlen);
		CHECK(bs1_seal_with_nonce((enum bs1_kind)kind, kv, &key, ctx, ctxlen, pt, ptlen,
		    nonce, &env, &envlen) == BS1_OK && eq_hex(env, envlen, str(e, "envelope_hex")),
		    "seal envelope %zu (%s)", i, str(e, "what"));
		CHECK(envlen == BS1_ENV_MIN + (size_t)num(e, "frame_len") &&
		    envlen == bs1_envelope_len(ptlen), "frame_len of envelope %zu", i);
		free(env);
		env = unhex(str(e, "envelope_hex"), &envlen);
		CHECK(bs1_open((enum bs1_kind)kind, &key, ctx, ctxlen, env, envlen, &out,
		    &outlen) == BS1_OK && outlen == ptlen && (!ptlen || memcmp(out, pt, ptlen) == 0),
		    "open envelope %zu", i);
		bs1_free(out, outlen);
		out = NULL;
		CHECK(typed_open(e, kind, &key, env, envlen, &out, &outlen) == BS1_OK &&
		    outlen == ptlen && (!ptlen || memcmp(out, pt, ptlen) == 0),
		    "typed open of envelope %zu", i);
		if (kind == 2 && out) {
			struct json_object *m = get(e, "plaintext_means");

			CHECK(bs1_record_split(out, outlen, &ra, &ralen, &rd, &rdlen) == BS1_OK &&
			    ralen == strlen(str(m, "a")) && memcmp(ra, str(m, "a"), ralen) == 0 &&
			    eq_hex(rd, rdlen, str(m, "data_hex")), "record plaintext %zu", i);
		}
		if ((kind == 1 || kind == 6) && strcmp(str(e, "plaintext_means"), "keyring JSON") == 0) {
			struct bs1_key dk;

			CHECK(bs1_keyring_data_key(out, outlen, &dk) == BS1_OK &&
			    memcmp(&dk, &data_key, 32) == 0, "keyring data key %zu", i);
		}
		bs1_free(out, outlen);
		out = NULL;
		for (j = 0; j < json_object_array_length(negs); j++) {
			struct json_object *n = json_object_array_get_idx(negs, j);
			struct bs1_key k2 = str(n, "open_with_key_hex") ?
			    key_hex(n, "open_with_key_hex") : key;
			const char *ch = str(n, "open_with_context_hex");
			int k = get(n, "open_as_kind") ? (int)num(n, "open_as_kind") : kind;
			uint8_t *c2 = NULL, *e2;
			size_t c2len = 0, e2len;
			int rc;

			if (ch)
				c2 = unhex(ch, &c2len);
			e2 = unhex(str(n, "envelope_hex"), &e2len);
			out = (uint8_t *)"x";
			rc = bs1_open((enum bs1_kind)k, &k2, ch ? c2 : ctx, ch ? c2len : ctxlen, e2, e2len,
			    &out, &outlen);
			CHECK(rc == BS1_E_DECRYPT && out == NULL, "envelope %zu negative %zu (%s)",
			    i, j, str(n, "change"));
			/* and through the typed open, when it is the same key and context */
			if (!ch && !str(n, "open_with_key_hex") && k == kind) {
				CHECK(typed_open(e, kind, &key, e2, e2len, &out, &outlen) == BS1_E_DECRYPT &&
				    out == NULL, "typed envelope %zu negative %zu", i, j);
			}
			free(c2);
			free(e2);
		}
		/* a round trip through the random-nonce entry point */
		free(env);
		env = NULL;
		CHECK(bs1_seal((enum bs1_kind)kind, kv, &key, ctx, ctxlen, pt, ptlen, &env, &envlen) ==
		    BS1_OK && bs1_open((enum bs1_kind)kind, &key, ctx, ctxlen, env, envlen, &out,
		    &outlen) == BS1_OK && outlen == ptlen, "random-nonce round trip %zu", i);
		bs1_free(out, outlen);
		free(env);
		free(ctx);
		free(pt);
		free(nonce);
	}
}

static void
test_kv_mismatch(void)
{
	struct json_object *a = get(V, "kv_mismatch");
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		int kind = (int)num(e, "kind");
		uint8_t *ctx = unhex(str(e, "context_hex"), &(size_t){ 0 }), *env, *out = NULL;
		size_t ctxlen, envlen, outlen = 0;
		struct bs1_key key;
		uint32_t kv;
		int rc;

		free(ctx);
		ctx = unhex(str(e, "context_hex"), &ctxlen);
		env = unhex(str(e, "envelope_hex"), &envlen);
		CHECK(bs1_envelope_kv(env, envlen, &kv) == BS1_OK && kv == (uint32_t)num(e, "header_kv"),
		    "kv_mismatch %zu header", i);
		if (kind == 1 || kind == 6) {
			key = key_hex(e, "key_hex");
			rc = bs1_open((enum bs1_kind)kind, &key, ctx, ctxlen, env, envlen, &out, &outlen);
		} else {
			rc = typed_open(e, kind, NULL, env, envlen, &out, &outlen);
		}
		CHECK(rc == BS1_E_DECRYPT && out == NULL, "kv_mismatch %zu (%s)", i, str(e, "what"));
		free(ctx);
		free(env);
	}
}

static void
test_malformed_frames(void)
{
	struct json_object *a = get(V, "malformed_frames");
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		struct bs1_key key = key_hex(e, "key_hex");
		uint8_t *ctx, *env, *out = NULL;
		size_t ctxlen, envlen, outlen = 0;

		ctx = unhex(str(e, "context_hex"), &ctxlen);
		env = unhex(str(e, "envelope_hex"), &envlen);
		CHECK(bs1_open((enum bs1_kind)num(e, "kind"), &key, ctx, ctxlen, env, envlen, &out,
		    &outlen) == BS1_E_DECRYPT && out == NULL, "malformed frame %zu (%s)", i,
		    str(e, "what"));
		free(ctx);
		free(env);
	}
}

/* ---- streams ------------------------------------------------------------ */

/* Read a whole stream, fed in pieces of step bytes; the result code. */
static int
read_stream(int kind, const struct bs1_key *key, const uint8_t *s, size_t n, size_t step,
    struct sinkbuf *out)
{
	struct bs1_stream *r = NULL;
	size_t off;
	int rc = bs1_stream_reader_new((enum bs1_kind)kind, key, &r);

	for (off = 0; rc == BS1_OK && off < n; off += step)
		rc = bs1_stream_read(r, s + off, n - off < step ? n - off : step, sink_append, out);
	if (rc == BS1_OK)
		rc = bs1_stream_read_end(r, sink_append, out);
	bs1_stream_free(r);
	return rc;
}

/* Chunk i of a stream of n bytes: [20 + 65552 i, min(20 + 65552 (i + 1), n)). */
struct chunks {
	uint8_t header[BS1_STREAM_HEADER];
	uint8_t *c[64];
	size_t n[64], count;
};

static void
split_chunks(const uint8_t *s, size_t n, struct chunks *c)
{
	size_t off;

	memset(c, 0, sizeof *c);
	memcpy(c->header, s, n < BS1_STREAM_HEADER ? n : BS1_STREAM_HEADER);
	for (off = BS1_STREAM_HEADER; off < n && c->count < 64; off += BS1_CHUNK) {
		size_t k = n - off < BS1_CHUNK ? n - off : BS1_CHUNK;

		c->c[c->count] = malloc(k ? k : 1);
		memcpy(c->c[c->count], s + off, k);
		c->n[c->count++] = k;
	}
}

static uint8_t *
join_chunks(struct chunks *c, size_t *n)
{
	size_t total = BS1_STREAM_HEADER, i, off;
	uint8_t *s;

	for (i = 0; i < c->count; i++)
		total += c->n[i];
	s = malloc(total);
	memcpy(s, c->header, BS1_STREAM_HEADER);
	for (off = BS1_STREAM_HEADER, i = 0; i < c->count; i++) {
		memcpy(s + off, c->c[i], c->n[i]);
		off += c->n[i];
		free(c->c[i]);
	}
	*n = total;
	return s;
}

/* Apply one op of a stream negative to *s (*n bytes), in place or anew. */
static void
apply_op(struct json_object *op, const struct bs1_key *payload, uint8_t **s, size_t *n)
{
	const char *name = str(op, "op");
	struct chunks c;
	size_t i;

	if (strcmp(name, "truncate") == 0) {
		*n -= (size_t)num(op, "bytes");
	} else if (strcmp(name, "xor_byte") == 0) {
		(*s)[num(op, "offset")] ^= (uint8_t)num(op, "xor");
	} else if (strcmp(name, "set_byte") == 0) {
		(*s)[num(op, "offset")] = (uint8_t)num(op, "value");
	} else if (strcmp(name, "append") == 0) {
		size_t k;
		uint8_t *x = unhex(str(op, "hex"), &k);

		*s = realloc(*s, *n + k);
		memcpy(*s + *n, x, k);
		*n += k;
		free(x);
	} else {
		split_chunks(*s, *n, &c);
		free(*s);
		if (strcmp(name, "swap_chunks") == 0) {
			size_t a = (size_t)num(op, "a"), b = (size_t)num(op, "b"), tn = c.n[a];
			uint8_t *t = c.c[a];

			c.c[a] = c.c[b];
			c.n[a] = c.n[b];
			c.c[b] = t;
			c.n[b] = tn;
		} else if (strcmp(name, "drop_chunk") == 0) {
			size_t d = (size_t)num(op, "index");

			free(c.c[d]);
			for (i = d; i + 1 < c.count; i++) {
				c.c[i] = c.c[i + 1];
				c.n[i] = c.n[i + 1];
			}
			c.count--;
		} else if (strcmp(name, "reseal_chunk") == 0) {
			size_t x = (size_t)num(op, "index");
			int pos_last = x + 1 == c.count;
			uint8_t *piece = malloc(BS1_CHUNK);
			int rc = bs1_stream_chunk_open(payload, c.header, x, pos_last, c.c[x], c.n[x],
			    piece);

			CHECK(rc == BS1_OK, "reseal_chunk: the chunk opens at its position");
			CHECK(bs1_stream_chunk_seal(payload, c.header, x, (int)num(op, "last_flag"),
			    piece, c.n[x] - BS1_TAG, c.c[x]) == BS1_OK, "reseal_chunk");
			free(piece);
		} else if (strcmp(name, "append_chunk") == 0) {
			size_t k;
			uint8_t *piece = unhex(str(op, "piece_hex"), &k);

			c.c[c.count] = malloc(k + BS1_TAG);
			CHECK(bs1_stream_chunk_seal(payload, c.header, (uint64_t)num(op, "index"),
			    (int)num(op, "last_flag"), piece, k, c.c[c.count]) == BS1_OK, "append_chunk");
			c.n[c.count++] = k + BS1_TAG;
			free(piece);
		} else {
			CHECK(0, "unknown op %s", name);
		}
		*s = join_chunks(&c, n);
	}
}

static void
test_streams(void)
{
	struct json_object *a = get(V, "streams");
	static const size_t steps[] = { 1, 4093, BS1_CHUNK, 1 << 20 };
	size_t i, j, k;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *negs = get(e, "negatives");
		int kind = (int)num(e, "kind");
		struct bs1_key base = key_hex(e, "base_key_hex"), payload;
		size_t plen = (size_t)num(e, "plaintext_len"), saltlen;
		uint8_t *pt = rule_bytes(plen), *salt = unhex(str(e, "salt_hex"), &saltlen);
		struct bs1_stream *w = NULL;
		struct sinkbuf out = { 0 }, back = { 0 };
		struct json_object *tags = get(e, "chunk_tags_hex");

		CHECK(bs1_stream_payload_key(&base, salt, &payload) == BS1_OK &&
		    key_eq(&payload, str(e, "payload_key_hex")), "payload key %zu", i);
		/* write in uneven pieces */
		CHECK(bs1_stream_writer_new_salt((enum bs1_kind)kind, &base, salt, &w) == BS1_OK,
		    "writer %zu", i);
		for (k = 0; k < plen; k += 1000)
			CHECK(bs1_stream_write(w, pt + k, plen - k < 1000 ? plen - k : 1000, sink_append,
			    &out) == BS1_OK, "write %zu", i);
		CHECK(bs1_stream_write_end(w, sink_append, &out) == BS1_OK, "write_end %zu", i);
		bs1_stream_free(w);
		CHECK(out.n == (size_t)num(e, "stream_len") && out.n == bs1_stream_len(plen),
		    "stream_len %zu", i);
		CHECK(sha_eq(out.p, out.n, str(e, "stream_sha256")), "stream_sha256 %zu", i);
		if (str(e, "stream_hex"))
			CHECK(eq_hex(out.p, out.n, str(e, "stream_hex")), "stream_hex %zu", i);
		CHECK(json_object_array_length(tags) == (size_t)num(e, "chunk_count"), "tags %zu", i);
		for (k = 0; k < json_object_array_length(tags); k++) {
			size_t end = BS1_STREAM_HEADER + BS1_CHUNK * (k + 1);

			if (end > out.n)
				end = out.n;
			CHECK(eq_hex(out.p + end - BS1_TAG, BS1_TAG,
			    json_object_get_string(json_object_array_get_idx(tags, k))),
			    "chunk tag %zu.%zu", i, k);
		}
		for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			if (steps[k] == 1 && out.n > 70000)
				continue;
			CHECK(read_stream(kind, &base, out.p, out.n, steps[k], &back) == BS1_OK &&
			    back.n == plen && (!plen || memcmp(back.p, pt, plen) == 0),
			    "read stream %zu step %zu", i, steps[k]);
			sink_reset(&back);
		}
		for (j = 0; j < json_object_array_length(negs); j++) {
			struct json_object *n = json_object_array_get_idx(negs, j), *ops = get(n, "ops");
			size_t sn = out.n, o;
			uint8_t *s = malloc(out.n + 1);

			memcpy(s, out.p, out.n);
			for (o = 0; o < json_object_array_length(ops); o++)
				apply_op(json_object_array_get_idx(ops, o), &payload, &s, &sn);
			CHECK(sn == (size_t)num(n, "stream_len") && sha_eq(s, sn, str(n, "stream_sha256")),
			    "stream %zu negative %zu built (%s)", i, j, str(n, "change"));
			for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
				if (steps[k] == 1 && sn > 70000)
					continue;
				CHECK(read_stream(kind, &base, s, sn, steps[k], &back) == BS1_E_DECRYPT,
				    "stream %zu negative %zu step %zu (%s)", i, j, steps[k],
				    str(n, "change"));
				sink_reset(&back);
			}
			free(s);
		}
		sink_reset(&out);
		free(pt);
		free(salt);
	}
}

/* Streams through the random entry points, and the reader's bounds. */
static void
test_stream_api(void)
{
	struct bs1_key key;
	struct bs1_stream *w = NULL, *r = NULL;
	struct sinkbuf out = { 0 }, back = { 0 };
	size_t n = 3 * BS1_PIECE + 12345;
	uint8_t *pt = rule_bytes(n);

	CHECK(bs1_data_key_new(&key) == BS1_OK, "key");
	CHECK(bs1_stream_writer_new(BS1_KIND_SLOT, &key, &w) == BS1_OK &&
	    bs1_stream_write(w, pt, n, sink_append, &out) == BS1_OK &&
	    bs1_stream_write_end(w, sink_append, &out) == BS1_OK, "write");
	CHECK(bs1_stream_write(w, pt, 1, sink_append, &out) == BS1_E_INPUT, "write after end");
	bs1_stream_free(w);
	CHECK(out.n == bs1_stream_len(n), "length");
	CHECK(read_stream(BS1_KIND_SLOT, &key, out.p, out.n, 65536 + 7, &back) == BS1_OK &&
	    back.n == n && memcmp(back.p, pt, n) == 0, "round trip");
	sink_reset(&back);
	CHECK(read_stream(BS1_KIND_BACKUP, &key, out.p, out.n, 9999, &back) == BS1_E_DECRYPT &&
	    back.n == 0, "a slot stream read as a backup");
	sink_reset(&back);
	/* pieces come out only after their tag: a bad last chunk keeps the
	 * verified ones released and fails the end, nothing more */
	out.p[out.n - 1] ^= 1;
	CHECK(read_stream(BS1_KIND_SLOT, &key, out.p, out.n, 65536, &back) == BS1_E_DECRYPT &&
	    back.n == 3 * BS1_PIECE, "only verified pieces before the failure");
	sink_reset(&back);
	/* errors latch */
	CHECK(bs1_stream_reader_new(BS1_KIND_SLOT, &key, &r) == BS1_OK, "reader");
	CHECK(bs1_stream_read(r, (const uint8_t *)"XS1\x05", 4, sink_append, &back) == BS1_OK,
	    "a partial header is kept");
	CHECK(bs1_stream_read(r, pt, 16, sink_append, &back) == BS1_E_DECRYPT, "bad magic");
	CHECK(bs1_stream_read(r, pt, 16, sink_append, &back) == BS1_E_DECRYPT &&
	    bs1_stream_read_end(r, sink_append, &back) == BS1_E_DECRYPT, "latched");
	bs1_stream_free(r);
	CHECK(bs1_stream_reader_new(BS1_KIND_RECORD, &key, &r) == BS1_E_INPUT && !r, "kind");
	sink_reset(&out);
	sink_reset(&back);
	free(pt);
}


/* ---- flipped bytes and bounded memory ----------------------------------- */

/* Every single-bit change of an envelope, and 500 random byte changes of a
 * stream, fail with BS1_E_DECRYPT (never a crash, never plaintext). */
static void
test_flips(void)
{
	struct json_object *e = json_object_array_get_idx(get(V, "envelopes"), 4);
	struct bs1_key key = key_hex(e, "key_hex"), base;
	uint8_t *ctx, *env, *out = NULL, *pt;
	size_t ctxlen, envlen, outlen = 0, bit, i, bad = 0;
	struct sinkbuf s = { 0 }, back = { 0 };
	struct bs1_stream *w = NULL;

	ctx = unhex(str(e, "context_hex"), &ctxlen);
	env = unhex(str(e, "envelope_hex"), &envlen);
	for (bit = 0; bit < envlen * 8; bit++) {
		env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (bs1_open(BS1_KIND_RECORD, &key, ctx, ctxlen, env, envlen, &out, &outlen) !=
		    BS1_E_DECRYPT || out)
			bad++;
		env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(bad == 0, "%zu of %zu bit flips of an envelope opened", bad, envlen * 8);
	for (i = 0, bad = 0; i <= envlen; i++)
		if (bs1_open(BS1_KIND_RECORD, &key, ctx, ctxlen, env, i == envlen ? 0 : i, &out,
		    &outlen) != BS1_E_DECRYPT)
			bad++;
	CHECK(bad == 0, "%zu truncations of an envelope opened", bad);
	free(ctx);
	free(env);

	pt = rule_bytes(2 * BS1_PIECE + 100);
	CHECK(bs1_data_key_new(&base) == BS1_OK &&
	    bs1_stream_writer_new(BS1_KIND_BACKUP, &base, &w) == BS1_OK &&
	    bs1_stream_write(w, pt, 2 * BS1_PIECE + 100, sink_append, &s) == BS1_OK &&
	    bs1_stream_write_end(w, sink_append, &s) == BS1_OK, "stream for flips");
	bs1_stream_free(w);
	srand(1234);
	for (i = 0, bad = 0; i < 500; i++) {
		size_t off = (size_t)rand() % s.n;
		uint8_t x = (uint8_t)(1 + rand() % 255);

		s.p[off] ^= x;
		if (read_stream(BS1_KIND_BACKUP, &base, s.p, s.n, 40000, &back) != BS1_E_DECRYPT)
			bad++;
		sink_reset(&back);
		s.p[off] ^= x;
	}
	CHECK(bad == 0, "%zu of 500 changed streams read", bad);
	for (i = 0, bad = 0; i < s.n; i += 997) {
		if (read_stream(BS1_KIND_BACKUP, &base, s.p, i, 5000, &back) != BS1_E_DECRYPT)
			bad++;
		sink_reset(&back);
	}
	CHECK(bad == 0, "%zu truncated streams read", bad);
	sink_reset(&s);
	free(pt);
}

/* A writer feeding a reader directly; the reader's sink hashes. */
struct chain {
	struct bs1_stream *r;
	struct bsc_sha256_ctx *h;
	uint64_t n;
};

static int
chain_hash(void *arg, const uint8_t *p, size_t n)
{
	struct chain *c = arg;

	c->n += n;
	return bsc_sha256_update(c->h, p, n);
}

static int
chain_read(void *arg, const uint8_t *p, size_t n)
{
	struct chain *c = arg;

	return bs1_stream_read(c->r, p, n, chain_hash, c) == BS1_OK ? 0 : -1;
}

/* 32 MiB through a writer and a reader in 1 MiB writes: the same bytes
 * come out, and the process grows by far less than the data. */
static void
test_stream_memory(void)
{
	enum { MB = 1 << 20, TOTAL = 32 };
	struct bs1_key key;
	struct bs1_stream *w = NULL;
	struct chain c = { 0 };
	struct bsc_sha256_ctx *want = bsc_sha256_new();
	uint8_t *buf = malloc(MB), d1[32], d2[32];
	struct rusage before, after;
	size_t i;

	c.h = bsc_sha256_new();
	getrusage(RUSAGE_SELF, &before);
	CHECK(bs1_data_key_new(&key) == BS1_OK && bs1_stream_writer_new(BS1_KIND_BACKUP, &key, &w) ==
	    BS1_OK && bs1_stream_reader_new(BS1_KIND_BACKUP, &key, &c.r) == BS1_OK, "chain");
	for (i = 0; i < TOTAL; i++) {
		memset(buf, (int)i, MB);
		buf[i] = 0xa5;
		CHECK(bsc_sha256_update(want, buf, MB) == 0 &&
		    bs1_stream_write(w, buf, MB, chain_read, &c) == BS1_OK, "write MiB %zu", i);
	}
	CHECK(bs1_stream_write_end(w, chain_read, &c) == BS1_OK &&
	    bs1_stream_read_end(c.r, chain_hash, &c) == BS1_OK, "chain end");
	CHECK(c.n == (uint64_t)TOTAL * MB, "chain length");
	CHECK(bsc_sha256_final(want, d1) == 0 && bsc_sha256_final(c.h, d2) == 0 &&
	    memcmp(d1, d2, 32) == 0, "chain digest");
	getrusage(RUSAGE_SELF, &after);
#if !defined(__SANITIZE_ADDRESS__)
	/* ru_maxrss is in KiB; the two streams hold about 256 KiB */
	CHECK(after.ru_maxrss - before.ru_maxrss < 8 * 1024, "maxrss grew by %ld KiB",
	    after.ru_maxrss - before.ru_maxrss);
#endif
	bs1_stream_free(w);
	bs1_stream_free(c.r);
	free(buf);
}

/* ---- slots -------------------------------------------------------------- */

static void
test_slots(void)
{
	struct json_object *s = get(V, "slots"), *a;
	size_t i, j;

	a = get(s, "derivations");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *same;
		const char *app = str(e, "app"), *pp = str(e, "passphrase");
		uint8_t salt[16], *nfc = NULL;
		size_t nfclen = 0;
		struct bs1_key seed;
		struct bs1_slot slot;

		CHECK(bs1_slot_salt(app, strlen(app), salt) == BS1_OK &&
		    eq_hex(salt, 16, str(e, "slot_salt_hex")), "slot salt %zu", i);
		CHECK(bs1_nfc(pp, strlen(pp), &nfc, &nfclen) == BS1_OK &&
		    eq_hex(nfc, nfclen, str(e, "passphrase_nfc_utf8_hex")), "passphrase nfc %zu", i);
		bs1_free(nfc, nfclen);
		CHECK(bs1_slot_seed(app, strlen(app), pp, strlen(pp), &seed) == BS1_OK &&
		    key_eq(&seed, str(e, "seed_hex")), "seed %zu", i);
		CHECK(bs1_slot_from_seed(&seed, &slot) == BS1_OK, "slot %zu", i);
		CHECK(strcmp(slot.id, str(e, "slot_id")) == 0, "slot_id %zu", i);
		CHECK(strcmp(slot.key_b64, str(e, "slot_key_b64")) == 0, "slot_key %zu", i);
		CHECK(key_eq(&slot.enc, str(e, "slot_enc_hex")), "slot_enc %zu", i);
		same = get(e, "same_result_for_passphrases_utf8_hex");
		for (j = 0; j < json_object_array_length(same); j++) {
			size_t n;
			char *o = (char *)unhex(json_object_get_string(json_object_array_get_idx(same,
			    j)), &n);
			struct bs1_slot s2;

			CHECK(bs1_slot_derive(app, strlen(app), o, n, &s2) == BS1_OK &&
			    strcmp(s2.id, slot.id) == 0 && memcmp(&s2, &slot, sizeof s2) == 0,
			    "same slot %zu.%zu", i, j);
			free(o);
			bs1_wipe(&s2, sizeof s2);
		}
		bs1_wipe(&seed, sizeof seed);
		bs1_wipe(&slot, sizeof slot);
	}
	a = get(s, "passphrases_refused");
	for (i = 0; i < json_object_array_length(a); i++) {
		const char *pp = json_object_get_string(json_object_array_get_idx(a, i));
		struct bs1_slot slot;

		CHECK(bs1_passphrase_check(pp, strlen(pp)) == BS1_E_PASSPHRASE, "refused %zu", i);
		CHECK(bs1_slot_derive("blindsync", 9, pp, strlen(pp), &slot) == BS1_E_PASSPHRASE,
		    "slot refused %zu", i);
	}
	a = get(s, "passphrases_long_enough");
	for (i = 0; i < json_object_array_length(a); i++) {
		const char *pp = json_object_get_string(json_object_array_get_idx(a, i));

		CHECK(bs1_passphrase_check(pp, strlen(pp)) == BS1_OK, "long enough %zu", i);
	}
	a = get(s, "app_salts");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		size_t n;
		uint8_t *app = unhex(str(e, "app_utf8_hex"), &n), salt[16];

		CHECK(bs1_slot_salt((const char *)app, n, salt) == BS1_OK &&
		    eq_hex(salt, 16, str(e, "slot_salt_hex")), "app salt %zu", i);
		free(app);
	}
}

/* ---- grants ------------------------------------------------------------- */

static struct bs1_identity ids[3];
static const char *id_names[3];

static const struct bs1_identity *
identity(const char *name)
{
	int i;

	for (i = 0; i < 3; i++)
		if (id_names[i] && strcmp(id_names[i], name) == 0)
			return &ids[i];
	fprintf(stderr, "no identity %s\n", name);
	exit(2);
}

/* Sign msg as id with OpenSSL directly (to forge sealed grants). */
static void
raw_sign(const struct bs1_identity *id, const uint8_t *msg, size_t n, struct bs1_sig *sig)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, id->ed25519_seed, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 64;

	if (!k || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(md, sig->b, &len, msg, n) != 1)
		CHECK(0, "raw_sign");
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
}

static void
test_grants(void)
{
	struct json_object *g = get(V, "grants"), *a;
	size_t i, j;

	a = get(g, "identities");
	for (i = 0; i < json_object_array_length(a) && i < 3; i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *ki = get(e, "keyring_identity");
		struct bs1_key xs = key_hex(e, "x25519_sk_hex"), es = key_hex(e, "ed25519_seed_hex");
		char fp[BS1_FINGERPRINT_LEN + 1];
		uint8_t buf[40];

		id_names[i] = str(e, "name");
		CHECK(bs1_identity_from_secrets(xs.b, es.b, &ids[i]) == BS1_OK, "identity %zu", i);
		CHECK(eq_hex(ids[i].x25519_pk.b, 32, str(e, "x25519_pk_hex")), "x25519_pk %zu", i);
		CHECK(eq_hex(ids[i].ed25519_pk.b, 32, str(e, "ed25519_pk_hex")), "ed25519_pk %zu", i);
		CHECK(bs1_fingerprint(&ids[i].x25519_pk, &ids[i].ed25519_pk, fp) == BS1_OK &&
		    strcmp(fp, str(e, "fingerprint")) == 0, "fingerprint %zu", i);
		CHECK(bsc_b64_decode(str(ki, "x25519"), strlen(str(ki, "x25519")), buf, sizeof buf,
		    BSC_B64_STD) == 32 && memcmp(buf, xs.b, 32) == 0, "keyring x25519 %zu", i);
		CHECK(bsc_b64_decode(str(ki, "ed25519"), strlen(str(ki, "ed25519")), buf, sizeof buf,
		    BSC_B64_STD) == 32 && memcmp(buf, es.b, 32) == 0, "keyring ed25519 %zu", i);
	}
	a = get(g, "grants");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *m = get(e, "member_record_ids");
		const struct bs1_identity *inviter = identity(str(e, "inviter"));
		const struct bs1_identity *rcpt = identity(str(e, "recipient"));
		const char *user = str(e, "recipient_username");
		struct bs1_key eph = key_hex(e, "eph_sk_hex");
		uint8_t *gj, *sealed = NULL, *open = NULL, *mine = NULL;
		size_t gjlen, sealedlen = 0, openlen = 0, minelen = 0;
		struct bs1_sig sig;
		struct bs1_grant gr;
		char rid[BS1_NAME_LEN + 1];

		gj = unhex(str(e, "grant_json_hex"), &gjlen);
		CHECK(bs1_grant_seal_with_eph(inviter, &rcpt->x25519_pk, user, gj, gjlen, eph.b,
		    &sealed, &sealedlen, &sig) == BS1_OK, "grant seal %zu", i);
		CHECK(eq_hex(sealed, sealedlen, str(e, "sealed_hex")), "sealed %zu", i);
		CHECK(eq_hex(sig.b, 64, str(e, "signature_hex")), "signature %zu", i);
		CHECK(sealedlen == 32 + (size_t)num(e, "frame_len") + BS1_TAG, "frame_len %zu", i);
		free(sealed);
		sealed = unhex(str(e, "sealed_hex"), &sealedlen);
		CHECK(bs1_grant_open(rcpt, user, &inviter->ed25519_pk, sealed, sealedlen, &sig, &open,
		    &openlen) == BS1_OK && openlen == gjlen && memcmp(open, gj, gjlen) == 0,
		    "grant open %zu", i);
		CHECK(bs1_grant_parse(open, openlen, &gr) == BS1_OK, "grant parse %zu", i);
		CHECK(strcmp(gr.collection, str(e, "collection")) == 0 &&
		    strcmp(gr.name, str(e, "A")) == 0 && gr.kv == (uint32_t)num(e, "kv") &&
		    key_eq(&gr.key, str(e, "key_hex")) && key_eq(&gr.id_key, str(e, "id_key_hex")) &&
		    strcmp((const char *[]){ "read", "write", "admin" }[gr.role], str(e, "role")) == 0,
		    "grant members %zu", i);
		/* our writer makes the same bytes for these grants */
		CHECK(bs1_grant_json(&gr, &mine, &minelen) == BS1_OK && minelen == gjlen &&
		    memcmp(mine, gj, gjlen) == 0, "grant json %zu", i);
		for (j = 0; j < json_object_array_length(m); j++) {
			struct json_object *x = json_object_array_get_idx(m, j);

			CHECK(bs1_record_id(&gr.id_key, str(x, "a"), rid) == BS1_OK &&
			    strcmp(rid, str(x, "record_id")) == 0, "member record id %zu.%zu", i, j);
		}
		bs1_grant_clear(&gr);
		bs1_free(open, openlen);
		bs1_free(mine, minelen);
		free(sealed);
		free(gj);
	}
	a = get(g, "negatives");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		uint8_t *sealed, *s, *open = (uint8_t *)"x";
		size_t sealedlen, slen, openlen = 0;
		struct bs1_sig sig;

		sealed = unhex(str(e, "sealed_hex"), &sealedlen);
		s = unhex(str(e, "signature_hex"), &slen);
		memcpy(sig.b, s, 64);
		CHECK(bs1_grant_open(identity(str(e, "open_as")), str(e, "recipient_username"),
		    &identity(str(e, "pinned_inviter"))->ed25519_pk, sealed, sealedlen, &sig, &open,
		    &openlen) == BS1_E_DECRYPT && open == NULL, "grant negative %zu (%s)", i,
		    str(e, "change"));
		free(sealed);
		free(s);
	}
}

/* A grant through the random entry points; the all-zero shared secret. */
static void
test_grant_api(void)
{
	static const uint8_t low_order[32];   /* the point 0: X25519 gives all zeros */
	struct bs1_identity a, b;
	struct bs1_grant g, back;
	uint8_t *json = NULL, *sealed = NULL, *open = NULL, forged[32 + 64 + 16];
	size_t jn = 0, sn = 0, on = 0;
	struct bs1_sig sig;
	unsigned char msg[sizeof "blindsync bs1 grant" - 1 + 5 + sizeof forged];
	size_t mn = 0;

	CHECK(bs1_identity_new(&a) == BS1_OK && bs1_identity_new(&b) == BS1_OK, "identities");
	memset(&g, 0, sizeof g);
	memcpy(g.collection, "AAAAAAAAAAAAAAAAAAAAAA", 23);
	g.name = (char *)"caf\xc3\xa9 \"quoted\" \\ /";
	g.kv = 7;
	g.role = BS1_ROLE_ADMIN;
	CHECK(bs1_data_key_new(&g.key) == BS1_OK && bs1_data_key_new(&g.id_key) == BS1_OK, "keys");
	CHECK(bs1_grant_json(&g, &json, &jn) == BS1_OK, "grant json");
	CHECK(bs1_grant_seal(&a, &b.x25519_pk, "Bob", json, jn, &sealed, &sn, &sig) == BS1_OK,
	    "grant seal");
	CHECK(bs1_grant_open(&b, "bob", &a.ed25519_pk, sealed, sn, &sig, &open, &on) == BS1_OK &&
	    on == jn && memcmp(open, json, jn) == 0, "grant round trip (username folded)");
	CHECK(bs1_grant_parse(open, on, &back) == BS1_OK && strcmp(back.name, g.name) == 0 &&
	    back.kv == 7 && back.role == BS1_ROLE_ADMIN &&
	    memcmp(&back.key, &g.key, 32) == 0, "grant parse round trip");
	bs1_grant_clear(&back);
	bs1_free(open, on);
	open = NULL;
	CHECK(bs1_grant_open(&a, "bob", &a.ed25519_pk, sealed, sn, &sig, &open, &on) ==
	    BS1_E_DECRYPT && !open, "grant to another");
	CHECK(bs1_grant_parse((const uint8_t *)"{\"collection\":1}", 16, &back) == BS1_E_DECRYPT,
	    "bad grant json");
	{
		/* a collection that is not a server name */
		static const char bad[] = "{\"collection\":\"AAAAAAAAAAA/AAAAAAAAAA\",\"name\":\"n\","
		    "\"kv\":1,\"key\":\"2Hi66WaD5DEmdWPjoWaRuvqqTiNKe6f2vMTakgfUTEs=\",\"id_key\":"
		    "\"7BpM6qtZiOKELVmODbOTMl5FsNXsQFr8AqM8lWX2f74=\",\"role\":\"read\"}";
		uint8_t *out = NULL;
		size_t on2 = 0;

		CHECK(bs1_grant_parse((const uint8_t *)bad, sizeof bad - 1, &back) == BS1_E_DECRYPT,
		    "grant collection charset");
		memcpy(g.collection, "AAAAAAAAAAA\"AAAAAAAAAA", 23);
		CHECK(bs1_grant_json(&g, &out, &on2) == BS1_E_INPUT && !out,
		    "a grant whose collection would break the JSON is not written");
		memcpy(g.collection, "AAAAAAAAAAAAAAAAAAAAAA", 23);
	}
	/* eph_pk = 0, validly signed: X25519 gives zero and must be refused */
	memset(forged, 0x5a, sizeof forged);
	memcpy(forged, low_order, 32);
	memcpy(msg, "blindsync bs1 grant", 19);
	mn = 19;
	msg[mn++] = 0;
	msg[mn++] = 3;
	memcpy(msg + mn, "bob", 3);
	mn += 3;
	memcpy(msg + mn, forged, sizeof forged);
	mn += sizeof forged;
	raw_sign(&a, msg, mn, &sig);
	CHECK(bs1_grant_open(&b, "bob", &a.ed25519_pk, forged, sizeof forged, &sig, &open, &on) ==
	    BS1_E_DECRYPT && !open, "all-zero shared secret refused");
	free(sealed);
	CHECK(bs1_grant_seal(&a, (const struct bs1_x25519_pk *)low_order, "bob", json, jn, &sealed,
	    &sn, &sig) == BS1_E_INPUT && !sealed, "sealing to a low-order key refused");
	bs1_free(json, jn);
	bs1_wipe(&a, sizeof a);
	bs1_wipe(&b, sizeof b);
}

/* ---- recovery ----------------------------------------------------------- */

static void
test_recovery(void)
{
	struct json_object *r = get(V, "recovery"), *a;
	struct bs1_recovery_key rk, back;
	char text[BS1_RECOVERY_TEXT_LEN + 1], b64[48];
	size_t i, j;

	a = get(r, "keys");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *same = get(e, "same_key_for_texts");
		struct bs1_key auth, wrap;
		size_t n;
		uint8_t *b = unhex(str(e, "rk_hex"), &n);

		memcpy(rk.b, b, 20);
		free(b);
		CHECK(bs1_recovery_text(&rk, text) == BS1_OK && strcmp(text, str(e, "text")) == 0,
		    "recovery text %zu: %s", i, text);
		CHECK(bs1_recovery_parse(str(e, "text"), strlen(str(e, "text")), &back) == BS1_OK &&
		    memcmp(&back, &rk, 20) == 0, "recovery parse %zu", i);
		for (j = 0; j < json_object_array_length(same); j++) {
			const char *t = json_object_get_string(json_object_array_get_idx(same, j));

			memset(&back, 0, sizeof back);
			CHECK(bs1_recovery_parse(t, strlen(t), &back) == BS1_OK &&
			    memcmp(&back, &rk, 20) == 0, "recovery same %zu.%zu (%s)", i, j, t);
		}
		CHECK(bs1_recovery_keys(&rk, &auth, &wrap) == BS1_OK &&
		    key_eq(&auth, str(e, "recovery_auth_hex")) &&
		    key_eq(&wrap, str(e, "recovery_wrap_hex")), "recovery keys %zu", i);
		CHECK(bsc_b64_encode(auth.b, 32, b64, sizeof b64, BSC_B64_STD) == 44 &&
		    strcmp(b64, str(e, "recovery_auth_b64")) == 0, "recovery_auth_b64 %zu", i);
	}
	a = get(r, "refused_texts");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		size_t n;
		uint8_t *t = unhex(str(e, "text_utf8_hex"), &n);

		CHECK(bs1_recovery_parse((const char *)t, n, &back) == BS1_E_RECOVERY,
		    "recovery refused %zu (%s)", i, str(e, "why"));
		free(t);
	}
	CHECK(bs1_recovery_parse("AAAA\0AAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, &back) == BS1_E_RECOVERY,
	    "a NUL inside");
	for (i = 0; i < 20; i++) {
		CHECK(bs1_recovery_new(&rk, text) == BS1_OK && strlen(text) == BS1_RECOVERY_TEXT_LEN &&
		    bs1_recovery_parse(text, strlen(text), &back) == BS1_OK &&
		    memcmp(&rk, &back, 20) == 0, "random recovery key round trip");
	}
}

/*
 * The recovery as bs_recover composes it (issue 15): the vector's recovery
 * text parsed, its recovery_wrap opening alice's kind-6 blob, the keyring
 * plaintext inside re-sealed as kind 1 under a new password's keyring_key at
 * version N + 1: it opens there (and nowhere else) to the same data key.
 */
static void
test_recovery_reset(void)
{
	struct json_object *k0 = json_object_array_get_idx(get(get(V, "recovery"), "keys"), 0);
	struct json_object *blob = json_object_array_get_idx(get(V, "envelopes"), 11);
	struct bs1_recovery_key rk;
	struct bs1_key auth, wrap, dk, newkk, back;
	uint8_t *env, *pt = NULL, *ring = NULL, *out = NULL;
	size_t envlen, ptlen = 0, ringlen = 0, outlen = 0;
	const char *text = str(k0, "text");

	CHECK(strcmp(str(blob, "key_from"), "recovery.keys[0].recovery_wrap_hex") == 0,
	    "envelope 11 is alice's recovery blob");
	env = unhex(str(blob, "envelope_hex"), &envlen);
	CHECK(bs1_recovery_parse(text, strlen(text), &rk) == BS1_OK &&
	    bs1_recovery_keys(&rk, &auth, &wrap) == BS1_OK, "recovery key from its text");
	CHECK(bs1_recovery_open(&wrap, "alice", env, envlen, &pt, &ptlen) == BS1_OK &&
	    bs1_keyring_data_key(pt, ptlen, &dk) == BS1_OK, "the blob opens to a keyring");
	CHECK(key_eq(&dk, str(get(V, "keys"), "data_key_hex")), "the blob holds the data key");
	CHECK(bs1_data_key_new(&newkk) == BS1_OK &&
	    bs1_keyring_seal(&newkk, "alice", 4, pt, ptlen, &ring, &ringlen) == BS1_OK, "re-sealed");
	CHECK(bs1_keyring_open(&newkk, "alice", 3, ring, ringlen, &out, &outlen) == BS1_E_DECRYPT,
	    "the new keyring is bound to its version");
	CHECK(bs1_keyring_open(&newkk, "alice", 4, ring, ringlen, &out, &outlen) == BS1_OK &&
	    bs1_keyring_data_key(out, outlen, &back) == BS1_OK && memcmp(&back, &dk, sizeof dk) == 0 &&
	    outlen == ptlen && memcmp(out, pt, ptlen) == 0,
	    "the same keyring plaintext and data key under the new password");
	free(ring);
	bs1_free(out, outlen);
	out = NULL;
	CHECK(bs1_recovery_open(&auth, "alice", env, envlen, &out, &outlen) == BS1_E_DECRYPT && !out,
	    "recovery_auth (what the server sees) does not open the blob");
	bs1_free(pt, ptlen);
	free(env);
}

/* The keyring as the SDK makes it. */
static void
test_keyring_api(void)
{
	struct bs1_key ring, dk, back;
	uint8_t *pt = NULL, *env = NULL, *out = NULL;
	size_t ptlen = 0, envlen = 0, outlen = 0;

	CHECK(bs1_keyring_new(&data_key, &pt, &ptlen) == BS1_OK, "keyring_new");
	CHECK(eq_hex(pt, ptlen, str(json_object_array_get_idx(get(V, "envelopes"), 0),
	    "plaintext_hex")), "keyring_new makes the vector's plaintext");
	bs1_free(pt, ptlen);
	CHECK(bs1_data_key_new(&dk) == BS1_OK && bs1_data_key_new(&ring) == BS1_OK, "keys");
	CHECK(bs1_keyring_new(&dk, &pt, &ptlen) == BS1_OK &&
	    bs1_keyring_seal(&ring, "Alice", 1, pt, ptlen, &env, &envlen) == BS1_OK, "seal");
	CHECK(bs1_keyring_open(&ring, "alice", 1, env, envlen, &out, &outlen) == BS1_OK &&
	    bs1_keyring_data_key(out, outlen, &back) == BS1_OK && memcmp(&back, &dk, 32) == 0,
	    "keyring round trip");
	bs1_free(out, outlen);
	out = NULL;
	CHECK(bs1_keyring_open(&ring, "alice", 2, env, envlen, &out, &outlen) == BS1_E_DECRYPT &&
	    !out, "another keyring version");
	CHECK(bs1_keyring_data_key((const uint8_t *)"{\"suite\":\"bs2\",\"data_key\":\"\"}", 29,
	    &back) == BS1_E_DECRYPT, "another suite");
	CHECK(bs1_seal(BS1_KIND_KEYRING, 1, &ring, NULL, 0, pt, ptlen, &out, &outlen) ==
	    BS1_E_INPUT, "a keyring with kv 1 is not sealed");
	CHECK(bs1_seal(BS1_KIND_BACKUP, 0, &ring, NULL, 0, pt, ptlen, &out, &outlen) ==
	    BS1_E_INPUT, "kind 4 is a stream");
	bs1_free(pt, ptlen);
	free(env);
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/client/bs1-vectors.json";

	V = json_object_from_file(path);
	if (!V || strcmp(str(V, "suite"), "bs1") != 0) {
		fprintf(stderr, "test_bs1: cannot read %s\n", path);
		return 2;
	}
	T_RUN(test_kdf_floor);
	T_RUN(test_kdf_api);
	T_RUN(test_padding);
	T_RUN(test_keys);
	T_RUN(test_names);
	T_RUN(test_envelopes);
	T_RUN(test_kv_mismatch);
	T_RUN(test_malformed_frames);
	T_RUN(test_keyring_api);
	T_RUN(test_streams);
	T_RUN(test_stream_api);
	T_RUN(test_flips);
	T_RUN(test_stream_memory);
	T_RUN(test_grants);
	T_RUN(test_grant_api);
	T_RUN(test_recovery);
	T_RUN(test_recovery_reset);
	/* the Argon2id tests last: test_stream_memory reads the peak RSS */
	T_RUN(test_slots);
	T_RUN(test_kdf_derivations);
	json_object_put(V);
	return t_done_named("test_bs1");
}
