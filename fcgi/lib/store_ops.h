/*
 * store_ops.h: private to the store module (store*.c). The table of a
 * backend's functions, one per function of store.h that takes a store.
 *
 * store_open() picks the backend from the location (an SQLite path, or a
 * postgresql:// URI) and sets s->ops; every function of store.h is then a
 * one-line call through the table (store_dispatch.c). STORE_OPS below is the
 * one list of those functions: name, parameters, arguments. It generates
 * the table's members and the dispatching functions (store_NAME calls
 * s->ops->NAME), and declares each backend's implementations (lite_NAME in
 * store*.c, pg_NAME in store_pg*.c). A new function of store.h is one line
 * here plus its implementation in each backend; a slot a backend leaves
 * NULL answers ERR_INTERNAL with a log line naming it (never silently).
 *
 * Must never: hold state (the table is const), or be included outside store*.c.
 */
#ifndef BLINDSYNC_STORE_OPS_H
#define BLINDSYNC_STORE_OPS_H

#include "store.h"
#include "store_copy.h"

/*
 * X(name, (parameters), (arguments)), one list per module (each backend
 * implements a module in a file of its own); every one returns enum err.
 */
/* the connection: store.c / store_pg.c */
#define STORE_OPS_CONN(X) \
	X(tx, (struct store *s, enum err (*fn)(struct store *s, void *arg), void *arg), (s, fn, arg)) \
	X(tx_group, (struct store *s, int64_t key, enum err (*fn)(struct store *s, void *arg), void *arg), (s, key, fn, arg)) \
	X(read, (struct store *s, enum err (*fn)(struct store *s, void *arg), void *arg), (s, fn, arg)) \
	X(health, (struct store *s), (s)) \
	X(stats, (struct store *s, struct store_stats *st), (s, st)) \
	X(round_trips, (struct store *s, int64_t *n), (s, n))

/* accounts, devices, tokens, invites, events: store_account.c / store_pg_account.c */
#define STORE_OPS_ACCOUNT(X) \
	X(account_insert, (struct store *s, struct store_account *a, const uint8_t *keyring, size_t keyring_len), (s, a, keyring, keyring_len)) \
	X(account_by_name, (struct store *s, const char *username, struct store_account *a), (s, username, a)) \
	X(account_by_id, (struct store *s, int64_t id, struct store_account *a), (s, id, a)) \
	X(account_keyring, (struct store *s, int64_t id, uint8_t **out, size_t *len, int64_t *version), (s, id, out, len, version)) \
	X(account_set_auth, (struct store *s, int64_t id, const uint8_t hash[STORE_HASH_LEN], const uint8_t salt[STORE_SALT_LEN], int64_t iterations), (s, id, hash, salt, iterations)) \
	X(account_set_kdf, (struct store *s, int64_t id, const char *kdf), (s, id, kdf)) \
	X(account_set_keyring, (struct store *s, int64_t id, const uint8_t *keyring, size_t len, int64_t expected, int64_t *new_version), (s, id, keyring, len, expected, new_version)) \
	X(account_delete, (struct store *s, int64_t id), (s, id)) \
	X(account_set_disabled, (struct store *s, const char *username, int disabled), (s, username, disabled)) \
	X(account_list, (struct store *s, int (*fn)(void *ctx, const struct store_account *a), void *ctx), (s, fn, ctx)) \
	X(account_bump, (struct store *s, int64_t id), (s, id)) \
	X(device_insert, (struct store *s, int64_t account_id, const char *public_id, const char *name, const char *type, int64_t now, int64_t *id), (s, account_id, public_id, name, type, now, id)) \
	X(device_list, (struct store *s, int64_t account_id, int (*fn)(void *ctx, const struct store_device *d), void *ctx), (s, account_id, fn, ctx)) \
	X(device_find, (struct store *s, int64_t account_id, const char *public_id, int64_t *id), (s, account_id, public_id, id)) \
	X(device_delete, (struct store *s, int64_t device_id), (s, device_id)) \
	X(device_delete_others, (struct store *s, int64_t account_id, int64_t keep), (s, account_id, keep)) \
	X(device_touch, (struct store *s, int64_t device_id, int64_t now), (s, device_id, now)) \
	X(token_insert, (struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind, int64_t account_id, int64_t device_id, int64_t expires_at), (s, hash, kind, account_id, device_id, expires_at)) \
	X(token_find, (struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind, struct store_token *t), (s, hash, kind, t)) \
	X(token_mark_used, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now), (s, hash, now)) \
	X(token_delete_device, (struct store *s, int64_t device_id), (s, device_id)) \
	X(token_prune_device, (struct store *s, int64_t device_id, int64_t now), (s, device_id, now)) \
	X(token_delete_account, (struct store *s, int64_t account_id), (s, account_id)) \
	X(invite_insert, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t expires_at), (s, hash, now, expires_at)) \
	X(invite_usable, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now), (s, hash, now)) \
	X(invite_use, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t account_id), (s, hash, now, account_id)) \
	X(invite_list, (struct store *s, int (*fn)(void *ctx, const struct store_invite *i), void *ctx), (s, fn, ctx)) \
	X(event_add, (struct store *s, int64_t account_id, const char *type, const char *device, int64_t now), (s, account_id, type, device, now)) \
	X(event_list, (struct store *s, int64_t account_id, int64_t limit, int (*fn)(void *ctx, const struct store_event *e), void *ctx), (s, account_id, limit, fn, ctx)) \
	X(account_usage_add, (struct store *s, int64_t account_id, int64_t bytes, int64_t records), (s, account_id, bytes, records)) \
	X(account_set_quota, (struct store *s, const char *username, int64_t bytes), (s, username, bytes)) \
	X(account_set_plan, (struct store *s, const char *username, const char *plan), (s, username, plan))

