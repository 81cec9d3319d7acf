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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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
