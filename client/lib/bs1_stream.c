/*
 * bs1_stream.c: the stream of client.md section 5 (backups, kind 4; slots,
 * kind 5): a 20-byte header, then chunks of 64 KiB pieces sealed with a
 * counter nonce whose last byte flags the last chunk.
 *
 * Memory is bounded (one chunk and one piece buffer per stream) whatever
 * the size. A reader must never release a piece before its tag verified,
 * and must fail a truncated, reordered, extended or re-flagged stream.
 */
#include <stdlib.h>
#include <string.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"
#include "bs1_test.h"

struct bs1_stream {
	int writer;
	enum bs1_kind kind;
	struct bs1_key base, payload;
	uint8_t header[BS1_STREAM_HEADER];
	size_t hdrn;            /* reader: header bytes collected */
	int header_done;        /* writer: header sent; reader: checked */
	uint64_t index;         /* the next chunk's number */
	int failed;             /* a latched error, or 0 */
	int ended;
	size_t n;               /* bytes in buf */
	uint8_t buf[BS1_CHUNK]; /* writer: the piece; reader: the chunk */
	uint8_t out[BS1_CHUNK]; /* writer: the chunk; reader: the piece */
};

/* payload_key = HKDF(base_key, "blindsync bs1 stream" || salt, 32). */
int
bs1_stream_payload_key(const struct bs1_key *base_key, const uint8_t salt[16],
    struct bs1_key *out)
{
	static const char label[] = "blindsync bs1 stream";
	uint8_t info[sizeof label - 1 + 16];
	int rc;

	if (!base_key || !salt || !out)
		return BS1_E_INPUT;
	memcpy(info, label, sizeof label - 1);
	memcpy(info + sizeof label - 1, salt, 16);
	rc = bs1__hkdf(base_key->b, sizeof base_key->b, info, sizeof info, out);
	bs1_wipe(info, sizeof info);
	return rc;
}

/* nonce_i = u88be(i) || u8(last). */
static void
chunk_nonce(uint64_t index, int last, uint8_t nonce[12])
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[3 + i] = (uint8_t)(index >> (56 - 8 * i));
	nonce[11] = last ? 1 : 0;
}

/* Seal one piece as chunk index. */
int
bs1_stream_chunk_seal(const struct bs1_key *payload_key,
    const uint8_t header[BS1_STREAM_HEADER], uint64_t index, int last, const uint8_t *piece,
    size_t n, uint8_t *out)
{
	uint8_t nonce[12];

	if (!payload_key || !header || !out || n > BS1_PIECE || (n && !piece))
		return BS1_E_INPUT;
	chunk_nonce(index, last, nonce);
	return bs1__aead_seal(payload_key, nonce, header, BS1_STREAM_HEADER, piece, n, out) == 0
	    ? BS1_OK : BS1_E_CRYPTO;
}

/* Open one chunk as chunk index. */
int
bs1_stream_chunk_open(const struct bs1_key *payload_key,
    const uint8_t header[BS1_STREAM_HEADER], uint64_t index, int last, const uint8_t *chunk,
    size_t n, uint8_t *out)
{
	uint8_t nonce[12];

	if (!payload_key || !header || !out || !chunk || n < BS1_TAG || n > BS1_CHUNK)
		return BS1_E_INPUT;
	chunk_nonce(index, last, nonce);
	return bs1__aead_open(payload_key, nonce, header, BS1_STREAM_HEADER, chunk, n, out) == 0
	    ? BS1_OK : BS1_E_DECRYPT;
}

/* The length of the stream of n plaintext bytes. */
uint64_t
bs1_stream_len(uint64_t n)
{
	uint64_t pieces = n == 0 ? 1 : (n + BS1_PIECE - 1) / BS1_PIECE;

	return BS1_STREAM_HEADER + pieces * BS1_TAG + n;
}

