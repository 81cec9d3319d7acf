/*
 * test_jstream.c: the streaming JSON parser (fcgi/lib/jstream.c).
 *
 * Token sequences, escapes and surrogate pairs, UTF-8 checks, the grammar,
 * the depth and length bounds, integers, skipping, streamed strings, and
 * the same documents read through read buffers of every size from 1 byte up
 * and through a pipe fed in small pieces, so that every token straddles a
 * refill somewhere. Also the writer's streaming base64 (jw_b64_begin/part/
 * end in json.c), which the export pairs with this parser: any split of the
 * bytes writes what one jw_b64() writes, and it parses back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bsc.h"
#include "json.h"
#include "jstream.h"
#include "t.h"

/* ---- a printable trace of a whole document ---- */

struct trace {
	char s[8192];
	size_t n;
};

/* Append s[0..n) to the trace, truncating at its size. */
static void tr_add(struct trace *t, const char *s, size_t n)
{
	if (n > sizeof t->s - 1 - t->n)
		n = sizeof t->s - 1 - t->n;
	memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n] = '\0';
}

/* Append a NUL-terminated string to the trace. */
static void tr_adds(struct trace *t, const char *s) { tr_add(t, s, strlen(s)); }

/* Append the token stream of js to t until END or ERROR; returns the last token. */
static enum jstream_tok trace_all(struct jstream *js, struct trace *t)
{
	static const char *names[] = {"END", "{", "}", "[", "]", "K", "S", "N", "true", "false", "null", "ERR"};
	for (;;) {
		enum jstream_tok k = jstream_next(js);
		if (t->n)
			tr_adds(t, " ");
		tr_adds(t, names[k]);
		if (k == JSTREAM_KEY || k == JSTREAM_STRING || k == JSTREAM_NUMBER) {
			size_t n;
			const char *s = jstream_str(js, &n);
			tr_adds(t, ":");
			tr_add(t, s, n);
		}
		if (k == JSTREAM_ERROR) {
			char e[48];
			snprintf(e, sizeof e, "(%d@%llu)", (int)jstream_errcode(js), (unsigned long long)jstream_offset(js));
			tr_adds(t, e);
		}
		if (k == JSTREAM_END || k == JSTREAM_ERROR)
			return k;
	}
}

/* The trace of doc[0..len) read with a buffer of buf_size bytes. */
static void trace_doc(const char *doc, size_t len, size_t buf_size, struct trace *t)
{
	struct jstream_opts o = {buf_size, 1024, 8};
	struct jstream *js = jstream_new_mem(doc, len, &o);
	t->n = 0;
	t->s[0] = '\0';
	if (!js) {
		tr_adds(t, "NOMEM");
		return;
	}
	trace_all(js, t);
	jstream_free(js);
}

/* The trace of a NUL-terminated document with the default buffer. */
static const char *tr(const char *doc)
{
	static struct trace t;
	trace_doc(doc, strlen(doc), 0, &t);
	return t.s;
}

/* The error code a document ends with (JSTREAM_OK if it parses). */
static int err_of_n(const char *doc, size_t len, int depth)
{
	struct jstream_opts o = {0, 1024, depth};
	struct jstream *js = jstream_new_mem(doc, len, &o);
	if (!js)
		return -1;
	enum jstream_tok k;
	while ((k = jstream_next(js)) != JSTREAM_END && k != JSTREAM_ERROR)
		;
	int e = (int)jstream_errcode(js);
	jstream_free(js);
	return e;
}

/* The error code a NUL-terminated document ends with. */
static int err_of(const char *doc) { return err_of_n(doc, strlen(doc), 0); }

/* ---- tests ---- */

