/*
 * test_crypto.c: unit tests of libbscrypto (fcgi/crypto/) against published vectors
 * (FIPS 180-2 / NIST for SHA-256, RFC 4231 for HMAC, RFC 7914 and the
 * widely cross-checked PBKDF2-HMAC-SHA256 values, RFC 4648 for Base64), plus
 * round trips and the rejections the strict Base64 decoder promises; the
 * streaming Base64 codecs against the plain ones, for every way of cutting
 * the input into pieces that matters (1 to 7 bytes, and uneven cuts).
 *
 * Needs only bsc.h and t.h, and the Makefile links it with libbscrypto.a and
 * libcrypto alone: the crypto library must stay standalone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsc.h"
#include "t.h"

/* Hex of a digest, for readable comparisons against published vectors. */
static const char *
hex32(const uint8_t d[BSC_SHA256_LEN])
{
	static char buf[2 * BSC_SHA256_LEN + 1];

	if (bsc_hex(d, BSC_SHA256_LEN, buf, sizeof(buf)) != 0)
		return "(hex failed)";
	return buf;
}

static void
test_sha256_vectors(void)
{
	uint8_t d[BSC_SHA256_LEN];
	const char *msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	T_EQ_INT(bsc_sha256("", 0, d), 0);
	T_EQ_STR(hex32(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	T_EQ_INT(bsc_sha256(NULL, 0, d), 0);
	T_EQ_STR(hex32(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	T_EQ_INT(bsc_sha256("abc", 3, d), 0);
	T_EQ_STR(hex32(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	T_EQ_INT(bsc_sha256(msg448, strlen(msg448), d), 0);
	T_EQ_STR(hex32(d), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	T_EQ_INT(bsc_sha256(NULL, 1, d), -1);
	T_EQ_INT(bsc_sha256("abc", 3, NULL), -1);
}

static void
test_sha256_incremental(void)
{
	static const size_t chunks[] = { 1, 3, 7, 13, 31, 63, 64, 65, 127, 1000 };
	size_t len = 10007, ci, off, step;
	unsigned char *data;
	uint8_t one[BSC_SHA256_LEN], inc[BSC_SHA256_LEN];
	struct bsc_sha256_ctx *ctx;

	data = malloc(len);
	T_OK(data != NULL);
	if (data == NULL)
		return;
	for (off = 0; off < len; off++)
		data[off] = (unsigned char)(off * 7 + 3);
	T_EQ_INT(bsc_sha256(data, len, one), 0);

	for (ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
		int ok = 1;

		ctx = bsc_sha256_new();
		T_OK(ctx != NULL);
		if (ctx == NULL)
			continue;
		for (off = 0; off < len; off += step) {
			step = chunks[ci];
			if (step > len - off)
				step = len - off;
			if (bsc_sha256_update(ctx, data + off, step) != 0)
				ok = 0;
		}
		T_OK(ok);
		T_EQ_INT(bsc_sha256_update(ctx, NULL, 0), 0);
		T_EQ_INT(bsc_sha256_final(ctx, inc), 0);
		T_OK(memcmp(one, inc, sizeof(one)) == 0);
	}

	/* "abc" fed in three calls, one of them empty. */
	ctx = bsc_sha256_new();
	T_OK(ctx != NULL);
	if (ctx != NULL) {
		T_EQ_INT(bsc_sha256_update(ctx, "a", 1), 0);
		T_EQ_INT(bsc_sha256_update(ctx, "", 0), 0);
		T_EQ_INT(bsc_sha256_update(ctx, "bc", 2), 0);
		T_EQ_INT(bsc_sha256_final(ctx, inc), 0);
		T_EQ_STR(hex32(inc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}

	/* A failed update poisons the context; final still frees it. */
	ctx = bsc_sha256_new();
	T_OK(ctx != NULL);
	if (ctx != NULL) {
		T_EQ_INT(bsc_sha256_update(ctx, NULL, 5), -1);
		T_EQ_INT(bsc_sha256_final(ctx, inc), -1);
	}

	/* free without final, and of NULL; update/final of NULL fail. */
	ctx = bsc_sha256_new();
	T_OK(ctx != NULL);
	if (ctx != NULL)
		T_EQ_INT(bsc_sha256_update(ctx, "x", 1), 0);
	bsc_sha256_free(ctx);
	bsc_sha256_free(NULL);
	T_EQ_INT(bsc_sha256_update(NULL, "x", 1), -1);
	T_EQ_INT(bsc_sha256_final(NULL, inc), -1);
	free(data);
}

static void
test_hmac(void)
{
	uint8_t key[20], d[BSC_SHA256_LEN];

	/* RFC 4231 test case 1 */
	memset(key, 0x0b, sizeof(key));
	T_EQ_INT(bsc_hmac_sha256(key, 20, "Hi There", 8, d), 0);
	T_EQ_STR(hex32(d), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	/* RFC 4231 test case 2 */
	T_EQ_INT(bsc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d), 0);
	T_EQ_STR(hex32(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* RFC 4231 test case 3: 20 x 0xaa key, 50 x 0xdd data */
	{
		uint8_t k3[20], m3[50];

		memset(k3, 0xaa, sizeof(k3));
		memset(m3, 0xdd, sizeof(m3));
		T_EQ_INT(bsc_hmac_sha256(k3, sizeof(k3), m3, sizeof(m3), d), 0);
		T_EQ_STR(hex32(d), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	}

	/* empty key and message: a well-known value */
	T_EQ_INT(bsc_hmac_sha256(NULL, 0, NULL, 0, d), 0);
	T_EQ_STR(hex32(d), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

	T_EQ_INT(bsc_hmac_sha256(NULL, 1, "x", 1, d), -1);
	T_EQ_INT(bsc_hmac_sha256("k", 1, NULL, 1, d), -1);
	T_EQ_INT(bsc_hmac_sha256("k", 1, "x", 1, NULL), -1);
}

static void
test_pbkdf2(void)
{
	uint8_t out[64];
	char hex[129];

	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 1, out, 32), 0);
	T_EQ_STR(hex32(out), "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 2, out, 32), 0);
	T_EQ_STR(hex32(out), "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 4096, out, 32), 0);
	T_EQ_STR(hex32(out), "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");

	/* RFC 7914 section 11: P="passwd", S="salt", c=1, dkLen=64 */
	T_EQ_INT(bsc_pbkdf2_sha256("passwd", 6, "salt", 4, 1, out, 64), 0);
	T_EQ_INT(bsc_hex(out, 64, hex, sizeof(hex)), 0);
	T_EQ_STR(hex, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");

	/* A shorter output is a prefix of the longer one (same first block). */
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 1, out, 5), 0);
	T_OK(memcmp(out, "\x12\x0f\xb6\xcf\xfc", 5) == 0);

	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 0, out, 32), -1);
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 1, out, 0), -1);
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 1, NULL, 32), -1);
	T_EQ_INT(bsc_pbkdf2_sha256(NULL, 8, "salt", 4, 1, out, 32), -1);
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, NULL, 4, 1, out, 32), -1);
	T_EQ_INT(bsc_pbkdf2_sha256("password", 8, "salt", 4, 0x80000000u, out, 32), -1);
}

/* Encode src with alpha and compare with want; then decode want back. */
static void
b64_vector(const char *src, const char *want, enum bsc_b64 alpha)
{
	char enc[64];
	unsigned char dec[64];
	size_t n = strlen(src), wl = strlen(want);
	long r;

	T_EQ_INT(bsc_b64_enclen(n, alpha), wl);
	r = bsc_b64_encode(src, n, enc, sizeof(enc), alpha);
	T_EQ_INT(r, (long)wl);
	T_EQ_STR(enc, want);
	T_OK(bsc_b64_declen_max(wl) >= n);
	r = bsc_b64_decode(want, wl, dec, sizeof(dec), alpha);
	T_EQ_INT(r, (long)n);
	T_OK(r >= 0 && memcmp(dec, src, n) == 0);
}

static void
test_b64_vectors(void)
{
	/* RFC 4648 section 10 */
	static const char *const v[][3] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	};
	size_t i;
	unsigned char dec[8];
	char enc[16];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b64_vector(v[i][0], v[i][1], BSC_B64_STD);
		b64_vector(v[i][0], v[i][2], BSC_B64_URL);
	}

	/* Bytes that use symbols 62 and 63: the alphabets differ there. */
	T_EQ_INT(bsc_b64_encode("\xfb\xff\xbf", 3, enc, sizeof(enc), BSC_B64_STD), 4);
	T_EQ_STR(enc, "+/+/");
	T_EQ_INT(bsc_b64_encode("\xfb\xff\xbf", 3, enc, sizeof(enc), BSC_B64_URL), 4);
	T_EQ_STR(enc, "-_-_");
	T_EQ_INT(bsc_b64_decode("+/+/", 4, dec, sizeof(dec), BSC_B64_STD), 3);
	T_OK(memcmp(dec, "\xfb\xff\xbf", 3) == 0);
	T_EQ_INT(bsc_b64_decode("-_-_", 4, dec, sizeof(dec), BSC_B64_URL), 3);
	T_OK(memcmp(dec, "\xfb\xff\xbf", 3) == 0);
	T_EQ_INT(bsc_b64_decode("-_-_", 4, dec, sizeof(dec), BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_decode("+/+/", 4, dec, sizeof(dec), BSC_B64_URL), -1);

	/* Every one of the 64 symbols in each alphabet decodes. */
	T_EQ_INT(bsc_b64_decode(
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64,
	    (unsigned char[48]){ 0 }, 48, BSC_B64_STD), 48);
	T_EQ_INT(bsc_b64_decode(
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 64,
	    (unsigned char[48]){ 0 }, 48, BSC_B64_URL), 48);
}

static void
test_b64_lengths(void)
{
	T_EQ_INT(bsc_b64_enclen(0, BSC_B64_STD), 0);
	T_EQ_INT(bsc_b64_enclen(1, BSC_B64_STD), 4);
	T_EQ_INT(bsc_b64_enclen(32, BSC_B64_STD), 44);
	T_EQ_INT(bsc_b64_enclen(32, BSC_B64_URL), 43);
	T_EQ_INT(bsc_b64_enclen(1, BSC_B64_URL), 2);
	T_EQ_INT(bsc_b64_enclen(2, BSC_B64_URL), 3);
	T_OK(bsc_b64_enclen(SIZE_MAX, BSC_B64_STD) == SIZE_MAX);
	T_OK(bsc_b64_enclen(SIZE_MAX / 4 * 3, BSC_B64_URL) == SIZE_MAX);
	T_OK(bsc_b64_enclen(3, (enum bsc_b64)7) == SIZE_MAX);
	T_EQ_INT(bsc_b64_declen_max(0), 0);
	T_EQ_INT(bsc_b64_declen_max(1), 0);
	T_EQ_INT(bsc_b64_declen_max(2), 1);
	T_EQ_INT(bsc_b64_declen_max(3), 2);
	T_EQ_INT(bsc_b64_declen_max(4), 3);
	T_EQ_INT(bsc_b64_declen_max(44), 33);
	T_EQ_INT(bsc_b64_declen_max(43), 32);
	T_OK(bsc_b64_declen_max(SIZE_MAX) <= SIZE_MAX / 4 * 3 + 2);
}

static void
test_b64_roundtrip(void)
{
	unsigned char src[300], dec[300];
	char enc[401];
	size_t n, k;
	long r;
	int a, ok = 1;

	for (n = 0; n <= 300; n++) {
		if (n > 0 && bsc_random(src, n) != 0) {
			ok = 0;
			break;
		}
		for (a = 0; a < 2; a++) {
			enum bsc_b64 alpha = a ? BSC_B64_URL : BSC_B64_STD;
			size_t el = bsc_b64_enclen(n, alpha);

			r = bsc_b64_encode(src, n, enc, sizeof(enc), alpha);
			if (r < 0 || (size_t)r != el || strlen(enc) != el) {
				ok = 0;
				continue;
			}
			/* Exactly enclen + 1 is enough, one less is not. */
			if (bsc_b64_encode(src, n, enc, el + 1, alpha) != (long)el ||
			    bsc_b64_encode(src, n, enc, el, alpha) != -1)
				ok = 0;
			/* re-encode: the previous call failed without writing */
			if (bsc_b64_encode(src, n, enc, sizeof(enc), alpha) != (long)el)
				ok = 0;
			if (bsc_b64_declen_max(el) < n)
				ok = 0;
			r = bsc_b64_decode(enc, el, dec, n, alpha);
			if (r != (long)n || memcmp(src, dec, n) != 0)
				ok = 0;
			/* One byte short of the exact decoded length fails. */
			if (n > 0 && bsc_b64_decode(enc, el, dec, n - 1, alpha) != -1)
				ok = 0;
			/* Output is only the alphabet (and '=' for STD at the end). */
			for (k = 0; k < el; k++) {
				char c = enc[k];
				int in = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') ||
				    (alpha == BSC_B64_STD ? (c == '+' || c == '/' ||
				    (c == '=' && k + 2 >= el)) : (c == '-' || c == '_'));
				if (!in)
					ok = 0;
			}
		}
	}
	T_OK(ok);
}

/*
 * Decode src[0..len) through the streaming decoder in pieces of `piece`
 * characters (0: cuts of 1, 2, 3, ... characters in turn). Returns the
 * total decoded into dst, or -1 if an update or the final call refused.
 */
static long
b64_stream_decode(const char *src, size_t len, size_t piece, unsigned char *dst, size_t dstlen,
    enum bsc_b64 alpha)
{
	struct bsc_b64_dec st;
	size_t off = 0, o = 0, step, cut = 1;
	long r;

	bsc_b64_dec_init(&st, alpha);
	while (off < len) {
		step = piece ? piece : cut++;
		if (step > len - off)
			step = len - off;
		if (bsc_b64_dec_update_max(&st, step) > dstlen - o)
			return -1;
		r = bsc_b64_dec_update(&st, src + off, step, dst + o, dstlen - o);
		if (r < 0)
			return -1;
		o += (size_t)r;
		off += step;
	}
	r = bsc_b64_dec_final(&st, dst + o, dstlen - o);
	return r < 0 ? -1 : (long)(o + (size_t)r);
}

/* Expect src (with explicit length) to be rejected by the given alphabet. */
static void
b64_reject(const char *src, size_t len, enum bsc_b64 alpha, int line)
{
	unsigned char dec[64];

	size_t piece;

	memset(dec, 0xa5, sizeof(dec));
	if (bsc_b64_decode(src, len, dec, sizeof(dec), alpha) == -1)
		t_pass++;
	else {
		t_fail++;
		fprintf(stderr, "FAIL %s:%d: \"%.*s\" accepted (alphabet %d)\n",
		    __FILE__, line, (int)len, src, (int)alpha);
	}
	/* the streaming decoder refuses it too, however it is cut */
	for (piece = 1; piece <= 5; piece++) {
		if (b64_stream_decode(src, len, piece, dec, sizeof(dec), alpha) == -1)
			t_pass++;
		else {
			t_fail++;
			fprintf(stderr, "FAIL %s:%d: \"%.*s\" accepted streamed in pieces of %zu (alphabet %d)\n",
			    __FILE__, line, (int)len, src, piece, (int)alpha);
		}
	}
}
#define REJ(s, a) b64_reject((s), sizeof(s) - 1, (a), __LINE__)

static void
test_b64_reject(void)
{
	unsigned char dec[64];
	char enc[8];
	int k;

	/* STD: length and padding */
	REJ("Zg=", BSC_B64_STD);		/* len % 4 != 0 */
	REJ("Zg", BSC_B64_STD);		/* padding missing */
	REJ("Zm8", BSC_B64_STD);
	REJ("Zm9vYg", BSC_B64_STD);
	REJ("Z", BSC_B64_STD);
	REJ("Zm9vY", BSC_B64_STD);
	REJ("Z===", BSC_B64_STD);		/* three '=' */
	REJ("====", BSC_B64_STD);
	REJ("Zg=A", BSC_B64_STD);		/* '=' not at the end */
	REJ("Z=g=", BSC_B64_STD);
	REJ("=Zg=", BSC_B64_STD);
	REJ("Zg==Zg==", BSC_B64_STD);	/* padding in the middle */
	REJ("Zm8=Zm9v", BSC_B64_STD);
	REJ("Zg==\n", BSC_B64_STD);
	/* STD: non-canonical trailing bits */
	REJ("Zh==", BSC_B64_STD);
	REJ("Zm9=", BSC_B64_STD);
	REJ("Zm9vYh==", BSC_B64_STD);
	REJ("Zm9vYmF=", BSC_B64_STD);
	/* STD: whitespace, foreign and URL characters */
	REJ("Zm9v\n", BSC_B64_STD);
	REJ("Zm9v YmFy", BSC_B64_STD);
	REJ(" Zm9v", BSC_B64_STD);
	REJ("Zm9\tv", BSC_B64_STD);
	REJ("Zm9v\r\nYmFy", BSC_B64_STD);
	REJ("Zm9*", BSC_B64_STD);
	REJ("Zm9-", BSC_B64_STD);
	REJ("Zm9_", BSC_B64_STD);
	REJ("Zm9\xc3", BSC_B64_STD);
	REJ("Zm9\x80", BSC_B64_STD);
	/* STD: embedded NUL (explicit length counts it) */
	REJ("Zm\0v", BSC_B64_STD);
	REJ("Zg=\0", BSC_B64_STD);
	REJ("Zm9vYmFy\0\0\0\0", BSC_B64_STD);

	/* URL: padding is never accepted, length % 4 == 1 never valid */
	REJ("Zg==", BSC_B64_URL);
	REJ("Zm8=", BSC_B64_URL);
	REJ("Zg=", BSC_B64_URL);
	REJ("Z", BSC_B64_URL);
	REJ("Zm9vY", BSC_B64_URL);
	REJ("=", BSC_B64_URL);
	/* URL: non-canonical trailing bits */
	REJ("Zh", BSC_B64_URL);
	REJ("Zm9", BSC_B64_URL);
	REJ("Zm9vYmF", BSC_B64_URL);
	REJ("__", BSC_B64_URL);
	/* URL: whitespace, foreign and STD characters, NUL */
	REJ("Zm9v\n", BSC_B64_URL);
	REJ("Zm 9v", BSC_B64_URL);
	REJ("Zm9+", BSC_B64_URL);
	REJ("Zm9/", BSC_B64_URL);
	REJ("Zm.v", BSC_B64_URL);
	REJ("Zm\0v", BSC_B64_URL);
	REJ("Zg\0", BSC_B64_URL);

	/* Each of the 16 possible low nibbles: only 0 is canonical. */
	for (k = 0; k < 64; k++) {
		static const char a[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		char s[5] = { 'Z', a[k], '=', '=', 0 };
		long r = bsc_b64_decode(s, 4, dec, sizeof(dec), BSC_B64_STD);

		T_EQ_INT(r, (k & 0x0f) ? -1 : 1);
	}

	/* dst too small: exact length decided before any byte is written */
	memset(dec, 0xa5, sizeof(dec));
	T_EQ_INT(bsc_b64_decode("Zm9vYmFy", 8, dec, 5, BSC_B64_STD), -1);
	T_OK(dec[0] == 0xa5);
	T_EQ_INT(bsc_b64_decode("Zm9vYmFy", 8, dec, 6, BSC_B64_STD), 6);
	T_EQ_INT(bsc_b64_decode("Zg==", 4, dec, 0, BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_decode("Zg==", 4, dec, 1, BSC_B64_STD), 1);
	T_EQ_INT(bsc_b64_decode("Zm9vYmE", 7, dec, 4, BSC_B64_URL), -1);
	T_EQ_INT(bsc_b64_decode("Zm9vYmE", 7, dec, 5, BSC_B64_URL), 5);
	T_EQ_INT(bsc_b64_decode("Zg", 2, NULL, 0, BSC_B64_URL), -1);
	/* a bad symbol after good ones: what was written is wiped */
	memset(dec, 0xa5, sizeof(dec));
	T_EQ_INT(bsc_b64_decode("Zm9vYmFy!!!!", 12, dec, sizeof(dec), BSC_B64_STD), -1);
	T_OK(dec[0] == 0 && dec[5] == 0 && dec[6] == 0xa5);

	/* empty input, NULL arguments, unknown alphabet */
	T_EQ_INT(bsc_b64_decode("", 0, NULL, 0, BSC_B64_STD), 0);
	T_EQ_INT(bsc_b64_decode(NULL, 0, NULL, 0, BSC_B64_URL), 0);
	T_EQ_INT(bsc_b64_decode(NULL, 4, dec, sizeof(dec), BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_decode("Zm9v", 4, NULL, 3, BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_decode("Zm9v", 4, dec, sizeof(dec), (enum bsc_b64)2), -1);

	/* encode: dst too small, NULLs, unknown alphabet */
	T_EQ_INT(bsc_b64_encode("f", 1, enc, 4, BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_encode("f", 1, enc, 5, BSC_B64_STD), 4);
	T_EQ_INT(bsc_b64_encode("f", 1, enc, 2, BSC_B64_URL), -1);
	T_EQ_INT(bsc_b64_encode("f", 1, enc, 3, BSC_B64_URL), 2);
	T_EQ_INT(bsc_b64_encode("", 0, enc, 0, BSC_B64_URL), -1);
	T_EQ_INT(bsc_b64_encode("", 0, enc, 1, BSC_B64_URL), 0);
	T_EQ_STR(enc, "");
	T_EQ_INT(bsc_b64_encode(NULL, 0, enc, 1, BSC_B64_STD), 0);
	T_EQ_INT(bsc_b64_encode(NULL, 1, enc, sizeof(enc), BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_encode("f", 1, NULL, 5, BSC_B64_STD), -1);
	T_EQ_INT(bsc_b64_encode("f", 1, enc, sizeof(enc), (enum bsc_b64)9), -1);
	/* a length whose encoding cannot exist must fail, not wrap */
	T_EQ_INT(bsc_b64_encode("f", SIZE_MAX, enc, sizeof(enc), BSC_B64_STD), -1);
}

/*
 * Encode src[0..n) through the streaming encoder in pieces as
 * b64_stream_decode() cuts them. Returns the length written into dst (with a
 * NUL added here), or -1.
 */
static long
b64_stream_encode(const unsigned char *src, size_t n, size_t piece, char *dst, size_t dstlen,
    enum bsc_b64 alpha)
{
	struct bsc_b64_enc st;
	size_t off = 0, o = 0, step, cut = 1;
	long r;

	bsc_b64_enc_init(&st, alpha);
	do {
		step = piece ? piece : cut++;
		if (step > n - off)
			step = n - off;
		if (bsc_b64_enc_update_len(&st, step) > dstlen - o)
			return -1;
		r = bsc_b64_enc_update(&st, src + off, step, dst + o, dstlen - o);
		if (r < 0)
			return -1;
		o += (size_t)r;
		off += step;
	} while (off < n);
	r = bsc_b64_enc_final(&st, dst + o, dstlen - o);
	if (r < 0 || o + (size_t)r >= dstlen)
		return -1;
	o += (size_t)r;
	dst[o] = '\0';
	return (long)o;
}

static void
test_b64_stream_roundtrip(void)
{
	unsigned char src[200], dec[202]; /* the bound counts a padded quantum as 3 */
	char plain[300], streamed[300];
	size_t n, piece;
	int a, ok = 1;

	for (n = 0; n <= 200; n++) {
		if (n > 0 && bsc_random(src, n) != 0) {
			ok = 0;
			break;
		}
		for (a = 0; a < 2; a++) {
			enum bsc_b64 alpha = a ? BSC_B64_URL : BSC_B64_STD;
			long el = bsc_b64_encode(src, n, plain, sizeof(plain), alpha);

			if (el < 0) {
				ok = 0;
				continue;
			}
			for (piece = 0; piece <= 7; piece++) {
				/* same text as the plain encoder, however cut */
				if (b64_stream_encode(src, n, piece, streamed, sizeof(streamed), alpha) != el ||
				    strcmp(plain, streamed) != 0)
					ok = 0;
				/* same bytes as the plain decoder, however cut */
				memset(dec, 0, sizeof(dec));
				if (b64_stream_decode(plain, (size_t)el, piece, dec, sizeof(dec), alpha) != (long)n ||
				    memcmp(dec, src, n) != 0)
					ok = 0;
			}
		}
	}
	T_OK(ok);
}

static void
test_b64_stream_edges(void)
{
	struct bsc_b64_enc e;
	struct bsc_b64_dec d;
	unsigned char dec[16];
	char enc[16];

	/* encoder: lengths, carry, too small a dst changes nothing */
	bsc_b64_enc_init(&e, BSC_B64_STD);
	T_EQ_INT(bsc_b64_enc_update_len(&e, 2), 0);
	T_EQ_INT(bsc_b64_enc_update(&e, "fo", 2, NULL, 0), 0);
	T_EQ_INT(bsc_b64_enc_update_len(&e, 1), 4);
	T_EQ_INT(bsc_b64_enc_update(&e, "o", 1, enc, 3), -1);
	T_EQ_INT(bsc_b64_enc_update(&e, "o", 1, enc, 4), 4);
	T_OK(memcmp(enc, "Zm9v", 4) == 0);
	T_EQ_INT(bsc_b64_enc_update(&e, "b", 1, enc, sizeof(enc)), 0);
	T_EQ_INT(bsc_b64_enc_final(&e, enc, 3), -1);
	T_EQ_INT(bsc_b64_enc_final(&e, enc, 4), 4);
	T_OK(memcmp(enc, "Yg==", 4) == 0);
	T_OK(e.ncarry == 0 && e.carry[0] == 0);	/* nothing of the input kept */
	T_EQ_INT(bsc_b64_enc_final(&e, enc, 0), 0);	/* the carry is empty now */
	T_OK(bsc_b64_enc_update_len(&e, SIZE_MAX) == SIZE_MAX);
	T_EQ_INT(bsc_b64_enc_update(&e, NULL, 1, enc, sizeof(enc)), -1);
	T_EQ_INT(bsc_b64_enc_update(NULL, "f", 1, enc, sizeof(enc)), -1);
	bsc_b64_enc_init(&e, BSC_B64_URL);
	T_EQ_INT(bsc_b64_enc_update(&e, "fo", 2, NULL, 0), 0);
	T_EQ_INT(bsc_b64_enc_final(&e, enc, sizeof(enc)), 3);
	T_OK(memcmp(enc, "Zm8", 3) == 0);
	bsc_b64_enc_init(&e, (enum bsc_b64)5);
	T_EQ_INT(bsc_b64_enc_update(&e, "f", 1, enc, sizeof(enc)), -1);

	/* decoder: the bound, carried symbols, then a padded quantum */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	T_EQ_INT(bsc_b64_dec_update_max(&d, 3), 0);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9", 3, NULL, 0), 0);
	T_EQ_INT(bsc_b64_dec_update_max(&d, 1), 3);
	T_EQ_INT(bsc_b64_dec_update_max(&d, 5), 6);
	T_EQ_INT(bsc_b64_dec_update(&d, "vYg==", 5, dec, sizeof(dec)), 4);
	T_OK(memcmp(dec, "foob", 4) == 0);
	/* nothing may follow the padding, not even in a later piece */
	T_EQ_INT(bsc_b64_dec_update(&d, "", 0, dec, sizeof(dec)), 0);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zg==", 4, dec, sizeof(dec)), -1);
	/* failures latch */
	T_EQ_INT(bsc_b64_dec_final(&d, NULL, 0), -1);

	/* a dst below the bound is refused before anything is written */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	memset(dec, 0xa5, sizeof(dec));
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vYg==", 8, dec, 5), -1);
	T_OK(dec[0] == 0xa5);
	/* a bad quantum after a good carried one: what this call wrote is wiped */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm", 2, dec, sizeof(dec)), 0);
	memset(dec, 0xa5, sizeof(dec));
	T_EQ_INT(bsc_b64_dec_update(&d, "9vYm!!", 6, dec, sizeof(dec)), -1);
	T_OK(dec[0] == 0 && dec[2] == 0 && dec[3] == 0xa5);
	/* a failure wipes the carried symbols, and so does _final */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vY", 5, dec, sizeof(dec)), 3);
	T_OK(d.nq == 1 && d.q[0] == 'Y');
	T_EQ_INT(bsc_b64_dec_update(&d, "!", 1, dec, sizeof(dec)), 0);
	T_EQ_INT(bsc_b64_dec_update(&d, "!!", 2, dec, sizeof(dec)), -1);
	T_OK(d.nq == 0 && d.q[0] == 0 && d.q[1] == 0);
	bsc_b64_dec_init(&d, BSC_B64_URL);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vYg", 6, dec, sizeof(dec)), 3);
	T_EQ_INT(bsc_b64_dec_final(&d, dec + 3, 1), 1);
	T_OK(d.nq == 0 && d.q[0] == 0 && d.q[1] == 0);

	/* final: STD refuses a carried partial quantum, URL decodes it */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vYg", 6, dec, sizeof(dec)), 3);
	T_EQ_INT(bsc_b64_dec_final(&d, dec, sizeof(dec)), -1);
	bsc_b64_dec_init(&d, BSC_B64_URL);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vYg", 6, dec, sizeof(dec)), 3);
	T_EQ_INT(bsc_b64_dec_final(&d, dec + 3, 0), -1);
	bsc_b64_dec_init(&d, BSC_B64_URL);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9vYg", 6, dec, sizeof(dec)), 3);
	T_EQ_INT(bsc_b64_dec_final(&d, dec + 3, 1), 1);
	T_OK(memcmp(dec, "foob", 4) == 0);
	/* a spent state refuses until it is initialised again */
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9v", 4, dec, sizeof(dec)), -1);
	bsc_b64_dec_init(&d, BSC_B64_URL);
	T_EQ_INT(bsc_b64_dec_final(&d, NULL, 0), 0);	/* the empty text */

	/* NULL arguments and an unknown alphabet */
	bsc_b64_dec_init(&d, BSC_B64_STD);
	T_EQ_INT(bsc_b64_dec_update(&d, NULL, 4, dec, sizeof(dec)), -1);
	T_EQ_INT(bsc_b64_dec_update(NULL, "Zm9v", 4, dec, sizeof(dec)), -1);
	T_EQ_INT(bsc_b64_dec_final(NULL, dec, sizeof(dec)), -1);
	bsc_b64_dec_init(&d, (enum bsc_b64)3);
	T_EQ_INT(bsc_b64_dec_update(&d, "Zm9v", 4, dec, sizeof(dec)), -1);
}

static void
test_equal_wipe(void)
{
	unsigned char a[33], b[33];
	size_t i;
	int allzero = 1;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	T_EQ_INT(bsc_equal(a, b, sizeof(a)), 1);
	b[32] ^= 1;
	T_EQ_INT(bsc_equal(a, b, sizeof(a)), 0);
	T_EQ_INT(bsc_equal(a, b, 32), 1);
	b[0] ^= 0x80;
	T_EQ_INT(bsc_equal(a, b, 32), 0);
	T_EQ_INT(bsc_equal(a, b, 0), 1);
	T_EQ_INT(bsc_equal(NULL, b, 1), 0);
	T_EQ_INT(bsc_equal(a, NULL, 1), 0);
	T_EQ_INT(bsc_equal("abc", "abd", 3), 0);
	T_EQ_INT(bsc_equal("abc", "abc", 3), 1);

	bsc_wipe(a, sizeof(a));
	for (i = 0; i < sizeof(a); i++)
		if (a[i] != 0)
			allzero = 0;
	T_OK(allzero);
	memset(a, 0x77, sizeof(a));
	bsc_wipe(a + 1, 2);
	T_OK(a[0] == 0x77 && a[1] == 0 && a[2] == 0 && a[3] == 0x77);
	bsc_wipe(NULL, 10);
	bsc_wipe(a, 0);
	T_OK(a[0] == 0x77);
}

static void
test_hex(void)
{
	char buf[16];

	T_EQ_INT(bsc_hex("\x00\x01\xab\xff\x10", 5, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "0001abff10");
	T_EQ_INT(bsc_hex("\xde\xad", 2, buf, 5), 0);
	T_EQ_STR(buf, "dead");
	T_EQ_INT(bsc_hex("\xde\xad", 2, buf, 4), -1);
	T_EQ_INT(bsc_hex("", 0, buf, 1), 0);
	T_EQ_STR(buf, "");
	T_EQ_INT(bsc_hex(NULL, 0, buf, 1), 0);
	T_EQ_INT(bsc_hex("", 0, buf, 0), -1);
	T_EQ_INT(bsc_hex(NULL, 1, buf, sizeof(buf)), -1);
	T_EQ_INT(bsc_hex("a", 1, NULL, 3), -1);
	T_EQ_INT(bsc_hex("a", SIZE_MAX / 2 + 1, buf, sizeof(buf)), -1);
}

static void
test_random(void)
{
	unsigned char a[64], b[64], z[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(z, 0, sizeof(z));
	T_EQ_INT(bsc_random(a, sizeof(a)), 0);
	T_EQ_INT(bsc_random(b, sizeof(b)), 0);
	/* 2^-512 chance of a false failure for each */
	T_OK(memcmp(a, z, sizeof(a)) != 0);
	T_OK(memcmp(a, b, sizeof(a)) != 0);
	T_EQ_INT(bsc_random(NULL, 0), 0);
	T_EQ_INT(bsc_random(a, 0), 0);
	T_EQ_INT(bsc_random(NULL, 1), -1);
}

/* HMAC-SHA1 (RFC 2202), HKDF-SHA256 (RFC 5869) and AES-256-GCM, for TOTP and sealed secrets. */
static void
test_sha1_hkdf_gcm(void)
{
	uint8_t key[22], d[BSC_SHA1_LEN], okm[42], salt[13], info[10];
	char hx[2 * 42 + 1];

	/* RFC 2202 test cases 1 and 2 */
	memset(key, 0x0b, 20);
	T_EQ_INT(bsc_hmac_sha1(key, 20, "Hi There", 8, d), 0);
	T_OK(bsc_hex(d, sizeof d, hx, sizeof hx) == 0 && strcmp(hx, "b617318655057264e28bc0b6fb378c8ef146be00") == 0);
	T_EQ_INT(bsc_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, d), 0);
	T_OK(bsc_hex(d, sizeof d, hx, sizeof hx) == 0 && strcmp(hx, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79") == 0);
	T_EQ_INT(bsc_hmac_sha1("k", 1, "x", 1, NULL), -1);

	/* RFC 5869 test case 1 */
	memset(key, 0x0b, 22);
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	T_EQ_INT(bsc_hkdf_sha256(key, 22, salt, 13, info, 10, okm, 42), 0);
	T_OK(bsc_hex(okm, 42, hx, sizeof hx) == 0 && strcmp(hx,
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865") == 0);
	/* RFC 5869 test case 3: no salt, no info */
	T_EQ_INT(bsc_hkdf_sha256(key, 22, NULL, 0, NULL, 0, okm, 42), 0);
	T_OK(bsc_hex(okm, 42, hx, sizeof hx) == 0 && strcmp(hx,
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8") == 0);
	T_EQ_INT(bsc_hkdf_sha256(key, 22, NULL, 0, NULL, 0, okm, 0), -1);

	/* GCM: a round trip; any changed byte, key or aad fails and wipes */
	uint8_t k[BSC_GCM_KEY_LEN], k2[BSC_GCM_KEY_LEN], box[5 + 28], box2[5 + 28], pt[5];
	memset(k, 7, sizeof k);
	memset(k2, 8, sizeof k2);
	T_EQ_INT(bsc_gcm_seal(k, "aad", 3, "hello", 5, box, sizeof box), 0);
	T_EQ_INT(bsc_gcm_seal(k, "aad", 3, "hello", 5, box2, sizeof box2), 0);
	T_OK(memcmp(box, box2, sizeof box) != 0); /* a fresh nonce each time */
	T_EQ_INT(bsc_gcm_open(k, "aad", 3, box, sizeof box, pt, sizeof pt), 0);
	T_OK(memcmp(pt, "hello", 5) == 0);
	T_EQ_INT(bsc_gcm_open(k2, "aad", 3, box, sizeof box, pt, sizeof pt), -1);
	T_OK(memcmp(pt, "\0\0\0\0\0", 5) == 0);
	T_EQ_INT(bsc_gcm_open(k, "aaD", 3, box, sizeof box, pt, sizeof pt), -1);
	for (size_t i = 0; i < sizeof box; i++) {
		box[i] ^= 1;
		T_EQ_INT(bsc_gcm_open(k, "aad", 3, box, sizeof box, pt, sizeof pt), -1);
		box[i] ^= 1;
	}
	T_EQ_INT(bsc_gcm_open(k, "aad", 3, box, 27, pt, sizeof pt), -1);
	T_EQ_INT(bsc_gcm_seal(k, NULL, 0, "hello", 5, box, sizeof box - 1), -1);
	T_EQ_INT(bsc_gcm_open(k, "aad", 3, box, sizeof box, pt, 4), -1);
}

int
main(void)
{
	T_RUN(test_sha256_vectors);
	T_RUN(test_sha256_incremental);
	T_RUN(test_hmac);
	T_RUN(test_pbkdf2);
	T_RUN(test_sha1_hkdf_gcm);
	T_RUN(test_b64_vectors);
	T_RUN(test_b64_lengths);
	T_RUN(test_b64_roundtrip);
	T_RUN(test_b64_reject);
	T_RUN(test_b64_stream_roundtrip);
	T_RUN(test_b64_stream_edges);
	T_RUN(test_equal_wipe);
	T_RUN(test_hex);
	T_RUN(test_random);
	return t_done();
}
