/*
 * bsc.h: blindsync crypto (bsc), the cryptographic helpers of blindsync as a
 * library of its own (build/libbscrypto.a), over OpenSSL 3 (libcrypto).
 *
 * Depends on OpenSSL and libc only, never on the server (no json-c, FastCGI,
 * SQLite, config or err.h): the server links it, and so will the client
 * library and CLI, beside libsodium. Hence the prefix: every exported name
 * is bsc_* or BSC_* (tests/unit/bsc-symbols.sh checks the archive), so it
 * clashes with neither libsodium's nor Monocypher's crypto_* names.
 *
 * Conventions: 0 on success and -1 on failure (bad argument, OpenSSL error,
 * output too small) unless a function says otherwise; digests go into
 * fixed-size typed buffers; verify-style functions are warn_unused_result.
 * Secrets: compare with bsc_equal() (constant time), wipe with bsc_wipe()
 * before freeing.
 *
 * The map, by file:
 *   bsc.c  random bytes, SHA-256 (one-shot and incremental), HMAC-SHA256,
 *          HMAC-SHA1 (TOTP only), HKDF-SHA256, AES-256-GCM,
 *          PBKDF2-HMAC-SHA256, constant-time compare, wipe, hex
 *   b64.c  strict Base64 (RFC 4648), plain and streaming, both alphabets
 */
#ifndef BLINDSYNC_BSC_H
#define BLINDSYNC_BSC_H

#include <stddef.h>
#include <stdint.h>

#define BSC_SHA256_LEN 32
#define BSC_SHA1_LEN 20
#define BSC_GCM_KEY_LEN 32
#define BSC_GCM_NONCE_LEN 12
#define BSC_GCM_TAG_LEN 16
#define BSC_MUST_USE __attribute__((warn_unused_result))

/* ---- bsc.c ------------------------------------------------------------ */

/* Fill buf with n cryptographically secure random bytes. */
int bsc_random(void *buf, size_t n) BSC_MUST_USE;

/* out = SHA-256(data[0..n)). */
int bsc_sha256(const void *data, size_t n, uint8_t out[BSC_SHA256_LEN]);

/*
 * Incremental SHA-256 for streamed bodies. bsc_sha256_new() returns NULL
 * on allocation failure; _final writes the digest and frees the context;
 * _free frees without a digest (NULL is fine).
 */
struct bsc_sha256_ctx;
struct bsc_sha256_ctx *bsc_sha256_new(void);
int bsc_sha256_update(struct bsc_sha256_ctx *ctx, const void *data, size_t n);
int bsc_sha256_final(struct bsc_sha256_ctx *ctx, uint8_t out[BSC_SHA256_LEN]);
void bsc_sha256_free(struct bsc_sha256_ctx *ctx);

/* out = HMAC-SHA256(key, data). */
int bsc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    uint8_t out[BSC_SHA256_LEN]);

/*
 * out = HMAC-SHA1(key, data). Only for RFC 6238 (TOTP), which authenticator
 * apps speak; HMAC-SHA1 is still a sound MAC, but use HMAC-SHA256 anywhere else.
 */
int bsc_hmac_sha1(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[BSC_SHA1_LEN]);

/*
 * out[0..outlen) = HKDF-SHA256(ikm, salt, info) (RFC 5869); salt may be NULL
 * (the RFC's zero salt). outlen at most 255 * 32. On failure out is wiped.
 */
int bsc_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt, size_t saltlen, const void *info,
    size_t infolen, uint8_t *out, size_t outlen);

/*
 * AES-256-GCM with a random 12-byte nonce. bsc_gcm_seal writes
 * nonce || ciphertext || tag (n + 28 bytes) into out, which holds outlen
 * bytes; aad may be NULL when aadlen is 0.
 */
int bsc_gcm_seal(const uint8_t key[BSC_GCM_KEY_LEN], const void *aad, size_t aadlen, const void *in, size_t n,
    uint8_t *out, size_t outlen) BSC_MUST_USE;
/*
 * Open what bsc_gcm_seal made: in[0..n) is nonce || ciphertext || tag; the
 * plaintext (n - 28 bytes) goes into out (outlen bytes). -1 if the tag does
 * not verify (the key, the aad or a byte differs), n < 28 or out is too
 * small; out is then wiped.
 */
int bsc_gcm_open(const uint8_t key[BSC_GCM_KEY_LEN], const void *aad, size_t aadlen, const uint8_t *in, size_t n,
    uint8_t *out, size_t outlen) BSC_MUST_USE;

/* out[0..outlen) = PBKDF2-HMAC-SHA256(pass, salt, iterations). iterations >= 1. */
int bsc_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
    uint32_t iterations, uint8_t *out, size_t outlen);

/* 1 if a[0..n) == b[0..n), in time independent of the contents; else 0. */
int bsc_equal(const void *a, const void *b, size_t n) BSC_MUST_USE;