/* The token kinds, their text, and sticky END / ERROR. */
static void test_tokens(void)
{
	T_EQ_STR(tr("{\"a\": [1, -2.5e+3, true, false, null, \"x\"], \"b\": {}}"),
	    "{ K:a [ N:1 N:-2.5e+3 true false null S:x ] K:b { } } END");
	T_EQ_STR(tr(" \t\r\n[] \n"), "[ ] END");
	T_EQ_STR(tr("\"top\""), "S:top END");
	T_EQ_STR(tr("0"), "N:0 END");
	T_EQ_STR(tr("-0.0e-0"), "N:-0.0e-0 END");
	T_EQ_STR(tr("[[],[{}],{\"\":\"\"}]"), "[ [ ] [ { } ] { K: S: } ] END");
	/* END repeats, and so does ERROR */
	struct jstream *js = jstream_new_mem("1", 1, NULL);
	T_OK(js != NULL);
	T_EQ_INT(jstream_next(js), JSTREAM_NUMBER);
	T_EQ_INT(jstream_next(js), JSTREAM_END);
	T_EQ_INT(jstream_next(js), JSTREAM_END);
	jstream_free(js);
	js = jstream_new_mem("[1,,", 4, NULL);
	T_EQ_INT(jstream_next(js), JSTREAM_ARR_BEGIN);
	T_EQ_INT(jstream_next(js), JSTREAM_NUMBER);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_SYNTAX);
	T_EQ_INT(jstream_offset(js), 3);
	T_OK(strlen(jstream_message(js)) > 0);
	jstream_free(js);
	jstream_free(NULL);
	T_OK(jstream_new_fd(-1, NULL) == NULL);
}

/* Documents that are not JSON, and where the error is reported. */
static void test_grammar(void)
{
	static const char *bad[] = {
		"", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "{\"a\"}", "[}", "{]",
		"[1]]", "{}}", "[1] 2", "\"a\" \"b\"", "01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "0x10",
		"NaN", "Infinity", "tru", "nulll", "falsey", "'a'", "[1]//", "/*c*/1", "[", "{\"a\":", "\"abc",
		"\"a\\", "[,1]", "{,}", "1 ,", "\"\\x\"", "\"\\u12G4\"", "\"\\u12\"", "True", "[1,\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int e = err_of(bad[i]);
		if (e != JSTREAM_E_SYNTAX)
			fprintf(stderr, "document %zu (%s): error %d\n", i, bad[i], e);
		T_EQ_INT(e, JSTREAM_E_SYNTAX);
	}
	/* raw control characters and NUL */
	T_EQ_INT(err_of("\"a\tb\""), JSTREAM_E_SYNTAX);
	T_EQ_INT(err_of_n("\"a\0b\"", 5, 0), JSTREAM_E_SYNTAX);
	T_EQ_INT(err_of_n("[1]\0", 4, 0), JSTREAM_E_SYNTAX);
	T_EQ_INT(err_of("\"a\x7f" "b\""), JSTREAM_OK);
	/* where the error is */
	struct jstream *js = jstream_new_mem("{\"a\": 1 \"b\"}", 12, NULL);
	while (jstream_next(js) != JSTREAM_ERROR)
		;
	T_EQ_INT(jstream_offset(js), 8);
	jstream_free(js);
}

