/*
 * blindsync.h: the one public header of libblindsync-client, the client
 * side of blindsync (../shared/spec/client.md section 7). A session is an
 * opaque struct bs_client bound to one home directory, whose SQLite state
 * file keeps the server, the tokens, the data key, the records and the
 * queue of local changes. Everything that leaves the process is sealed
 * with the bs1 suite (bs1.h) first: the server sees ciphertext and opaque
 * names only.
 *
 * Every operation returns an enum bs_status, whose values are the exit
 * codes of the CLI (client.md section 8); bs_error_code() and
 * bs_error_message() tell the detail of the last failure (the server's
 * error code and message when the server refused). Nothing secret ever
 * appears in those texts.
 *
 * Not thread-safe: one session per thread.
 */
#ifndef BLINDSYNC_CLIENT_H
#define BLINDSYNC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* The outcome of an operation; the values are the CLI's exit codes. */
enum bs_status {
	BS_OK = 0,
	BS_LOCAL = 1,        /* usage, local state, a file, no session */
	BS_REFUSED = 2,      /* the server answered 4xx (code and message kept) */
	BS_CONFLICT = 3,     /* a record changed on the server; nothing overwritten */
	BS_UNREACHABLE = 4,  /* no connection, or 5xx after the retries */
	BS_DECRYPT = 5       /* cannot decrypt: wrong password, tampered data, weak kdf */
};

struct bs_client;

/*
 * Open the session of home directory home (created mode 0700 if missing;
 * its state file blindsync.db mode 0600). server, if not NULL, overrides
 * the server the last login saved. *out is the session (bs_close frees it).
 * BS_LOCAL with a message on failure (*out is still set, so that
 * bs_error_message works; bs_close it).
 */
int bs_open(const char *home, const char *server, struct bs_client **out);
/* Close the session; wipes the keys held in memory. NULL is fine. */
void bs_close(struct bs_client *c);

/* The last failure: the server's code ("invalid_credentials", ...) or a
 * local one ("cannot_decrypt", "kdf_floor", "unreachable", ...), and a
 * sentence. Never NULL; "" when nothing failed. */
const char *bs_error_code(const struct bs_client *c);
const char *bs_error_message(const struct bs_client *c);

/* ---- account (bs_account.c) --------------------------------------------- */

/* Register user with password (a fresh kdf salt and data key, the keyring
 * of version 1). Does not log in. */
int bs_register(struct bs_client *c, const char *user, const char *password);
/*
 * Log in: prelogin, the kdf floor (a kdf below it is BS_DECRYPT with code
 * "kdf_floor", and no login request is sent), Argon2id, login, the keyring
 * opened at the login answer's keyring_version. The session (server,
 * username, tokens, device id, data key) is saved in the state file: that
 * is the point of a session, and the reason the file is mode 0600. Logging
 * in as another user than the one saved clears the local records.
 */
int bs_login(struct bs_client *c, const char *user, const char *password, const char *device);
/*
 * The second factor of login (bs_mfa.c has the rest). An account with
 * two-factor login answers a login without a code with mfa_required: the
 * library then calls the prompt set here (none by default) with again 0,
 * and with again 1 after a wrong code, at most BS_MFA_PROMPTS times; the
 * prompt writes a code (NUL-terminated, at most size - 1 bytes: six digits
 * from the authenticator app, or one of the recovery codes) and returns 0,
 * or returns non-zero to give up. The login is then resent with the same
 * auth_key (no second Argon2id). Without a prompt or a code, the login is
 * BS_REFUSED with code "mfa_required"; a wrong code is BS_REFUSED
 * "invalid_mfa".
 */
#define BS_MFA_CODE_MAX 64
#define BS_MFA_PROMPTS 3
typedef int (*bs_mfa_prompt_fn)(void *arg, int again, char *code, size_t size);
void bs_set_mfa_prompt(struct bs_client *c, bs_mfa_prompt_fn fn, void *arg);
/* bs_login with a second factor given up front (code NULL: none; six digits
 * are sent as "totp", anything else as "recovery_code"). A wrong code given
 * here is not followed by a prompt: scripts see invalid_mfa at once. */
int bs_login_mfa(struct bs_client *c, const char *user, const char *password, const char *device,
    const char *code);
/* Revoke this device's tokens on the server (best effort) and forget the
 * session: tokens, data key, records and queue are deleted from the state
 * (secure_delete) and wiped from memory. */
