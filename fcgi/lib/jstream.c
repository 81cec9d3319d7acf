/*
 * jstream.c: the streaming JSON pull parser of jstream.h.
 *
 * One state machine for the grammar (what may come next: a value, a member
 * name, ':', ',' or a close) and byte-level scanners for strings, numbers
 * and literals. Input arrives through one fixed buffer that fill() refills
 * from the fd or the memory; every scanner takes its bytes through getb() /
 * peekb(), so a token may straddle any number of refills. Strings go into a
 * growable buffer capped at max_string (or, streamed, out to a sink in
 * pieces); numbers are capped at JSTREAM_MAX_NUMBER characters.
 *
 * Must never: read outside buf[0..end), let a string outgrow its cap, or
 * accept input that is not JSON.
 */
#include "jstream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSTREAM_DEF_BUF (64 * 1024)
#define JSTREAM_DEF_STRING (64 * 1024)
#define JSTREAM_DEF_DEPTH 32
#define JSTREAM_DEPTH_CAP 255
#define JSTREAM_PIECE (16 * 1024)   /* streamed strings go out in pieces of at most this */

enum state {
	ST_VALUE,      /* a value: at the top, after ':', after ',' in an array */
	ST_ARR_FIRST,  /* after '[': a value or ']' */
	ST_OBJ_FIRST,  /* after '{': a member name or '}' */
	ST_OBJ_KEY,    /* after ',' in an object: a member name */
	ST_COLON,      /* after a member name */
	ST_AFTER,      /* after a value inside a container: ',' or its close */
	ST_END,        /* the top-level value is complete: white space, then the end */
	ST_ERROR
};

struct jstream {
	/* the source: fd >= 0, or a read function, or mem[0..mem_len) */
	int fd;
	jstream_read_fn readfn;
	void *read_ctx;
	const unsigned char *mem;
	size_t mem_len, mem_off;
	/* the read buffer: buf[pos..end) not yet consumed; buf[0] is at document offset base */
	unsigned char *buf;
	size_t buf_size, pos, end;
	uint64_t base;
	int eof;
	/* bounds */
	size_t max_string, piece;
	int max_depth;
	/* the grammar */
	enum state st;
	int depth;
	unsigned char stack[JSTREAM_DEPTH_CAP + 1]; /* 'o' or 'a' per open container */
	/* the text of the current token (NUL-terminated) */
	char *str;
	size_t str_len, str_cap, str_cap_max;
	uint64_t slen;             /* length of the current string, streamed or not */
	jstream_sink_fn sink;      /* set while a streamed string is read */
	void *sink_ctx;
	uint64_t tok_off;
	/* the first error */
	enum jstream_err err;
	const char *msg;
	char msgbuf[96];
};

/* Record the first error, switch to ST_ERROR and return -1. */
static int fail(struct jstream *js, enum jstream_err e, const char *msg)
{
	if (js->err == JSTREAM_OK) {
		js->err = e;
		js->msg = msg;
		js->tok_off = js->base + js->pos;
	}
	js->st = ST_ERROR;
	/* no partial token text survives an error */
	js->str_len = 0;
	if (js->str)
		js->str[0] = '\0';
	return -1;
}

/* Make sure buf[pos..end) is not empty: 1 when it is not, 0 at the end of the input, -1 on an error. */
static int fill(struct jstream *js)
{
	if (js->pos < js->end)
		return 1;
	if (js->err)
		return -1;
	if (js->eof)
		return 0;
	js->base += js->end;
	js->pos = js->end = 0;
	if (js->readfn) {
		long got = js->readfn(js->read_ctx, js->buf, js->buf_size);
		if (got < 0)
			return fail(js, JSTREAM_E_READ, "cannot read the document");
		if (got == 0) {
			js->eof = 1;
			return 0;
		}
		js->end = (size_t)got <= js->buf_size ? (size_t)got : js->buf_size;
		return 1;
	}
	if (js->fd < 0) {
		size_t n = js->mem_len - js->mem_off;
		if (n > js->buf_size)
			n = js->buf_size;
		if (n == 0) {
			js->eof = 1;
			return 0;
		}
		memcpy(js->buf, js->mem + js->mem_off, n);
		js->mem_off += n;
		js->end = n;
		return 1;
	}
	for (;;) {
		ssize_t got = read(js->fd, js->buf, js->buf_size);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(js, JSTREAM_E_READ, "cannot read the document");
		if (got == 0) {
			js->eof = 1;
			return 0;
		}
		js->end = (size_t)got;
		return 1;
	}
}