static struct bs1_stream *
stream_new(int writer, enum bs1_kind kind, const struct bs1_key *base_key)
{
	struct bs1_stream *s;

	if ((kind != BS1_KIND_BACKUP && kind != BS1_KIND_SLOT) || !base_key)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->writer = writer;
	s->kind = kind;
	s->base = *base_key;
	return s;
}

/* A writer with the given salt. */
int
bs1_stream_writer_new_salt(enum bs1_kind kind, const struct bs1_key *base_key,
    const uint8_t salt[16], struct bs1_stream **out)
{
	struct bs1_stream *s;
	int rc;

	if (!out)
		return BS1_E_INPUT;
	*out = NULL;
	if ((kind != BS1_KIND_BACKUP && kind != BS1_KIND_SLOT) || !base_key || !salt)
		return BS1_E_INPUT;
	s = stream_new(1, kind, base_key);
	if (!s)
		return BS1_E_NOMEM;
	s->header[0] = 'B';
	s->header[1] = 'S';
	s->header[2] = '1';
	s->header[3] = (uint8_t)kind;
	memcpy(s->header + 4, salt, 16);
	rc = bs1_stream_payload_key(base_key, salt, &s->payload);
	if (rc != BS1_OK) {
		bs1_stream_free(s);
		return rc;
	}
	*out = s;
	return BS1_OK;
}

/* A writer with a random salt. */
int
bs1_stream_writer_new(enum bs1_kind kind, const struct bs1_key *base_key,
    struct bs1_stream **out)
{
	uint8_t salt[16];

	if (bsc_random(salt, sizeof salt) != 0)
		return BS1_E_CRYPTO;
	return bs1_stream_writer_new_salt(kind, base_key, salt, out);
}

/* A reader: the header comes with the first bytes. */
int
bs1_stream_reader_new(enum bs1_kind kind, const struct bs1_key *base_key,
    struct bs1_stream **out)
{
	if (!out)
		return BS1_E_INPUT;
	*out = NULL;
	if ((kind != BS1_KIND_BACKUP && kind != BS1_KIND_SLOT) || !base_key)
		return BS1_E_INPUT;
	*out = stream_new(0, kind, base_key);
	return *out ? BS1_OK : BS1_E_NOMEM;
}

/* Wipe and free. */
void
bs1_stream_free(struct bs1_stream *s)
{
	bs1_free(s, sizeof *s);
}

/* Latch an error and return it. */
static int
fail(struct bs1_stream *s, int rc)
{
	s->failed = rc;
	bs1_wipe(s->buf, sizeof s->buf);
	bs1_wipe(s->out, sizeof s->out);
	s->n = 0;
	return rc;
}

/* Writer: send the header once. */
static int
send_header(struct bs1_stream *s, bs1_sink sink, void *arg)
{
	if (s->header_done)
		return BS1_OK;
	s->header_done = 1;
	return sink(arg, s->header, BS1_STREAM_HEADER) == 0 ? BS1_OK : BS1_E_SINK;
}

/* Writer: seal the buffered piece as the next chunk and send it. */
static int
flush_piece(struct bs1_stream *s, int last, bs1_sink sink, void *arg)
{
	int rc = bs1_stream_chunk_seal(&s->payload, s->header, s->index, last, s->buf, s->n,
	    s->out);

	if (rc != BS1_OK)
		return rc;
	if (sink(arg, s->out, s->n + BS1_TAG) != 0)
		return BS1_E_SINK;
	bs1_wipe(s->buf, s->n);
	s->index++;
	s->n = 0;
	return BS1_OK;
}

