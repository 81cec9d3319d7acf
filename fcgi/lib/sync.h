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

struct share_ids;
/*
 * sync_push, by the caller account_id into the collection `name` of
 * `owner` (a valid lowercased username; NULL: the caller's own, created
 * if needed): another account's collection needs the caller to be a member
 * with write (share_access: ERR_NOT_FOUND, ERR_FORBIDDEN) and is never
 * created; its quota and counters are the owner's. Every member's
 * account_version moves with the write; ids (may be NULL) gets the owner
 * and the members, to wake after the commit.
 */
enum err sync_push_as(struct store *s, const struct config *c, int64_t account_id, const char *owner,
    const char *name, struct sync_rec *recs, size_t n, int atomic, size_t *nconflicts,
    int64_t *collection_version, struct share_ids *ids);

/* Create (*created = 1) or update the collection's meta (meta may be NULL). */
enum err sync_collection_put(struct store *s, const struct config *c, int64_t account_id, const char *name,
    const uint8_t *meta, size_t meta_len, int *created, struct store_collection *out);
/* Delete a collection and give its bytes and records back to the account. */
enum err sync_collection_delete(struct store *s, int64_t account_id, const char *name);
/*
 * The same two with ?owner= (owner: NULL or the caller's own name; another
 * account's collection is ERR_FORBIDDEN for a member, ERR_NOT_FOUND for
 * anybody else) and the members to wake in ids (may be NULL).
 */
enum err sync_collection_put_as(struct store *s, const struct config *c, int64_t account_id, const char *owner,
    const char *name, const uint8_t *meta, size_t meta_len, int *created, struct store_collection *out,
    struct share_ids *ids);
enum err sync_collection_delete_as(struct store *s, int64_t account_id, const char *owner, const char *name,
    struct share_ids *ids);

#endif
