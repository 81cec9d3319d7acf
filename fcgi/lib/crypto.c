/*
 * crypto.c: hashing, MACs, key derivation, random bytes, constant-time
 * compare and strict Base64/hex, over OpenSSL 3 (libcrypto) and libc.
 *
 * Must never include another blindsync header or call into the server: the
 * future client library links this file as it is. The interface and its
 * contract are documented in crypto.h; notes here cover only what the header
 * leaves implicit (edge cases, overflow, what is left in buffers on error).
 *
 * Base64 is hand-written rather than EVP_DecodeBlock() because that function
 * is lax (skips whitespace, accepts non-canonical trailing bits and returns
 * padded lengths); ciphertext and tokens must have exactly one accepted
 * encoding so that two clients never disagree about the bytes.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"

/* OpenSSL wants a non-NULL pointer even for zero-length keys and data. */
static const unsigned char empty[1];

/*
 * Fill buf[0..n) from the OpenSSL CSPRNG. RAND_bytes() takes an int, so
 * larger requests are served in chunks. n == 0 succeeds and touches nothing.
 * On failure the part already written is wiped so no caller can mistake it
 * for a usable secret.
 */
int
crypto_random(void *buf, size_t n)
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
crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (out == NULL || (data == NULL && n != 0))
		return -1;
	if (data == NULL)
		data = empty;
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != CRYPTO_SHA256_LEN)
		return -1;
	return 0;
}

/*
 * failed latches the first update error so that _final cannot hand out the
 * digest of a stream with a hole in it.
 */
struct crypto_sha256_ctx {
	EVP_MD_CTX	*md;
	int		 failed;
};

/* Returns a fresh context (owned by the caller), or NULL on any failure. */
struct crypto_sha256_ctx *
crypto_sha256_new(void)
{
	struct crypto_sha256_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	if ((ctx->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		crypto_sha256_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Feed data[0..n) into ctx. data may be NULL only when n == 0. A failure
 * here also makes the later crypto_sha256_final() fail.
 */
int
crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t n)
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
crypto_sha256_final(struct crypto_sha256_ctx *ctx, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (out == NULL || ctx->failed)
		goto out;
	if (EVP_DigestFinal_ex(ctx->md, out, &len) != 1 ||
	    len != CRYPTO_SHA256_LEN)
		goto out;
	rc = 0;
out:
	crypto_sha256_free(ctx);
	return rc;
}

/* Free ctx without producing a digest. NULL is fine. */
void
crypto_sha256_free(struct crypto_sha256_ctx *ctx)
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
crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    uint8_t out[CRYPTO_SHA256_LEN])
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
	    len != CRYPTO_SHA256_LEN) {
		OPENSSL_cleanse(out, CRYPTO_SHA256_LEN);
		return -1;
	}
	return 0;
}

/*
 * PBKDF2-HMAC-SHA256. Every length and the iteration count must fit an int
 * (OpenSSL's interface); outlen must be at least 1. On failure out is wiped.
 */
int
crypto_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
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
crypto_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* Zero buf[0..n) with OPENSSL_cleanse(). NULL is fine. */
void
crypto_wipe(void *buf, size_t n)
{
	if (buf != NULL && n != 0)
		OPENSSL_cleanse(buf, n);
}

/* ---- Base64 ---------------------------------------------------------- */

static const char b64_std_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Decode tables: entry = B64_VALID | value for the 64 symbols of an
 * alphabet, 0 for every other byte (so NUL, '=', whitespace and bytes >= 0x80
 * are all invalid with no special case). Testing B64_VALID on the AND of the
 * four entries of a quantum checks all four symbols with one branch.
 */