/* Every escape, \\u escapes to 1-4 UTF-8 bytes, surrogate pairs, and the refused ones. */
static void test_escapes(void)
{
	T_EQ_STR(tr("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), "S:\"\\/\b\f\n\r\t END");
	T_EQ_STR(tr("\"\\u0041\\u00e9\\u20AC\""), "S:A\xc3\xa9\xe2\x82\xac END");
	T_EQ_STR(tr("\"\\ud83d\\ude00x\""), "S:\xf0\x9f\x98\x80x END");
	T_EQ_STR(tr("\"\\uDBFF\\uDFFF\""), "S:\xf4\x8f\xbf\xbf END");
	T_EQ_STR(tr("{\"k\\u0065y\":1}"), "{ K:key N:1 } END");
	T_EQ_INT(err_of("\"\\ud83d\""), JSTREAM_E_UTF8);       /* lone high */
	T_EQ_INT(err_of("\"\\ud83dx\""), JSTREAM_E_UTF8);
	T_EQ_INT(err_of("\"\\ud83d\\n\""), JSTREAM_E_UTF8);
	T_EQ_INT(err_of("\"\\ud83d\\u0041\""), JSTREAM_E_UTF8); /* high + non-low */
	T_EQ_INT(err_of("\"\\ude00\""), JSTREAM_E_UTF8);       /* lone low */
	T_EQ_INT(err_of("\"\\u0000\""), JSTREAM_E_UTF8);       /* NUL */
	T_EQ_INT(err_of("\"\\ud83d\\ud83d\""), JSTREAM_E_UTF8);
}

/* Raw UTF-8 in strings: the edges of each well-formed range, and malformed sequences. */
static void test_utf8(void)
{
	/* well-formed: 2, 3 and 4 bytes, the edges of each range */
	T_EQ_STR(tr("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""), "S:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 END");
	T_EQ_INT(err_of("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""),
	    JSTREAM_OK);
	static const char *bad[] = {
		"\"\xc0\x80\"",          /* overlong NUL */
		"\"\xc1\xbf\"",          /* overlong */
		"\"\xe0\x9f\xbf\"",      /* overlong 3-byte */
		"\"\xf0\x8f\xbf\xbf\"",  /* overlong 4-byte */
		"\"\xed\xa0\x80\"",      /* surrogate D800 */
		"\"\xed\xbf\xbf\"",      /* surrogate DFFF */
		"\"\xf4\x90\x80\x80\"",  /* above U+10FFFF */
		"\"\xf5\x80\x80\x80\"",
		"\"\xff\"", "\"\x80\"", "\"\xbf\"",
		"\"\xe2\x82\"",          /* truncated */
		"\"\xc3\"",
		"\"\xe2\x28\xa1\"",      /* bad continuation */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int e = err_of(bad[i]);
		if (e != JSTREAM_E_UTF8)
			fprintf(stderr, "utf8 case %zu: error %d\n", i, e);
		T_EQ_INT(e, JSTREAM_E_UTF8);
	}
	/* bytes >= 0x80 outside strings are just unexpected */
	T_EQ_INT(err_of("\xc3\xa9"), JSTREAM_E_SYNTAX);
}

/* The nesting bound: given, default (32) and cap (255). */
static void test_depth(void)
{
	T_EQ_INT(err_of_n("[[[]]]", 6, 3), JSTREAM_OK);
	T_EQ_INT(err_of_n("[[[[]]]]", 8, 3), JSTREAM_E_DEPTH);
	T_EQ_INT(err_of_n("{\"a\":{\"b\":{}}}", 14, 3), JSTREAM_OK);
	T_EQ_INT(err_of_n("{\"a\":{\"b\":{\"c\":[]}}}", 20, 3), JSTREAM_E_DEPTH);
	T_EQ_INT(err_of_n("1", 1, 1), JSTREAM_OK);
	/* the default (32) and the cap (255) */
	char deep[600];
	for (int i = 0; i < 300; i++) {
		deep[i] = '[';
		deep[300 + i] = ']';
	}
	T_EQ_INT(err_of_n(deep, 600, 0), JSTREAM_E_DEPTH);
	T_EQ_INT(err_of_n(deep + 300 - 32, 64, 0), JSTREAM_OK);
	T_EQ_INT(err_of_n(deep + 300 - 33, 66, 0), JSTREAM_E_DEPTH);
	T_EQ_INT(err_of_n(deep + 300 - 255, 510, 1000), JSTREAM_OK);
	T_EQ_INT(err_of_n(deep + 300 - 256, 512, 1000), JSTREAM_E_DEPTH);
	struct jstream *js = jstream_new_mem("[{\"a\":[", 7, NULL);
	T_EQ_INT(jstream_depth(js), 0);
	jstream_next(js);
	jstream_next(js);
	T_EQ_INT(jstream_depth(js), 2);
	jstream_next(js);
	jstream_next(js);
	T_EQ_INT(jstream_depth(js), 3);
	jstream_free(js);
}

/* The bounds of strings (after unescaping), keys and numbers. */
static void test_lengths(void)
{
	/* a string of exactly max_string bytes, and one more */
	char doc[64];
	struct jstream_opts o = {0, 10, 0};
	snprintf(doc, sizeof doc, "[\"%s\"]", "0123456789");
	struct jstream *js = jstream_new_mem(doc, strlen(doc), &o);
	jstream_next(js);
	T_EQ_INT(jstream_next(js), JSTREAM_STRING);
	T_EQ_INT(jstream_len(js), 10);
	jstream_free(js);
	snprintf(doc, sizeof doc, "[\"%s\"]", "0123456789a");
	js = jstream_new_mem(doc, strlen(doc), &o);
	jstream_next(js);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_LONG);
	jstream_free(js);
	/* escapes count after unescaping: 10 bytes written as 6 + 4 escapes */
	snprintf(doc, sizeof doc, "\"012345\\n\\t\\u0041\\/\"");
	js = jstream_new_mem(doc, strlen(doc), &o);
	T_EQ_INT(jstream_next(js), JSTREAM_STRING);
	jstream_free(js);
	/* keys have the same bound, even when values stream */
	snprintf(doc, sizeof doc, "{\"0123456789a\":1}");
	js = jstream_new_mem(doc, strlen(doc), &o);
	jstream_next(js);
	T_EQ_INT(jstream_next_stream(js, NULL, NULL), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_LONG);
	jstream_free(js);
	/* numbers: 256 characters, not 257 */
	char num[300];
	memset(num, '1', 257);
	T_EQ_INT(err_of_n(num, 256, 0), JSTREAM_OK);
	T_EQ_INT(err_of_n(num, 257, 0), JSTREAM_E_LONG);
}

/* jstream_int(): integers only, in range, up to the int64 edges. */
static void test_int(void)
{
	static const struct {
		const char *doc;
		int rc;
		int64_t v;
	} c[] = {
		{"12", 0, 12}, {"-5", 0, -5}, {"0", 0, 0}, {"-0", 0, 0}, {"1.0", -1, 0}, {"1e3", -1, 0},
		{"9223372036854775807", 0, INT64_MAX}, {"-9223372036854775808", 0, INT64_MIN},
		{"9223372036854775808", -1, 0}, {"-9223372036854775809", -1, 0}, {"123456789012345678901", -1, 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct jstream *js = jstream_new_mem(c[i].doc, strlen(c[i].doc), NULL);
		int64_t v = 7;
		T_EQ_INT(jstream_next(js), JSTREAM_NUMBER);
		T_EQ_INT(jstream_int(js, INT64_MIN, INT64_MAX, &v), c[i].rc);
		if (c[i].rc == 0)
			T_EQ_INT(v, c[i].v);
		jstream_free(js);
	}
	struct jstream *js = jstream_new_mem("5", 1, NULL);
	int64_t v;
	jstream_next(js);
	T_EQ_INT(jstream_int(js, 6, 10, &v), -1);
	T_EQ_INT(jstream_int(js, 0, 4, &v), -1);
	T_EQ_INT(jstream_int(js, 5, 5, &v), 0);
	jstream_free(js);
}

/* jstream_skip() over nested values, long strings, and broken ones. */
static void test_skip(void)
{
	const char *doc = "{\"skip\": {\"a\": [1, {\"b\": \"a long string that is longer than the bound\"}, []], "
	                  "\"c\": null}, \"n\": 2, \"s\": \"x\", \"arr\": [[1],[2]], \"last\": true}";
	struct jstream_opts o = {7, 16, 0};
	struct jstream *js = jstream_new_mem(doc, strlen(doc), &o);
	T_EQ_INT(jstream_next(js), JSTREAM_OBJ_BEGIN);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_INT(jstream_skip(js, jstream_next(js)), 0);
	T_EQ_INT(jstream_depth(js), 1);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_STR(jstream_str(js, NULL), "n");
	T_EQ_INT(jstream_skip(js, jstream_next(js)), 0);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_INT(jstream_skip(js, jstream_next(js)), 0);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_STR(jstream_str(js, NULL), "arr");
	T_EQ_INT(jstream_skip(js, jstream_next(js)), 0);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_STR(jstream_str(js, NULL), "last");
	T_EQ_INT(jstream_next(js), JSTREAM_TRUE);
	T_EQ_INT(jstream_next(js), JSTREAM_OBJ_END);
	T_EQ_INT(jstream_next(js), JSTREAM_END);
	jstream_free(js);
	/* a broken value inside is reported */
	js = jstream_new_mem("[[1,]]", 6, NULL);
	T_EQ_INT(jstream_next(js), JSTREAM_ARR_BEGIN);
	T_EQ_INT(jstream_skip(js, jstream_next(js)), -1);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_SYNTAX);
	jstream_free(js);
	js = jstream_new_mem("[[1]", 4, NULL);
	T_EQ_INT(jstream_skip(js, jstream_next(js)), -1);
	jstream_free(js);
}

/* ---- streamed strings ---- */

struct collect {
	unsigned char *p;
	size_t n, cap;
	size_t pieces, largest;
	size_t stop_after;  /* refuse once this many bytes arrived (0: never) */
};

/* A sink that appends the pieces to a struct collect (and may refuse after a bound). */
static int collect(void *ctx, const void *data, size_t n)
{
	struct collect *c = ctx;
	c->pieces++;
	if (n > c->largest)
		c->largest = n;
	if (c->stop_after && c->n + n > c->stop_after)
		return -1;
	if (c->n + n > c->cap) {
		size_t cap = (c->n + n) * 2;
		unsigned char *p = realloc(c->p, cap);
		if (!p)
			return -1;
		c->p = p;
		c->cap = cap;
	}
	memcpy(c->p + c->n, data, n);
	c->n += n;
	return 0;
}

/* A document {"a":"<n bytes, every 7th escaped>","b":1} and the string it holds. */
static char *big_doc(size_t n, size_t *doclen, unsigned char **want)
{
	char *d = malloc(n * 2 + 64);
	unsigned char *w = malloc(n + 1);
	if (!d || !w) {
		free(d);
		free(w);
		return NULL;
	}
	size_t o = 0;
	o += (size_t)sprintf(d, "{\"a\":\"");
	for (size_t i = 0; i < n; i++) {
		char c = (char)('A' + i % 26);
		w[i] = (unsigned char)c;
		if (i % 7 == 3) {
			d[o++] = '\\';
			d[o++] = i % 2 ? '/' : 'n';
			w[i] = i % 2 ? '/' : '\n';
		} else {
			d[o++] = c;
		}
	}
	o += (size_t)sprintf(d + o, "\",\"b\":1}");
	*doclen = o;
	*want = w;
	return d;
}

/* A 1 MB string streamed through buffers of every size, escapes straddling pieces. */
static void test_stream(void)
{
	size_t n = 1000003, len;
	unsigned char *want;
	char *doc = big_doc(n, &len, &want);
	T_OK(doc != NULL);
	if (!doc)
		return;
	static const size_t bufs[] = {1, 2, 3, 5, 4096, 65536};
	for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++) {
		struct jstream_opts o = {bufs[b], 100, 0};
		struct jstream *js = jstream_new_mem(doc, len, &o);
		struct collect c = {0};
		T_EQ_INT(jstream_next(js), JSTREAM_OBJ_BEGIN);
		T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_KEY); /* keys never stream */
		T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_STRING);
		T_EQ_INT(jstream_len(js), n);
		T_EQ_INT(c.n, n);
		T_OK(c.n == n && memcmp(c.p, want, n) == 0);
		T_OK(c.largest <= (bufs[b] > 100 ? bufs[b] : 100));
		T_EQ_STR(jstream_str(js, NULL), "");
		T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_KEY);
		T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_NUMBER); /* other values as usual */
		T_EQ_STR(jstream_str(js, NULL), "1");
		T_EQ_INT(jstream_next(js), JSTREAM_OBJ_END);
		T_EQ_INT(jstream_next(js), JSTREAM_END);
		free(c.p);
		jstream_free(js);
	}
	/* the same string not streamed is over the bound */
	struct jstream_opts o = {0, 100, 0};
	struct jstream *js = jstream_new_mem(doc, len, &o);
	jstream_next(js);
	jstream_next(js);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_LONG);
	jstream_free(js);
	/* a sink that refuses stops the parser */
	js = jstream_new_mem(doc, len, NULL);
	struct collect c = {0};
	c.stop_after = 50000;
	jstream_next(js);
	jstream_next(js);
	T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_SINK);
	T_OK(c.n <= 50000);
	free(c.p);
	jstream_free(js);
	/* invalid content inside a streamed string is still an error */
	js = jstream_new_mem("\"abc\\q\"", 7, NULL);
	memset(&c, 0, sizeof c);
	T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_SYNTAX);
	free(c.p);
	jstream_free(js);
	free(doc);
	free(want);
}

