/*
 * crypto.h: the cryptographic helpers of blindsync, over OpenSSL 3.
 *
 * Standalone on purpose: this module depends only on OpenSSL and libc, never
 * on the server (no config, store or http), so that the future client
 * library and CLI can link the same code. Every function returns 0 on
 * success and -1 on failure (bad argument, OpenSSL error, output too small);
 * verify-style functions are marked warn_unused_result.
 *
 * Secrets: compare with crypto_equal() (constant time), wipe with
 * crypto_wipe() before freeing.
 */
#ifndef BLINDSYNC_CRYPTO_H
#define BLINDSYNC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_MUST_USE __attribute__((warn_unused_result))

/* Fill buf with n cryptographically secure random bytes. */
int crypto_random(void *buf, size_t n) CRYPTO_MUST_USE;

/* out = SHA-256(data[0..n)). */
int crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/*
 * Incremental SHA-256 for streamed bodies. crypto_sha256_new() returns NULL
 * on allocation failure; _final writes the digest and frees the context;
 * _free frees without a digest (NULL is fine).
 */
struct crypto_sha256_ctx;
struct crypto_sha256_ctx *crypto_sha256_new(void);
int crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t n);
int crypto_sha256_final(struct crypto_sha256_ctx *ctx, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha256_free(struct crypto_sha256_ctx *ctx);

/* out = HMAC-SHA256(key, data). */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    uint8_t out[CRYPTO_SHA256_LEN]);

/* out[0..outlen) = PBKDF2-HMAC-SHA256(pass, salt, iterations). iterations >= 1. */
int crypto_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
    uint32_t iterations, uint8_t *out, size_t outlen);

/* 1 if a[0..n) == b[0..n), in time independent of the contents; else 0. */
int crypto_equal(const void *a, const void *b, size_t n) CRYPTO_MUST_USE;

/* Overwrite buf[0..n) with zeros in a way the compiler cannot elide. */
void crypto_wipe(void *buf, size_t n);

/*
 * Base64, RFC 4648. Two alphabets:
 *   CRYPTO_B64_STD: standard alphabet, '=' padding required on decode and
 *                   written on encode (section 4);
 *   CRYPTO_B64_URL: URL-safe alphabet, no padding accepted or written
 *                   (section 5), used for tokens.
 * Decoding is strict: no whitespace, no characters outside the alphabet,
 * canonical trailing bits (the unused bits of the last symbol must be zero),
 * correct length. A NUL inside src[0..srclen) is an error.
 */
enum crypto_b64 { CRYPTO_B64_STD, CRYPTO_B64_URL };

/* Length of the encoding of n bytes, without a NUL. */
size_t crypto_b64_enclen(size_t n, enum crypto_b64 alpha);
/* Upper bound of the decoded length of srclen characters. */
size_t crypto_b64_declen_max(size_t srclen);

/*
 * Encode src[0..n) into dst, which must hold crypto_b64_enclen(n) + 1 bytes
 * (dstlen); writes a terminating NUL. Returns the length written (no NUL),
 * or -1 if dst is too small.
 */
long crypto_b64_encode(const void *src, size_t n, char *dst, size_t dstlen, enum crypto_b64 alpha);

/*
 * Decode src[0..srclen) into dst (dstlen bytes). Returns the number of bytes
 * decoded, or -1 on any invalid input or a too small dst. dst is not
 * NUL-terminated.
 */
long crypto_b64_decode(const char *src, size_t srclen, void *dst, size_t dstlen, enum crypto_b64 alpha);

/* Lowercase hex of src[0..n) into dst (2n+1 bytes with NUL). Returns 0 or -1. */
int crypto_hex(const void *src, size_t n, char *dst, size_t dstlen);

#endif