#define B64_VALID 0x40
#define V(x) (B64_VALID | (x))
#define B64_COMMON \
	['A'] = V(0),  ['B'] = V(1),  ['C'] = V(2),  ['D'] = V(3), \
	['E'] = V(4),  ['F'] = V(5),  ['G'] = V(6),  ['H'] = V(7), \
	['I'] = V(8),  ['J'] = V(9),  ['K'] = V(10), ['L'] = V(11), \
	['M'] = V(12), ['N'] = V(13), ['O'] = V(14), ['P'] = V(15), \
	['Q'] = V(16), ['R'] = V(17), ['S'] = V(18), ['T'] = V(19), \
	['U'] = V(20), ['V'] = V(21), ['W'] = V(22), ['X'] = V(23), \
	['Y'] = V(24), ['Z'] = V(25), \
	['a'] = V(26), ['b'] = V(27), ['c'] = V(28), ['d'] = V(29), \
	['e'] = V(30), ['f'] = V(31), ['g'] = V(32), ['h'] = V(33), \
	['i'] = V(34), ['j'] = V(35), ['k'] = V(36), ['l'] = V(37), \
	['m'] = V(38), ['n'] = V(39), ['o'] = V(40), ['p'] = V(41), \
	['q'] = V(42), ['r'] = V(43), ['s'] = V(44), ['t'] = V(45), \
	['u'] = V(46), ['v'] = V(47), ['w'] = V(48), ['x'] = V(49), \
	['y'] = V(50), ['z'] = V(51), \
	['0'] = V(52), ['1'] = V(53), ['2'] = V(54), ['3'] = V(55), \
	['4'] = V(56), ['5'] = V(57), ['6'] = V(58), ['7'] = V(59), \
	['8'] = V(60), ['9'] = V(61)

static const uint8_t b64_std_dec[256] = { B64_COMMON, ['+'] = V(62), ['/'] = V(63) };
static const uint8_t b64_url_dec[256] = { B64_COMMON, ['-'] = V(62), ['_'] = V(63) };

#undef B64_COMMON
#undef V

/*
 * Length of the encoding of n bytes. Saturates to SIZE_MAX when the result
 * would not fit a size_t, and returns SIZE_MAX for an unknown alphabet; in
 * both cases crypto_b64_encode() refuses, since no dstlen can exceed it.
 */
size_t
crypto_b64_enclen(size_t n, enum crypto_b64 alpha)
{
	size_t q = n / 3, r = n % 3;

	if (alpha != CRYPTO_B64_STD && alpha != CRYPTO_B64_URL)
		return SIZE_MAX;
	if (q > (SIZE_MAX - 4) / 4)
		return SIZE_MAX;
	if (r == 0)
		return q * 4;
	return q * 4 + (alpha == CRYPTO_B64_STD ? 4 : r + 1);
}

/*
 * Upper bound of the bytes that srclen symbols can decode to, for either
 * alphabet: 3 per full quantum plus 1 or 2 for an unpadded tail of 2 or 3.
 * Never overflows. A padded STD input decodes to fewer bytes than this, and
 * crypto_b64_decode() only needs dstlen >= the exact decoded length.
 */
size_t
crypto_b64_declen_max(size_t srclen)
{
	return srclen / 4 * 3 + srclen % 4 * 3 / 4;
}

/*
 * Encode src[0..n) as documented in crypto.h. src may be NULL only when
 * n == 0. Returns -1 for a NULL dst, an unknown alphabet, dstlen below
 * enclen + 1, or an encoding longer than LONG_MAX.
 */
