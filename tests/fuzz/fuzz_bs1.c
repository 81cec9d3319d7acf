/*
 * fuzz_bs1.c: fuzz target for the parsers and openers of the client's bs1
 * suite (client/lib): the first byte of the input picks one, the rest is
 * its input. Each must refuse garbage with its own error, never crash,
 * never read out of bounds (ASan), and what it accepts must be canonical:
 *   0  bs1_kdf_parse: an accepted kdf, written back by bs1_kdf_json, parses
 *      to the same struct;
 *   1  bs1_open of a record (fixed key and context): an envelope that opens
 *      is sealed again, with its own nonce, into the very same bytes (one
 *      valid form: minimal padding, zero bytes);
 *   2  the stream reader (kind 4, fixed key), fed in pieces of 1 to 256
 *      bytes: a stream that reads is written again, with its own salt, into
 *      the same bytes;
 *   3  bs1_recovery_parse: an accepted text's key, written and read back,
 *      is the same key;
 *   4  bs1_grant_parse: an accepted grant, written by bs1_grant_json, parses
 *      to the same members;
 *   5  bs1_grant_open (bob opening what alice signed; the input is the
 *      64-byte signature then the sealed grant): only a valid signature
 *      opens, and the grant comes out whole.
 * Any violation abort()s. Linked with the client library only (no server).
 */
#include <stdlib.h>
#include <string.h>

#include "bs1.h"
#include "bs1_test.h"
#include "fuzz.h"

/* The reference vectors' keys (tests/client/bs1-vectors.json): ck of
 * "qPJUaFw_CDKXa95CzSIi-u" at kv 1, backup_key("main"), bob's X25519
 * secret and alice's Ed25519 public key. */
static const struct bs1_key ck = { {
	0xd8, 0x78, 0xba, 0xe9, 0x66, 0x83, 0xe4, 0x31, 0x26, 0x75, 0x63, 0xe3, 0xa1, 0x66, 0x91, 0xba,
	0xfa, 0xaa, 0x4e, 0x23, 0x4a, 0x7b, 0xa7, 0xf6, 0xbc, 0xc4, 0xda, 0x92, 0x07, 0xd4, 0x4c, 0x4b } };
static const struct bs1_key backup = { {
	0x14, 0xca, 0x70, 0x9e, 0xcb, 0xfc, 0xbc, 0x47, 0xa7, 0x74, 0x89, 0x57, 0xd5, 0x8d, 0xfc, 0xc5,
	0xf8, 0x71, 0x9f, 0xd3, 0x70, 0x43, 0xce, 0x43, 0xbf, 0x55, 0x54, 0x64, 0x5b, 0xeb, 0xdc, 0xc9 } };
static const uint8_t bob_x25519_sk[32] = {
	0xd5, 0x86, 0x52, 0x84, 0x40, 0x9c, 0x3f, 0x89, 0x7c, 0x60, 0x1f, 0xd7, 0x82, 0xb9, 0x51, 0xad,
	0xa6, 0x03, 0x4c, 0x27, 0xff, 0x67, 0x75, 0x11, 0x64, 0x01, 0xbe, 0xe2, 0xf5, 0x63, 0x50, 0x5c };
static const struct bs1_ed25519_pk alice_pk = { {
	0x46, 0xa0, 0x5e, 0x20, 0x1f, 0x9e, 0x37, 0xc4, 0x2e, 0xdb, 0x78, 0x0f, 0x6c, 0x74, 0xec, 0x38,
	0x92, 0x21, 0xa1, 0x93, 0xe9, 0x17, 0x59, 0x98, 0xb9, 0x0f, 0x45, 0xb9, 0x38, 0x62, 0xd8, 0x3c } };

#define FUZZ_BS1_MAX (1024 * 1024)

static void
must(int cond)
{
	if (!cond)
		abort();
}

static void
fuzz_kdf(const uint8_t *d, size_t n)
{
	struct bs1_kdf k, back;
	const char *why = NULL;
	char text[256];
	int rc = bs1_kdf_parse((const char *)d, n, &k, &why);

	must(rc == BS1_OK || (rc == BS1_E_KDF_FLOOR && why));
	if (rc != BS1_OK)
		return;
	must(k.p == 1 && k.m >= 19456 && k.m <= 4194304 && k.t >= 2 && k.t <= 64);
	must(bs1_kdf_json(&k, text, sizeof text) == BS1_OK);
	must(bs1_kdf_parse(text, strlen(text), &back, NULL) == BS1_OK);
	must(memcmp(&k, &back, sizeof k) == 0);
}