/* The next byte, consumed: 0..255, -1 at the end of the input, -2 after an error. */
static int getb(struct jstream *js)
{
	int f = fill(js);
	if (f <= 0)
		return f == 0 ? -1 : -2;
	return js->buf[js->pos++];
}

/* The next byte without consuming it: as getb(). */
static int peekb(struct jstream *js)
{
	int f = fill(js);
	if (f <= 0)
		return f == 0 ? -1 : -2;
	return js->buf[js->pos];
}

/* Grow the token buffer to hold `need` bytes (NUL included); 0 or -1. */
static int reserve(struct jstream *js, size_t need)
{
	if (need <= js->str_cap)
		return 0;
	if (need > js->str_cap_max)
		return fail(js, JSTREAM_E_LONG, "a string is too long");
	size_t cap = js->str_cap;
	while (cap < need)
		cap = cap > js->str_cap_max / 2 ? js->str_cap_max : cap * 2;
	char *p = realloc(js->str, cap);
	if (!p)
		return fail(js, JSTREAM_E_NOMEM, "out of memory");
	js->str = p;
	js->str_cap = cap;
	return 0;
}

/* Hand the buffered piece of a streamed string to the sink. 0 or -1. */
static int flush_piece(struct jstream *js)
{
	if (js->str_len == 0)
		return 0;
	if (js->sink(js->sink_ctx, js->str, js->str_len) != 0)
		return fail(js, JSTREAM_E_SINK, "the document was refused while a string was read");
	js->str_len = 0;
	return 0;
}

/* Append n bytes of string content: kept (up to max_string) or streamed. 0 or -1. */
static int put(struct jstream *js, const void *p, size_t n)
{
	js->slen += n;
	if (js->sink) {
		if (js->str_len + n > js->piece) {
			if (flush_piece(js))
				return -1;
			if (n >= js->piece) {
				if (js->sink(js->sink_ctx, p, n) != 0)
					return fail(js, JSTREAM_E_SINK, "the document was refused while a string was read");
				return 0;
			}
		}
	} else if (n > js->max_string - js->str_len) {
		snprintf(js->msgbuf, sizeof js->msgbuf, "a string is longer than %zu bytes", js->max_string);
		return fail(js, JSTREAM_E_LONG, js->msgbuf);
	}
	if (reserve(js, js->str_len + n + 1))
		return -1;
	memcpy(js->str + js->str_len, p, n);
	js->str_len += n;
	return 0;
}

/* Four hex digits of a \u escape into *cp. 0 or -1. */
static int hex4(struct jstream *js, uint32_t *cp)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int c = getb(js);
		if (c == -2)
			return -1;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return fail(js, JSTREAM_E_SYNTAX, "a \\u escape needs four hex digits");
	}
	*cp = v;
	return 0;
}

/* One escape sequence, the backslash consumed. 0 or -1. */
static int escape(struct jstream *js)
{
	int c = getb(js);
	char ch;
	switch (c) {
	case '"': ch = '"'; break;
	case '\\': ch = '\\'; break;
	case '/': ch = '/'; break;
	case 'b': ch = '\b'; break;
	case 'f': ch = '\f'; break;
	case 'n': ch = '\n'; break;
	case 'r': ch = '\r'; break;
	case 't': ch = '\t'; break;
	case 'u': {
		uint32_t cp, lo;
		if (hex4(js, &cp))
			return -1;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return fail(js, JSTREAM_E_UTF8, "a \\u escape is a lone low surrogate");
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			int b1 = getb(js), b2 = b1 == '\\' ? getb(js) : -1;
			if (b1 == -2 || b2 == -2)
				return -1;
			if (b1 != '\\' || b2 != 'u')
				return fail(js, JSTREAM_E_UTF8, "a \\u escape is a lone high surrogate");
			if (hex4(js, &lo))
				return -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return fail(js, JSTREAM_E_UTF8, "a \\u escape is a lone high surrogate");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
			return fail(js, JSTREAM_E_UTF8, "a string contains U+0000");
		unsigned char u[4];
		size_t n;
		if (cp < 0x80) {
			u[0] = (unsigned char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (unsigned char)(0xC0 | cp >> 6);
			u[1] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			u[0] = (unsigned char)(0xE0 | cp >> 12);
			u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			u[2] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			u[0] = (unsigned char)(0xF0 | cp >> 18);
			u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
			u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			u[3] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		return put(js, u, n);
	}
	case -2:
		return -1;
	case -1:
		return fail(js, JSTREAM_E_SYNTAX, "unterminated string");
	default:
		return fail(js, JSTREAM_E_SYNTAX, "invalid escape in a string");
	}
	return put(js, &ch, 1);
}

/*
 * One multi-byte UTF-8 character whose lead byte c (>= 0x80) was consumed:
 * checked against the well-formed sequences of RFC 3629 section 4 (no
 * overlong forms, no surrogates, nothing above U+10FFFF). 0 or -1.
 */
static int utf8(struct jstream *js, int c)
{
	unsigned char seq[4];
	int n;
	int lo = 0x80, hi = 0xBF;
	seq[0] = (unsigned char)c;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1;
	} else if (c == 0xE0) {
		n = 2;
		lo = 0xA0;
	} else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
		n = 2;
	} else if (c == 0xED) {
		n = 2;
		hi = 0x9F;
	} else if (c == 0xF0) {
		n = 3;
		lo = 0x90;
	} else if (c >= 0xF1 && c <= 0xF3) {
		n = 3;
	} else if (c == 0xF4) {
		n = 3;
		hi = 0x8F;
	} else {
		return fail(js, JSTREAM_E_UTF8, "a string is not valid UTF-8");
	}
	for (int k = 1; k <= n; k++) {
		int b = getb(js);
		if (b == -2)
			return -1;
		if (b < lo || b > hi)
			return fail(js, JSTREAM_E_UTF8, "a string is not valid UTF-8");
		seq[k] = (unsigned char)b;
		lo = 0x80;
		hi = 0xBF;
	}
	return put(js, seq, (size_t)n + 1);
}

