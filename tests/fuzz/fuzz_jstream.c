/*
 * fuzz_jstream.c: fuzz target for the streaming JSON parser (jstream.c).
 *
 * Each input is parsed several ways, and any disagreement abort()s:
 *   1. with read buffers of 1, 2, 3, 7 bytes and the default 64 KiB: the same
 *      tokens, strings, numbers and final result (END, or the same error at
 *      the same offset), so no token depends on where a refill falls;
 *   2. with every string value streamed to a sink instead of kept: the same;
 *   3. skipping every top-level container with jstream_skip(): accepted iff
 *      the full parse accepts;
 *   4. a document it accepts, written back out canonically from its tokens,
 *      parses to the same tokens (and writes out identically again);
 *   5. a document it accepts (nesting under 16, not a bare null, which
 *      json_parse() refuses by design) is also accepted by json_parse()
 *      (json-c, strict): jstream is never laxer than json-c.
 * ASan catches any read or write outside the buffers it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"
#include "jstream.h"

#define FUZZ_JSTREAM_MAX (256 * 1024)
#define FUZZ_DEPTH 16

/* FNV-1a over bytes, so streamed pieces hash like one run. */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

/* Append a string value, escaped as JSON. */
static void out_str(struct buf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_addc(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_add(o, e, 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_add(o, e, 6);
		} else {
			buf_addc(o, s[i]);
		}
	}
	buf_addc(o, '"');
}

struct result {
	uint64_t h;
	enum jstream_tok last;
	enum jstream_err err;
	uint64_t err_off;
	int max_depth;
	enum jstream_tok first;  /* the first token */
};

struct sink_ctx {
	uint64_t sh;
};

/* The sink of streamed strings: hash the piece (never empty). */
static int sink(void *ctx, const void *data, size_t n)
{
	struct sink_ctx *s = ctx;
	if (n == 0)
		abort(); /* pieces are never empty */
	mix(&s->sh, data, n);
	return 0;
}

/*
 * Parse doc[0..len) with a read buffer of buf_size bytes; stream: strings
 * go through the sink; canon (may be NULL): write the canonical form.
 */
static void run(const uint8_t *doc, size_t len, size_t buf_size, int stream, struct buf *canon, struct result *res)
{
	struct jstream_opts o = {buf_size, len + 1, FUZZ_DEPTH};
	struct jstream *js = jstream_new_mem(doc, len, &o);
	unsigned char first[FUZZ_DEPTH + 2];
	int after_key = 0;
	memset(res, 0, sizeof *res);
	res->h = 1469598103934665603ULL;
	first[0] = 1;
	if (!js)
		abort();
	for (;;) {
		struct sink_ctx sc = {1469598103934665603ULL};
		int d0 = jstream_depth(js);
		enum jstream_tok t = stream ? jstream_next_stream(js, sink, &sc) : jstream_next(js);
		size_t n = 0;
		const char *s = jstream_str(js, &n);
		if (s[n] != '\0')
			abort();
		if (t == JSTREAM_STRING && !stream)
			mix(&sc.sh, s, n);
		if ((t == JSTREAM_KEY || t == JSTREAM_NUMBER) && (size_t)strlen(s) != n)
			abort();
		if (t == JSTREAM_STRING && (stream ? n != 0 : jstream_len(js) != n))
			abort();
		unsigned char k = (unsigned char)t;
		mix(&res->h, &k, 1);
		if (k && !res->first)
			res->first = t;
		if (t == JSTREAM_STRING)
			mix(&res->h, &sc.sh, sizeof sc.sh);
		if (t == JSTREAM_KEY || t == JSTREAM_NUMBER)
			mix(&res->h, s, n + 1);
		if (t == JSTREAM_NUMBER) {
			int64_t v;
			(void)jstream_int(js, INT64_MIN, INT64_MAX, &v);
		}
		int d = jstream_depth(js);
		if (d > res->max_depth)
			res->max_depth = d;
		if (d < 0 || d > FUZZ_DEPTH)
			abort();
		if (canon && t != JSTREAM_ERROR && t != JSTREAM_END) {
			/* separators: before a key or a value that is not the first at its level */
			int closing = t == JSTREAM_OBJ_END || t == JSTREAM_ARR_END;
			if (!closing && !after_key && !first[d0])
				buf_addc(canon, ',');
			if (!closing && !after_key)
				first[d0] = 0;
			after_key = 0;
			switch (t) {
			case JSTREAM_OBJ_BEGIN: buf_addc(canon, '{'); first[d] = 1; break;
			case JSTREAM_ARR_BEGIN: buf_addc(canon, '['); first[d] = 1; break;
			case JSTREAM_OBJ_END: buf_addc(canon, '}'); break;
			case JSTREAM_ARR_END: buf_addc(canon, ']'); break;
			case JSTREAM_KEY: out_str(canon, s, n); buf_addc(canon, ':'); after_key = 1; break;
			case JSTREAM_STRING: out_str(canon, s, n); break;
			case JSTREAM_NUMBER: buf_add(canon, s, n); break;
			case JSTREAM_TRUE: buf_adds(canon, "true"); break;
			case JSTREAM_FALSE: buf_adds(canon, "false"); break;
			case JSTREAM_NULL: buf_adds(canon, "null"); break;
			default: break;
			}
		}
		if (t == JSTREAM_END || t == JSTREAM_ERROR) {
			res->last = t;
			res->err = jstream_errcode(js);
			res->err_off = t == JSTREAM_ERROR ? jstream_offset(js) : 0;
			if ((t == JSTREAM_ERROR) != (res->err != JSTREAM_OK))
				abort();
			if (jstream_next(js) != t) /* sticky */
				abort();
			break;
		}
	}
	jstream_free(js);
}

