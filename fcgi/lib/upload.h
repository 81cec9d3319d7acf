/*
 * upload.h: the HTTP side of binary request bodies (backups, slots, the
 * import): the declared length and the If-Match / If-None-Match headers.
 *
 * The bodies themselves are read through a core_reader over http_read() and
 * staged by blobs_stage() (blobs.h) into an unnamed temporary file beside
 * the store, in fixed-size pieces, hashed on the way, so that memory does
 * not depend on the body's size and a slow client never holds the store's
 * write lock.
 */
#ifndef BLINDSYNC_UPLOAD_H
#define BLINDSYNC_UPLOAD_H

#include <stdint.h>

#include "http.h"

/*
 * The declared length of a binary body: ERR_LENGTH_REQUIRED without
 * Content-Length, ERR_TOO_SMALL under min, ERR_BODY_TOO_LARGE over max.
 */
enum err upload_length(struct req *r, int64_t min, int64_t max, int64_t *len);

/*
 * Preconditions. If-Match: returns 1 and *version for `"N"`, 2 for `*`,
 * 0 when absent, -1 when malformed. If-None-Match is read by
 * upload_none_match(): 1 if it is "*" or lists `"version"`, else 0.
 */
int upload_if_match(struct req *r, int64_t *version);
int upload_none_match(struct req *r, int64_t version);

/*
 * The guard of a streamed body. upload_begin() admits it or refuses it
 * (503 unavailable when this process has only UPLOAD_FREE_THREADS threads
 * left for other requests, 429 rate_limited when its address or account
 * already has limits.max_uploads_per_ip / _per_account uploads running for
 * over a second; both with Retry-After) and starts the clock; then read the
 * body with upload_read() (a core_reader function, ctx = r): it ends the
 * body (-1) when no byte came for limits.upload_idle_seconds or when, after
 * that long, the average is under limits.upload_min_rate. upload_end(r, e)
 * releases the upload and returns e, or the 408 request_timeout (already
 * answered through http_fail) when the body was too slow.
 */
enum err upload_begin(struct req *r);
long upload_read(void *ctx, void *buf, size_t n);
enum err upload_end(struct req *r, enum err e);

#endif