/* ---- chunk boundaries ---- */

static const char *docs[] = {
	"{\"format\":\"blindsync-export-1\",\"kdf\":{\"alg\":\"x\",\"n\":[1,2.5,-3e2]},\"k\":null,"
	"\"c\":[{\"name\":\"n\\u00e9\\ud83d\\ude00\",\"r\":[{\"id\":\"a\",\"d\":false,\"p\":\"QUJD\"}]}],\"t\":true}",
	"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", 123456789, -0.5E+10, [], {}]",
	"  \"\\uD83D\\uDE00\\u20AC\"  ",
	"[1, 2,]",
	"{\"a\": \"\xed\xa0\x80\"}",
	"[\"\\ud83d\\u0041\"]",
	"{\"a\":1 \"b\":2}",
};

/* Every document through read buffers of 1 byte up to its length: the same tokens. */
static void test_boundaries(void)
{
	struct trace ref, got;
	for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
		size_t len = strlen(docs[d]);
		trace_doc(docs[d], len, 65536, &ref);
		for (size_t b = 1; b <= len + 1; b++) {
			trace_doc(docs[d], len, b, &got);
			if (strcmp(ref.s, got.s) != 0)
				fprintf(stderr, "doc %zu, buffer %zu:\n  %s\n  %s\n", d, b, ref.s, got.s);
			T_EQ_STR(got.s, ref.s);
		}
	}
	T_EQ_STR(tr(docs[0]), "{ K:format S:blindsync-export-1 K:kdf { K:alg S:x K:n [ N:1 N:2.5 N:-3e2 ] } K:k null "
	    "K:c [ { K:name S:n\xc3\xa9\xf0\x9f\x98\x80 K:r [ { K:id S:a K:d false K:p S:QUJD } ] } ] K:t true } END");
}

