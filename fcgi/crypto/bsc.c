/*
 * bsc.c: hashing, MACs, key derivation, random bytes, constant-time compare
 * and hex, over OpenSSL 3 (libcrypto) and libc. Base64 is in b64.c.
 *
 * Part of libbscrypto: must never include a server header or call into the
 * server, since the client library links this file as it is (the Makefile
 * compiles it with only fcgi/crypto/ on the include path, and
 * tests/unit/bsc-symbols.sh checks what the archive needs). The interface
 * and its contract are documented in bsc.h; notes here cover only what the
 * header leaves implicit (edge cases, overflow, what is left in buffers on
 * error).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "bsc.h"

/* OpenSSL wants a non-NULL pointer even for zero-length keys and data. */
static const unsigned char empty[1];

/*
 * Fill buf[0..n) from the OpenSSL CSPRNG. RAND_bytes() takes an int, so
 * larger requests are served in chunks. n == 0 succeeds and touches nothing.
 * On failure the part already written is wiped so no caller can mistake it
 * for a usable secret.
 */
int
bsc_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t done = 0;

	if (n == 0)
		return 0;
	if (buf == NULL)
		return -1;
	while (done < n) {
		size_t chunk = n - done;

		if (chunk > INT_MAX)
			chunk = INT_MAX;
		if (RAND_bytes(p + done, (int)chunk) != 1) {
			OPENSSL_cleanse(buf, done);
			return -1;
		}
		done += chunk;
	}
	return 0;
}

/* One-shot SHA-256. data may be NULL only when n == 0. */
int
bsc_sha256(const void *data, size_t n, uint8_t out[BSC_SHA256_LEN])
{
	unsigned int len = 0;

	if (out == NULL || (data == NULL && n != 0))
		return -1;
	if (data == NULL)
		data = empty;
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != BSC_SHA256_LEN)
		return -1;
	return 0;
}

/*
 * failed latches the first update error so that _final cannot hand out the
 * digest of a stream with a hole in it.
 */
struct bsc_sha256_ctx {
	EVP_MD_CTX	*md;
	int		 failed;
};

/* Returns a fresh context (owned by the caller), or NULL on any failure. */
struct bsc_sha256_ctx *
bsc_sha256_new(void)
{
	struct bsc_sha256_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	if ((ctx->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		bsc_sha256_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Feed data[0..n) into ctx. data may be NULL only when n == 0. A failure
 * here also makes the later bsc_sha256_final() fail.
 */
int
bsc_sha256_update(struct bsc_sha256_ctx *ctx, const void *data, size_t n)
{
	if (ctx == NULL)
		return -1;
	if (data == NULL && n != 0) {
		ctx->failed = 1;
		return -1;
	}
	if (n == 0)
		return 0;
	if (EVP_DigestUpdate(ctx->md, data, n) != 1) {
		ctx->failed = 1;
		return -1;
	}
	return 0;
}

/*
 * Write the digest to out and free ctx. ctx is consumed on every path,
 * success or not, so the caller never frees it after this call. Fails if an
 * earlier update failed.
 */
int
bsc_sha256_final(struct bsc_sha256_ctx *ctx, uint8_t out[BSC_SHA256_LEN])
{
	unsigned int len = 0;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (out == NULL || ctx->failed)
		goto out;
	if (EVP_DigestFinal_ex(ctx->md, out, &len) != 1 ||
	    len != BSC_SHA256_LEN)
		goto out;
	rc = 0;
out:
	bsc_sha256_free(ctx);
	return rc;
}

/* Free ctx without producing a digest. NULL is fine. */
void
bsc_sha256_free(struct bsc_sha256_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

/*
 * HMAC-SHA256 through the one-shot HMAC() (not deprecated in OpenSSL 3).
 * key and data may be NULL only with a zero length; keylen must fit an int.
 */
int
bsc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    uint8_t out[BSC_SHA256_LEN])
{
	unsigned int len = 0;

	if (out == NULL || (key == NULL && keylen != 0) ||
	    (data == NULL && n != 0) || keylen > INT_MAX)
		return -1;
	if (key == NULL)
		key = empty;
	if (data == NULL)
		data = empty;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL ||
	    len != BSC_SHA256_LEN) {
		OPENSSL_cleanse(out, BSC_SHA256_LEN);
		return -1;
	}
	return 0;
}

/* HMAC-SHA1 for TOTP, as bsc_hmac_sha256. */
int
bsc_hmac_sha1(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[BSC_SHA1_LEN])
{
	unsigned int len = 0;

	if (out == NULL || (key == NULL && keylen != 0) ||
	    (data == NULL && n != 0) || keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha1(), key ? key : empty, (int)keylen, data ? data : empty, n, out, &len) == NULL ||
	    len != BSC_SHA1_LEN) {
		OPENSSL_cleanse(out, BSC_SHA1_LEN);
		return -1;
	}
	return 0;
}

/* HKDF-SHA256 through OpenSSL 3's EVP_KDF; the EVP_KDF derives both steps. */
int
bsc_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt, size_t saltlen, const void *info,
    size_t infolen, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	int n = 0, rc = -1;

	if (out == NULL || outlen == 0 || outlen > 255 * 32 || (ikm == NULL && ikmlen != 0) ||
	    (salt == NULL && saltlen != 0) || (info == NULL && infolen != 0))
		return -1;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL || (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm ? ikm : empty), ikmlen);
	if (saltlen)
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	if (infolen)
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
	params[n] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
		rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, outlen);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/*
 * One AES-256-GCM pass: enc 1 seals in[0..n) into out and writes tag,
 * enc 0 opens it and checks tag. Lengths must fit an int.
 */
