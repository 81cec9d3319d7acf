/*
 * core.h: what the core library needs from whoever drives it, with no
 * FastCGI and no HTTP in sight: byte readers and writers (a request body, a
 * file, a socket, a test buffer).
 *
 * The handlers pass adapters over struct req; the live daemon and the unit
 * tests pass their own. Must never: include http.h or name struct req.
 */
#ifndef BLINDSYNC_CORE_H
#define BLINDSYNC_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Read up to n bytes into buf: the count read (> 0), 0 at the end, -1 on an error. */
typedef long (*core_read_fn)(void *ctx, void *buf, size_t n);
/* Write the n bytes of data: 0, or -1 when the other side is gone (then stop). */
typedef int (*core_write_fn)(void *ctx, const void *data, size_t n);

/* A source of bytes: fn(ctx, ...). */
struct core_reader {
	core_read_fn fn;
	void *ctx;
};

/* A destination of bytes: fn(ctx, ...). */
struct core_writer {
	core_write_fn fn;
	void *ctx;
};

#endif
