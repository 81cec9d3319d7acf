/*
 * fuzz_b64.c: fuzz target for the strict Base64 codec of libbscrypto (fcgi/crypto/b64.c).
 *
 * For each alphabet it checks three properties and abort()s on a violation:
 *   1. decoding the input into a buffer of exactly bsc_b64_declen_max()
 *      bytes never writes out of bounds (ASan), and any accepted input is
 *      canonical: re-encoding the bytes gives the input back exactly;
 *   2. the decoded length is exact: a buffer one byte smaller is refused;
 *   3. encoding the input as bytes gives bsc_b64_enclen() characters
 *      that decode back to the input.
 * For the standard alphabet the encoder is also compared with OpenSSL's
 * EVP_EncodeBlock(), an independent implementation. And the streaming codecs
 * (bsc_b64_enc_*, bsc_b64_dec_*) must agree with the plain ones: the same
 * texts accepted, the same bytes, the same encoding, whatever the cuts.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bsc.h"
#include "fuzz.h"

/* Inputs this large add nothing but time; libFuzzer keeps them far smaller. */
#define FUZZ_B64_MAX (1024 * 1024)

/*
 * The input cut into pieces of `piece` characters (0: of 1, 2, 3, ... in
 * turn) through the streaming decoder, then through the streaming encoder,
 * must give what the plain codec gives: plain is its decoding (r bytes, or
 * r == -1 if refused).
 */
static void
check_stream(const uint8_t *data, size_t size, size_t piece, enum bsc_b64 alpha,
    const unsigned char *plain, long r)
{
	struct bsc_b64_dec d;
	struct bsc_b64_enc e;
	size_t cap = bsc_b64_declen_max(size) + 3, off = 0, o = 0, step, cut = 1;
	unsigned char *dec = NULL;
	char *enc = NULL;
	long got = 0;

	if ((dec = malloc(cap)) == NULL)
		goto out;
	bsc_b64_dec_init(&d, alpha);
	while (off < size && got >= 0) {
		step = piece ? piece : cut++;
		if (step > size - off)
			step = size - off;
		if (bsc_b64_dec_update_max(&d, step) > cap - o)
			abort(); /* the bound is at most 3 over the plain one */
		if ((got = bsc_b64_dec_update(&d, (const char *)data + off, step, dec + o, cap - o)) >= 0)
			o += (size_t)got;
		off += step;
	}
	if (got >= 0 && (got = bsc_b64_dec_final(&d, dec + o, cap - o)) >= 0)
		o += (size_t)got;
	if ((got < 0) != (r < 0))
		abort();
	if (r < 0)
		goto out;
	if (o != (size_t)r || memcmp(dec, plain, o) != 0)
		abort();

	/* and back: the streamed encoding of those bytes is the input */
	if ((enc = malloc(size + 1)) == NULL)
		goto out;
	bsc_b64_enc_init(&e, alpha);
	off = o = 0;
	cut = 1;
	while (off < (size_t)r) {
		step = piece ? piece : cut++;
		if (step > (size_t)r - off)
			step = (size_t)r - off;
		if ((got = bsc_b64_enc_update(&e, dec + off, step, enc + o, size - o)) < 0)
			abort();
		o += (size_t)got;
		off += step;
	}
	if ((got = bsc_b64_enc_final(&e, enc + o, size - o)) < 0)
		abort();
	o += (size_t)got;
	if (o != size || memcmp(enc, data, size) != 0)
		abort();
out:
	free(enc);
	free(dec);
}

static void
check_decode(const uint8_t *data, size_t size, enum bsc_b64 alpha)
{
	static const size_t pieces[] = { 0, 1, 3, 4 }; /* 0: uneven cuts */
	size_t max = bsc_b64_declen_max(size), el, k;
	unsigned char *dec = NULL;
	char *enc = NULL;
	long r;

	/* exact size: no slack for an overflow to hide in */
	if ((dec = malloc(max ? max : 1)) == NULL)
		goto out;
	r = bsc_b64_decode((const char *)data, size, dec, max, alpha);
	for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
		check_stream(data, size, pieces[k], alpha, dec, r);
	if (r < 0)
		goto out;
	if ((size_t)r > max)
		abort();
	if (memchr(data, '\0', size) != NULL)
		abort();
	/* Only the exact length is needed, and one less is refused. */
	if (bsc_b64_decode((const char *)data, size, dec, (size_t)r, alpha) != r)
		abort();
	if (r > 0 && bsc_b64_decode((const char *)data, size, dec, (size_t)r - 1, alpha) != -1)
		abort();

	el = bsc_b64_enclen((size_t)r, alpha);
	if (el != size)
		abort();
	if ((enc = malloc(el + 1)) == NULL)
		goto out;
	if (bsc_b64_encode(dec, (size_t)r, enc, el + 1, alpha) != (long)el)
		abort();
	if (memcmp(enc, data, size) != 0 || enc[el] != '\0')
		abort();
out:
	free(enc);
	free(dec);
}

static void
check_encode(const uint8_t *data, size_t size, enum bsc_b64 alpha)
{
	size_t el = bsc_b64_enclen(size, alpha);
	unsigned char *dec = NULL, *ref = NULL;
	char *enc = NULL;
	long r;

	if ((enc = malloc(el + 1)) == NULL || (dec = malloc(size ? size : 1)) == NULL)
		goto out;
	/* one byte short (no room for the NUL) is refused */
	if (bsc_b64_encode(data, size, enc, el, alpha) != -1)
		abort();
	if (bsc_b64_encode(data, size, enc, el + 1, alpha) != (long)el)
		abort();
	if (strlen(enc) != el)
		abort();
	if (bsc_b64_declen_max(el) < size)
		abort();
	r = bsc_b64_decode(enc, el, dec, size, alpha);
	if (r != (long)size || memcmp(dec, data, size) != 0)
		abort();

	if (alpha == BSC_B64_STD && size <= INT_MAX / 2) {
		/* EVP_EncodeBlock writes enclen chars and a NUL, like ours */
		if ((ref = malloc(el + 1)) == NULL)
			goto out;
		if (EVP_EncodeBlock(ref, data, (int)size) != (int)el ||
		    memcmp(ref, enc, el + 1) != 0)
			abort();
	}
out:
	free(ref);
	free(dec);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_B64_MAX)
		return 0;
	check_decode(data, size, BSC_B64_STD);
	check_decode(data, size, BSC_B64_URL);
	check_encode(data, size, BSC_B64_STD);
	check_encode(data, size, BSC_B64_URL);
	return 0;
}
