/*
 * bs1_util.c: what every part of the bs1 suite uses: the error strings,
 * wiping, the byte-string builder for labels and contexts, HKDF-SHA256 and
 * AES-256-GCM over OpenSSL 3.
 *
 * Must never log or keep a secret: every temporary holding key material is
 * wiped before it goes out of scope, on every path.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"

static const char *const bs1_errstr[] = {
	"ok",
	"cannot decrypt",
	"the kdf object is below the floor",
	"bad input",
	"out of memory",
	"the crypto library failed",
	"the passphrase is shorter than 12 characters",
	"not a recovery key",
	"the output could not be written",
};
_Static_assert(sizeof bs1_errstr / sizeof bs1_errstr[0] == (size_t)-BS1_E__MAX,
    "one string per enum bs1_err");

/* The sentence for an error code; "unknown error" for anything else. */
const char *
bs1_strerror(int err)
{
	if (err > 0 || err <= BS1_E__MAX)
		return "unknown error";
	return bs1_errstr[-err];
}

/* Wipe n bytes so the compiler cannot elide it. */
void
bs1_wipe(void *p, size_t n)
{
	if (p && n)
		bsc_wipe(p, n);
}

/* Wipe then free a buffer of n bytes. */
void
bs1_free(void *p, size_t n)
{
	if (!p)
		return;
	bs1_wipe(p, n);
	free(p);
}

/* Make room for n more bytes; sets failed when it cannot. */
static int
bytes_grow(struct bs1_bytes *b, size_t n)
{
	size_t cap;
	uint8_t *np;

	if (b->failed)
		return -1;
	if (n <= b->cap - b->n)
		return 0;
	if (n > SIZE_MAX / 2 - b->n) {
		b->failed = BS1_E_INPUT;
		return -1;
	}
	cap = b->cap ? b->cap : 64;
	while (cap - b->n < n)
		cap *= 2;
	/* no realloc: the old buffer may hold secrets and must be wiped */
	np = malloc(cap);
	if (!np) {
		b->failed = BS1_E_NOMEM;
		return -1;
	}
	if (b->n)
		memcpy(np, b->p, b->n);
	bs1_free(b->p, b->cap);
	b->p = np;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
void
bs1__put(struct bs1_bytes *b, const void *p, size_t n)
{
	if (n == 0 || bytes_grow(b, n) != 0)
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* Append a C string without its NUL. */
void
bs1__put_str(struct bs1_bytes *b, const char *s)
{
	bs1__put(b, s, strlen(s));
}

/* Append u16be(n) || p[0..n); more than 65535 bytes fail the builder. */
void
bs1__put_lp(struct bs1_bytes *b, const void *p, size_t n)
{
	uint8_t len[2];

	if (n > 65535) {
		if (!b->failed)
			b->failed = BS1_E_INPUT;
		return;
	}
	len[0] = (uint8_t)(n >> 8);
	len[1] = (uint8_t)n;
	bs1__put(b, len, 2);
	bs1__put(b, p, n);
}

/* Append lp(s) with A-Z folded to a-z (the server folds usernames so). */
void
bs1__put_lp_lower(struct bs1_bytes *b, const char *s)
{
	size_t n = strlen(s), i;

	bs1__put_lp(b, s, n);
	if (b->failed)
		return;
	for (i = b->n - n; i < b->n; i++)
		if (b->p[i] >= 'A' && b->p[i] <= 'Z')
			b->p[i] = (uint8_t)(b->p[i] - 'A' + 'a');
}

/* Append a 32-bit big-endian integer. */
void
bs1__put_u32be(struct bs1_bytes *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	bs1__put(b, x, 4);
}

/* Append a 64-bit big-endian integer. */
void
bs1__put_u64be(struct bs1_bytes *b, uint64_t v)
{
	bs1__put_u32be(b, (uint32_t)(v >> 32));
	bs1__put_u32be(b, (uint32_t)v);
}

/* The builder's state as an error code. */
int
bs1__bytes_status(const struct bs1_bytes *b)
{
	return b->failed ? b->failed : BS1_OK;
}

/* Wipe and release the builder's buffer. */
void
bs1__bytes_free(struct bs1_bytes *b)
{
	bs1_free(b->p, b->cap);
	memset(b, 0, sizeof *b);
}

/*
 * HKDF-SHA256 with an empty salt (RFC 5869: as 32 zero bytes) through
 * OpenSSL's EVP_KDF. Leaving the salt unset is OpenSSL's empty salt.
 */
int
bs1__hkdf(const void *ikm, size_t ikmlen, const void *info, size_t infolen,
    struct bs1_key *out)
{
	static const uint8_t none[1];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	int rc = BS1_E_CRYPTO;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(ikmlen ? ikm : none), ikmlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)(infolen ? info : none), infolen);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out->b, sizeof out->b, params) != 1) {
		bs1_wipe(out, sizeof *out);
		goto out;
	}
	rc = BS1_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* HKDF(ikm, label || lp(name) [|| u32be(kv)], 32). */
int
bs1__hkdf_named(const struct bs1_key *ikm, const char *label, const char *name,
    int with_kv, uint32_t kv, struct bs1_key *out)
{
	struct bs1_bytes info = { 0 };
	int rc;

	if (!ikm || !label || !out)
		return BS1_E_INPUT;
	bs1__put_str(&info, label);
	if (name)
		bs1__put_lp(&info, name, strlen(name));
	if (with_kv)
		bs1__put_u32be(&info, kv);
	rc = bs1__bytes_status(&info);
	if (rc == BS1_OK)
		rc = bs1__hkdf(ikm->b, sizeof ikm->b, info.p, info.n, out);
	bs1__bytes_free(&info);
	return rc;
}

/* One AES-256-GCM operation; enc 1 seals, 0 opens (tag checked). */
static int
aead(int enc, const struct bs1_key *key, const uint8_t nonce[12], const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, rc = -1;
	size_t done;

	if (!c)
		return -1;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key->b, nonce, enc) != 1)
		goto out;
	for (done = 0; done < aadlen; ) {
		size_t k = aadlen - done > 1u << 30 ? 1u << 30 : aadlen - done;

		if (EVP_CipherUpdate(c, NULL, &len, aad + done, (int)k) != 1)
			goto out;
		done += k;
	}
	for (done = 0; done < n; ) {
		size_t k = n - done > 1u << 30 ? 1u << 30 : n - done;

		if (EVP_CipherUpdate(c, out + done, &len, in + done, (int)k) != 1)
			goto out;
		done += k;
	}
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (rc != 0 && n)
		bs1_wipe(out, n);
	return rc;
}

/* Seal pt into out = ct || tag. */
int
bs1__aead_seal(const struct bs1_key *key, const uint8_t nonce[12], const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	return aead(1, key, nonce, aad, aadlen, pt, ptlen, out, out + ptlen);
}

/* Open in = ct || tag into out; on a bad tag out is wiped and -1 returned. */
int
bs1__aead_open(const struct bs1_key *key, const uint8_t nonce[12], const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t tag[16];

	if (inlen < 16)
		return -1;
	memcpy(tag, in + inlen - 16, 16);
	return aead(0, key, nonce, aad, aadlen, in, inlen - 16, out, tag);
}
