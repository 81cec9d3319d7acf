/*
 * bs_impl.h: what the files of the client session share and an
 * application never sees: the struct behind struct bs_client, the HTTP
 * layer (bs_http.c) and the local state (bs_state.c). Never installed.
 */
#ifndef BLINDSYNC_BS_IMPL_H
#define BLINDSYNC_BS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "blindsync.h"
#include "bs1.h"

struct json_object;
struct sqlite3;
struct sqlite3_stmt;

struct bs_client {
	char *home;
	char *server;          /* base URL without a trailing '/' */
	char *user;            /* lowercased username of the session */
	char *access, *refresh, *device_id;
	int have_key;
	struct bs1_key data_key;
	struct bs1_key id_key;
	struct sqlite3 *db;
	void *curl;            /* one CURL handle, reused (keep-alive) */
	bs_merge_fn merge;
	void *merge_arg;
	bs_sync_progress_fn sync_progress;
	void *sync_progress_arg;
	bs_mfa_prompt_fn mfa_prompt;
	void *mfa_prompt_arg;
	char *owner;           /* bs_use_owner: whose collections the record calls mean (NULL: own) */
	char code[64];
	char msg[512];
};

/* Record the failure: st (returned), code, printf-style message. */
int bs__fail(struct bs_client *c, int st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- bs_http.c ---------------------------------------------------------- */

/* One HTTP answer: status, the body parsed as JSON (NULL if none or not JSON). */
struct bs_resp {
	long status;
	struct json_object *json;
};
void bs__resp_clear(struct bs_resp *r);

/*
 * One API request: method, path (under the server URL), the JSON body
 * (NULL: none), with the session's bearer token when auth. Retries with
 * full-jitter exponential back-off on connection errors, 503, 429 (but one
 * whose Retry-After is over 30 s is returned at once) and (for
 * requests without side effects) 5xx; an access token that answers 401
 * token_expired is refreshed (rotation saved in the state) once. Returns
 * BS_OK with *r filled for any status below 500 (the caller judges 4xx
 * with bs__refused), BS_UNREACHABLE after the retries.
 */
int bs__request(struct bs_client *c, const char *method, const char *path,
    struct json_object *body, int auth, struct bs_resp *r);
/*
 * A streamed transfer (backups, slots): extra headers (NULL-terminated
 * "Name: value" lines; they are wiped after use, so a slot key may be one),
 * an upload body through read (size bytes; rewind, if not NULL, restarts
 * it for a retry), and a 2xx answer's body handed to sink piece by piece
 * (a non-zero return aborts; no retry happens once sink got a byte). The
 * answer's ETag is copied into etag.
 */
struct bs_xfer {
	const char *const *headers;
	size_t (*read)(char *p, size_t sz, size_t nm, void *arg);
	int (*rewind)(void *arg);
	void *read_arg;
	int64_t size;
	const char *content_type;   /* of the upload; NULL: application/octet-stream */
	int (*sink)(void *arg, const uint8_t *p, size_t n);
	void *sink_arg;
	int sunk, sink_failed;
	char etag[40];
};
/* bs__request with a streamed transfer (x may be NULL). */
int bs__request_x(struct bs_client *c, const char *method, const char *path,
    struct json_object *body, int auth, struct bs_xfer *x, struct bs_resp *r);

/* BS_REFUSED (or BS_CONFLICT for 409/412) with the server's error code and
 * message recorded from r. */
int bs__refused(struct bs_client *c, const struct bs_resp *r);
void bs__http_free(struct bs_client *c);

/* ---- bs_state.c --------------------------------------------------------- */

/* Open (create, migrate) the state file of c->home and load the session. */
int bs__state_open(struct bs_client *c);
void bs__state_close(struct bs_client *c);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on the state; BS_LOCAL on failure. */
int bs__begin(struct bs_client *c);
int bs__commit(struct bs_client *c);
void bs__rollback(struct bs_client *c);
/* A setting of the session (NULL value deletes it), and one read back
 * (malloc'd, NULL when absent). */
int bs__set(struct bs_client *c, const char *k, const void *v, size_t n);
int bs__get_setting(struct bs_client *c, const char *k, void **v, size_t *n);
/* Save the session's tokens (after login or a refresh). */
int bs__save_tokens(struct bs_client *c);
/* Forget every record, queue entry, conflict and collection. */
int bs__state_clear_data(struct bs_client *c);
/* Forget the session (tokens, keys, user) in the state and in memory. */
int bs__state_forget(struct bs_client *c);

/* A prepared statement on the state (NULL, and a failure recorded, if
 * not); bs__run steps a write statement and finalizes it: BS_OK or BS_LOCAL. */
struct sqlite3_stmt *bs__prep(struct bs_client *c, const char *sql);
int bs__run(struct bs_client *c, struct sqlite3_stmt *st);
/* The integer in column 0 of the first row sql (one parameter, ?1 = arg)
 * gives: 0 when it gives no row, a NULL, or fails (the failure recorded). */
int64_t bs__state_int(struct bs_client *c, const char *sql, const char *arg);

/* ---- sharing (bs_share.c) ----------------------------------------------- */

/*
 * What the record code needs of one collection: its server name, whose it
 * is (owner "" for the session's own), the query that addresses it
 * ("" or "owner=NAME"), the cid_key of its record ids and the newest key
 * version with its key, which new records are sealed under. Wipe with
 * bs__coll_clear.
 */
struct bs__coll {
	char sname[BS1_NAME_LEN + 1];
	char owner[72];
	char q[208];
	uint32_t kv;
	struct bs1_key ck;
	struct bs1_key cid;
};
/* The collection of application name A: the session's own, or (after
 * bs_use_owner) the one that owner shared with this account, known from an
 * accepted grant (looked up on the server once when unknown here). */
int bs__coll_by_name(struct bs_client *c, const char *A, struct bs__coll *x);
/* The collection of server name sname as the local state knows it (a
 * shared one when a grant of it is kept, else the session's own). */
int bs__coll_by_sname(struct bs_client *c, const char *sname, struct bs__coll *x);
void bs__coll_clear(struct bs__coll *x);
/* The key of version kv of collection x (a shared collection's missing
 * version is fetched with GET .../grant and kept); BS_DECRYPT if none. */
int bs__coll_key(struct bs_client *c, const struct bs__coll *x, uint32_t kv, struct bs1_key *ck);
/* A member's collection: fetch the newest grant when the server has a newer
 * key version than the one kept, so that new records use it. */
int bs__coll_refresh(struct bs_client *c, struct bs__coll *x);
/* After a login: keep the keyring key and the identity the keyring holds
 * (pt its plaintext), and publish the identity's public keys (best effort). */
void bs__share_login(struct bs_client *c, const struct bs1_key *keyring_key, const uint8_t *pt,
    size_t ptlen);
/* The keyring plaintext pt with a fresh identity added into *out (bs1_free). */
int bs__keyring_add_identity(struct bs_client *c, const uint8_t *pt, size_t ptlen, uint8_t **out,
    size_t *outlen);
/* What a status or collections listing says of the collections: the key
 * versions of the own ones (kept), shared ones not known here (their grant
 * fetched), and *gone set for nothing. status_json is the answer. */
int bs__share_learn(struct bs_client *c, struct json_object *listing);
/* What the members answer of own collection sname says of it (its key
 * version and rotate_due, kept as bs__share_learn keeps a listing's), for
 * a push that no listing preceded; a collection not on the server yet
 * (404) has nothing to say. */
int bs__own_learn(struct bs_client *c, const char *sname);
/*
 * Own collection sname (A its application name, NULL if not known): if the
 * server marked it rotate_due (kept by bs__share_learn), rotate its key now,
 * as bs_rotate does; BS_OK when none is due or the rotation is done.
 */
int bs__rotate_due(struct bs_client *c, const char *sname, const char *A);
/* Forget a shared collection here: its grant, keys, records and queue. */
int bs__share_forget(struct bs_client *c, const char *sname);
/* Create the session's own collection sname (A) on the server if needed. */
int bs__ensure_collection(struct bs_client *c, const char *sname, const char *A);

/* ---- helpers (bs_account.c) --------------------------------------------- */

/* base64 of p[0..n) as a new json string object (NULL on no memory). */
struct json_object *bs__json_b64(const void *p, size_t n);
/* Decode the base64 string member key of o into *out (malloc'd). */
int bs__get_b64(struct bs_client *c, struct json_object *o, const char *key,
    uint8_t **out, size_t *n);
/* The string member key of o (NULL if absent or not a string). */
const char *bs__get_str(struct json_object *o, const char *key);
/* A JSON object parsed strictly (UTF-8 checked, nesting at most depth) from
 * all n bytes of p: a new object, or NULL when they are more than max bytes
 * or not one whole object (decrypted plaintexts: meta, identities, grants). */
struct json_object *bs__json_object(const uint8_t *p, size_t n, int depth, size_t max);
/* The server name of application collection A (requires the data key). */
int bs__coll_name(struct bs_client *c, const char *A, char out[BS1_NAME_LEN + 1]);
/* BS_LOCAL "not_logged_in" unless the session holds a data key. */
int bs__need_session(struct bs_client *c);
/* The ASCII lowercase copy of a username (malloc'd; NULL on no memory). */
char *bs__lower(const char *s);
/* Map a bs1 error e met while handling what to a status and a message. */
int bs__bs1_fail(struct bs_client *c, int e, const char *what);
/* auth_key and keyring_key (either may be NULL) of password pw under kdf. */
int bs__derive(struct bs_client *c, const char *pw, const struct bs1_kdf *kdf,
    struct bs1_key *auth, struct bs1_key *kk);
/* POST /v1/account/prelogin for user and the floor: *kdf, or BS_DECRYPT kdf_floor. */
int bs__prelogin(struct bs_client *c, const char *user, struct bs1_kdf *kdf);
/* A kdf as a new json object (NULL on failure). */
struct json_object *bs__kdf_json(const struct bs1_kdf *kdf);
/* Add key: b64(p[0..n)) to o; 0, or -1 on no memory. */
int bs__add_b64(struct json_object *o, const char *key, const void *p, size_t n);
/* GET /v1/account/keyring: the sealed keyring (*env malloc'd) and its version. */
int bs__fetch_keyring(struct bs_client *c, uint8_t **env, size_t *envlen, int64_t *version);
/* The new password's half of a password change or a recovery: a new kdf, the
 * keys newpw derives under it (the keyring key into *nkk, wiped by the
 * caller), the keyring plaintext pt sealed with it as user's keyring version
 * kv; adds new_auth_key, new_kdf and new_keyring to body (bs_account.c). */
int bs__new_password(struct bs_client *c, const char *user, const char *newpw, int64_t kv,
    const uint8_t *pt, size_t ptlen, struct json_object *body, struct bs1_key *nkk);
/* Set body's "totp" (six digits) or "recovery_code" (anything else) to code,
 * replacing either; 0, or -1 on no memory. */
int bs__mfa_field(struct json_object *body, const char *code);

#endif