/* Overwrite buf[0..n) with zeros in a way the compiler cannot elide. */
void bsc_wipe(void *buf, size_t n);

/* Lowercase hex of src[0..n) into dst (2n+1 bytes with NUL). Returns 0 or -1. */
int bsc_hex(const void *src, size_t n, char *dst, size_t dstlen);

/* ---- b64.c ------------------------------------------------------------ */

/*
 * Base64, RFC 4648. Two alphabets:
 *   BSC_B64_STD: standard alphabet, '=' padding required on decode and
 *                written on encode (section 4);
 *   BSC_B64_URL: URL-safe alphabet, no padding accepted or written
 *                (section 5), used for tokens.
 * Decoding is strict: no whitespace, no characters outside the alphabet,
 * canonical trailing bits (the unused bits of the last symbol must be zero),
 * correct length. A NUL inside src[0..srclen) is an error. The streaming
 * codecs below accept and produce exactly the same texts as the plain ones,
 * however the input is cut into pieces.
 */
enum bsc_b64 { BSC_B64_STD, BSC_B64_URL };

/* Length of the encoding of n bytes, without a NUL. */
size_t bsc_b64_enclen(size_t n, enum bsc_b64 alpha);
/* Upper bound of the decoded length of srclen characters. */
size_t bsc_b64_declen_max(size_t srclen);

/*
 * Encode src[0..n) into dst, which must hold bsc_b64_enclen(n) + 1 bytes
 * (dstlen); writes a terminating NUL. Returns the length written (no NUL),
 * or -1 if dst is too small.
 */
long bsc_b64_encode(const void *src, size_t n, char *dst, size_t dstlen, enum bsc_b64 alpha);

/*
 * Decode src[0..srclen) into dst (dstlen bytes). Returns the number of bytes
 * decoded, or -1 on any invalid input or a too small dst. dst is not
 * NUL-terminated.
 */
long bsc_b64_decode(const char *src, size_t srclen, void *dst, size_t dstlen, enum bsc_b64 alpha)
    BSC_MUST_USE;

/*
 * Streaming encoder, for bytes that arrive in pieces (a backup read from the
 * store chunk by chunk). The state lives in the caller's struct, set up by
 * _init; each _update encodes the whole 3-byte groups it can and carries the
 * last 0 to 2 bytes over; _final writes the tail and its padding. The
 * concatenated output is exactly bsc_b64_encode() of the concatenated input.
 * Neither writes a NUL. Both return the number of characters written, or -1
 * (dst too small, or a bad argument) with the state unchanged. _final wipes
 * the carried bytes, so the state keeps nothing of the input.
 */
struct bsc_b64_enc {
	enum bsc_b64 alpha;
	uint8_t carry[2];
	size_t ncarry;
};
void bsc_b64_enc_init(struct bsc_b64_enc *st, enum bsc_b64 alpha);
/* The characters the next _update of n bytes writes (SIZE_MAX if too many). */
size_t bsc_b64_enc_update_len(const struct bsc_b64_enc *st, size_t n);
long bsc_b64_enc_update(struct bsc_b64_enc *st, const void *src, size_t n, char *dst, size_t dstlen);
/* Write the tail (at most 4 characters) and reset the carry. */
long bsc_b64_enc_final(struct bsc_b64_enc *st, char *dst, size_t dstlen);

/*
 * Streaming decoder, for text that arrives in pieces of any length (a JSON
 * string read by a streaming parser). Each _update decodes the whole 4-symbol
 * quanta it can, into dst, and carries up to 3 symbols over; _final checks
 * the end (STD: nothing may be carried; URL: a carried tail of 2 or 3 symbols
 * is decoded into dst). A quantum with '=' ends the text: any symbol after it
 * is an error. Errors latch: once an _update or _final failed, every later
 * call fails; a state that went through _final is spent likewise, until the
 * next _init. Both return the number of bytes written or -1; on -1 the bytes
 * this call wrote are wiped. _update needs dstlen >= bsc_b64_dec_update_max()
 * of its n (it refuses before writing otherwise), although a padded end
 * writes 1 or 2 bytes fewer; _final needs room for a URL tail (1 or 2 bytes).
 * A failure and _final wipe the carried symbols.
 */
struct bsc_b64_dec {
	enum bsc_b64 alpha;
	char q[4];
	size_t nq;
	int ended;  /* a padded quantum was decoded */
	int failed;
};
void bsc_b64_dec_init(struct bsc_b64_dec *st, enum bsc_b64 alpha);
/* At most how many bytes the next _update of n characters writes. */
size_t bsc_b64_dec_update_max(const struct bsc_b64_dec *st, size_t n);
long bsc_b64_dec_update(struct bsc_b64_dec *st, const char *src, size_t n, void *dst, size_t dstlen)
    BSC_MUST_USE;
long bsc_b64_dec_final(struct bsc_b64_dec *st, void *dst, size_t dstlen) BSC_MUST_USE;

#endif