/* Write doc into fd in pieces of 1 to 5 bytes with short pauses, from a child. */
static pid_t feeder(int fd, const char *doc, size_t len)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	size_t o = 0, k = 0;
	struct timespec pause = {0, 200 * 1000};
	while (o < len) {
		size_t n = 1 + k++ % 5;
		if (n > len - o)
			n = len - o;
		if (write(fd, doc + o, n) != (ssize_t)n)
			_exit(1);
		o += n;
		if (k % 16 == 0)
			nanosleep(&pause, NULL);
	}
	_exit(0);
}

/* The same documents through a pipe fed in small pieces; a large streamed string; a read error. */
static void test_pipe(void)
{
	struct trace ref, got;
	for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
		size_t len = strlen(docs[d]);
		trace_doc(docs[d], len, 65536, &ref);
		int p[2];
		T_OK(pipe(p) == 0);
		pid_t pid = feeder(p[1], docs[d], len);
		close(p[1]);
		struct jstream_opts o = {4096, 1024, 8};
		struct jstream *js = jstream_new_fd(p[0], &o);
		got.n = 0;
		got.s[0] = '\0';
		trace_all(js, &got);
		jstream_free(js);
		close(p[0]);
		int st;
		waitpid(pid, &st, 0);
		T_EQ_STR(got.s, ref.s);
	}
	/* a large streamed string through a pipe (more than the pipe holds) */
	size_t n = 300001, len;
	unsigned char *want;
	char *doc = big_doc(n, &len, &want);
	int p[2];
	T_OK(doc && pipe(p) == 0);
	if (!doc)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		size_t o = 0;
		while (o < len) {
			size_t k = len - o < 777 ? len - o : 777;
			if (write(p[1], doc + o, k) != (ssize_t)k)
				_exit(1);
			o += k;
		}
		_exit(0);
	}
	close(p[1]);
	struct jstream *js = jstream_new_fd(p[0], NULL);
	struct collect c = {0};
	T_EQ_INT(jstream_next(js), JSTREAM_OBJ_BEGIN);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_INT(jstream_next_stream(js, collect, &c), JSTREAM_STRING);
	T_OK(c.n == n && memcmp(c.p, want, n) == 0);
	T_EQ_INT(jstream_next(js), JSTREAM_KEY);
	T_EQ_INT(jstream_next(js), JSTREAM_NUMBER);
	T_EQ_INT(jstream_next(js), JSTREAM_OBJ_END);
	T_EQ_INT(jstream_next(js), JSTREAM_END);
	jstream_free(js);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	free(c.p);
	free(doc);
	free(want);
	/* a read error is reported as such */
	js = jstream_new_fd(1000, NULL); /* not an open descriptor */
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_READ);
	jstream_free(js);
}