/* two-factor login and the recovery key: store_mfa.c / store_pg_mfa.c */
#define STORE_OPS_MFA(X) \
	X(mfa_get, (struct store *s, int64_t account_id, struct store_mfa *m), (s, account_id, m)) \
	X(mfa_set, (struct store *s, int64_t account_id, const struct store_mfa *m), (s, account_id, m)) \
	X(mfa_codes_set, (struct store *s, int64_t account_id, const uint8_t (*hashes)[STORE_HASH_LEN], int n), (s, account_id, hashes, n)) \
	X(mfa_code_use, (struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN]), (s, account_id, hash)) \
	X(recovery_get, (struct store *s, int64_t account_id, struct store_recovery *k), (s, account_id, k)) \
	X(recovery_put, (struct store *s, int64_t account_id, const struct store_recovery *k, int64_t now), (s, account_id, k, now)) \
	X(recovery_delete, (struct store *s, int64_t account_id), (s, account_id)) \
	X(recovery_reset_set, (struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN], int64_t expires_at), (s, account_id, hash, expires_at)) \
	X(recovery_reset_find, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t *account_id), (s, hash, now, account_id))

/* collections, records, history: store_sync.c / store_pg_sync.c */
#define STORE_OPS_SYNC(X) \
	X(collection_get, (struct store *s, int64_t account_id, const char *name, struct store_collection *c), (s, account_id, name, c)) \
	X(collection_create, (struct store *s, int64_t account_id, const char *name, const uint8_t *meta, size_t meta_len, int64_t now, struct store_collection *c), (s, account_id, name, meta, meta_len, now, c)) \
	X(collection_count, (struct store *s, int64_t account_id, int64_t *n), (s, account_id, n)) \
	X(collection_set_meta, (struct store *s, int64_t id, const uint8_t *meta, size_t meta_len, int64_t now), (s, id, meta, meta_len, now)) \
	X(collection_delete, (struct store *s, int64_t id), (s, id)) \
	X(collection_floor, (struct store *s, int64_t account_id, const char *name, int64_t version, int64_t members_version), (s, account_id, name, version, members_version)) \
	X(collection_list, (struct store *s, int64_t account_id, int (*fn)(void *ctx, const struct store_collection *c), void *ctx), (s, account_id, fn, ctx)) \
	X(collection_update, (struct store *s, int64_t id, int64_t version, int64_t records_delta, int64_t bytes_delta, int64_t now), (s, id, version, records_delta, bytes_delta, now)) \
	X(status_hint, (struct store *s, int64_t account_id), (s, account_id)) \
	X(pull_hint, (struct store *s, int64_t account_id, const char *name, int64_t since, int64_t limit), (s, account_id, name, since, limit)) \
	X(push_hint, (struct store *s, int64_t account_id, const char *name, const char *const *rids, size_t n), (s, account_id, name, rids, n)) \
	X(status_early, (struct store *s, const uint8_t token_hash[STORE_HASH_LEN]), (s, token_hash)) \
	X(pull_early, (struct store *s, const uint8_t token_hash[STORE_HASH_LEN], const char *name, int64_t since, int64_t limit), (s, token_hash, name, since, limit)) \
	X(early_end, (struct store *s), (s)) \
	X(record_heads_hint, (struct store *s, int64_t collection_id, const char *const *rids, size_t n), (s, collection_id, rids, n)) \
	X(record_head, (struct store *s, int64_t collection_id, const char *rid, int64_t *version, int *deleted, int64_t *bytes), (s, collection_id, rid, version, deleted, bytes)) \
	X(record_get, (struct store *s, int64_t collection_id, const char *rid, int (*fn)(void *ctx, const struct store_record *r), void *ctx), (s, collection_id, rid, fn, ctx)) \
	X(record_put, (struct store *s, int64_t collection_id, const char *rid, int64_t version, int64_t now, int deleted, const uint8_t *payload, size_t len), (s, collection_id, rid, version, now, deleted, payload, len)) \
	X(record_to_history, (struct store *s, int64_t collection_id, const char *rid), (s, collection_id, rid)) \
	X(history_prune, (struct store *s, int64_t collection_id, const char *rid, int64_t keep, int64_t *freed), (s, collection_id, rid, keep, freed)) \
	X(history_prune_many, (struct store *s, int64_t collection_id, const char *const *rids, size_t n, int64_t keep, int64_t *freed), (s, collection_id, rids, n, keep, freed)) \
	X(record_pull, (struct store *s, int64_t collection_id, int64_t since, int64_t limit, int (*fn)(void *ctx, const struct store_record *r), void *ctx), (s, collection_id, since, limit, fn, ctx)) \
	X(history_list, (struct store *s, int64_t collection_id, const char *rid, int (*fn)(void *ctx, const struct store_record *r), void *ctx), (s, collection_id, rid, fn, ctx)) \
	X(history_get, (struct store *s, int64_t collection_id, const char *rid, int64_t version, int (*fn)(void *ctx, const struct store_record *r), void *ctx), (s, collection_id, rid, version, fn, ctx))

