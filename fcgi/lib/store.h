/*
 * store.h: the store of record, behind a narrow interface of typed
 * functions.
 *
 * Nothing outside store*.c includes <sqlite3.h> or <libpq-fe.h> or sees SQL:
 * callers speak in accounts, tokens, records and versions, and two backends
 * implement this same header: SQLite (store.c, store_*.c) and PostgreSQL
 * (store_pg.c, store_pg_*.c), chosen by the location at store_open
 * (store_ops.h, store_dispatch.c). Each worker thread owns one
 * struct store (one connection, its prepared statements); never share one
 * across threads or fork().
 *
 * Errors come back as enum err: ERR_UNAVAILABLE when the store stayed busy
 * past the timeout or cannot be read (503 + Retry-After), ERR_INTERNAL for
 * anything unexpected (logged here, without SQL values), or the 4xx a
 * constraint maps to.
 */
#ifndef BLINDSYNC_STORE_H
#define BLINDSYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_HEAP_SOFT_LIMIT (4 * 1024 * 1024) /* SQLite's memory per process */

enum store_mode { STORE_RW, STORE_RO };

struct store;

/*
 * ---- the store's location (store.c) ----
 *
 * The config's `database` is the store's location: a string that only the
 * store interprets. For the SQLite backend it is a file path; for
 * PostgreSQL a postgresql:// (or postgres://) URI, which must not hold a
 * password (refused: use a password file). Nothing outside the store stat()s, opens,
 * creates or derives file names from it: it asks these functions.
 */
#define STORE_LOCATION_MAX 4096

/*
 * The local file that holds the shared table `name` ("writelock", "limits",
 * "metrics", "notify") of the store at `location`; for SQLite
 * "<path>-<name>", beside the database; for PostgreSQL
 * "<runtime dir>/pg-<hash of the URI>-<name>", the directory from
 * $BLINDSYNC_RUNTIME_DIR, $RUNTIME_DIRECTORY, $STATE_DIRECTORY or
 * /tmp/blindsync-UID (store_pg.c). 0, or -1 when
 * it does not fit in outlen bytes (or, for PostgreSQL, the runtime
 * directory is not private).
 */
int store_location_side(const char *location, const char *name, char *out, size_t outlen);

/*
 * The local directory where a request stages a temporary file (an upload)
 * before it goes into the store at `location`; for SQLite the database's
 * directory, on the same file system as the store; for PostgreSQL $TMPDIR,
 * else /var/tmp. 0, or -1 when it does not fit.
 */
int store_location_spool(const char *location, char *out, size_t outlen);

/*
 * Whether there is a store at `location`, without creating or changing it:
 * 1 with *version set to its schema version, 0 when there is none
 * (*version 0), -1 with errbuf filled when it cannot be read.
 */
int store_location_probe(const char *location, int *version, char *errbuf, size_t errlen);

/*
 * Apply every migration newer than the store's schema version (SQLite:
 * PRAGMA user_version), creating the store (for SQLite its directory, one
 * level, and the file with mode 0600, in WAL mode) if needed, in one
 * BEGIN IMMEDIATE transaction: running it twice, or from several processes
 * at once, is harmless. PostgreSQL: the migrations of sql/pg/, recorded in
 * its schema_migrations table, in one transaction under an advisory lock
 * (the database itself must exist). Refuses a store newer than this
 * program. Returns 0, or -1 with errbuf filled.
 */
int store_migrate(const char *location, char *errbuf, size_t errlen);

/*
 * Open the store at `location` for one thread (after store_migrate).
 * STORE_RO opens it read-only. Prepares every statement (PostgreSQL: on
 * first use, per connection). Returns 0 and *out (free with store_close),
 * or -1 with errbuf filled. PostgreSQL: a server that does not answer
 * still gives a store, whose calls answer ERR_UNAVAILABLE until it is
 * back (it reconnects by itself); a schema not current is refused.
 */
int store_open(const char *location, enum store_mode mode, struct store **out, char *errbuf, size_t errlen);

/*
 * PostgreSQL: the stores this process opens after this call share n
 * connections (0, the default: each store has one of its own). A store
 * then borrows a connection for each call that finds it holding none
 * (waiting up to STORE_BUSY_TIMEOUT_MS for one to be free, else
 * ERR_UNAVAILABLE) and gives it back when a call leaves nothing open on it
 * (no transaction, early read or reads sent ahead): a thread between
 * requests, or in a long-poll's wait, holds none, and a push waiting for
 * its group's leader (store_tx_group) holds none either. The first n
 * stores opened make the connections (store_open's checks and errors as
 * without a pool). Call it before the threads open their stores; SQLite
 * ignores it (each store is its own file handle). Fewer server processes
 * than threads: measured in docs/CONFIG.md (--connections).
 */
void store_share_connections(int n);

/* Finalize statements and close. NULL is fine. */
void store_close(struct store *s);

/*
 * The one transaction wrapper: BEGIN IMMEDIATE (waiting up to the busy
 * timeout for the write lock), run fn(s, arg), COMMIT if it returned ERR_OK
 * else ROLLBACK. Returns fn's error, or ERR_UNAVAILABLE if the lock could not
 * be had or the commit failed for being busy, or ERR_INTERNAL. The data is
 * durable (synchronous=FULL) when this returns ERR_OK. PostgreSQL: BEGIN
 * (READ COMMITTED; the backend takes the row locks that SQLite's single
 * writer made unneeded, see store_pg_impl.h), a lock wait bounded by the
 * busy timeout, synchronous_commit=on; a serialization failure or deadlock
 * runs fn again (a bounded number of times, then ERR_UNAVAILABLE), so fn
 * must set its outputs, never add to them; a lost connection is
 * ERR_UNAVAILABLE.
 */
