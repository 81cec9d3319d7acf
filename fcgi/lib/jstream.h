/*
 * jstream.h: a streaming JSON pull parser over a file descriptor (or a
 * read function, or a memory buffer), with a fixed read buffer.
 *
 * json_parse() (json.h) builds a whole tree in memory, which is right for
 * request bodies of a few MiB and wrong for an account import of 1 GiB.
 * jstream reads the document through a buffer of a fixed size and hands out
 * one token at a time, so memory does not depend on the document's size:
 *
 *   {  }  [  ]  a member name (JSTREAM_KEY)  string  number  true  false  null
 *
 * and JSTREAM_END once the one top-level value and the white space after it
 * are consumed. It also checks the grammar as it goes (the ':' and ','
 * separators are consumed here, never handed out; a ']' closing a '{' is an
 * error), so a caller walking the tokens cannot accept a malformed document.
 *
 * Strict RFC 8259: no comments, no single quotes, no trailing commas, no
 * leading zeros, no NaN; strings must be valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), \u escapes must pair surrogates, and
 * no string may contain U+0000 (raw control characters are refused anyway).
 * Bounds: nesting depth, the length of one string (after unescaping) and
 * of one number. A string value may instead be streamed, in pieces, to a
 * sink (jstream_next_stream), which is how a backup of hundreds of MiB
 * inside an import passes through with bounded memory.
 *
 * Must never: read past what it was given, allocate more than the bounds it
 * was created with, or echo document content in its error messages.
 */
#ifndef BLINDSYNC_JSTREAM_H
#define BLINDSYNC_JSTREAM_H

#include <stddef.h>
#include <stdint.h>

enum jstream_tok {
	JSTREAM_END,        /* the document ended after its one value */
	JSTREAM_OBJ_BEGIN,
	JSTREAM_OBJ_END,
	JSTREAM_ARR_BEGIN,
	JSTREAM_ARR_END,
	JSTREAM_KEY,        /* a member name: jstream_str() */
	JSTREAM_STRING,     /* jstream_str(), or streamed: jstream_len() */
	JSTREAM_NUMBER,     /* its text: jstream_str(); jstream_int() */
	JSTREAM_TRUE,
	JSTREAM_FALSE,
	JSTREAM_NULL,
	JSTREAM_ERROR,      /* jstream_errcode(), jstream_message(), jstream_offset() */
	JSTREAM__MAX
};

enum jstream_err {
	JSTREAM_OK,
	JSTREAM_E_SYNTAX,   /* not JSON: unexpected character or end */
	JSTREAM_E_UTF8,     /* invalid UTF-8, a lone surrogate, or U+0000 */
	JSTREAM_E_DEPTH,    /* nested deeper than max_depth */
	JSTREAM_E_LONG,     /* a string or number over its bound */
	JSTREAM_E_READ,     /* read(2) failed */
	JSTREAM_E_NOMEM,    /* allocation failed */
	JSTREAM_E_SINK,     /* the sink of a streamed string asked to stop */
	JSTREAM_E__MAX
};

/* Bounds; a zero field takes the default given beside it. */
struct jstream_opts {
	size_t buf_size;    /* read buffer: 64 KiB */
	size_t max_string;  /* longest string or key, in bytes after unescaping: 64 KiB */
	int max_depth;      /* deepest nesting of objects and arrays (1..255): 32 */
};

#define JSTREAM_MAX_NUMBER 256  /* the longest number, in characters */

/* A sink for streamed strings: 0 to go on, -1 to stop (JSTREAM_E_SINK). */
typedef int (*jstream_sink_fn)(void *ctx, const void *data, size_t n);

struct jstream;

/*
 * A parser reading the document from fd (from its current offset, until
 * read(2) returns 0; the fd stays the caller's) or from data[0..len)
 * (borrowed for the parser's life). opts may be NULL for the defaults.
 * Returns NULL if memory runs out. Free with jstream_free().
 */
struct jstream *jstream_new_fd(int fd, const struct jstream_opts *opts);
struct jstream *jstream_new_mem(const void *data, size_t len, const struct jstream_opts *opts);
/*
 * A source read through fn(ctx, buf, n): it fills buf with 1..n bytes and
 * returns their count, returns 0 at the end of the document, or -1 on an
 * error (JSTREAM_E_READ, with errno set). This is how a document is checked
 * while it arrives (an import checks the request body as it stages it).
 * ctx is borrowed for the parser's life.
 */
typedef long (*jstream_read_fn)(void *ctx, void *buf, size_t n);
struct jstream *jstream_new_read(jstream_read_fn fn, void *ctx, const struct jstream_opts *opts);
/* Free the parser (NULL is fine). */
void jstream_free(struct jstream *js);

/*
 * The next token. After JSTREAM_END or JSTREAM_ERROR every further call
 * returns the same. The text of a KEY, STRING or NUMBER stays valid until
 * the next call.
 */
enum jstream_tok jstream_next(struct jstream *js);
/*
 * Like jstream_next(), but if the next token is a string value (never a
 * member name), its bytes (unescaped) go to sink in pieces of at most the
 * read buffer's size instead of being kept, and it may be of any length:
 * jstream_len() is then its total length and jstream_str() is empty.
 */
enum jstream_tok jstream_next_stream(struct jstream *js, jstream_sink_fn sink, void *ctx);
/*
 * Consume the rest of a value whose first token `first` was just returned:
 * for JSTREAM_OBJ_BEGIN or JSTREAM_ARR_BEGIN everything up to the matching
 * end (strings inside are read in streaming mode, so of any length); for any
 * other value token, nothing. Returns 0, or -1 on an error (see
 * jstream_errcode()).
 */
int jstream_skip(struct jstream *js, enum jstream_tok first);

/* The text of the last KEY, STRING or NUMBER, NUL-terminated; *len (may be NULL) its length. */
const char *jstream_str(const struct jstream *js, size_t *len);
/* The length of the last string, streamed or not. */
uint64_t jstream_len(const struct jstream *js);
/*
 * The last NUMBER as an integer in min..max: 0 and *out, or -1 if it has a
 * fraction or an exponent or is out of range.
 */
int jstream_int(const struct jstream *js, int64_t min, int64_t max, int64_t *out);
/* The current nesting depth (0 at the top level). */
int jstream_depth(const struct jstream *js);

/* After JSTREAM_ERROR: what went wrong (JSTREAM_OK before any error). */
enum jstream_err jstream_errcode(const struct jstream *js);
/* A short English description of the error, without document content. */
const char *jstream_message(const struct jstream *js);
/* The byte offset of the last token's start, or of the error. */
uint64_t jstream_offset(const struct jstream *js);

#endif