static void
fuzz_envelope(const uint8_t *d, size_t n)
{
	uint8_t *ctx = NULL, *pt = NULL, *again = NULL;
	size_t ctxlen = 0, ptlen = 0, againlen = 0;
	int rc;

	must(bs1_ctx_record("qPJUaFw_CDKXa95CzSIi-u", "Oz2YHHoNi5JaaffRwoSm2M", &ctx, &ctxlen) ==
	    BS1_OK);
	rc = bs1_open(BS1_KIND_RECORD, &ck, ctx, ctxlen, d, n, &pt, &ptlen);
	must(rc == BS1_OK || (rc == BS1_E_DECRYPT && pt == NULL));
	if (rc == BS1_OK) {
		uint32_t kv;

		must(bs1_envelope_kv(d, n, &kv) == BS1_OK);
		must(bs1_seal_with_nonce(BS1_KIND_RECORD, kv, &ck, ctx, ctxlen, pt, ptlen,
		    d + BS1_ENV_HEADER, &again, &againlen) == BS1_OK);
		must(againlen == n && memcmp(again, d, n) == 0);
	}
	free(again);
	bs1_free(pt, ptlen);
	free(ctx);
}

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static int
append(void *arg, const uint8_t *p, size_t n)
{
	struct buf *b = arg;

	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2;
		uint8_t *np = realloc(b->p, cap);

		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

static void
fuzz_stream(const uint8_t *d, size_t n)
{
	struct bs1_stream *r = NULL, *w = NULL;
	struct buf pt = { 0 }, again = { 0 };
	size_t off = 0, step = 1;
	int rc;

	must(bs1_stream_reader_new(BS1_KIND_BACKUP, &backup, &r) == BS1_OK);
	rc = BS1_OK;
	while (rc == BS1_OK && off < n) {
		size_t k = n - off < step ? n - off : step;

		rc = bs1_stream_read(r, d + off, k, append, &pt);
		off += k;
		step = step % 256 + 1;
	}
	if (rc == BS1_OK)
		rc = bs1_stream_read_end(r, append, &pt);
	must(rc == BS1_OK || rc == BS1_E_DECRYPT);
	bs1_stream_free(r);
	if (rc == BS1_OK) {
		must(n >= BS1_STREAM_HEADER);
		must(bs1_stream_writer_new_salt(BS1_KIND_BACKUP, &backup, d + 4, &w) == BS1_OK);
		must(bs1_stream_write(w, pt.p, pt.n, append, &again) == BS1_OK);
		must(bs1_stream_write_end(w, append, &again) == BS1_OK);
		must(again.n == n && memcmp(again.p, d, n) == 0);
		bs1_stream_free(w);
	}
	free(pt.p);
	free(again.p);
}

static void
fuzz_recovery(const uint8_t *d, size_t n)
{
	struct bs1_recovery_key rk, back;
	char text[BS1_RECOVERY_TEXT_LEN + 1];
	int rc = bs1_recovery_parse((const char *)d, n, &rk);

	must(rc == BS1_OK || rc == BS1_E_RECOVERY);
	if (rc != BS1_OK)
		return;
	must(bs1_recovery_text(&rk, text) == BS1_OK);
	must(bs1_recovery_parse(text, strlen(text), &back) == BS1_OK);
	must(memcmp(&rk, &back, sizeof rk) == 0);
}

static void
fuzz_grant_json(const uint8_t *d, size_t n)
{
	struct bs1_grant g, back;
	uint8_t *json = NULL;
	size_t jn = 0;
	int rc = bs1_grant_parse(d, n, &g);

	must(rc == BS1_OK || rc == BS1_E_DECRYPT);
	if (rc != BS1_OK)
		return;
	must(bs1_grant_json(&g, &json, &jn) == BS1_OK);
	must(bs1_grant_parse(json, jn, &back) == BS1_OK);
	must(strcmp(g.collection, back.collection) == 0 && strcmp(g.name, back.name) == 0 &&
	    g.kv == back.kv && g.role == back.role && memcmp(&g.key, &back.key, 32) == 0 &&
	    memcmp(&g.id_key, &back.id_key, 32) == 0);
	bs1_grant_clear(&g);
	bs1_grant_clear(&back);
	bs1_free(json, jn);
}

static void
fuzz_grant_open(const uint8_t *d, size_t n)
{
	static const uint8_t seed[32];
	struct bs1_identity bob;
	struct bs1_sig sig;
	uint8_t *g = NULL;
	size_t gn = 0;
	int rc;

	if (n < sizeof sig.b)
		return;
	memcpy(sig.b, d, sizeof sig.b);
	must(bs1_identity_from_secrets(bob_x25519_sk, seed, &bob) == BS1_OK);
	rc = bs1_grant_open(&bob, "bob", &alice_pk, d + 64, n - 64, &sig, &g, &gn);
	must(rc == BS1_OK || (rc == BS1_E_DECRYPT && g == NULL));
	bs1_free(g, gn);
}

/* Dispatch on the first byte. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_BS1_MAX)
		return 0;
	switch (data[0] % 6) {
	case 0: fuzz_kdf(data + 1, size - 1); break;
	case 1: fuzz_envelope(data + 1, size - 1); break;
	case 2: fuzz_stream(data + 1, size - 1); break;
	case 3: fuzz_recovery(data + 1, size - 1); break;
	case 4: fuzz_grant_json(data + 1, size - 1); break;
	case 5: fuzz_grant_open(data + 1, size - 1); break;
	}
	return 0;
}