/* ---- the writer's streaming base64 (json.c) ---- */

static void test_jw_b64_stream(void)
{
	uint8_t data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	static const size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 7, 100, 1000};
	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		size_t n = lens[l];
		struct buf ref;
		struct jw w;
		buf_init(&ref, 0);
		jw_init(&w, &ref);
		jw_arr_begin(&w);
		jw_b64(&w, data, n);
		jw_int(&w, 1);
		jw_arr_end(&w);
		/* pieces of every size from 1 to 7, and a first piece of every length */
		for (size_t piece = 1; piece <= 7; piece++) {
			for (size_t first = 0; first <= (n < 5 ? n : 5); first++) {
				struct buf out;
				struct jw_b64s s;
				buf_init(&out, 0);
				jw_init(&w, &out);
				jw_arr_begin(&w);
				jw_b64_begin(&w, &s);
				jw_b64_part(&s, data, first);
				for (size_t o = first; o < n; o += piece)
					jw_b64_part(&s, data + o, n - o < piece ? n - o : piece);
				jw_b64_part(&s, data, 0);
				jw_b64_end(&s);
				jw_int(&w, 1);
				jw_arr_end(&w);
				T_OK(!buf_error(&out) && out.len == ref.len && memcmp(out.p, ref.p, ref.len) == 0);
				buf_free(&out);
			}
		}
		/* and it parses back to the bytes */
		struct jstream *js = jstream_new_mem(ref.p, ref.len, NULL);
		T_EQ_INT(jstream_next(js), JSTREAM_ARR_BEGIN);
		T_EQ_INT(jstream_next(js), JSTREAM_STRING);
		size_t tl;
		const char *txt = jstream_str(js, &tl);
		uint8_t back[1000];
		T_EQ_INT(bsc_b64_decode(txt, tl, back, sizeof back, BSC_B64_STD), (long)n);
		T_OK(memcmp(back, data, n) == 0);
		jstream_free(js);
		buf_free(&ref);
	}
}

