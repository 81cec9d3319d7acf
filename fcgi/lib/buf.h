/*
 * buf.h: a growable byte buffer with a hard cap and an optional sink.
 *
 * Used for response bodies and anything built piece by piece. Errors are
 * sticky: after an allocation failure, a cap overflow or a failed flush,
 * every further append is a no-op and buf_error() is non-zero, so emitting
 * code can check once at the end. With a sink set, the buffer flushes to it
 * whenever it holds `flush_at` bytes, which is how large responses stream
 * with bounded memory.
 */
#ifndef BLINDSYNC_BUF_H
#define BLINDSYNC_BUF_H

#include <stddef.h>

typedef int (*buf_sink_fn)(void *ctx, const char *data, size_t n); /* 0 or -1 */

struct buf {
	char *p;
	size_t len, cap;
	size_t max;          /* hard cap on len (without a sink), 0 = 64 MiB */
	int err;             /* sticky: 1 after any failure */
	buf_sink_fn sink;    /* NULL: grow in memory only */
	void *sink_ctx;
	size_t flush_at;     /* with a sink: flush when len reaches this */
};

/* Initialise an empty buffer (no allocation yet). */
void buf_init(struct buf *b, size_t max);
/* Route output to `sink` in chunks of about `flush_at` bytes. */
void buf_set_sink(struct buf *b, buf_sink_fn sink, void *ctx, size_t flush_at);
/* Free the memory; the buffer is then empty and reusable. NULL is fine. */
void buf_free(struct buf *b);
/* Empty the buffer, clear the error and the sink; keep up to `keep` bytes of
 * capacity (larger allocations are released so a worker's RSS stays bounded). */
void buf_reset(struct buf *b, size_t keep);

/* Make room for n more bytes; returns a pointer to write them at, or NULL
 * (then the error is set). Call buf_commit() with how many were written. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Send what is buffered to the sink (no-op without one). 0 or -1. */
int buf_flush(struct buf *b);
/* Non-zero after any failure. */
static inline int buf_error(const struct buf *b) { return b->err; }

#endif
