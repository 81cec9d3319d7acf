/*
 * sync.h: the sync operations of api.md §4 on typed, validated input.
 *
 * A push is one BEGIN IMMEDIATE transaction: version checks, writes,
 * history, counters and the quota check all commit together or not at all,
 * and the caller answers only after the commit.
 */
#ifndef BLINDSYNC_SYNC_H
#define BLINDSYNC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* The largest encrypted collection meta, decoded (PUT /v1/collections/{c}, import). */
#define SYNC_META_MAX 65536

struct sync_rec {
	const char *id;          /* valid record id */
	int64_t base_version;    /* ignored with force */
	int force, deleted;
	uint8_t *payload;        /* decoded; NULL for a tombstone */
	size_t len;
	/* out */
	int64_t version;         /* the version given (0 if not written) */
	int conflict;            /* 1 if base_version did not match */
};

/* The plan and byte quota that apply to an account. */
const struct plan *sync_plan(const struct config *c, const struct store_account *a);
int64_t sync_quota(const struct config *c, const struct store_account *a);

/*
 * Push recs[0..n) into the collection `name` of the account (created if
 * needed: ERR_COLLECTION_LIMIT beyond the plan's). Sets each rec's version
 * and conflict flag, *nconflicts and *collection_version. atomic: any
 * conflict is ERR_CONFLICT and nothing is written. ERR_QUOTA_EXCEEDED if the
 * accepted records would take the account over its quota (nothing written).
 */
enum err sync_push(struct store *s, const struct config *c, int64_t account_id, const char *name,
    struct sync_rec *recs, size_t n, int atomic, size_t *nconflicts, int64_t *collection_version);

/* Create (*created = 1) or update the collection's meta (meta may be NULL). */
enum err sync_collection_put(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const uint8_t *meta, size_t meta_len, int *created, struct store_collection *out);
/* Delete a collection and give its bytes and records back to the account. */
enum err sync_collection_delete(struct store *s, int64_t account_id, const char *name);

#endif