/* backups and slots: store_blob.c / store_pg_blob.c */
#define STORE_OPS_BLOB(X) \
	X(backup_get, (struct store *s, int64_t account_id, const char *name, struct store_backup *b), (s, account_id, name, b)) \
	X(backup_count, (struct store *s, int64_t account_id, int64_t *n), (s, account_id, n)) \
	X(backup_list, (struct store *s, int64_t account_id, int (*fn)(void *ctx, const struct store_backup *b), void *ctx), (s, account_id, fn, ctx)) \
	X(backup_put, (struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size, const uint8_t sha256[32], int64_t now), (s, account_id, b, fd, size, sha256, now)) \
	X(backup_delete, (struct store *s, int64_t id), (s, id)) \
	X(backup_read, (struct store *s, int64_t id, store_sink_fn sink, void *ctx), (s, id, sink, ctx)) \
	X(slot_get, (struct store *s, const char *id, struct store_slot *sl), (s, id, sl)) \
	X(slot_put, (struct store *s, struct store_slot *sl, int fd, int64_t size, const uint8_t sha256[32], int64_t now), (s, sl, fd, size, sha256, now)) \
	X(slot_delete, (struct store *s, int64_t rowid), (s, rowid)) \
	X(slot_touch, (struct store *s, int64_t rowid, int64_t now), (s, rowid, now)) \
	X(slot_read, (struct store *s, int64_t rowid, store_sink_fn sink, void *ctx), (s, rowid, sink, ctx))