enum err store_tx(struct store *s, enum err (*fn)(struct store *s, void *arg), void *arg);

/*
 * store_tx with group commit, for the hot write path (push): concurrent
 * callers in one process join one transaction. The first becomes the leader
 * and runs, on its own connection, every job queued by then: a job whose fn
 * fails changes nothing and gets its error (SQLite: each job inside a
 * SAVEPOINT, rolled back alone; PostgreSQL: the batch rolled back and run
 * again job by job); the others commit together, with one write lock or one
 * set of row locks, one COMMIT and one fsync. Each caller returns its own
 * fn's result once the commit is durable (or the commit's error: then
 * nothing of any job was written). fn must use only the store it is given,
 * run in any thread, and may run twice. Nested in a
 * transaction, or with nobody else queued, it is store_tx. key names what
 * fn locks first (the account's id): a batch runs its jobs in key order,
 * so that on PostgreSQL two batches (two processes, two nodes) that hold
 * row locks of several accounts never wait for each other in a cycle.
 */
enum err store_tx_group(struct store *s, int64_t key, enum err (*fn)(struct store *s, void *arg), void *arg);

/* Like store_tx but a read transaction (BEGIN DEFERRED; PostgreSQL:
 * REPEATABLE READ, READ ONLY), for consistent multi-statement reads. */
enum err store_read(struct store *s, enum err (*fn)(struct store *s, void *arg), void *arg);

/*
 * Health: ERR_OK if the store file is still the one opened, still starts
 * with the SQLite header, and answers a query (PostgreSQL: the database
 * answers, reconnecting if needed, and holds a blindsync store);
 * ERR_UNAVAILABLE otherwise.
 */
enum err store_health(struct store *s);

/* Totals for monitoring. */
struct store_stats {
	int64_t accounts, records, bytes, backups, slots;
	int64_t file_bytes; /* what the store takes on disk (SQLite: the file and its WAL) */
};
enum err store_stats(struct store *s, struct store_stats *st);

/*
 * *n = the round trips this connection has made to the database server so
 * far (a statement waited for, or several sent at once: PostgreSQL); 0 on
 * SQLite, which has no server. For tests and diagnostics.
 */
enum err store_round_trips(struct store *s, int64_t *n);

/* 1 if the store was opened read-write. */
int store_is_writable(const struct store *s);

/* The schema version this program knows (the newest migration) of the SQLite store. */
int store_schema_version(void);
/* The same for the backend of `location` (PostgreSQL: the newest of sql/pg/). */
int store_schema_version_at(const char *location);

/*
 * ---- messages between the machines that share a store (store_pg_bus.c) ----
 *
 * A store on one machine (SQLite) has nobody to tell: the long-poll
 * counters of notify.c reach every process already. A store that several
 * machines share (PostgreSQL) carries short messages between them
 * (LISTEN/NOTIFY), for the relay of long-poll wake-ups (relay.c).
 */
#define STORE_BUS_MSG_MAX 7999 /* bytes of one message (PostgreSQL's NOTIFY payload) */

struct store_bus;

/* 1 if the store at `location` may be shared by several machines (PostgreSQL). */
int store_location_shared(const char *location);

/*
 * Open a channel to the machines sharing the store at `location`, on a
 * connection of its own: with `listen` set it receives every message sent
 * (its own included), else it only sends. 0 with *out set (free with
 * store_bus_close); 0 with *out NULL when the store is not shared (SQLite);
 * -1 with errbuf filled when the database cannot be reached (try again later).
 */
int store_bus_open(const char *location, int listen, struct store_bus **out, char *errbuf, size_t errlen);
/* Close the channel. NULL is fine. */
void store_bus_close(struct store_bus *b);
/* Send msg (text, at most STORE_BUS_MSG_MAX bytes) to every listener: 0, or -1 when the connection is lost. */
int store_bus_send(struct store_bus *b, const char *msg);
/*
 * Wait up to timeout_ms for messages and call fn with each (msg valid
 * during the call). 0 (also when none came), or -1 when the connection is
 * lost (close it and open another).
 */
int store_bus_wait(struct store_bus *b, int timeout_ms, void (*fn)(void *ctx, const char *msg), void *ctx);

/*
 * ---- rate limits kept in the store (store_pg_limit.c) ----
 *
 * The login and registration limits of a store that several machines
 * share must count every machine's requests: their token buckets live in
 * the store (PostgreSQL: an unlogged table), on the store's clock. A
 * bucket is named by a keyed hash of its rule and key (core.c), never by
 * an address or a name. A store on one machine (SQLite) has none: the
 * shared-memory limiter (limit.c) counts for every process already.
 */
#define STORE_BUCKETS_MAX 16

struct store_bucket {
	uint8_t id[32];          /* HMAC-SHA256 of the bucket's identity */
	int64_t limit, window;   /* the rule's: limit requests per window seconds */
};

/*
 * Take one token from each of the n (<= STORE_BUCKETS_MAX) buckets b, all
 * or nothing, in a write transaction of its own: ERR_OK, or
 * ERR_RATE_LIMITED with *retry_after the whole seconds (>= 1) until every
 * empty bucket holds a token again (nothing taken). ERR_UNAVAILABLE when
 * the store is down; ERR_INTERNAL (logged) on a store that keeps no
 * buckets (not shared).
 */
enum err store_limit_take(struct store *s, const struct store_bucket *b, int n, int *retry_after);

/* ---- accounts (store_account.c) ---- */

#define STORE_PUBLIC_ID_MAX 32   /* opaque ids given to clients */
#define STORE_USERNAME_MAX 64
#define STORE_KDF_MAX 1024       /* the client's kdf object, serialised */
#define STORE_HASH_LEN 32
#define STORE_SALT_LEN 16

