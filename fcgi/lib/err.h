/*
 * err.h: the one error enum of blindsync.
 *
 * Every failure inside a request travels up as an `enum err` return code
 * (0 is success) to the dispatcher, which hands it to http_error(), the one
 * place that writes an error response. Each value maps one-to-one to an HTTP
 * status and to the stable `code` string of docs/API.md (err.c holds the
 * table; a static assert keeps it the size of the enum).
 *
 * This header must stay free of any other blindsync header so that every
 * module, and programs outside the server, can use it.
 */
#ifndef BLINDSYNC_ERR_H
#define BLINDSYNC_ERR_H

/* Size of the message buffers that carry an error's human sentence. */
#define ERR_MSG_MAX 256

enum err {
	ERR_OK = 0,
	ERR_INVALID_JSON,         /* 400 */
	ERR_INVALID_REQUEST,      /* 400 */
	ERR_TOO_SMALL,            /* 400 */
	ERR_UNAUTHORIZED,         /* 401 */
	ERR_INVALID_CREDENTIALS,  /* 401 */
	ERR_TOKEN_EXPIRED,        /* 401 */
	ERR_TOKEN_REUSED,         /* 401 */
	ERR_MFA_REQUIRED,         /* 401 */
	ERR_INVALID_MFA,          /* 401 */
	ERR_FORBIDDEN,            /* 403 */
	ERR_REGISTRATION_CLOSED,  /* 403 */
	ERR_INVALID_INVITE,       /* 403 */
	ERR_BAD_SLOT_KEY,         /* 403 */
	ERR_BACKUP_LIMIT,         /* 403 */
	ERR_COLLECTION_LIMIT,     /* 403 */
	ERR_MEMBER_LIMIT,         /* 403 */
	ERR_INVITATION_LIMIT,     /* 403 */
	ERR_HTTPS_REQUIRED,       /* 403 */
	ERR_NOT_FOUND,            /* 404 */
	ERR_METHOD_NOT_ALLOWED,   /* 405 */
	ERR_REQUEST_TIMEOUT,      /* 408 */
	ERR_CONFLICT,             /* 409 */
	ERR_USERNAME_TAKEN,       /* 409 */
	ERR_RESYNC_REQUIRED,      /* 410 */
	ERR_LENGTH_REQUIRED,      /* 411 */
	ERR_PRECONDITION_FAILED,  /* 412 */
	ERR_BODY_TOO_LARGE,       /* 413 */
	ERR_RECORD_TOO_LARGE,     /* 413 */
	ERR_TOO_MANY_RECORDS,     /* 413 */
	ERR_UNSUPPORTED_MEDIA,    /* 415 */
	ERR_PRECONDITION_REQUIRED,/* 428 */
	ERR_RATE_LIMITED,         /* 429 */
	ERR_INTERNAL,             /* 500 */
	ERR_UNAVAILABLE,          /* 503 */
	ERR_QUOTA_EXCEEDED,       /* 507 */
	ERR__MAX
};

/* The HTTP status of `e` (200 for ERR_OK, 500 for an out-of-range value). */
int err_status(enum err e);

/* The stable snake_case code of `e`, e.g. "invalid_json". Never NULL. */
const char *err_code(enum err e);

/* A default human sentence for `e`, used when the caller gave none. */
const char *err_message(enum err e);

#endif