static int
gcm(int enc, const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aadlen, const uint8_t *in,
    size_t n, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, rc = -1;

	if (c == NULL || n > INT_MAX || aadlen > INT_MAX)
		goto out;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, BSC_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (aadlen && EVP_CipherUpdate(c, NULL, &len, aad, (int)aadlen) != 1)
		goto out;
	if (n && EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, BSC_GCM_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, BSC_GCM_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* nonce || ciphertext || tag, with a fresh random nonce. */
int
bsc_gcm_seal(const uint8_t key[BSC_GCM_KEY_LEN], const void *aad, size_t aadlen, const void *in, size_t n,
    uint8_t *out, size_t outlen)
{
	const size_t over = BSC_GCM_NONCE_LEN + BSC_GCM_TAG_LEN;

	if (key == NULL || out == NULL || (in == NULL && n != 0) || (aad == NULL && aadlen != 0) ||
	    n > SIZE_MAX - over || outlen < n + over)
		return -1;
	if (bsc_random(out, BSC_GCM_NONCE_LEN) != 0 ||
	    gcm(1, key, out, aad, aadlen, in, n, out + BSC_GCM_NONCE_LEN, out + BSC_GCM_NONCE_LEN + n) != 0) {
		OPENSSL_cleanse(out, n + over);
		return -1;
	}
	return 0;
}

/* The tag is checked by EVP_CipherFinal_ex; nothing is kept on failure. */
int
bsc_gcm_open(const uint8_t key[BSC_GCM_KEY_LEN], const void *aad, size_t aadlen, const uint8_t *in, size_t n,
    uint8_t *out, size_t outlen)
{
	const size_t over = BSC_GCM_NONCE_LEN + BSC_GCM_TAG_LEN;
	uint8_t tag[BSC_GCM_TAG_LEN];

	if (key == NULL || in == NULL || out == NULL || (aad == NULL && aadlen != 0) || n < over ||
	    outlen < n - over)
		return -1;
	memcpy(tag, in + n - BSC_GCM_TAG_LEN, sizeof tag);
	if (gcm(0, key, in, aad, aadlen, in + BSC_GCM_NONCE_LEN, n - over, out, tag) != 0) {
		OPENSSL_cleanse(out, n - over);
		return -1;
	}
	return 0;
}

/*
 * PBKDF2-HMAC-SHA256. Every length and the iteration count must fit an int
 * (OpenSSL's interface); outlen must be at least 1. On failure out is wiped.
 */
int
bsc_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
    uint32_t iterations, uint8_t *out, size_t outlen)
{
	if (out == NULL || outlen == 0 || outlen > INT_MAX ||
	    (pass == NULL && passlen != 0) || passlen > INT_MAX ||
	    (salt == NULL && saltlen != 0) || saltlen > INT_MAX ||
	    iterations < 1 || iterations > INT_MAX)
		return -1;
	if (pass == NULL)
		pass = empty;
	if (salt == NULL)
		salt = empty;
	if (PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen,
	    (int)iterations, EVP_sha256(), (int)outlen, out) != 1) {
		OPENSSL_cleanse(out, outlen);
		return -1;
	}
	return 0;
}

/*
 * Constant-time equality. n == 0 compares equal. A NULL pointer with n > 0
 * never compares equal (a misuse must not grant access).
 */
int
bsc_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* Zero buf[0..n) with OPENSSL_cleanse(). NULL is fine. */
void
bsc_wipe(void *buf, size_t n)
{
	if (buf != NULL && n != 0)
		OPENSSL_cleanse(buf, n);
}

/* ---- hex ------------------------------------------------------------- */

/*
 * Lowercase hex of src[0..n) plus a NUL into dst; dstlen must be at least
 * 2n + 1. src may be NULL only when n == 0.
 */
int
bsc_hex(const void *src, size_t n, char *dst, size_t dstlen)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i;

	if (dst == NULL || (src == NULL && n != 0) || n > (SIZE_MAX - 1) / 2 ||
	    dstlen < 2 * n + 1)
		return -1;
	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[s[i] >> 4];
		dst[2 * i + 1] = digits[s[i] & 0x0f];
	}
	dst[2 * n] = '\0';
	return 0;
}