struct store_account {
	int64_t id;
	char public_id[STORE_PUBLIC_ID_MAX + 1];
	char username[STORE_USERNAME_MAX + 1];
	uint8_t auth_hash[STORE_HASH_LEN];
	uint8_t auth_salt[STORE_SALT_LEN];
	int64_t auth_iterations;
	char kdf[STORE_KDF_MAX + 1];
	int64_t keyring_version;
	int64_t created_at;
	int disabled;
	char plan[64];
	int64_t quota_bytes;         /* -1: no override, the plan's applies */
	int64_t usage_bytes;
	int64_t usage_records;
	int64_t account_version;
};

/*
 * Insert a new account from a (id ignored; keyring_version is 1 when a
 * keyring is given, else 0). Sets a->id. ERR_USERNAME_TAKEN if the name
 * exists. The keyring (may be NULL) is copied.
 */
enum err store_account_insert(struct store *s, struct store_account *a, const uint8_t *keyring, size_t keyring_len);
/* Fill *a by username (lowercased) or id; ERR_NOT_FOUND if there is none. */
enum err store_account_by_name(struct store *s, const char *username, struct store_account *a);
enum err store_account_by_id(struct store *s, int64_t id, struct store_account *a);
/*
 * The account's keyring: *out is a new allocation the caller frees (NULL when
 * none is set), *len its size, *version the keyring version.
 */
enum err store_account_keyring(struct store *s, int64_t id, uint8_t **out, size_t *len, int64_t *version);
/* Replace the auth hash (a rehash or a password change). */
enum err store_account_set_auth(struct store *s, int64_t id, const uint8_t hash[STORE_HASH_LEN],
    const uint8_t salt[STORE_SALT_LEN], int64_t iterations);
/* Replace the kdf object (password change); bumps account_version. */
enum err store_account_set_kdf(struct store *s, int64_t id, const char *kdf);
/*
 * Replace the keyring if its version is still `expected`; the version becomes
 * expected + 1 (*new_version). ERR_PRECONDITION_FAILED otherwise (the caller
 * reads the current version with store_account_keyring).
 */
enum err store_account_set_keyring(struct store *s, int64_t id, const uint8_t *keyring, size_t len,
    int64_t expected, int64_t *new_version);
/* Delete the account and, by cascade, everything it owns. */
enum err store_account_delete(struct store *s, int64_t id);
/* Disable (1) or enable (0) by username; ERR_NOT_FOUND if there is none. */
enum err store_account_set_disabled(struct store *s, const char *username, int disabled);
/* Call fn for each account, by username; a non-zero return from fn stops. */
enum err store_account_list(struct store *s, int (*fn)(void *ctx, const struct store_account *a), void *ctx);
/* account_version + 1 (anything of the account changed). */
enum err store_account_bump(struct store *s, int64_t id);

/* ---- devices and tokens ---- */

struct store_device {
	int64_t id;
	char public_id[STORE_PUBLIC_ID_MAX + 1];
	char name[65];
	char type[33];
	int64_t created_at;
	int64_t last_seen_at;
};

enum err store_device_insert(struct store *s, int64_t account_id, const char *public_id, const char *name,
    const char *type, int64_t now, int64_t *id);
enum err store_device_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_device *d), void *ctx);
/* The device's row id from its public id, within the account; ERR_NOT_FOUND. */
enum err store_device_find(struct store *s, int64_t account_id, const char *public_id, int64_t *id);
/* Delete a device and (by cascade) its tokens. */
enum err store_device_delete(struct store *s, int64_t device_id);
/* Delete every device of the account but `keep` (and their tokens). */
enum err store_device_delete_others(struct store *s, int64_t account_id, int64_t keep);
enum err store_device_touch(struct store *s, int64_t device_id, int64_t now);

enum store_token_kind { STORE_TOKEN_ACCESS = 1, STORE_TOKEN_REFRESH = 2 };

struct store_token {
	int64_t account_id;
	int64_t device_id;
	char device_public_id[STORE_PUBLIC_ID_MAX + 1];
	int64_t expires_at;
	int disabled;           /* the account is disabled */
	int64_t last_seen_at;   /* access: the device's */
	int64_t used_at;        /* refresh: 0 if never used */
};

enum err store_token_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    int64_t account_id, int64_t device_id, int64_t expires_at);
/* Look a token up by its hash (one indexed query); ERR_NOT_FOUND. */
enum err store_token_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], enum store_token_kind kind,
    struct store_token *t);
/* Mark a refresh token used; ERR_CONFLICT if it already was (a race lost). */
enum err store_token_mark_used(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now);
enum err store_token_delete_device(struct store *s, int64_t device_id);
/* Delete the device's tokens that expired by `now` (kept tidy on refresh). */
enum err store_token_prune_device(struct store *s, int64_t device_id, int64_t now);
enum err store_token_delete_account(struct store *s, int64_t account_id);

/* ---- invites ---- */

struct store_invite {
	int64_t id;
	int64_t created_at, expires_at, used_at; /* used_at 0: unused */
	char used_by[STORE_USERNAME_MAX + 1];    /* "" if unused or the account is gone */
};
enum err store_invite_insert(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t expires_at);
/* ERR_OK if the invite is unused and unexpired at `now`, ERR_INVALID_INVITE otherwise (changes nothing). */
enum err store_invite_usable(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now);
/* Consume an unused, unexpired invite; ERR_INVALID_INVITE otherwise. */
enum err store_invite_use(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t account_id);
enum err store_invite_list(struct store *s, int (*fn)(void *ctx, const struct store_invite *i), void *ctx);

/* ---- the activity log ---- */

