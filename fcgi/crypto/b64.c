/*
 * b64.c: strict Base64 (RFC 4648), the one implementation of blindsync,
 * plain and streaming, standard and URL-safe alphabets.
 *
 * Part of libbscrypto (see bsc.h): libc and OpenSSL only, never a server
 * header. The streaming codecs are built on the same inner loops as the
 * plain ones, so a text is accepted or refused, and bytes are encoded, the
 * same way whether they come whole or in pieces.
 *
 * Hand-written rather than EVP_DecodeBlock() because that function is lax
 * (skips whitespace, accepts non-canonical trailing bits and returns padded
 * lengths); ciphertext and tokens must have exactly one accepted encoding so
 * that two clients never disagree about the bytes.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bsc.h"

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
 * both cases bsc_b64_encode() refuses, since no dstlen can exceed it.
 */
size_t
bsc_b64_enclen(size_t n, enum bsc_b64 alpha)
{
	size_t q = n / 3, r = n % 3;

	if (alpha != BSC_B64_STD && alpha != BSC_B64_URL)
		return SIZE_MAX;
	if (q > (SIZE_MAX - 4) / 4)
		return SIZE_MAX;
	if (r == 0)
		return q * 4;
	return q * 4 + (alpha == BSC_B64_STD ? 4 : r + 1);
}

/*
 * Upper bound of the bytes that srclen symbols can decode to, for either
 * alphabet: 3 per full quantum plus 1 or 2 for an unpadded tail of 2 or 3.
 * Never overflows. A padded STD input decodes to fewer bytes than this, and
 * bsc_b64_decode() only needs dstlen >= the exact decoded length.
 */
size_t
bsc_b64_declen_max(size_t srclen)
{
	return srclen / 4 * 3 + srclen % 4 * 3 / 4;
}

/* The symbols of an alphabet, or NULL for an unknown one. */
static const char *
b64_chars(enum bsc_b64 alpha)
{
	if (alpha == BSC_B64_STD)
		return b64_std_chars;
	if (alpha == BSC_B64_URL)
		return b64_url_chars;
	return NULL;
}

/*
 * Encode the n / 3 whole groups of s into dst (no NUL); the one inner loop of
 * every encoder here. Returns the characters written, n / 3 * 4.
 */
static size_t
b64_encode_groups(const unsigned char *s, size_t n, char *dst, const char *chars)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; n - i >= 3; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		dst[o++] = chars[v >> 18];
		dst[o++] = chars[v >> 12 & 0x3f];
		dst[o++] = chars[v >> 6 & 0x3f];
		dst[o++] = chars[v & 0x3f];
	}
	return o;
}

/*
 * Encode a tail of r (0, 1 or 2) bytes into dst, with '=' padding for the
 * standard alphabet (no NUL). Returns the characters written: 0, or r + 1
 * (URL) or 4 (STD).
 */
static size_t
b64_encode_tail(const unsigned char *s, size_t r, char *dst, enum bsc_b64 alpha)
{
	const char *chars = b64_chars(alpha);
	size_t o = 0;
	uint32_t v;

	if (r == 0)
		return 0;
	v = (uint32_t)s[0] << 16 | (r == 2 ? (uint32_t)s[1] << 8 : 0);
	dst[o++] = chars[v >> 18];
	dst[o++] = chars[v >> 12 & 0x3f];
	if (r == 2)
		dst[o++] = chars[v >> 6 & 0x3f];
	if (alpha == BSC_B64_STD)
		while (o < 4)
			dst[o++] = '=';
	return o;
}

/*
 * Encode src[0..n) as documented in bsc.h. src may be NULL only when
 * n == 0. Returns -1 for a NULL dst, an unknown alphabet, dstlen below
 * enclen + 1, or an encoding longer than LONG_MAX.
 */
long
bsc_b64_encode(const void *src, size_t n, char *dst, size_t dstlen, enum bsc_b64 alpha)
{
	const unsigned char *s = src;
	size_t need, whole, o;

	if (dst == NULL || (src == NULL && n != 0))
		return -1;
	need = bsc_b64_enclen(n, alpha);
	if (need == SIZE_MAX || need > LONG_MAX || dstlen <= need)
		return -1;
	whole = n - n % 3;
	o = b64_encode_groups(s, whole, dst, b64_chars(alpha));
	o += b64_encode_tail(s + whole, n - whole, dst + o, alpha);
	dst[o] = '\0';
	return (long)o;
}