/* Feed plaintext to a writer. */
int
bs1_stream_write(struct bs1_stream *s, const uint8_t *in, size_t n, bs1_sink sink, void *arg)
{
	int rc;

	if (!s || !s->writer || !sink || (n && !in) || s->ended)
		return BS1_E_INPUT;
	if (s->failed)
		return s->failed;
	rc = send_header(s, sink, arg);
	if (rc != BS1_OK)
		return fail(s, rc);
	while (n > 0) {
		size_t k;

		/* a full piece is not the last one: more bytes have come */
		if (s->n == BS1_PIECE && (rc = flush_piece(s, 0, sink, arg)) != BS1_OK)
			return fail(s, rc);
		k = BS1_PIECE - s->n < n ? BS1_PIECE - s->n : n;
		memcpy(s->buf + s->n, in, k);
		s->n += k;
		in += k;
		n -= k;
	}
	return BS1_OK;
}

/* Seal the last piece. */
int
bs1_stream_write_end(struct bs1_stream *s, bs1_sink sink, void *arg)
{
	int rc;

	if (!s || !s->writer || !sink || s->ended)
		return BS1_E_INPUT;
	if (s->failed)
		return s->failed;
	rc = send_header(s, sink, arg);
	if (rc == BS1_OK)
		rc = flush_piece(s, 1, sink, arg);
	if (rc != BS1_OK)
		return fail(s, rc);
	s->ended = 1;
	return BS1_OK;
}

/* Reader: open the buffered chunk and hand its piece to the sink. */
static int
open_chunk(struct bs1_stream *s, int last, bs1_sink sink, void *arg)
{
	size_t pn;

	if (s->n < BS1_TAG)
		return BS1_E_DECRYPT;
	/* an empty last chunk is the empty plaintext, and only as chunk 0 */
	if (last && s->n == BS1_TAG && s->index != 0)
		return BS1_E_DECRYPT;
	if (bs1_stream_chunk_open(&s->payload, s->header, s->index, last, s->buf, s->n,
	    s->out) != BS1_OK)
		return BS1_E_DECRYPT;
	pn = s->n - BS1_TAG;
	if (pn && sink(arg, s->out, pn) != 0)
		return BS1_E_SINK;
	bs1_wipe(s->out, pn);
	s->index++;
	s->n = 0;
	return BS1_OK;
}

/* Feed stream bytes to a reader. */
int
bs1_stream_read(struct bs1_stream *s, const uint8_t *in, size_t n, bs1_sink sink, void *arg)
{
	int rc;

	if (!s || s->writer || !sink || (n && !in) || s->ended)
		return BS1_E_INPUT;
	if (s->failed)
		return s->failed;
	while (n > 0 && s->hdrn < BS1_STREAM_HEADER) {
		s->header[s->hdrn++] = *in++;
		n--;
	}
	if (s->hdrn == BS1_STREAM_HEADER && !s->header_done) {
		if (memcmp(s->header, "BS1", 3) != 0 || s->header[3] != s->kind)
			return fail(s, BS1_E_DECRYPT);
		rc = bs1_stream_payload_key(&s->base, s->header + 4, &s->payload);
		if (rc != BS1_OK)
			return fail(s, rc);
		s->header_done = 1;
	}
	while (n > 0) {
		size_t k;

		/* a full chunk followed by more bytes is not the last one */
		if (s->n == BS1_CHUNK && (rc = open_chunk(s, 0, sink, arg)) != BS1_OK)
			return fail(s, rc);
		k = BS1_CHUNK - s->n < n ? BS1_CHUNK - s->n : n;
		memcpy(s->buf + s->n, in, k);
		s->n += k;
		in += k;
		n -= k;
	}
	return BS1_OK;
}

/* The end of the input: what is buffered must be a valid last chunk. */
int
bs1_stream_read_end(struct bs1_stream *s, bs1_sink sink, void *arg)
{
	int rc;

	if (!s || s->writer || !sink || s->ended)
		return BS1_E_INPUT;
	if (s->failed)
		return s->failed;
	if (!s->header_done)
		return fail(s, BS1_E_DECRYPT);
	rc = open_chunk(s, 1, sink, arg);
	if (rc != BS1_OK)
		return fail(s, rc);
	s->ended = 1;
	return BS1_OK;
}