long
crypto_b64_encode(const void *src, size_t n, char *dst, size_t dstlen, enum crypto_b64 alpha)
{
	const unsigned char *s = src;
	const char *chars;
	size_t need, i, o = 0;
	uint32_t v;

	if (dst == NULL || (src == NULL && n != 0))
		return -1;
	need = crypto_b64_enclen(n, alpha);
	if (need == SIZE_MAX || need > LONG_MAX || dstlen <= need)
		return -1;
	chars = alpha == CRYPTO_B64_URL ? b64_url_chars : b64_std_chars;

	for (i = 0; n - i >= 3; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		dst[o++] = chars[v >> 18];
		dst[o++] = chars[v >> 12 & 0x3f];
		dst[o++] = chars[v >> 6 & 0x3f];
		dst[o++] = chars[v & 0x3f];
	}
	if (n - i == 1) {
		v = (uint32_t)s[i] << 16;
		dst[o++] = chars[v >> 18];
		dst[o++] = chars[v >> 12 & 0x3f];
		if (alpha == CRYPTO_B64_STD) {
			dst[o++] = '=';
			dst[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		dst[o++] = chars[v >> 18];
		dst[o++] = chars[v >> 12 & 0x3f];
		dst[o++] = chars[v >> 6 & 0x3f];
		if (alpha == CRYPTO_B64_STD)
			dst[o++] = '=';
	}
	dst[o] = '\0';
	return (long)o;
}

/*
 * Decode a tail of 2 or 3 symbols (no '=') into 1 or 2 bytes at d, which
 * the caller has checked has room. Rejects invalid symbols and non-zero
 * unused low bits of the last symbol (a non-canonical encoding).
 */
static int
b64_decode_tail(const unsigned char *s, size_t n, unsigned char *d, const uint8_t *tab)
{
	uint8_t a = tab[s[0]], b = tab[s[1]], c;

	if (!(a & b & B64_VALID))
		return -1;
	a &= 0x3f;
	b &= 0x3f;
	if (n == 2) {
		if (b & 0x0f)
			return -1;
		d[0] = (unsigned char)(a << 2 | b >> 4);
		return 0;
	}
	c = tab[s[2]];
	if (!(c & B64_VALID))
		return -1;
	c &= 0x3f;
	if (c & 0x03)
		return -1;
	d[0] = (unsigned char)(a << 2 | b >> 4);
	d[1] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
	return 0;
}

/*
 * Decode as documented in crypto.h. The exact decoded length follows from
 * srclen and the padding alone, so it is checked against dstlen before a
 * single byte is written, and the loop then writes exactly that many. src
 * may be NULL only when srclen == 0, dst only when dstlen == 0. An empty
 * input decodes to 0 bytes in both alphabets. If a bad symbol is found
 * mid-way, the bytes already written are wiped, so dst never holds part of a
 * rejected (possibly secret) value.
 */
long
crypto_b64_decode(const char *src, size_t srclen, void *dst, size_t dstlen, enum crypto_b64 alpha)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *d = dst;
	const uint8_t *tab;
	size_t nquads, tail, outlen, i, o = 0;

	if ((src == NULL && srclen != 0) || (dst == NULL && dstlen != 0))
		return -1;
	if (alpha == CRYPTO_B64_STD) {
		tab = b64_std_dec;
		if (srclen % 4 != 0)
			return -1;
		if (srclen == 0)
			return 0;
		/* "xx==" has a tail of 2 symbols, "xxx=" of 3; a third '=' is
		 * caught below as a symbol outside the alphabet. */
		if (s[srclen - 1] == '=')
			tail = s[srclen - 2] == '=' ? 2 : 3;
		else
			tail = 0;
		nquads = srclen / 4 - (tail ? 1 : 0);
	} else if (alpha == CRYPTO_B64_URL) {
		tab = b64_url_dec;
		tail = srclen % 4;
		if (tail == 1)
			return -1;
		nquads = srclen / 4;
	} else
		return -1;

	outlen = nquads * 3 + (tail ? tail - 1 : 0);
	if (outlen > dstlen || outlen > LONG_MAX)
		return -1;

	for (i = 0; i < nquads; i++, s += 4) {
		uint8_t a = tab[s[0]], b = tab[s[1]], c = tab[s[2]], e = tab[s[3]];
		uint32_t v;

		if (!(a & b & c & e & B64_VALID))
			goto bad;
		v = (uint32_t)(a & 0x3f) << 18 | (uint32_t)(b & 0x3f) << 12 |
		    (uint32_t)(c & 0x3f) << 6 | (uint32_t)(e & 0x3f);
		d[o++] = (unsigned char)(v >> 16);
		d[o++] = (unsigned char)(v >> 8);
		d[o++] = (unsigned char)v;
	}
	if (tail) {
		if (b64_decode_tail(s, tail, d + o, tab) == -1)
			goto bad;
		o += tail - 1;
	}
	return (long)o;
bad:
	if (o != 0)
		OPENSSL_cleanse(d, o);
	return -1;
}

/* ---- hex ------------------------------------------------------------- */

/*
 * Lowercase hex of src[0..n) plus a NUL into dst; dstlen must be at least
 * 2n + 1. src may be NULL only when n == 0.
 */
int
crypto_hex(const void *src, size_t n, char *dst, size_t dstlen)
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
