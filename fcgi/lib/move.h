/*
 * move.h: move a whole store into another, empty one, of either backend
 * (SQLite -> PostgreSQL, PostgreSQL -> a new SQLite file, or the same
 * kind): every row of every table with its ids, versions and times, the
 * blobs chunk by chunk, then a verification of the copy. The engine of
 * `blindsync-admin migrate-store`; knows no command line and prints
 * nothing (progress goes to a callback).
 *
 * The source is read from one snapshot; the target is written in one
 * transaction, so a failed move leaves it as empty as it was. Tokens move
 * with their accounts, so clients keep their sessions.
 *
 * Must never: write into a target that holds any account, device, token,
 * invite, event, collection, record, backup or slot; change a value on the
 * way; hold a blob whole in memory.
 */
#ifndef BLINDSYNC_MOVE_H
#define BLINDSYNC_MOVE_H

#include <stddef.h>
#include <stdint.h>

#include "store_copy.h"

/* Progress: table `name`, `done` of `total` rows copied (or verified: `phase`). */
struct move_progress {
	void (*fn)(void *ctx, const char *phase, const char *name, int64_t done, int64_t total);
	void *ctx;
};

/* What was moved: per table the rows and the digest of every row (and blob). */
struct move_report {
	int64_t rows[ST__MAX];
	uint8_t digest[ST__MAX][32];   /* the same on both sides, or the move failed */
	int64_t blob_bytes;            /* data of backups and slots */
};

/*
 * Move the store at `from` into the store at `to` (created and migrated
 * if needed; refused unless empty, and refused when it is `from`). Then
 * verify: every table's row count and digest (SHA-256 over each row's
 * values in key order, blobs included) read back from `to` must equal
 * the source's. Returns 0 with *out filled, or -1 with errbuf filled
 * (nothing was committed into `to` unless the failure is the verification's).
 */
int move_store(const char *from, const char *to, const struct move_progress *p, struct move_report *out,
    char *errbuf, size_t errlen);

#endif
