/*
 * http.h: one HTTP request, over FastCGI or plain CGI, and the one response
 * writer and the one error writer of blindsync.
 *
 * A struct req lives for the whole life of a worker thread: http_begin()
 * fills it from the FastCGI parameters (or the CGI environment) of a new
 * request, http_end() releases everything request-scoped. Parsing is bounded
 * everywhere: path, query, headers and body are checked against limits
 * before anything is copied or allocated.
 *
 * The path is taken relative to the first "/v1/" segment, so the API works
 * under any prefix (/v1/info, /sync/v1/info, /cgi-bin/x/v1/info).
 */
#ifndef BLINDSYNC_HTTP_H
#define BLINDSYNC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <fcgiapp.h>
#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "err.h"

#define HTTP_MAX_URI 2048      /* longer request targets: 414 treated as 404 */
#define HTTP_MAX_SEGS 8        /* path segments after /v1 */
#define HTTP_MAX_QUERY 16      /* query parameters */
#define HTTP_MAX_PARAMS 4      /* captured path parameters */
#define HTTP_REQUEST_ID_MAX 64

enum method { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_PATCH, M_OPTIONS, M_OTHER, M__MAX };

struct store;
struct auth;

struct req {
	/* per worker thread, kept across requests */
	FCGX_Request *fcgx;        /* NULL: CGI on stdin/stdout/environ */
	struct store *store;       /* this thread's store connection */
	struct buf out;            /* response body being built */
	struct buf hdr;            /* extra response header lines */
	struct buf err_extra;      /* extra top-level members of an error body */
	/* work to do once the answer is sent (serve_after()); kept past
	 * http_end(), cleared when it runs */
	void (*after_fn)(struct store *s, int64_t arg);
	int64_t after_arg;

	/* per request: reset by http_end() */
	const struct config *cfg;  /* snapshot held for the request */
	enum method method;
	char method_str[16];
	const char *route_name;    /* "status.info"; set by the dispatcher */
	char pathbuf[HTTP_MAX_URI + 1];
	char *segs[HTTP_MAX_SEGS]; /* decoded segments after "v1" */
	int nsegs;
	int has_v1;                /* the path had a /v1 segment */
	const char *params[HTTP_MAX_PARAMS]; /* path parameters matched by the route */
	char querybuf[HTTP_MAX_URI + 1];
	struct { char *k, *v; } query[HTTP_MAX_QUERY];
	int nquery;
	int query_bad;             /* malformed or over the bounds */
	char *body;                /* NUL-terminated copy of the body, or NULL (a JSON body over 256 KiB is freed once parsed) */
	size_t body_len;
	struct json_object *json;  /* the parsed body on JSON routes */
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	char remote_addr[64];      /* the client as far as we trust proxies */
	int64_t account_id;        /* 0 until authenticated */
	const struct auth *auth;   /* the caller of an RA_BEARER route, set by the dispatcher; else NULL */
	uint8_t slot_key[32];      /* RA_SLOT routes: SHA-256 of the X-Slot-Key, set by the dispatcher */
	int status;                /* what was answered, for the log */
	int responded;
	int streaming;             /* headers sent, body going out */
	char errmsg[ERR_MSG_MAX];  /* the message of the error being answered */
	int upload_slot, upload_slow; /* a streamed body's guard (upload.c) */
	int64_t upload_t0, upload_have;
	struct timespec t0;
};

/* Set up a worker's request object (fcgx NULL for CGI). Returns 0 or -1. */
int http_req_init(struct req *r, FCGX_Request *fcgx);
/* Free what http_req_init() allocated. */
void http_req_free(struct req *r);

/*
 * Start a request: read method, path, query, request id and client address
 * from the parameters. Never fails: problems are recorded (query_bad,
 * has_v1) for the dispatcher to answer. `cfg` is borrowed for the request.
 */
void http_begin(struct req *r, const struct config *cfg);
/* End a request: flush, log is the caller's, release request memory. */
void http_end(struct req *r);

/* A CGI/FastCGI parameter ("CONTENT_TYPE", "HTTP_IF_MATCH"), or NULL. */
const char *http_param(const struct req *r, const char *name);
/* A request header by its HTTP name ("If-Match"), or NULL. */
const char *http_header(const struct req *r, const char *name);
/* The value of query parameter `name`, or NULL. */
const char *http_query(const struct req *r, const char *name);
/* Strict decimal: digits only, no sign, no spaces, at most 18 digits.
 * 0 with *out set, or -1. */
int http_parse_u63(const char *s, int64_t *out);
/*
 * Query parameter `name` as an integer in min..max; absent: *out = def.
 * ERR_INVALID_REQUEST naming the parameter otherwise.
 */
enum err http_query_int(struct req *r, const char *name, int64_t min, int64_t max, int64_t def,
    int64_t *out);

/*
 * The declared body length: 0 if none; ERR_INVALID_REQUEST if
 * CONTENT_LENGTH is not a plain decimal number; ERR_BODY_TOO_LARGE if it
 * exceeds `max` (checked before reading anything).
 */
enum err http_content_length(struct req *r, int64_t max, int64_t *out);
/*
 * Read the whole body (after the limit check) into r->body, NUL-terminated.
 * A body shorter than CONTENT_LENGTH is ERR_INVALID_REQUEST.
 */
enum err http_read_body(struct req *r, int64_t max);
/* Read up to n raw body bytes (for streamed uploads); returns the count, 0 at end, -1 on error. */
long http_read(struct req *r, void *buf, size_t n);
/* Like http_read() but returns as soon as some bytes arrived (at least 1,
 * at most n), as read(2) does: a streamed upload sees its progress. */
long http_read_some(struct req *r, void *buf, size_t n);

/* 1 if the Content-Type is application/json (charset=utf-8 allowed). */
int http_is_json(const struct req *r);

/* Add one response header line; name and value must be trusted text. */
void http_add_header(struct req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Record the message for error `e` and return `e`, so handlers can write
 * `return http_fail(r, ERR_INVALID_REQUEST, "limit: ...")`.
 */
enum err http_fail(struct req *r, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The one response writer: status line, the headers every response carries
 * (Cache-Control: no-store, X-Content-Type-Options: nosniff, X-Request-Id),
 * the extra headers added so far, Content-Type and Content-Length when
 * `ctype` is not NULL, then r->out as the body (none for HEAD or 204/304).
 * Returns 0, or -1 if the client went away.
 */
int http_respond(struct req *r, int status, const char *ctype);
/* http_respond with application/json and r->out (built with a jw). */
int http_respond_json(struct req *r, int status);

/*
 * The one error writer: answers `e` with the error body of docs/API.md,
 * using r->errmsg if set (else the default sentence), r->err_extra members,
 * and the headers the status needs (WWW-Authenticate on 401, Retry-After on
 * 429/503 unless already added).
 */
void http_error(struct req *r, enum err e);

/*
 * Streaming: send status and headers now (no Content-Length unless
 * content_length >= 0), then http_write() the body in pieces; r->out may be
 * given a sink with http_stream_sink() to stream JSON built with a jw.
 */
int http_begin_stream(struct req *r, int status, const char *ctype, int64_t content_length);
int http_write(struct req *r, const void *data, size_t n);
/* A buf_sink_fn writing to the response of `ctx` (a struct req *). */
int http_stream_sink(void *ctx, const char *data, size_t n);

/* 1 if the client address is a loopback address. */
int http_is_loopback(const char *addr);
/* The reason phrase of a status ("Not Found"). */
const char *http_reason(int status);
/* Milliseconds since http_begin(). */
double http_elapsed_ms(const struct req *r);

#endif
