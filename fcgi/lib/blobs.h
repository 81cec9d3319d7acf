/*
 * blobs.h: the rules of backups (api.md §6) and anonymous slots (§7) on
 * typed inputs: plan limits, versions, the If-Match / If-None-Match
 * preconditions, the byte quota and slot keys.
 *
 * A write goes in two calls. blobs_*_check() judges it against one read
 * snapshot of the store before any byte of the body is read (so that a
 * refused upload is not read for nothing); blobs_*_put() stages the body
 * from a reader into an unnamed temporary file beside the store (the slow
 * part, outside any transaction) and publishes it in one write transaction
 * that judges it again. A name that exists when a rule is judged is judged
 * by the preconditions only, never by the limit on new names (issue 9,
 * point 7).
 *
 * Must never: know about HTTP (headers are parsed by the caller into
 * struct blobs_cond), hold a body in memory, or write anything when a rule
 * refuses.
 */
#ifndef BLINDSYNC_BLOBS_H
#define BLINDSYNC_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core.h"
#include "err.h"
#include "store.h"

#define BLOBS_SHA_LEN 32

/* The preconditions of a write or delete, parsed by the caller. */
struct blobs_cond {
	int if_match;            /* 0: none, 1: the version below, 2: any ("*") */
	int64_t version;         /* with if_match == 1 */
	int if_none_match_any;   /* If-None-Match: * (writes only) */
};

/* A write: its preconditions, its length (within the bounds) and its bytes. */
struct blobs_write {
	struct blobs_cond cond;
	int64_t len;
	struct core_reader body; /* read by blobs_*_put only */
};

/* Which precondition failed (for the sentence of a 412). */
enum blobs_why {
	BLOBS_WHY_NONE,
	BLOBS_WHY_MISSING,   /* If-Match, but there is no such blob */
	BLOBS_WHY_EXISTS,    /* If-None-Match: *, and it exists */
	BLOBS_WHY_CHANGED,   /* If-Match names another version */
	BLOBS_WHY_RACE,      /* a slot another request created meanwhile */
};

/* What a write did, or why it was refused. */
struct blobs_result {
	int created;             /* check: it would create; put: it created */
	int64_t version, bytes;  /* put: what is stored now */
	uint8_t sha256[BLOBS_SHA_LEN];
	int64_t current;         /* 412/428: the current version (0: none) */
	enum blobs_why why;      /* 412 */
	int64_t count;           /* ERR_BACKUP_LIMIT: the account's backups */
	int64_t received;        /* a body that ended early: the bytes read */
};

/* A stored blob as a read sees it. */
struct blobs_info {
	int64_t version, bytes;
	uint8_t sha256[BLOBS_SHA_LEN];
};

/*
 * How a read answers. begin(ctx, b) is called once, inside the read
 * snapshot, with what was found; it returns 1 to have the bytes written to
 * out, 0 for none (a 304, a HEAD), -1 to stop.
 */
struct blobs_reply {
	int (*begin)(void *ctx, const struct blobs_info *b);
	struct core_writer out;
	void *ctx;
};

/* The body sizes the account's plan allows for a backup. ERR_UNAUTHORIZED if the account is gone. */
enum err blobs_backup_bounds(struct store *s, const struct config *c, int64_t account_id, int64_t *min,
    int64_t *max);

/*
 * Judge a write of w->len bytes to the account's backup `name` (valid)
 * against one read snapshot, reading no body. ERR_OK (out->created says
 * whether it would create), or: ERR_PRECONDITION_FAILED (out->why,
 * out->current), ERR_PRECONDITION_REQUIRED (an existing backup without
 * If-Match; out->current), ERR_BACKUP_LIMIT (out->count), ERR_QUOTA_EXCEEDED,
 * ERR_UNAUTHORIZED (no such account), or the store's error.
 */
enum err blobs_backup_check(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const struct blobs_write *w, struct blobs_result *out);

/*
 * Write the backup: stage exactly w->len bytes of w->body, then in one
 * write transaction judge the write again as blobs_backup_check() does and
 * store it, with the account's usage. out->version, bytes, sha256, created
 * on ERR_OK. A body shorter than w->len is ERR_INVALID_REQUEST
 * (out->received); ERR_UNAVAILABLE when the temporary file cannot be
 * written. Nothing is stored on any error. The caller notifies waiters.
 */
enum err blobs_backup_put(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const struct blobs_write *w, struct blobs_result *out);

/* Delete the backup (under cond->if_match). ERR_NOT_FOUND, ERR_PRECONDITION_FAILED (out->current). */
enum err blobs_backup_delete(struct store *s, int64_t account_id, const char *name, const struct blobs_cond *cond,
    struct blobs_result *out);

/* Read the backup through rp from one snapshot. ERR_NOT_FOUND before begin() is called. */
enum err blobs_backup_get(struct store *s, int64_t account_id, const char *name, const struct blobs_reply *rp);

/*
 * As blobs_backup_check/put, for the slot `id` (valid) under the key whose
 * SHA-256 is key_hash: a new slot takes that key, an existing one must
 * have it (ERR_BAD_SLOT_KEY, judged before the versions, so that a wrong
 * key learns none). Slots have no plan: the caller bounds w->len.
 */
enum err blobs_slot_check(struct store *s, const char *id, const uint8_t key_hash[BLOBS_SHA_LEN],
    const struct blobs_write *w, struct blobs_result *out);
enum err blobs_slot_put(struct store *s, const struct config *c, const char *id,
    const uint8_t key_hash[BLOBS_SHA_LEN], const struct blobs_write *w, struct blobs_result *out);
/* Delete the slot. ERR_NOT_FOUND, ERR_BAD_SLOT_KEY. */
enum err blobs_slot_delete(struct store *s, const char *id, const uint8_t key_hash[BLOBS_SHA_LEN]);
/*
 * Read the slot through rp from one snapshot (ERR_NOT_FOUND before begin()),
 * then record the access, at most once a day so that reads stay cheap.
 */
enum err blobs_slot_get(struct store *s, const char *id, const struct blobs_reply *rp);

/*
 * Stage exactly len bytes of rd into a new unnamed temporary file in `dir`
 * (*fd, the caller closes it), with their SHA-256. ERR_INVALID_REQUEST when
 * rd ends early (*received says after how many bytes; nothing is kept),
 * ERR_UNAVAILABLE when the file cannot be written, ERR_INTERNAL.
 */
enum err blobs_stage(const char *dir, int64_t len, const struct core_reader *rd, int *fd,
    uint8_t sha256[BLOBS_SHA_LEN], int64_t *received);

/*
 * A new unnamed temporary file in `dir` (*fd; it disappears by itself
 * whatever happens to this process): ERR_UNAVAILABLE with a log line naming
 * `what` when it cannot be created.
 */
enum err blobs_tmpfile(const char *dir, const char *what, int *fd);

/* The directory for temporary files of the store at `database` (store_location_spool: on its disk), "" if none. */
void blobs_dir(const char *database, char *out, size_t outlen);

#endif