/* A read function handing out a document a few bytes at a time, then failing if asked to. */
struct dribble {
	const char *doc;
	size_t len, off, step;
	int fail_at_end;
	size_t calls;
};

static long dribble_read(void *ctx, void *buf, size_t n)
{
	struct dribble *d = ctx;
	d->calls++;
	if (d->off == d->len) {
		if (d->fail_at_end) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	if (n > d->step)
		n = d->step;
	if (n > d->len - d->off)
		n = d->len - d->off;
	memcpy(buf, d->doc + d->off, n);
	d->off += n;
	return (long)n;
}

/* jstream_new_read: the same tokens as from memory; an error stops the reads there. */
static void test_read_fn(void)
{
	const char *doc = "{\"a\":[1,\"xyz\",true],\"b\":null}  ";
	struct dribble d = {doc, strlen(doc), 0, 3, 0, 0};
	struct jstream_opts o = {8, 0, 0};
	struct jstream *js = jstream_new_read(dribble_read, &d, &o);
	static const enum jstream_tok want[] = {JSTREAM_OBJ_BEGIN, JSTREAM_KEY, JSTREAM_ARR_BEGIN, JSTREAM_NUMBER,
	    JSTREAM_STRING, JSTREAM_TRUE, JSTREAM_ARR_END, JSTREAM_KEY, JSTREAM_NULL, JSTREAM_OBJ_END, JSTREAM_END};
	T_OK(js != NULL);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		T_EQ_INT(jstream_next(js), want[i]);
	jstream_free(js);
	T_OK(jstream_new_read(NULL, NULL, NULL) == NULL);

	/* garbage: refused at once, the rest never asked for */
	static char big[100000];
	memset(big, 'x', sizeof big);
	struct dribble g = {big, sizeof big, 0, 4096, 0, 0};
	js = jstream_new_read(dribble_read, &g, NULL);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_SYNTAX);
	T_OK(g.off <= 4096);
	jstream_free(js);

	/* a failing read is JSTREAM_E_READ */
	struct dribble f = {"[1,", 3, 0, 64, 1, 0};
	js = jstream_new_read(dribble_read, &f, NULL);
	T_EQ_INT(jstream_next(js), JSTREAM_ARR_BEGIN);
	T_EQ_INT(jstream_next(js), JSTREAM_NUMBER);
	T_EQ_INT(jstream_next(js), JSTREAM_ERROR);
	T_EQ_INT(jstream_errcode(js), JSTREAM_E_READ);
	jstream_free(js);
}

int main(void)
{
	T_RUN(test_tokens);
	T_RUN(test_grammar);
	T_RUN(test_escapes);
	T_RUN(test_utf8);
	T_RUN(test_depth);
	T_RUN(test_lengths);
	T_RUN(test_int);
	T_RUN(test_skip);
	T_RUN(test_stream);
	T_RUN(test_boundaries);
	T_RUN(test_pipe);
	T_RUN(test_read_fn);
	T_RUN(test_jw_b64_stream);
	return t_done();
}
