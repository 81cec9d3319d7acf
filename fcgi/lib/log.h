/*
 * log.h: one line per event to stderr (the front end puts it in its error
 * log; systemd in the journal). Lines are built whole and written with one
 * write(2), so threads never interleave. Untrusted text is escaped
 * (non-printable bytes as \xNN, quotes and backslashes escaped) and
 * truncated. Never pass a token, key or payload to these functions.
 */
#ifndef BLINDSYNC_LOG_H
#define BLINDSYNC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Set the process name shown in each line and the minimum level. */
void log_setup(const char *prog, enum log_level level);
void log_set_level(enum log_level level);

/* A free-form message at `level`, printf-style. The caller must not format
 * untrusted text into it: use log_escape() for that. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The access line of one request:
 *   2026-11-22T10:04:05Z blindsync-status[4242] info req=ID GET status.info 200 0.412ms account=-
 * `account_id` <= 0 prints "-". `detail` (may be NULL) is appended escaped.
 */
void log_request(const char *request_id, const char *method, const char *route, int status,
    double ms, int64_t account_id, const char *detail);

/* Copy src into dst (dstlen bytes, NUL-terminated) escaping anything but
 * printable ASCII, truncating at 200 source bytes. */
void log_escape(const char *src, char *dst, size_t dstlen);

#endif