/* Start a streamed encoding in the given alphabet. */
void
bsc_b64_enc_init(struct bsc_b64_enc *st, enum bsc_b64 alpha)
{
	memset(st, 0, sizeof(*st));
	st->alpha = alpha;
}

/*
 * The characters bsc_b64_enc_update() writes for n more bytes: 4 for each
 * whole group of the carry and the new bytes. SIZE_MAX when that would not
 * fit a size_t, which no dstlen can then satisfy.
 */
size_t
bsc_b64_enc_update_len(const struct bsc_b64_enc *st, size_t n)
{
	size_t groups;

	if (n > SIZE_MAX - 2)
		return SIZE_MAX;
	groups = (n + st->ncarry) / 3;
	if (groups > (SIZE_MAX - 1) / 4)
		return SIZE_MAX;
	return groups * 4;
}

/*
 * Encode the carry and src[0..n) up to the last whole group into dst, keep
 * the 0 to 2 bytes left over. src may be NULL only when n == 0, dst only
 * when dstlen == 0. On -1 nothing is written and the state is unchanged.
 */
long
bsc_b64_enc_update(struct bsc_b64_enc *st, const void *src, size_t n, char *dst, size_t dstlen)
{
	const unsigned char *s = src;
	const char *chars;
	size_t need, whole, o = 0;

	if (st == NULL || (chars = b64_chars(st->alpha)) == NULL ||
	    (src == NULL && n != 0) || (dst == NULL && dstlen != 0))
		return -1;
	need = bsc_b64_enc_update_len(st, n);
	if (need == SIZE_MAX || need > LONG_MAX || need > dstlen)
		return -1;
	if (st->ncarry != 0) {
		unsigned char g[3];
		size_t take = 3 - st->ncarry;

		if (n < take) {
			memcpy(st->carry + st->ncarry, s, n);
			st->ncarry += n;
			return 0;
		}
		memcpy(g, st->carry, st->ncarry);
		memcpy(g + st->ncarry, s, take);
		o = b64_encode_groups(g, 3, dst, chars);
		s += take;
		n -= take;
		st->ncarry = 0;
	}
	whole = n - n % 3;
	o += b64_encode_groups(s, whole, dst + o, chars);
	memcpy(st->carry, s + whole, n - whole);
	st->ncarry = n - whole;
	return (long)o;
}

/*
 * Write the carried tail with its padding (0 to 4 characters, no NUL) and
 * empty the carry, so the state can encode a new text. -1 (state unchanged)
 * if dstlen is too small.
 */