#define STORE_EVENTS_KEEP 1000 /* per account; older ones are dropped */
struct store_event {
	int64_t at;
	char type[32];
	char device[STORE_PUBLIC_ID_MAX + 1]; /* "" if none */
};
/* Append an event (device may be NULL) and drop the oldest beyond the bound. */
enum err store_event_add(struct store *s, int64_t account_id, const char *type, const char *device, int64_t now);
/* The newest `limit` events, newest first. */
enum err store_event_list(struct store *s, int64_t account_id, int64_t limit,
    int (*fn)(void *ctx, const struct store_event *e), void *ctx);

/* ---- two-factor login and the recovery key (store_mfa.c) ---- */

#define STORE_MFA_SEALED_MAX 64   /* a sealed TOTP secret (mfa.h MFA_SEALED_LEN) */

struct store_mfa {
	uint8_t totp_sealed[STORE_MFA_SEALED_MAX];
	size_t totp_sealed_len;    /* 0: no TOTP secret */
	int totp_on;               /* confirmed: login asks for a code */
	int64_t last_step;         /* the TOTP step used last */
	int64_t fails;             /* wrong codes in a row */
	int64_t locked_until;      /* codes refused until then (unix seconds) */
	int recovery_key;          /* read only: 1 if a recovery key is set */
	int64_t recovery_codes;    /* read only: unused recovery codes */
};

/*
 * The account's second-factor state (all zero for an account that never
 * began TOTP); ERR_NOT_FOUND if there is no such account. Inside store_tx,
 * call store_account_by_id first: on PostgreSQL that locks the account's
 * row, so that the checks and writes of its codes follow each other.
 */
enum err store_mfa_get(struct store *s, int64_t account_id, struct store_mfa *m);
/* Write the TOTP columns of *m (secret, on, last step, fails, lock), creating the row if needed. */
enum err store_mfa_set(struct store *s, int64_t account_id, const struct store_mfa *m);
/* Replace the account's recovery codes by the n hashes (n = 0: remove them all). */
enum err store_mfa_codes_set(struct store *s, int64_t account_id, const uint8_t (*hashes)[STORE_HASH_LEN], int n);
/* Use (delete) one recovery code by its hash; ERR_NOT_FOUND if the account has no such code. */
enum err store_mfa_code_use(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN]);

struct store_recovery {
	uint8_t auth_hash[STORE_HASH_LEN]; /* PBKDF2 of recovery_auth, as for auth_key */
	uint8_t auth_salt[STORE_SALT_LEN];
	int64_t auth_iterations;
	uint8_t *blob;             /* store_recovery_get: a copy the caller frees */
	size_t blob_len;
};
/* The account's recovery key; ERR_NOT_FOUND if none is set. */
enum err store_recovery_get(struct store *s, int64_t account_id, struct store_recovery *k);
/* Set (or replace) the account's recovery key; any reset token of the old one goes with it. */
enum err store_recovery_put(struct store *s, int64_t account_id, const struct store_recovery *k, int64_t now);
/* Remove the account's recovery key (and its reset token); ERR_NOT_FOUND if none was set. */
enum err store_recovery_delete(struct store *s, int64_t account_id);
/* Give the account's recovery key a reset token (its SHA-256), replacing an earlier one. */
enum err store_recovery_reset_set(struct store *s, int64_t account_id, const uint8_t hash[STORE_HASH_LEN],
    int64_t expires_at);
/* The account whose reset token has this hash and has not expired at `now`; ERR_NOT_FOUND. */
enum err store_recovery_reset_find(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id);

/* ---- quotas (store_account.c) ---- */

/* Add to the account's usage counters and bump its account_version. */
enum err store_account_usage_add(struct store *s, int64_t account_id, int64_t bytes, int64_t records);
/* Per-account quota override by username (-1 removes it); ERR_NOT_FOUND. */
enum err store_account_set_quota(struct store *s, const char *username, int64_t bytes);
/* Assign a plan by username; ERR_NOT_FOUND. The caller checks the plan exists. */
enum err store_account_set_plan(struct store *s, const char *username, const char *plan);

/* ---- collections, records, history (store_sync.c) ---- */

#define STORE_NAME_MAX 64      /* collection and backup names */
#define STORE_RID_MAX 128      /* record ids */

struct store_collection {
	int64_t id, account_id;
	char name[STORE_NAME_MAX + 1];
	int64_t version, records, bytes, created_at, modified_at, purged_version;
	int64_t key_version;       /* sharing: 1 until the first rotation (store_share_rotate_mark) */
	int64_t members_version;   /* sharing: the membership version (store_share_members_bump) */
	int rotate_due;            /* sharing: 1 from a removal or leave to the next rotation */
	const uint8_t *meta;       /* list only: valid during the callback; NULL if none */
	size_t meta_len;
};

enum err store_collection_get(struct store *s, int64_t account_id, const char *name, struct store_collection *c);
/* Create an empty collection (meta may be NULL) and fill *c; a name that was
 * used by a deleted collection starts above its last version, with the purge
 * horizon there, and above its last membership version (see
 * store_collection_floor). */
enum err store_collection_create(struct store *s, int64_t account_id, const char *name, const uint8_t *meta,
    size_t meta_len, int64_t now, struct store_collection *c);
enum err store_collection_count(struct store *s, int64_t account_id, int64_t *n);
enum err store_collection_set_meta(struct store *s, int64_t id, const uint8_t *meta, size_t meta_len, int64_t now);
/* Delete a collection with its records and history (cascade). */
enum err store_collection_delete(struct store *s, int64_t id);
/*
 * Remember the last version and membership version of a deleted
 * collection's name (never lowering either): a collection created again
 * under it starts above both (store_collection_create reads them), so
 * neither a pull cursor nor a members ETag of the deleted one matches it.
 */
enum err store_collection_floor(struct store *s, int64_t account_id, const char *name, int64_t version,
    int64_t members_version);
enum err store_collection_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c), void *ctx);
/* Set the version and add to the counters of a collection. */
enum err store_collection_update(struct store *s, int64_t id, int64_t version, int64_t records_delta,
    int64_t bytes_delta, int64_t now);