/* maintenance and blindsync-admin: store_admin.c / store_pg_admin.c */
#define STORE_OPS_ADMIN(X) \
	X(recount_collections, (struct store *s, int (*fn)(void *ctx, const struct store_recount_collection *c), void *ctx), (s, fn, ctx)) \
	X(recount_accounts, (struct store *s, int (*fn)(void *ctx, const struct store_recount_account *a), void *ctx), (s, fn, ctx)) \
	X(collection_set_counters, (struct store *s, int64_t id, int64_t records, int64_t bytes, int64_t version), (s, id, records, bytes, version)) \
	X(account_set_usage, (struct store *s, int64_t id, int64_t bytes, int64_t records), (s, id, bytes, records)) \
	X(purge_tokens, (struct store *s, int64_t now, int64_t limit, int64_t *n), (s, now, limit, n)) \
	X(purge_invites, (struct store *s, int64_t now, int64_t limit, int64_t *n), (s, now, limit, n)) \
	X(purge_events, (struct store *s, int64_t before, int64_t limit, int64_t *n), (s, before, limit, n)) \
	X(purge_slots, (struct store *s, int64_t before, int64_t limit, int64_t *n), (s, before, limit, n)) \
	X(purge_tombstones, (struct store *s, int64_t before, int64_t limit, struct store_purged_tombstones *out), (s, before, limit, out)) \
	X(invite_revoke, (struct store *s, int64_t id), (s, id)) \
	X(session_revoke_account, (struct store *s, int64_t account_id, int64_t *devices, int64_t *tokens), (s, account_id, devices, tokens)) \
	X(collections_total, (struct store *s, int64_t *n), (s, n)) \
	X(top_accounts, (struct store *s, int64_t limit, int (*fn)(void *ctx, const char *username, int64_t bytes, int64_t records), void *ctx), (s, limit, fn, ctx))

/* export and import: store_transfer.c / store_pg_transfer.c */
#define STORE_OPS_TRANSFER(X) \
	X(transfer_history, (struct store *s, int64_t collection_id, const char *rid, int (*fn)(void *ctx, const struct store_record *r), void *ctx), (s, collection_id, rid, fn, ctx)) \
	X(transfer_record_insert, (struct store *s, int64_t collection_id, const struct store_record *r), (s, collection_id, r)) \
	X(transfer_history_insert, (struct store *s, int64_t collection_id, const struct store_record *r), (s, collection_id, r)) \
	X(transfer_collection_set, (struct store *s, int64_t id, int64_t version, int64_t records, int64_t bytes, int64_t purged_version, int64_t now), (s, id, version, records, bytes, purged_version, now)) \
	X(transfer_backup_insert, (struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size, const uint8_t sha256[32], int64_t now), (s, account_id, b, fd, size, sha256, now))

/* blindsync-live's tickets and device check: store_live.c (none in PostgreSQL yet: those slots answer ERR_INTERNAL) */
#define STORE_OPS_LIVE(X) \
	X(live_ticket_put, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t account_id, int64_t device_id, int64_t now, int64_t expires_at), (s, hash, account_id, device_id, now, expires_at)) \
	X(live_ticket_take, (struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t *account_id, int64_t *device_id), (s, hash, now, account_id, device_id)) \
	X(live_device_ok, (struct store *s, int64_t account_id, int64_t device_id, int64_t now, int64_t *until), (s, account_id, device_id, now, until))