int bs_logout(struct bs_client *c);
/* Change the password: the keyring re-sealed as version N + 1 under the
 * new password's keys; other devices are logged out. */
int bs_change_password(struct bs_client *c, const char *oldpw, const char *newpw);
/* The username and server of the session (NULL when logged out). */
const char *bs_username(const struct bs_client *c);
const char *bs_server(const struct bs_client *c);

/* One device of the account, as bs_devices lists them. */
struct bs_device {
	const char *id, *name, *type, *created_at, *last_seen_at;
	int current;
};
typedef void (*bs_device_fn)(void *arg, const struct bs_device *d);
/* Call fn for each device of the account. */
int bs_devices(struct bs_client *c, bs_device_fn fn, void *arg);
/* Revoke a device: its tokens stop working at once. */
int bs_device_revoke(struct bs_client *c, const char *device_id);

/* ---- two-factor login and the recovery key (bs_mfa.c) ------------------ */

/* Whether the account has two-factor login and a recovery key (GET /v1/account). */
int bs_security(struct bs_client *c, int *totp, int *recovery_key);
/*
 * Start turning on two-factor login (TOTP, RFC 6238): the current password
 * proves the account; the server makes a secret, returned as base32 in
 * *secret and as an otpauth:// URI in *uri (both malloc'd: bs_free them with
 * strlen + 1; they are secrets). Nothing is on until bs_totp_confirm.
 */
int bs_totp_enable(struct bs_client *c, const char *password, char **secret, char **uri);
/* One recovery code, as bs_totp_confirm and bs_recovery_codes hand them out. */
typedef void (*bs_code_fn)(void *arg, const char *code);
/* Turn two-factor login on with a code of the authenticator app; fn gets
 * each of the ten single-use recovery codes the server made (shown once). */
int bs_totp_confirm(struct bs_client *c, const char *code, bs_code_fn fn, void *arg);
/* Turn two-factor login off: the password and a current code (or a recovery code). */
int bs_totp_disable(struct bs_client *c, const char *password, const char *code);
/* A new set of recovery codes (the old set stops working), handed to fn. */
int bs_recovery_codes(struct bs_client *c, const char *password, const char *code,
    bs_code_fn fn, void *arg);

/*
 * Make a recovery key (client.md section 10): the keyring is opened with
 * password (a wrong one is BS_DECRYPT "invalid_credentials"), its
 * plaintext sealed as a recovery blob under a fresh random key, and the
 * blob stored with PUT /v1/account/recovery, replacing any earlier key.
 * text receives the key (groups of four, upper case): the only copy; the
 * caller shows it once and wipes it.
 */
#define BS_RECOVERY_TEXT_LEN 39
int bs_recovery_key_create(struct bs_client *c, const char *password,
    char text[BS_RECOVERY_TEXT_LEN + 1]);
/* Remove the account's recovery key (the password proves the account). */
int bs_recovery_key_delete(struct bs_client *c, const char *password);
/*
 * Set a new password for user with the recovery key text (case, spaces and
 * '-' ignored): POST /v1/account/recover (a wrong key or user is BS_DECRYPT
 * "invalid_credentials"), open the blob, seal the same keyring plaintext
 * under newpw's keys, POST /v1/account/recover/complete (every device is
 * logged out, the used recovery key is gone), then log this home in as
 * device (two-factor login, if on, still asks for a code through the
 * prompt). Every record stays readable: the data key did not change.
 */
int bs_recover(struct bs_client *c, const char *user, const char *text, const char *newpw,
    const char *device);

/* ---- records (bs_sync.c) ----------------------------------------------- */

/*
 * Queue a change of record id in collection coll (the application's names,
 * never sent): data[0..n) to write, or a deletion. Nothing is sent;
 * bs_push_one or bs_sync sends it.
 */
int bs_put(struct bs_client *c, const char *coll, const char *id, const void *data, size_t n);
int bs_delete(struct bs_client *c, const char *coll, const char *id);
/* One write of bs_put_many. */
struct bs_put_item {
	const char *id;
	const void *data;
	size_t n;
};
/*
 * Queue the writes items[0..count) to coll as bs_put does, in one
 * transaction of the local state: all of them or none. Many bs_put calls
 * cost a synced transaction each; this costs one.
 */
int bs_put_many(struct bs_client *c, const char *coll, const struct bs_put_item *items, size_t count);

