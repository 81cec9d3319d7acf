/*
 * share.h: sharing a collection between accounts (docs/API-sharing.md) on
 * typed, validated input: who may reach a collection with which role
 * (?owner=), public keys, invitations, members, rotation and grants.
 *
 * Every write is one store transaction; each function that changes
 * something fills a struct share_ids with the accounts whose status moved,
 * for the caller to wake (serve_changed) after the commit. A 4xx comes back
 * as its enum err with a sentence in msg (ERR_MSG_MAX bytes) for the
 * answer; anything else (503, 500) leaves msg empty.
 */
#ifndef BLINDSYNC_SHARE_H
#define BLINDSYNC_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json.h"
#include "store.h"

/* A growing list of account ids (the ones to wake). Zero it before use; free with share_ids_free. */
struct share_ids {
	int64_t *v;
	size_t n, cap;
	int oom;     /* an id could not be added (the wake-ups are best effort) */
};
/* Add id (a store callback: ctx is the struct share_ids); 0 always. */
int share_ids_add(void *ctx, int64_t id);
void share_ids_free(struct share_ids *ids);

/* "read", "write", "admin", "owner" (STORE_ROLE_*), or "none". */
const char *share_role_name(int role);
/* STORE_ROLE_READ..ADMIN for "read"/"write"/"admin", else 0. */
int share_role_parse(const char *s);

/*
 * The collection `name` of `owner` (a valid lowercased username, or NULL:
 * the caller's own) for the caller, who needs role `need` (STORE_ROLE_READ,
 * WRITE, ADMIN, or OWNER: the owner only). Fills *col and *role (the
 * caller's: STORE_ROLE_OWNER for its own). ERR_NOT_FOUND for an unknown
 * owner or collection and for a caller that is no member; ERR_FORBIDDEN for
 * a member below `need`. Call inside a transaction (or alone, for a read).
 */
enum err share_access(struct store *s, int64_t caller_id, const char *owner, const char *name, int need,
    struct store_collection *col, int *role);

/* Publish the caller's public keys; a change is the event "keys_changed" (device: its public id, may be NULL). */
enum err share_keys_put(struct store *s, int64_t account_id, const struct store_keys *k, const char *device,
    int64_t now);
/* The public keys of `username` (valid, lowercased); ERR_NOT_FOUND for no such account or no keys. */
enum err share_user_keys(struct store *s, const char *username, struct store_keys *k);

struct share_invite {
	int64_t caller_id;
	const char *owner;          /* NULL: the caller's collection */
	const char *name;
	const char *to;             /* valid, lowercased */
	int role;                   /* STORE_ROLE_READ..ADMIN */
	int64_t key_version;
	const uint8_t *sealed;
	size_t sealed_len;
	const uint8_t *signature;   /* STORE_SIGNATURE_LEN bytes */
	size_t signature_len;
	int64_t now;
	/* out */
	char id[STORE_INVITATION_ID_LEN + 1];
	int64_t expires_at;
};
/* Create an invitation (docs/API-sharing.md for every refusal). */
enum err share_invite(struct store *s, const struct config *c, struct share_invite *in, struct share_ids *ids,
    char *msg);

/* The pending invitations of a collection (owner or admin), as the JSON object of the route. */
enum err share_invitations_out(struct store *s, int64_t caller_id, const char *owner, const char *name,
    int64_t now, struct jw *w, char *msg);
/* The caller's incoming pending invitations, as the JSON object of GET /v1/invitations. */
enum err share_invitations_in(struct store *s, int64_t caller_id, int64_t now, struct jw *w);

struct share_accepted {
	char collection[STORE_NAME_MAX + 1];
	char owner[STORE_USERNAME_MAX + 1];
	int role;
	int64_t key_version;
};
/* Accept the invitation `id` addressed to the caller: membership and grant in one transaction. */
enum err share_accept(struct store *s, const struct config *c, int64_t caller_id, const char *id, int64_t now,
    struct share_accepted *out, struct share_ids *ids, char *msg);
/* Decline (the invitee) or withdraw (the inviter, the owner, an admin) the invitation `id`. */
enum err share_decline(struct store *s, int64_t caller_id, const char *id, int64_t now, struct share_ids *ids,
    char *msg);

/*
 * Inside a write transaction (blindsync-admin purge): delete the first
 * `limit` invitations expired by `now`, each as a withdrawal by time: the
 * collection's membership version moves, it becomes rotate_due when the
 * invitation carried the current key version (the invitee could open that
 * grant), and the account_version of the owner, the members and the
 * invitee moves; their ids are collected into ids (reset first). *n is how
 * many were deleted (limit: there may be more).
 */
enum err share_expire(struct store *s, int64_t now, int64_t limit, int64_t *n, struct share_ids *ids);

/* The members listing (any member) as the JSON object of the route; *version its ETag. */
enum err share_members(struct store *s, int64_t caller_id, const char *owner, const char *name, struct jw *w,
    int64_t *version, char *msg);
/* Set a member's role (owner or admin); *version the new membership version. */
enum err share_member_role(struct store *s, int64_t caller_id, const char *owner, const char *name,
    const char *username, int role, int64_t *version, struct share_ids *ids, char *msg);
/* Remove a member (owner or admin), or the caller itself (leave). */
enum err share_member_remove(struct store *s, int64_t caller_id, const char *owner, const char *name,
    const char *username, struct share_ids *ids, char *msg);

struct share_grant_in {
	const char *to;             /* valid, lowercased */
	const uint8_t *sealed;
	size_t sealed_len;
	const uint8_t *signature;
	size_t signature_len;
};
/*
 * Rotate (owner or admin): if_match the membership version the client saw
 * (ERR_PRECONDITION_FAILED with *version the current one otherwise),
 * key_version the current + 1, one grant per member but the caller and
 * per pending invitee. *version and *key_version the new ones.
 */
enum err share_rotate(struct store *s, int64_t caller_id, const char *owner, const char *name, int64_t if_match,
    int64_t key_version, const struct share_grant_in *g, size_t n, int64_t now, int64_t *version,
    struct share_ids *ids, char *msg);

/* The caller's grant (key_version 0: the newest) as the JSON object of GET .../grant. */
enum err share_grant(struct store *s, int64_t caller_id, const char *owner, const char *name, int64_t key_version,
    struct jw *w, char *msg);

/*
 * The collections shared with the account, each as syncio_collection
 * writes it plus "owner" and "role" (with_meta as there): the tail of the
 * collections listing and of status; only those of `owner` when it is not
 * NULL (GET /v1/collections?owner=). Call inside a read transaction.
 */
enum err share_list(struct store *s, int64_t account_id, const char *owner, struct jw *w, int with_meta);

/*
 * After a write to a collection that has members: bump every member's
 * account_version (one statement) and collect their ids into ids (may be NULL).
 */
enum err share_touch(struct store *s, int64_t collection_id, struct share_ids *ids);

#endif