/* sharing: keys, members, invitations, grants: store_share.c / store_pg_share.c (share-pg) */
#define STORE_OPS_SHARE(X) \
	X(keys_put, (struct store *s, int64_t account_id, const struct store_keys *k, int64_t now, int *changed), (s, account_id, k, now, changed)) \
	X(keys_get, (struct store *s, int64_t account_id, struct store_keys *k), (s, account_id, k)) \
	X(member_role, (struct store *s, int64_t collection_id, int64_t account_id, int *role), (s, collection_id, account_id, role)) \
	X(member_list, (struct store *s, int64_t collection_id, int (*fn)(void *ctx, const struct store_member *m), void *ctx), (s, collection_id, fn, ctx)) \
	X(member_count, (struct store *s, int64_t collection_id, int64_t *n), (s, collection_id, n)) \
	X(member_put, (struct store *s, int64_t collection_id, int64_t account_id, int role, int64_t now), (s, collection_id, account_id, role, now)) \
	X(member_delete, (struct store *s, int64_t collection_id, int64_t account_id), (s, collection_id, account_id)) \
	X(shared_list, (struct store *s, int64_t account_id, int (*fn)(void *ctx, const struct store_collection *c, const char *owner, int role), void *ctx), (s, account_id, fn, ctx)) \
	X(share_members_bump, (struct store *s, int64_t collection_id, int64_t *version), (s, collection_id, version)) \
	X(share_rotate_due, (struct store *s, int64_t collection_id), (s, collection_id)) \
	X(share_rotate_mark, (struct store *s, int64_t collection_id, int64_t expected_members_version, int64_t expected_key_version, int64_t *members_version), (s, collection_id, expected_members_version, expected_key_version, members_version)) \
	X(share_accounts_bump, (struct store *s, int64_t collection_id, int (*fn)(void *ctx, int64_t account_id), void *ctx), (s, collection_id, fn, ctx)) \
	X(share_account_peers, (struct store *s, int64_t account_id, int (*fn)(void *ctx, int64_t account_id), void *ctx), (s, account_id, fn, ctx)) \
	X(invitation_insert, (struct store *s, struct store_invitation *i), (s, i)) \
	X(invitation_get, (struct store *s, const char *public_id, int64_t now, int (*fn)(void *ctx, const struct store_invitation *i), void *ctx), (s, public_id, now, fn, ctx)) \
	X(invitation_list_to, (struct store *s, int64_t to_id, int64_t now, int (*fn)(void *ctx, const struct store_invitation *i), void *ctx), (s, to_id, now, fn, ctx)) \
	X(invitation_list_collection, (struct store *s, int64_t collection_id, int64_t now, int (*fn)(void *ctx, const struct store_invitation *i), void *ctx), (s, collection_id, now, fn, ctx)) \
	X(invitation_list_expired, (struct store *s, int64_t now, int64_t limit, int (*fn)(void *ctx, const struct store_invitation *i), void *ctx), (s, now, limit, fn, ctx)) \
	X(invitation_count_from, (struct store *s, int64_t from_id, int64_t now, int64_t *n), (s, from_id, now, n)) \
	X(invitation_pending, (struct store *s, int64_t collection_id, int64_t to_id, int64_t now, int *pending), (s, collection_id, to_id, now, pending)) \
	X(invitation_delete, (struct store *s, int64_t id), (s, id)) \
	X(invitation_regrant, (struct store *s, int64_t id, int64_t key_version, const uint8_t *sealed, size_t sealed_len, const uint8_t *signature, size_t signature_len), (s, id, key_version, sealed, sealed_len, signature, signature_len)) \
	X(grant_put, (struct store *s, const struct store_grant *g), (s, g)) \
	X(grant_get, (struct store *s, int64_t collection_id, int64_t account_id, int64_t key_version, int (*fn)(void *ctx, const struct store_grant *g), void *ctx), (s, collection_id, account_id, key_version, fn, ctx))