/*
 * Send the queued change of one record at once, with the version last
 * seen. An own collection's key version and rotate_due are asked first
 * (its members answer): one the server marked is rotated before anything
 * is sealed, as bs_sync does. A conflict is BS_CONFLICT: nothing is
 * overwritten on the server and the change stays queued (a later bs_sync
 * hands it to the merge).
 */
int bs_push_one(struct bs_client *c, const char *coll, const char *id);

/* The local copy of a record (after a sync): *data malloc'd (bs_free), or
 * BS_REFUSED with code "not_found" for an absent or deleted record. */
int bs_get(struct bs_client *c, const char *coll, const char *id, uint8_t **data, size_t *n);
/* Wipe and free what bs_get returned (NULL is fine). */
void bs_free(void *p, size_t n);

/* Call fn for each live record id of coll in the local copy, in id order. */
typedef void (*bs_name_fn)(void *arg, const char *name, int64_t version, size_t bytes);
int bs_list(struct bs_client *c, const char *coll, bs_name_fn fn, void *arg);
/* Call fn for each collection known locally (the application's names;
 * version is the last pulled, bytes the local plaintext bytes). */
int bs_collections(struct bs_client *c, bs_name_fn fn, void *arg);

/*
 * The merge of a conflict: the local change (local NULL when it deletes)
 * against the server's copy (remote NULL for a tombstone). Return
 * BS_MERGE_SERVER to keep the server's copy (the local change is reported
 * and saved in the state's conflicts), BS_MERGE_LOCAL to write the local
 * change over it, or BS_MERGE_NEW with *out (malloc'd; the library frees
 * it) the merged data to write.
 */
enum { BS_MERGE_SERVER = 0, BS_MERGE_LOCAL = 1, BS_MERGE_NEW = 2 };
typedef int (*bs_merge_fn)(void *arg, const char *coll, const char *id,
    const uint8_t *local, size_t locallen, const uint8_t *remote, size_t remotelen,
    uint8_t **out, size_t *outlen);
/* Set the merge function (NULL: the default, keep the server's copy). */
void bs_set_merge(struct bs_client *c, bs_merge_fn fn, void *arg);

/* What a sync did. */
struct bs_sync_result {
	size_t pushed;      /* local changes the server accepted */
	size_t pulled;      /* records (and tombstones) received */
	size_t conflicts;   /* conflicts met (each handed to the merge) */
	size_t kept_server; /* of them, resolved by keeping the server's copy */
	size_t resyncs;     /* 410s answered with a pull from 0 */
};
/*
 * Sync the collections colls[0..n) (application names; n == 0: every
 * collection known locally and every collection on the server): push the
 * queue with base_version, conflicts to the merge, pull until more is
 * false, 410 -> resync from 0. *res (may be NULL) tells what happened.
 * Each page pulled and each push answered is committed to the state in
 * one transaction, so an interrupted sync loses nothing.
 */
int bs_sync(struct bs_client *c, const char *const *colls, size_t n, struct bs_sync_result *res);
/*
 * Progress of syncs: fn (NULL: none) is called with the counts so far after
 * each push batch the server answered and each page pulled. A sync that
 * finds nothing changed calls it never.
 */
typedef void (*bs_sync_progress_fn)(void *arg, const struct bs_sync_result *so_far);
void bs_set_sync_progress(struct bs_client *c, bs_sync_progress_fn fn, void *arg);

/*
 * Watch: a bs_sync of colls[0..n) each time the account changed, first at
 * once; fn gets each sync's result and returns non-zero to stop (BS_OK
 * then). When GET /v1/info says "live": true, by the live socket
 * (docs/API-live.md: a ticket, then a WebSocket on libwebsockets; a sync
 * at its hello and at each "changed"); else, or while the socket cannot
 * open or after it closed, by GET /v1/status and long polls of wait
 * seconds (30 when out of 1..3600) with If-None-Match, the socket tried
 * again after a full-jitter back-off (1 s doubling up to 60 s; after a
 * 1012 close its retry delay). A 304 that comes at once waits the same
 * back-off. A 4401 close is checked with GET /v1/status (which refreshes
 * an expired token): its 401 ends the watch with BS_REFUSED. Returns on
 * the first failure of a request or a sync. BLINDSYNC_WATCH_LIVE=0 in the
 * environment keeps it to long polls. It sets libwebsockets' log level to
 * nothing (the library never logs).
 */