long
bsc_b64_enc_final(struct bsc_b64_enc *st, char *dst, size_t dstlen)
{
	size_t need;

	if (st == NULL || b64_chars(st->alpha) == NULL)
		return -1;
	need = st->ncarry == 0 ? 0 : st->alpha == BSC_B64_STD ? 4 : st->ncarry + 1;
	if (need > dstlen || (dst == NULL && need != 0))
		return -1;
	b64_encode_tail(st->carry, st->ncarry, dst, st->alpha);
	OPENSSL_cleanse(st->carry, sizeof(st->carry));
	st->ncarry = 0;
	return (long)need;
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
 * Decode as documented in bsc.h. The exact decoded length follows from
 * srclen and the padding alone, so it is checked against dstlen before a
 * single byte is written, and the loop then writes exactly that many. src
 * may be NULL only when srclen == 0, dst only when dstlen == 0. An empty
 * input decodes to 0 bytes in both alphabets. If a bad symbol is found
 * mid-way, the bytes already written are wiped, so dst never holds part of a
 * rejected (possibly secret) value.
 */
long
bsc_b64_decode(const char *src, size_t srclen, void *dst, size_t dstlen, enum bsc_b64 alpha)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *d = dst;
	const uint8_t *tab;
	size_t nquads, tail, outlen, i, o = 0;

	if ((src == NULL && srclen != 0) || (dst == NULL && dstlen != 0))
		return -1;
	if (alpha == BSC_B64_STD) {
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
	} else if (alpha == BSC_B64_URL) {
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


/* Start a streamed decoding in the given alphabet. */
void
bsc_b64_dec_init(struct bsc_b64_dec *st, enum bsc_b64 alpha)
{
	memset(st, 0, sizeof(*st));
	st->alpha = alpha;
}

/*
 * The bytes the next bsc_b64_dec_update() of n characters writes at most: 3
 * for each whole quantum of the carried and the new symbols. Never
 * overflows.
 */
size_t
bsc_b64_dec_update_max(const struct bsc_b64_dec *st, size_t n)
{
	return n / 4 * 3 + (n % 4 + st->nq) / 4 * 3;
}

/*
 * Latch a failure, wipe what this call wrote to d[0..o) and the carried
 * symbols. Returns -1.
 */
static long
b64_dec_fail(struct bsc_b64_dec *st, unsigned char *d, size_t o)
{
	st->failed = 1;
	st->nq = 0;
	OPENSSL_cleanse(st->q, sizeof(st->q));
	if (o != 0)
		OPENSSL_cleanse(d, o);
	return -1;
}

/*
 * Decode as documented in bsc.h: first the carried quantum, completed from
 * src, then the whole quanta of src in one bsc_b64_decode() (which accepts
 * '=' only at the end of what it is given: the end of a quantum here), then
 * carry the rest. Refuses before writing anything when dstlen is below
 * bsc_b64_dec_update_max(st, n). src may be NULL only when n == 0, dst only
 * when dstlen == 0.
 */
long
bsc_b64_dec_update(struct bsc_b64_dec *st, const char *src, size_t n, void *dst, size_t dstlen)
{
	unsigned char *d = dst;
	size_t whole, o = 0;
	long r;

	if (st == NULL)
		return -1;
	if (st->failed || (src == NULL && n != 0) || (dst == NULL && dstlen != 0) ||
	    (st->alpha != BSC_B64_STD && st->alpha != BSC_B64_URL) ||
	    bsc_b64_dec_update_max(st, n) > dstlen || bsc_b64_dec_update_max(st, n) > LONG_MAX)
		return b64_dec_fail(st, d, 0);
	if (n == 0)
		return 0;
	if (st->ended)
		return b64_dec_fail(st, d, 0); /* a symbol after the padding */
	if (st->nq != 0) {
		size_t take = 4 - st->nq;

		if (n < take) {
			memcpy(st->q + st->nq, src, n);
			st->nq += n;
			return 0;
		}
		memcpy(st->q + st->nq, src, take);
		src += take;
		n -= take;
		st->nq = 0;
		if ((r = bsc_b64_decode(st->q, 4, d, dstlen, st->alpha)) < 0)
			return b64_dec_fail(st, d, 0);
		o = (size_t)r;
		if (st->q[3] == '=')
			st->ended = 1;
	}
	if (n != 0 && st->ended)
		return b64_dec_fail(st, d, o);
	whole = n - n % 4;
	if (whole != 0) {
		if ((r = bsc_b64_decode(src, whole, d + o, dstlen - o, st->alpha)) < 0)
			return b64_dec_fail(st, d, o);
		o += (size_t)r;
		if (src[whole - 1] == '=')
			st->ended = 1;
	}
	if (n != whole) {
		if (st->ended)
			return b64_dec_fail(st, d, o);
		memcpy(st->q, src + whole, n - whole);
		st->nq = n - whole;
	}
	return (long)o;
}

/*
 * End a streamed decoding. STD: the text must have ended on a quantum, so
 * anything carried is an error. URL: a carried tail of 2 or 3 symbols is
 * decoded into dst (1 or 2 bytes), a tail of 1 is an error. The state is
 * spent afterwards: a later _update or _final fails until _init.
 */
long
bsc_b64_dec_final(struct bsc_b64_dec *st, void *dst, size_t dstlen)
{
	long r = 0;

	if (st == NULL)
		return -1;
	if (st->failed || (dst == NULL && dstlen != 0))
		return b64_dec_fail(st, dst, 0);
	if (st->nq != 0) {
		if (st->alpha != BSC_B64_URL ||
		    (r = bsc_b64_decode(st->q, st->nq, dst, dstlen, st->alpha)) < 0)
			return b64_dec_fail(st, dst, 0);
	}
	st->nq = 0;
	OPENSSL_cleanse(st->q, sizeof(st->q));
	st->failed = 1; /* spent: only _init makes it usable again */
	return r;
}