/* 1 for the bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x22 '"' */
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,           /* 0x5c '\\' */
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string after its opening quote, into str or out to the sink. 0 or -1. */
static int read_string(struct jstream *js)
{
	js->str_len = 0;
	js->slen = 0;
	for (;;) {
		int f = fill(js);
		if (f <= 0)
			return f == 0 ? fail(js, JSTREAM_E_SYNTAX, "unterminated string") : -1;
		/* the common case: a run of plain ASCII, taken in one piece */
		const unsigned char *b = js->buf;
		size_t i = js->pos, e = js->end;
		while (i < e && plain[b[i]])
			i++;
		if (i > js->pos) {
			size_t start = js->pos;
			js->pos = i;
			if (put(js, b + start, i - start))
				return -1;
			continue;
		}
		int c = b[js->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(js, JSTREAM_E_SYNTAX, "a string contains a raw control character");
		if (c == '\\' ? escape(js) : utf8(js, c))
			return -1;
	}
	if (js->sink && flush_piece(js))
		return -1;
	if (js->sink)
		js->str_len = 0;
	js->str[js->str_len] = '\0';
	return 0;
}

/* 1 if s is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* A number whose first character c was consumed. 0 or -1. */
static int read_number(struct jstream *js, int c)
{
	js->str_len = 0;
	js->str[js->str_len++] = (char)c;
	for (;;) {
		c = peekb(js);
		if (c == -2)
			return -1;
		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
			break;
		if (js->str_len >= JSTREAM_MAX_NUMBER)
			return fail(js, JSTREAM_E_LONG, "a number is longer than 256 characters");
		js->str[js->str_len++] = (char)c;
		js->pos++;
	}
	js->str[js->str_len] = '\0';
	return number_ok(js->str) ? 0 : fail(js, JSTREAM_E_SYNTAX, "invalid number");
}

/* The rest of a literal ("rue" of true). 0 or -1. */
static int literal(struct jstream *js, const char *rest)
{
	for (; *rest; rest++) {
		int c = getb(js);
		if (c == -2)
			return -1;
		if (c != *rest)
			return fail(js, JSTREAM_E_SYNTAX, "unexpected character");
	}
	return 0;
}

/* A value is complete: what may come next. */
static void after_value(struct jstream *js)
{
	js->st = js->depth ? ST_AFTER : ST_END;
}

/* Skip white space; returns the next byte without consuming it, -1 at the end, -2 after an error. */
static int skip_ws(struct jstream *js)
{
	for (;;) {
		int f = fill(js);
		if (f <= 0)
			return f == 0 ? -1 : -2;
		while (js->pos < js->end) {
			unsigned char c = js->buf[js->pos];
			if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
				return c;
			js->pos++;
		}
	}
}

/* Open a container. */
static enum jstream_tok open_(struct jstream *js, unsigned char kind)
{
	if (js->depth >= js->max_depth) {
		snprintf(js->msgbuf, sizeof js->msgbuf, "nested deeper than %d levels", js->max_depth);
		fail(js, JSTREAM_E_DEPTH, js->msgbuf);
		return JSTREAM_ERROR;
	}
	js->pos++;
	js->stack[js->depth++] = kind;
	js->st = kind == 'o' ? ST_OBJ_FIRST : ST_ARR_FIRST;
	return kind == 'o' ? JSTREAM_OBJ_BEGIN : JSTREAM_ARR_BEGIN;
}

/* Close the innermost container (its closing byte not yet consumed). */
static enum jstream_tok close_(struct jstream *js)
{
	js->pos++;
	unsigned char kind = js->stack[--js->depth];
	after_value(js);
	return kind == 'o' ? JSTREAM_OBJ_END : JSTREAM_ARR_END;
}

/* A value starting with byte c (not yet consumed). */
static enum jstream_tok value(struct jstream *js, int c, jstream_sink_fn sink, void *ctx)
{
	int rc;
	enum jstream_tok t;
	switch (c) {
	case '{':
		return open_(js, 'o');
	case '[':
		return open_(js, 'a');
	case '"':
		js->pos++;
		js->sink = sink;
		js->sink_ctx = ctx;
		rc = read_string(js);
		js->sink = NULL;
		js->sink_ctx = NULL;
		t = JSTREAM_STRING;
		break;
	case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
		js->pos++;
		rc = read_number(js, c);
		t = JSTREAM_NUMBER;
		break;
	case 't':
		js->pos++;
		rc = literal(js, "rue");
		t = JSTREAM_TRUE;
		break;
	case 'f':
		js->pos++;
		rc = literal(js, "alse");
		t = JSTREAM_FALSE;
		break;
	case 'n':
		js->pos++;
		rc = literal(js, "ull");
		t = JSTREAM_NULL;
		break;
	case -1:
		fail(js, JSTREAM_E_SYNTAX, "unexpected end of the document");
		return JSTREAM_ERROR;
	default:
		fail(js, JSTREAM_E_SYNTAX, "unexpected character");
		return JSTREAM_ERROR;
	}
	if (rc)
		return JSTREAM_ERROR;
	after_value(js);
	return t;
}

/* The one token reader behind jstream_next() and jstream_next_stream(). */
static enum jstream_tok next_tok(struct jstream *js, jstream_sink_fn sink, void *ctx)
{
	if (js->st == ST_ERROR)
		return JSTREAM_ERROR;
	js->str_len = 0;
	js->str[0] = '\0';
	js->slen = 0;
	for (;;) {
		int c = skip_ws(js);
		if (c == -2)
			return JSTREAM_ERROR;
		js->tok_off = js->base + js->pos;
		unsigned char top = js->depth ? js->stack[js->depth - 1] : 0;
		switch (js->st) {
		case ST_END:
			if (c == -1)
				return JSTREAM_END;
			fail(js, JSTREAM_E_SYNTAX, "data after the JSON value");
			return JSTREAM_ERROR;
		case ST_COLON:
			if (c != ':') {
				fail(js, JSTREAM_E_SYNTAX, c == -1 ? "unexpected end of the document" : "expected ':'");
				return JSTREAM_ERROR;
			}
			js->pos++;
			js->st = ST_VALUE;
			continue;
		case ST_AFTER:
			if (c == ',') {
				js->pos++;
				js->st = top == 'o' ? ST_OBJ_KEY : ST_VALUE;
				continue;
			}
			if ((c == '}' && top == 'o') || (c == ']' && top == 'a'))
				return close_(js);
			fail(js, JSTREAM_E_SYNTAX, c == -1 ? "unexpected end of the document" :
			    top == 'o' ? "expected ',' or '}'" : "expected ',' or ']'");
			return JSTREAM_ERROR;
		case ST_OBJ_FIRST:
			if (c == '}')
				return close_(js);
			/* fall through */
		case ST_OBJ_KEY:
			if (c != '"') {
				fail(js, JSTREAM_E_SYNTAX, c == -1 ? "unexpected end of the document" : "expected a member name");
				return JSTREAM_ERROR;
			}
			js->pos++;
			js->sink = NULL;
			if (read_string(js))
				return JSTREAM_ERROR;
			js->st = ST_COLON;
			return JSTREAM_KEY;
		case ST_ARR_FIRST:
			if (c == ']')
				return close_(js);
			/* fall through */
		case ST_VALUE:
			return value(js, c, sink, ctx);
		case ST_ERROR:
			return JSTREAM_ERROR;
		}
	}
}

enum jstream_tok jstream_next(struct jstream *js) { return next_tok(js, NULL, NULL); }

enum jstream_tok jstream_next_stream(struct jstream *js, jstream_sink_fn sink, void *ctx)
{
	return next_tok(js, sink, ctx);
}

/* A sink that keeps nothing. */
static int discard(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return 0;
}

int jstream_skip(struct jstream *js, enum jstream_tok first)
{
	if (first == JSTREAM_ERROR)
		return -1;
	if (first != JSTREAM_OBJ_BEGIN && first != JSTREAM_ARR_BEGIN)
		return 0;
	int target = js->depth - 1;
	for (;;) {
		enum jstream_tok t = next_tok(js, discard, NULL);
		if (t == JSTREAM_ERROR || t == JSTREAM_END)
			return -1; /* END cannot come before the close: the grammar forbids it */
		if ((t == JSTREAM_OBJ_END || t == JSTREAM_ARR_END) && js->depth == target)
			return 0;
	}
}

/* Create a parser with the source already set in *js (fd, mem). */
static struct jstream *create(struct jstream *js, const struct jstream_opts *o)
{
	js->buf_size = o && o->buf_size ? o->buf_size : JSTREAM_DEF_BUF;
	js->max_string = o && o->max_string ? o->max_string : JSTREAM_DEF_STRING;
	js->max_depth = o && o->max_depth ? o->max_depth : JSTREAM_DEF_DEPTH;
	if (js->max_depth < 1)
		js->max_depth = 1;
	if (js->max_depth > JSTREAM_DEPTH_CAP)
		js->max_depth = JSTREAM_DEPTH_CAP;
	js->piece = js->max_string < JSTREAM_PIECE ? js->max_string : JSTREAM_PIECE;
	size_t m = js->max_string > js->piece ? js->max_string : js->piece;
	if (m < JSTREAM_MAX_NUMBER)
		m = JSTREAM_MAX_NUMBER;
	if (m > SIZE_MAX - 1) {
		free(js);
		return NULL;
	}
	js->str_cap_max = m + 1;
	js->str_cap = JSTREAM_MAX_NUMBER + 1;
	js->st = ST_VALUE;
	js->buf = malloc(js->buf_size);
	js->str = malloc(js->str_cap);
	if (!js->buf || !js->str) {
		jstream_free(js);
		return NULL;
	}
	js->str[0] = '\0';
	return js;
}

struct jstream *jstream_new_fd(int fd, const struct jstream_opts *opts)
{
	if (fd < 0)
		return NULL;
	struct jstream *js = calloc(1, sizeof *js);
	if (!js)
		return NULL;
	js->fd = fd;
	return create(js, opts);
}

struct jstream *jstream_new_read(jstream_read_fn fn, void *ctx, const struct jstream_opts *opts)
{
	if (!fn)
		return NULL;
	struct jstream *js = calloc(1, sizeof *js);
	if (!js)
		return NULL;
	js->fd = -1;
	js->readfn = fn;
	js->read_ctx = ctx;
	return create(js, opts);
}

struct jstream *jstream_new_mem(const void *data, size_t len, const struct jstream_opts *opts)
{
	if (!data && len)
		return NULL;
	struct jstream *js = calloc(1, sizeof *js);
	if (!js)
		return NULL;
	js->fd = -1;
	js->mem = data;
	js->mem_len = len;
	return create(js, opts);
}

void jstream_free(struct jstream *js)
{
	if (!js)
		return;
	free(js->buf);
	free(js->str);
	free(js);
}

const char *jstream_str(const struct jstream *js, size_t *len)
{
	if (len)
		*len = js->str_len;
	return js->str;
}

uint64_t jstream_len(const struct jstream *js) { return js->slen; }

int jstream_int(const struct jstream *js, int64_t min, int64_t max, int64_t *out)
{
	const char *s = js->str;
	size_t i = s[0] == '-' ? 1 : 0;
	if (js->str_len == i || js->str_len > 20)
		return -1;
	for (; i < js->str_len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || !end || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int jstream_depth(const struct jstream *js) { return js->depth; }

enum jstream_err jstream_errcode(const struct jstream *js) { return js->err; }

const char *jstream_message(const struct jstream *js) { return js->msg ? js->msg : "no error"; }

uint64_t jstream_offset(const struct jstream *js) { return js->tok_off; }