/* Accepted iff every top-level container is skipped without an error. */
static int run_skip(const uint8_t *doc, size_t len)
{
	struct jstream_opts o = {3, len + 1, FUZZ_DEPTH};
	struct jstream *js = jstream_new_mem(doc, len, &o);
	int ok = 0;
	if (!js)
		abort();
	for (;;) {
		enum jstream_tok t = jstream_next(js);
		if (t == JSTREAM_END) {
			ok = 1;
			break;
		}
		if (t == JSTREAM_ERROR)
			break;
		if (jstream_depth(js) == 1 && (t == JSTREAM_OBJ_BEGIN || t == JSTREAM_ARR_BEGIN)) {
			if (jstream_skip(js, t) != 0)
				break;
			if (jstream_depth(js) != 0)
				abort();
		}
	}
	jstream_free(js);
	return ok;
}

/* Two parses must agree on everything. */
static void same(const struct result *a, const struct result *b)
{
	if (a->h != b->h || a->last != b->last || a->err != b->err || a->err_off != b->err_off)
		abort();
}

/* One input, parsed every way listed at the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t bufs[] = {1, 2, 3, 7};
	struct result ref, r;
	struct buf canon, canon2;
	if (size > FUZZ_JSTREAM_MAX)
		return 0;
	buf_init(&canon, 0);
	buf_init(&canon2, 0);
	run(data, size, 0, 0, &canon, &ref);
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
		run(data, size, bufs[i], 0, NULL, &r);
		same(&ref, &r);
	}
	run(data, size, 0, 1, NULL, &r);
	same(&ref, &r);
	run(data, size, 5, 1, NULL, &r);
	same(&ref, &r);
	if (run_skip(data, size) != (ref.last == JSTREAM_END))
		abort();
	if (ref.last == JSTREAM_END && !buf_error(&canon)) {
		run((const uint8_t *)canon.p, canon.len, 0, 0, &canon2, &r);
		if (r.last != JSTREAM_END || r.h != ref.h)
			abort();
		if (!buf_error(&canon2) && (canon2.len != canon.len || memcmp(canon2.p, canon.p, canon.len) != 0))
			abort();
		/* json_parse() refuses a top-level null: a body must be a value; and
		 * an object that repeats a member name, which jstream, a tokenizer,
		 * leaves to its reader (transfer.c refuses those it reads) */
		if (ref.max_depth < FUZZ_DEPTH && ref.first != JSTREAM_NULL) {
			char msg[ERR_MSG_MAX];
			struct json_object *obj = NULL;
			enum err e = json_parse((const char *)data, size, &obj, msg);
			if (e == ERR_INVALID_JSON && !strstr(msg, "repeats a member name"))
				abort();
			json_object_put(obj);
		}
	}
	buf_free(&canon);
	buf_free(&canon2);
	return 0;
}