/* every row as it is, for migrate-store (store_copy.h): store_copy.c / store_pg_copy.c */
#define STORE_OPS_COPY(X) \
	X(copy_count, (struct store *s, enum store_table t, int64_t *n), (s, t, n)) \
	X(copy_rows, (struct store *s, enum store_table t, int (*fn)(void *ctx, const struct store_value *row), void *ctx), (s, t, fn, ctx)) \
	X(copy_insert, (struct store *s, enum store_table t, const struct store_value *row, int fd), (s, t, row, fd)) \
	X(copy_finish, (struct store *s), (s))

/* the rate limits that every node charges (store.h): store_pg_limit.c; SQLite keeps none (store.c refuses) */
#define STORE_OPS_LIMIT(X) \
	X(limit_take, (struct store *s, const struct store_bucket *b, int n, int *retry_after), (s, b, n, retry_after))

#define STORE_OPS(X) \
	STORE_OPS_CONN(X) \
	STORE_OPS_LIMIT(X) \
	STORE_OPS_ACCOUNT(X) \
	STORE_OPS_MFA(X) \
	STORE_OPS_SYNC(X) \
	STORE_OPS_BLOB(X) \
	STORE_OPS_ADMIN(X) \
	STORE_OPS_TRANSFER(X) \
	STORE_OPS_LIVE(X) \
	STORE_OPS_SHARE(X) \
	STORE_OPS_COPY(X)

struct store_ops {
	const char *name;  /* "SQLite", "PostgreSQL": for messages */
	void (*close)(struct store *s);
	/* optional (a store whose connection comes from a pool shared by
	 * the process's threads, store_share_connections): enter before a
	 * call, which borrows a connection if the store holds none (an error
	 * when none is free within the busy timeout), and leave after it,
	 * which gives the connection back when the call left nothing open;
	 * op is the call's slot, offsetof(struct store_ops, NAME): a call
	 * that can do without a connection need not wait for one */
	enum err (*enter)(struct store *s, size_t op);
	void (*leave)(struct store *s);
#define STORE_OP_MEMBER(name, params, args) enum err (*name) params;
	STORE_OPS(STORE_OP_MEMBER)
#undef STORE_OP_MEMBER
};

/* the two backends: store.c and store_pg.c */
extern const struct store_ops store_lite_ops;
extern const struct store_ops store_pg_ops;

/* their implementations, declared from the one list */
#define STORE_OP_LITE(name, params, args) enum err lite_##name params;
#define STORE_OP_PG(name, params, args) enum err pg_##name params;
STORE_OPS(STORE_OP_LITE)
STORE_OPS(STORE_OP_PG)
#undef STORE_OP_LITE
#undef STORE_OP_PG

/* 1 if `location` names a PostgreSQL database (postgresql:// or postgres://) */
int store_location_is_pg(const char *location);

/* what the store functions without a store do, per backend */
int lite_location_side(const char *location, const char *name, char *out, size_t outlen);
int lite_location_spool(const char *location, char *out, size_t outlen);
int lite_location_probe(const char *location, int *version, char *errbuf, size_t errlen);
int lite_migrate(const char *location, char *errbuf, size_t errlen);
int lite_open(const char *location, enum store_mode mode, struct store **out, char *errbuf, size_t errlen);
void lite_close(struct store *s);
int pg_location_side(const char *location, const char *name, char *out, size_t outlen);
void pg_share_connections(int n); /* store_share_connections: SQLite has nothing to share */
int pg_location_spool(const char *location, char *out, size_t outlen);
int pg_location_probe(const char *location, int *version, char *errbuf, size_t errlen);
int pg_migrate(const char *location, char *errbuf, size_t errlen);
int pg_open(const char *location, enum store_mode mode, struct store **out, char *errbuf, size_t errlen);
void pg_close(struct store *s);
/* The schema version of this program's PostgreSQL migrations (sql/pg/). */
int pg_schema_version(void);

#endif
