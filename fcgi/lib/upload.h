/*
 * upload.h: binary request bodies (backups, slots) and their preconditions.
 *
 * upload_stage() streams a body from the request into an unnamed temporary
 * file beside the store, in fixed-size pieces, hashing it on the way, so
 * that memory does not depend on the body's size and a slow client never
 * holds the store's write lock: the transaction that publishes the new
 * version only copies from that file.
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
 * Read exactly len body bytes into a new temporary file in directory `dir`
 * (*fd, the caller closes it) and their SHA-256. A body shorter than len
 * (the client went away) is ERR_INVALID_REQUEST, and nothing is kept.
 * The request's adapter of blobs_stage(), which does the work.
 */
enum err upload_stage(struct req *r, const char *dir, int64_t len, int *fd, uint8_t sha256[32]);

/*
 * Preconditions. If-Match: returns 1 and *version for `"N"`, 2 for `*`,
 * 0 when absent, -1 when malformed. If-None-Match is read by
 * upload_none_match(): 1 if it is "*" or lists `"version"`, else 0.
 */
int upload_if_match(struct req *r, int64_t *version);
int upload_none_match(struct req *r, int64_t version);

#endif
