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

#endif
