/*
 * buf.c: growable buffer with a cap and an optional streaming sink.
 * Never aborts: failures set the sticky error flag.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_DEFAULT_MAX ((size_t)64 << 20)

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max ? max : BUF_DEFAULT_MAX;
}

void buf_set_sink(struct buf *b, buf_sink_fn sink, void *ctx, size_t flush_at)
{
	b->sink = sink;
	b->sink_ctx = ctx;
	b->flush_at = flush_at ? flush_at : 65536;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
	b->sink = NULL;
}

void buf_reset(struct buf *b, size_t keep)
{
	if (b->cap > keep) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
	b->len = 0;
	b->err = 0;
	b->sink = NULL;
	b->sink_ctx = NULL;
}

int buf_flush(struct buf *b)
{
	if (b->err)
		return -1;
	if (!b->sink || b->len == 0)
		return 0;
	if (b->sink(b->sink_ctx, b->p, b->len) != 0) {
		b->err = 1;
		return -1;
	}
	b->len = 0;
	return 0;
}

char *buf_reserve(struct buf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->sink && b->len + n > b->flush_at && b->len > 0 && buf_flush(b) != 0)
		return NULL;
	if (n > b->max || b->len > b->max - n) {
		if (!b->sink || n > b->max) {
			b->err = 1;
			return NULL;
		}
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1) {
			if (cap > ((size_t)-1) / 2) {
				b->err = 1;
				return NULL;
			}
			cap *= 2;
		}
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	if (b->err)
		return;
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	char *w = buf_reserve(b, n);
	if (!w)
		return;
	if (n)
		memcpy(w, data, n);
	buf_commit(b, n);
}

void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_addc(struct buf *b, char c) { buf_add(b, &c, 1); }

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	char *w = buf_reserve(b, (size_t)n + 1);
	if (!w)
		return;
	va_start(ap, fmt);
	vsnprintf(w, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_commit(b, (size_t)n);
}