struct store_record {
	const char *rid;           /* valid during the callback (or until the next store call) */
	int64_t version, modified_at;
	int deleted;
	const uint8_t *payload;    /* NULL for a tombstone */
	size_t payload_len;
};

/*
 * A hint before the store_record_head calls of a push: the heads of these n
 * records of the collection will be asked for, and may be read at once
 * (PostgreSQL: one query inside the write transaction instead of one per
 * record; SQLite ignores it). Changes nothing; rids are borrowed for the
 * call.
 */
enum err store_record_heads_hint(struct store *s, int64_t collection_id, const char *const *rids, size_t n);
/*
 * Read-ahead hints at the start of a store_read: the reads that follow are
 * sent at once (PostgreSQL: one round trip for all of them instead of one
 * each; SQLite ignores them), and each call takes its result when it asks
 * for exactly that. They change nothing and return ERR_OK; a hint the
 * backend cannot follow simply leaves the calls to run as usual.
 * store_status_hint: store_account_by_id, store_collection_list,
 * store_shared_list and store_backup_list of account_id (GET /v1/status).
 * store_pull_hint: store_collection_get(account_id, name), then
 * store_record_pull of that collection from since, at most limit (a pull).
 * store_push_hint, first thing in a push's store_tx_group: its
 * store_account_by_id(account_id) and store_collection_get(account_id,
 * name), which lock their rows on PostgreSQL, and the
 * store_record_heads_hint of that collection with these n rids (one round
 * trip for the three instead of three: the account's lock is held two
 * round trips less).
 */
enum err store_status_hint(struct store *s, int64_t account_id);
enum err store_pull_hint(struct store *s, int64_t account_id, const char *name, int64_t since, int64_t limit);
enum err store_push_hint(struct store *s, int64_t account_id, const char *name, const char *const *rids,
    size_t n);
/*
 * Early reads, before an access token is checked (the status and pull
 * routes: serve.h's route.early): the token's lookup and the reads of
 * store_status_hint (or store_pull_hint of name from since, at most limit)
 * of the token's account go in one read transaction sent at once
 * (PostgreSQL: the check and the handler's reads cost one round trip
 * instead of two; SQLite ignores them). The store_token_find of that hash
 * takes the token's result; the next store_read joins the transaction
 * (one snapshot, as its own would be) and takes the reads; any other call
 * ends it first, and store_early_end ends it at the end of the request (a
 * token refused, a handler that never read): what was not taken is
 * dropped unread. They change nothing and return ERR_OK.
 */
enum err store_status_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN]);
enum err store_pull_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], const char *name, int64_t since,
    int64_t limit);
enum err store_early_end(struct store *s);
/* The current version of a record without its payload; ERR_NOT_FOUND. */
enum err store_record_head(struct store *s, int64_t collection_id, const char *rid, int64_t *version,
    int *deleted, int64_t *bytes);
/* Call fn with the current version of a record (payload included); ERR_NOT_FOUND. */
enum err store_record_get(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx);
/* Write a record's new version (payload NULL for a tombstone). */
enum err store_record_put(struct store *s, int64_t collection_id, const char *rid, int64_t version, int64_t now,
    int deleted, const uint8_t *payload, size_t len);
/* Copy the current version of a record into its history. */
enum err store_record_to_history(struct store *s, int64_t collection_id, const char *rid);
/* Drop history beyond the newest `keep` versions; *freed = payload bytes dropped. */
enum err store_history_prune(struct store *s, int64_t collection_id, const char *rid, int64_t keep, int64_t *freed);
/* store_history_prune of n records at once (a push's replaced ones; a rid may repeat); *freed = their sum. */
enum err store_history_prune_many(struct store *s, int64_t collection_id, const char *const *rids, size_t n,
    int64_t keep, int64_t *freed);
/* Records with version > since, ascending, at most limit; fn returns non-zero to stop. */
enum err store_record_pull(struct store *s, int64_t collection_id, int64_t since, int64_t limit,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx);
/* The current version and kept history of a record, newest first (payload NULL, payload_len = bytes). */
enum err store_history_list(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx);
/* One version (current or kept) of a record; ERR_NOT_FOUND once pruned. */
enum err store_history_get(struct store *s, int64_t collection_id, const char *rid, int64_t version,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx);

/* ---- backups and slots (store_blob.c) ---- */

#define STORE_BLOB_CHUNK (64 * 1024)   /* blob I/O in pieces of this size */

struct store_backup {
	int64_t id;
	char name[STORE_NAME_MAX + 1];
	int64_t version, bytes, created_at, modified_at;
	uint8_t sha256[32];
};

/* A sink for streamed blob data: 0, or -1 to stop (the client went away). */
typedef int (*store_sink_fn)(void *ctx, const void *data, size_t n);

enum err store_backup_get(struct store *s, int64_t account_id, const char *name, struct store_backup *b);
enum err store_backup_count(struct store *s, int64_t account_id, int64_t *n);
enum err store_backup_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_backup *b), void *ctx);
/*
 * Write a backup's data from fd (size bytes from offset 0) in the current
 * transaction: a new row when b->id is 0, else a new version of row b->id.
 * Versions of backups and slots come from one store-wide counter that never
 * goes back, so a name deleted and created again never reuses a version.
 * *b is updated (id, version, bytes, sha256, times).
 */
enum err store_backup_put(struct store *s, int64_t account_id, struct store_backup *b, int fd, int64_t size,
    const uint8_t sha256[32], int64_t now);
enum err store_backup_delete(struct store *s, int64_t id);
/* Stream a backup's bytes into sink (inside store_read for a stable snapshot). */
enum err store_backup_read(struct store *s, int64_t id, store_sink_fn sink, void *ctx);