typedef int (*bs_watch_fn)(void *arg, const struct bs_sync_result *res);
int bs_watch(struct bs_client *c, const char *const *colls, size_t n, int wait,
    bs_watch_fn fn, void *arg);

/* A conflict whose local side was set aside (the default merge). */
typedef void (*bs_conflict_fn)(void *arg, const char *coll, const char *id,
    int64_t server_version, const uint8_t *local, size_t locallen);
/* Call fn for each conflict set aside; clear them afterwards when clear. */
int bs_conflicts(struct bs_client *c, bs_conflict_fn fn, void *arg, int clear);

/* One version of a record's history, opened. */
struct bs_version {
	int64_t version;
	const char *modified_at;
	int deleted;
	const uint8_t *data;   /* NULL for a tombstone or a pruned version */
	size_t n;
};
typedef void (*bs_version_fn)(void *arg, const struct bs_version *v);
/* The versions of a record, newest first, each fetched and opened. */
int bs_history(struct bs_client *c, const char *coll, const char *id, bs_version_fn fn, void *arg);

/* ---- backups and anonymous slots (bs_blob.c) -------------------------- */

/* Progress of a transfer: bytes done of total (total 0 when unknown). */
typedef void (*bs_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Upload the regular file fd as backup name: a kind-4 stream under
 * backup_key(name), sealed 64 KiB at a time while it is sent (memory
 * bounded whatever the size). The first upload of a name creates it
 * (If-None-Match: *); later ones send If-Match with the version this home
 * last put or got, so a backup another device changed meanwhile is
 * BS_CONFLICT and nothing is overwritten. name is sent as is: pick one
 * that says nothing ("main").
 */
int bs_backup_put(struct bs_client *c, const char *name, int fd, bs_progress_fn progress, void *arg);
/*
 * Download backup name into the file out (through a temporary file renamed
 * into place only once the whole stream verified) or to standard output
 * ("-"; then on BS_DECRYPT what was written must be discarded). A tampered,
 * truncated or reordered stream is BS_DECRYPT.
 */
int bs_backup_get(struct bs_client *c, const char *name, const char *out);
/* The account's backups (name, version, bytes on the server). */
int bs_backup_list(struct bs_client *c, bs_name_fn fn, void *arg);
int bs_backup_delete(struct bs_client *c, const char *name);

/*
 * Anonymous slots (client.md section 6; no account, no session needed):
 * the slot of (app, passphrase) (app NULL: "blindsync"; a passphrase of
 * fewer than 12 characters is BS_LOCAL "weak_passphrase"), uploaded from
 * the regular file fd or downloaded into out as for backups. A passphrase
 * with no slot is BS_REFUSED "not_found".
 */
int bs_slot_put(struct bs_client *c, const char *app, const char *passphrase, int fd,
    bs_progress_fn progress, void *arg);
int bs_slot_get(struct bs_client *c, const char *app, const char *passphrase, const char *out);

/*
 * The account's export (GET /v1/account/export: every collection, record,
 * history version and backup, still encrypted, with the kdf and keyring)
 * into the file out, streamed to a temporary file renamed into place once
 * complete. Nothing is decrypted.
 */
int bs_export(struct bs_client *c, const char *out);

/*
 * Import an export of another account (the same server or another) into
 * this one, which must have no collection and no backup yet: the export's
 * keyring is opened with old_password (its kdf checked against the floor
 * first), its plaintext re-sealed as this account's keyring N + 1 under
 * password (PUT /v1/account/keyring), then the document is uploaded as is
 * (POST /v1/account/import), and this home continues with the imported
 * data key. The other homes of this account must log in again.
 */
int bs_import(struct bs_client *c, const char *path, const char *password, const char *old_password);

/* ---- sharing a collection (bs_share.c; client.md section 9) ------------- */

/*
 * The account's identity (an X25519 and an Ed25519 key pair) is made at
 * registration, kept in the keyring and published at login; an older
 * account makes it on its first share or accept (the keyring is rewritten
 * under the key this home kept at login). Other accounts' public keys are
 * pinned in the state on first use: a key that changed afterwards is
 * BS_DECRYPT with code "key_changed" until bs_trust confirms it. A grant is
 * opened only after its signature checked with the inviter's pinned key;
 * any failure is BS_DECRYPT "cannot_decrypt".
 */
#define BS_FINGERPRINT_LEN 16

/*
 * Whose collections the record calls (bs_put, bs_get, bs_delete,
 * bs_push_one, bs_list, bs_history, bs_sync of named collections,
 * bs_collections) and the member calls below mean: owner's (the
 * application's collection names as that owner shared them), or NULL for
 * the session's own. Records of a shared collection are sealed under the
 * newest key version held and opened by the key version of each envelope.
 */
int bs_use_owner(struct bs_client *c, const char *owner);

/* The session's own fingerprint (the identity made and published first when
 * the account has none yet). */
int bs_keys(struct bs_client *c, char fp[BS_FINGERPRINT_LEN + 1]);
/* user's published keys (GET /v1/users/{user}/keys) checked against the pin
 * (pinned when none yet): their fingerprint. */
int bs_user_keys(struct bs_client *c, const char *user, char fp[BS_FINGERPRINT_LEN + 1]);
/* Pin user's current keys whatever was pinned before: their fingerprint. */
int bs_trust(struct bs_client *c, const char *user, char fp[BS_FINGERPRINT_LEN + 1]);

/*
 * Invite user to collection coll ("read", "write" or "admin"): the grant
 * (with the keys of the older versions this session holds) sealed to user's
 * pinned key and signed; id receives the invitation's id.
 */
int bs_share(struct bs_client *c, const char *coll, const char *user, const char *role,
    char id[64]);

/* An invitation addressed to this account, as bs_invitations and bs_accept
 * see it. name is the application's collection name from the opened grant
 * (NULL when it cannot be opened: problem then says why). */
struct bs_invitation {
	const char *id, *name, *owner, *from, *role, *expires_at, *problem;
	char from_fingerprint[BS_FINGERPRINT_LEN + 1];
	int64_t key_version;
};
typedef void (*bs_invitation_fn)(void *arg, const struct bs_invitation *inv);
/* Call fn for each pending invitation addressed to this account. */
int bs_invitations(struct bs_client *c, bs_invitation_fn fn, void *arg);
/* Accept invitation id: the grant verified and opened (a grant for another
 * collection or recipient refused) before the server is told; its keys are
 * kept. fn (may be NULL) gets the invitation accepted. */
int bs_accept(struct bs_client *c, const char *id, bs_invitation_fn fn, void *arg);
/* Decline an invitation addressed to this account, or withdraw one sent. */
int bs_decline(struct bs_client *c, const char *id);

/* A member of a collection (the owner first, role "owner"). */
struct bs_member {
	const char *username, *role, *joined_at;
};
typedef void (*bs_member_fn)(void *arg, const struct bs_member *m);
/* Call fn for each member of coll; *key_version (may be NULL) is its key version. */
int bs_members(struct bs_client *c, const char *coll, bs_member_fn fn, void *arg,
    int64_t *key_version);
/* Change user's role in coll (owner or admin). */
int bs_set_role(struct bs_client *c, const char *coll, const char *user, const char *role);
/*
 * Remove user from coll (or withdraw a pending invitation to user) and
 * rotate the collection's key at once (bs_rotate). The owner, or an admin
 * (bs_use_owner) of a collection shared with it.
 */
int bs_unshare(struct bs_client *c, const char *coll, const char *user);
/*
 * The next key version of collection coll, sealed to every member and
 * pending invitee in one request with the membership version seen; a
 * membership that changed meanwhile (412) is read again, a bounded number
 * of times. The owner derives the key; an admin who is not the owner
 * (bs_use_owner) makes a random one, keeps it in its keyring first (so it
 * needs the keyring key of a password login) and seals it to the owner
 * too. New records use the new version from then on.
 */
int bs_rotate(struct bs_client *c, const char *coll);
/* Leave coll of the owner set with bs_use_owner; its local copy is forgotten. */
int bs_leave(struct bs_client *c, const char *coll);
/* One collection shared with this account, as bs_shared lists them. */
struct bs_shared_coll {
	const char *owner, *name, *role;
	int64_t version;     /* the last pulled */
	size_t bytes;        /* the local plaintext bytes */
};
typedef void (*bs_shared_fn)(void *arg, const struct bs_shared_coll *s);
/* Call fn for each collection shared with this account that this home knows
 * (after a sync), by owner then name. */
int bs_shared(struct bs_client *c, bs_shared_fn fn, void *arg);

#endif