struct store_slot {
	int64_t rowid;
	char id[65];
	uint8_t key_hash[32];
	int64_t version, bytes, created_at, modified_at, accessed_at;
	uint8_t sha256[32];
};

enum err store_slot_get(struct store *s, const char *id, struct store_slot *sl);
/*
 * As store_backup_put, for a slot: new when sl->rowid is 0 (with sl->id,
 * sl->key_hash), and then ERR_CONFLICT if that id is taken after all.
 */
enum err store_slot_put(struct store *s, struct store_slot *sl, int fd, int64_t size, const uint8_t sha256[32],
    int64_t now);
enum err store_slot_delete(struct store *s, int64_t rowid);
enum err store_slot_touch(struct store *s, int64_t rowid, int64_t now);
enum err store_slot_read(struct store *s, int64_t rowid, store_sink_fn sink, void *ctx);

/* ---- maintenance: blindsync-admin check and purge (store_admin.c) ---- */

/* A collection's stored counters beside the same counters recounted from its data. */
struct store_recount_collection {
	int64_t id, account_id;
	char username[STORE_USERNAME_MAX + 1];
	char name[STORE_NAME_MAX + 1];
	int64_t records, bytes, version;                /* stored */
	int64_t real_records, real_bytes, real_version; /* recounted; real_version is the
	                                                   highest version in use */
};

/* An account's stored usage beside the sums of its collections' recounts
 * (real_bytes adds the size of its backups, which usage_bytes counts too). */
struct store_recount_account {
	int64_t id;
	char username[STORE_USERNAME_MAX + 1];
	int64_t usage_bytes, usage_records;             /* stored */
	int64_t real_bytes, real_records;               /* recounted */
};

/*
 * Recount every collection (by username, then name) or every account (by
 * username) from the records and history, and call fn with each; a non-zero
 * return from fn stops. They read whole tables: call both inside one
 * store_read() (or store_tx() to repair) so that they see one snapshot.
 */
enum err store_recount_collections(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_collection *c), void *ctx);
enum err store_recount_accounts(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_account *a), void *ctx);
/* Set a collection's counters (its version only ever grows); ERR_NOT_FOUND. */
enum err store_collection_set_counters(struct store *s, int64_t id, int64_t records, int64_t bytes,
    int64_t version);
/* Set an account's usage counters (no account_version bump); ERR_NOT_FOUND. */
enum err store_account_set_usage(struct store *s, int64_t id, int64_t bytes, int64_t records);

/*
 * Purge, in batches: each function removes at most `limit` rows (tombstones:
 * `limit` collections) and sets *n to how many it removed. The caller runs
 * each batch in a transaction of its own and repeats while *n == limit, so
 * the write lock is never held for a whole large purge.
 */
/* Delete the tokens (access and refresh, used or not) expired by `now`. */
enum err store_purge_tokens(struct store *s, int64_t now, int64_t limit, int64_t *n);
/* Delete the invites that expired by `now` unused (used ones are kept). */
enum err store_purge_invites(struct store *s, int64_t now, int64_t limit, int64_t *n);
/* Delete the activity events from before `before`, oldest first. */
enum err store_purge_events(struct store *s, int64_t before, int64_t limit, int64_t *n);
/* Delete the slots neither read nor written since `before`. */
enum err store_purge_slots(struct store *s, int64_t before, int64_t limit, int64_t *n);

struct store_purged_tombstones {
	int64_t tombstones;   /* tombstone records deleted */
	int64_t collections;  /* collections they were in */
	int64_t bytes;        /* payload bytes of their records' history, given back */
};
/*
 * Delete the tombstones last modified before `before` together with the
 * history of their records, in the first `limit` collections that have
 * some (out->collections of them; a batch as above). For each collection
 * touched: its bytes and its
 * account's usage_bytes shrink by the bytes dropped, its purged_version
 * becomes at least the highest version purged (a pull from below it answers
 * 410), and the account's account_version is bumped. Call inside store_tx().
 */
enum err store_purge_tombstones(struct store *s, int64_t before, int64_t limit, struct store_purged_tombstones *out);

/* ---- export and import of a whole account (store_transfer.c) ---- */

/*
 * The kept older versions of a record (the current one not included) with
 * their payloads, newest first, for the export. fn returns non-zero to
 * stop; r->payload is valid during the call only. ERR_OK also when there
 * are none.
 */
enum err store_transfer_history(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx);
/*
 * Insert a record's current version exactly as given (rid, version,
 * modified_at, deleted, payload: NULL for a tombstone). Never overwrites:
 * ERR_CONFLICT if the collection already has this id or this version.
 */
enum err store_transfer_record_insert(struct store *s, int64_t collection_id, const struct store_record *r);
/* Insert one older version of a record as given; ERR_CONFLICT if its history already has that version. */
enum err store_transfer_history_insert(struct store *s, int64_t collection_id, const struct store_record *r);
/* Set a collection's version, counters, purged_version and modified_at. */
enum err store_transfer_collection_set(struct store *s, int64_t id, int64_t version, int64_t records,
    int64_t bytes, int64_t purged_version, int64_t now);
/*
 * Insert a new backup with the modified_at of b and its data from fd (size
 * bytes from offset 0), as store_backup_put does for a new one. Its version
 * is b->version (the exported one) if the store-wide counter of backup and
 * slot versions is below it, else the counter's next value; the counter
 * moves to it, so no version is ever given twice. ERR_CONFLICT if the
 * account already has a backup of that name. Sets b->id, version, bytes,
 * sha256, created_at.
 */
enum err store_transfer_backup_insert(struct store *s, int64_t account_id, struct store_backup *b, int fd,
    int64_t size, const uint8_t sha256[32], int64_t now);

/* ---- blindsync-admin: invites, sessions and stats (store_admin.c) ---- */

/* Delete an unused invite by id: ERR_NOT_FOUND if there is none, ERR_CONFLICT if it was used. */
enum err store_invite_revoke(struct store *s, int64_t id);
/* Delete every device of the account and, by cascade, every token; *tokens and *devices removed. */
enum err store_session_revoke_account(struct store *s, int64_t account_id, int64_t *devices, int64_t *tokens);
/* The number of collections of every account. */
enum err store_collections_total(struct store *s, int64_t *n);
/* The `limit` accounts storing the most bytes, most first (then by name); fn returns non-zero to stop. */
enum err store_top_accounts(struct store *s, int64_t limit,
    int (*fn)(void *ctx, const char *username, int64_t bytes, int64_t records), void *ctx);

/* ---- blindsync-live: tickets (store_live.c) ---- */

/*
 * Issue a live ticket: store its hash, bound to account_id and device_id,
 * valid until expires_at (unix seconds), and delete the tickets expired by
 * `now`. Call inside store_tx().
 */
enum err store_live_ticket_put(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t account_id,
    int64_t device_id, int64_t now, int64_t expires_at);
/*
 * Take a ticket: delete it (single use, valid or not) and, if it existed
 * and expires after `now`, fill *account_id and *device_id. ERR_UNAUTHORIZED
 * for an unknown, used or expired ticket. Call inside store_tx().
 */
enum err store_live_ticket_take(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id, int64_t *device_id);
/*
 * ERR_OK if device_id of account_id still has a session at `now` (an
 * unexpired, unused token: neither logged out nor revoked) and the account
 * exists and is not disabled; ERR_UNAUTHORIZED otherwise. One indexed query.
 * *until (may be NULL) gets when that session ends if nothing happens: the
 * latest expiry of the device's live tokens (a refresh moves it later).
 */
enum err store_live_device_ok(struct store *s, int64_t account_id, int64_t device_id, int64_t now,
    int64_t *until);

/*
 * ---- sharing a collection between accounts (store_share.c) ----
 *
 * docs/API-sharing.md. The store keeps each account's public keys, the
 * members of a collection with their roles, pending invitations, and the
 * grants (a collection key sealed to a member, signed by the one who gave
 * it) per (collection, member, key_version). Every blob here is opaque:
 * the server never opens one. Usernames are lowercased by the caller.
 * The owner is never a row of the members table (a collection's owner is
 * its account_id). Deleting an account or a collection takes its keys,
 * memberships, invitations (to, from and of its collections) and grants
 * with it (cascade); store_share_account_peers tells whom that concerns.
 *
 * Lock order (PostgreSQL, where writers run in parallel; store_pg_share.c):
 * a collection's owner's account row, then the collection's row (taken by
 * store_collection_get inside store_tx, store_share_members_bump,
 * store_share_rotate_mark, and store_invitation_get inside store_tx, which
 * locks the invitation's collection before it reads it), then members,
 * invitations and grants. The bumps of store_share_accounts_bump and
 * store_share_account_peers come last, in one statement each, in ascending
 * account id order, and into rows that no push holds (not the members'
 * accounts rows): pushes by accounts that share collections with each other
 * both ways never wait in a cycle. Another account's own row
 * (store_account_bump of an invitee or a removed member) is best written
 * before those bumps; the other way round a rare deadlock is possible,
 * which store_tx runs again.
 *
 * Times are unix seconds; an invitation is pending while expires_at > now
 * (an expired one is as good as gone: no call returns or counts it).
 */
#define STORE_KEY_LEN 32             /* an X25519 or Ed25519 public key */
#define STORE_SIGNATURE_LEN 64       /* an Ed25519 signature */
#define STORE_SEALED_MAX 4096        /* a sealed grant, decoded */
#define STORE_INVITATION_ID_LEN 22   /* base64url characters */

enum store_role {
	STORE_ROLE_NONE = 0,   /* not a member */
	STORE_ROLE_READ = 1,
	STORE_ROLE_WRITE = 2,
	STORE_ROLE_ADMIN = 3,
	STORE_ROLE_OWNER = 4   /* never stored: the collection's account */
};

struct store_keys {
	uint8_t x25519[STORE_KEY_LEN];
	uint8_t ed25519[STORE_KEY_LEN];
};

/*
 * Set the account's public keys (insert or replace); *changed is 1 when
 * there were none or they differ, 0 when the same keys were set again.
 */
enum err store_keys_put(struct store *s, int64_t account_id, const struct store_keys *k, int64_t now,
    int *changed);
/* The account's public keys; ERR_NOT_FOUND when it has published none. */
enum err store_keys_get(struct store *s, int64_t account_id, struct store_keys *k);

/* ---- members ---- */

struct store_member {
	int64_t account_id;
	char username[STORE_USERNAME_MAX + 1];
	int role;                 /* STORE_ROLE_READ..ADMIN */
	int64_t joined_at;
};

/* The caller's role in the collection: *role STORE_ROLE_READ..ADMIN, ERR_NOT_FOUND when not a member. */
enum err store_member_role(struct store *s, int64_t collection_id, int64_t account_id, int *role);
/* The members of a collection (the owner not included), by username; fn returns non-zero to stop. */
enum err store_member_list(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, const struct store_member *m), void *ctx);
/* How many members (the owner not included). */
enum err store_member_count(struct store *s, int64_t collection_id, int64_t *n);
/* Add a member, or set the role of one (joined_at kept). */
enum err store_member_put(struct store *s, int64_t collection_id, int64_t account_id, int role, int64_t now);
/*
 * Remove a member and its grants of the collection, and mark the collection
 * rotate_due (cleared by store_share_rotate_mark); ERR_NOT_FOUND when it was
 * none. Inside store_tx after store_share_members_bump (which locks the row).
 */
enum err store_member_delete(struct store *s, int64_t collection_id, int64_t account_id);

/*
 * The collections shared with the account (where it is a member), by owner
 * then name; fn gets the collection (meta included: valid during the call),
 * its owner's username and the account's role. fn returns non-zero to stop.
 */
enum err store_shared_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c, const char *owner, int role), void *ctx);

/* ---- the collection's sharing counters and the accounts they concern ---- */

/* members_version + 1 of the collection (locks its row); *version the new one. ERR_NOT_FOUND. */
enum err store_share_members_bump(struct store *s, int64_t collection_id, int64_t *version);
/*
 * Mark the collection rotate_due (cleared by store_share_rotate_mark): its
 * key reached someone who is not a member (store_member_delete does it for
 * a removal). Inside store_tx after store_share_members_bump. ERR_NOT_FOUND.
 */
enum err store_share_rotate_due(struct store *s, int64_t collection_id);
/*
 * Rotation: if the collection's key_version is still expected_key_version
 * and members_version still expected_members_version, set key_version to
 * expected_key_version + 1, members_version + 1 (*members_version the new
 * one) and clear rotate_due; else ERR_PRECONDITION_FAILED with *members_version the current one
 * (the caller reads the rest with store_collection_get). Locks the row.
 */
enum err store_share_rotate_mark(struct store *s, int64_t collection_id, int64_t expected_members_version,
    int64_t expected_key_version, int64_t *members_version);
/*
 * account_version + 1 of every member of the collection, in one statement
 * (the owner is not included: its own writes bump it already). Calls fn with
 * each member's account id afterwards (for the long-poll wake-ups), fn may
 * be NULL; inside store_tx on PostgreSQL that may be as late as the
 * COMMIT's round trip (the statement is sent without waiting, its answer
 * read with the next one: ctx must live until the transaction ends, and
 * fn must only collect).
 */
enum err store_share_accounts_bump(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx);
/*
 * Before deleting an account: bump the account_version of everyone who
 * shares a collection with it (the members of its collections, the owners
 * and other members of the collections it is a member of) and the
 * members_version of the collections it is a member of; fn (may be NULL) is
 * called with each such account id (perhaps more than once).
 */
enum err store_share_account_peers(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx);

/* ---- invitations ---- */

struct store_invitation {
	int64_t id;                                  /* row id */
	char public_id[STORE_INVITATION_ID_LEN + 1];
	int64_t collection_id;
	char collection[STORE_NAME_MAX + 1];         /* read: the collection's name */
	int64_t owner_id;                            /* read: the collection's account */
	char owner[STORE_USERNAME_MAX + 1];          /* read */
	int64_t from_id;
	char from[STORE_USERNAME_MAX + 1];           /* read */
	int from_has_keys;                           /* read: from_keys is set */
	struct store_keys from_keys;                 /* read: the inviter's current keys */
	int64_t to_id;
	char to[STORE_USERNAME_MAX + 1];             /* read */
	int role;
	int64_t key_version;
	const uint8_t *sealed;                       /* read: valid during the callback */
	size_t sealed_len;
	const uint8_t *signature;
	size_t signature_len;
	int64_t created_at, expires_at;
};

/*
 * Insert a pending invitation from the fields public_id, collection_id,
 * from_id, to_id, role, key_version, sealed, signature, created_at,
 * expires_at of *i (sets i->id). An expired invitation of the same
 * collection to the same account is deleted first; a pending one is
 * ERR_CONFLICT (nothing written).
 */
enum err store_invitation_insert(struct store *s, struct store_invitation *i);
/* The pending invitation with this public id at `now`; ERR_NOT_FOUND. fn gets it filled. */
enum err store_invitation_get(struct store *s, const char *public_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx);
/* The pending invitations to the account, oldest first. */
enum err store_invitation_list_to(struct store *s, int64_t to_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx);
/* The pending invitations of the collection, oldest first. */
enum err store_invitation_list_collection(struct store *s, int64_t collection_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx);
/* The first `limit` invitations expired by `now`, oldest first (blindsync-admin purge). */
enum err store_invitation_list_expired(struct store *s, int64_t now, int64_t limit,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx);
/* How many pending invitations the account has sent (all collections). */
enum err store_invitation_count_from(struct store *s, int64_t from_id, int64_t now, int64_t *n);
/* 1 in *pending if the account has a pending invitation to the collection. */
enum err store_invitation_pending(struct store *s, int64_t collection_id, int64_t to_id, int64_t now,
    int *pending);
/* Delete an invitation by row id; ERR_NOT_FOUND. */
enum err store_invitation_delete(struct store *s, int64_t id);
/* Rotation: replace a pending invitation's key_version, sealed and signature (by row id); ERR_NOT_FOUND. */
enum err store_invitation_regrant(struct store *s, int64_t id, int64_t key_version, const uint8_t *sealed,
    size_t sealed_len, const uint8_t *signature, size_t signature_len);

/* ---- grants ---- */

struct store_grant {
	int64_t collection_id, account_id, key_version;
	char from[STORE_USERNAME_MAX + 1];     /* the giver's name when it was stored */
	struct store_keys from_keys;           /* and its public keys then */
	const uint8_t *sealed;                 /* read: valid during the callback */
	size_t sealed_len;
	const uint8_t *signature;
	size_t signature_len;
	int64_t created_at;
};

/* Store (or replace) the grant of (collection_id, account_id, key_version) from *g. */
enum err store_grant_put(struct store *s, const struct store_grant *g);
/*
 * The member's grant of key_version (0: the newest it has); ERR_NOT_FOUND.
 * fn gets it filled.
 */
enum err store_grant_get(struct store *s, int64_t collection_id, int64_t account_id, int64_t key_version,
    int (*fn)(void *ctx, const struct store_grant *g), void *ctx);

#endif
