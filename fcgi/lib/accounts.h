/*
 * accounts.h: the account operations of api.md §3, on typed inputs.
 *
 * The account handler parses and validates requests, then calls these; they
 * compose the store's typed functions inside one store_tx() each and record
 * the activity events. Slow work (PBKDF2) always happens outside the write
 * transaction. Inputs are already validated for shape and size; these check
 * state (credentials, versions, invites, policy).
 */
#ifndef BLINDSYNC_ACCOUNTS_H
#define BLINDSYNC_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "mfa.h"
#include "store.h"

#define ACCOUNTS_KEYRING_MAX 65536 /* decoded bytes */

struct accounts_session {
	struct auth_token access, refresh;
	char device_id[STORE_PUBLIC_ID_MAX + 1];
	char account_id[STORE_PUBLIC_ID_MAX + 1];
	int64_t expires_in;
	uint8_t *keyring;      /* login only: a copy the caller frees (NULL if none) */
	size_t keyring_len;
	int64_t keyring_version; /* login only: the version of that keyring (0 if none) */
	/* login only, set on ERR_INVALID_CREDENTIALS: the account whose key was
	 * wrong (0 for an unknown name), for accounts_failed() */
	int64_t failed_account;
	/* login with a factor, on ERR_RATE_LIMITED: seconds until codes are taken again */
	int retry_after;
};

/* Wipe the tokens and free the keyring of a session. NULL is fine. */
void accounts_session_clear(struct accounts_session *s);

struct accounts_register_in {
	const char *username;        /* valid, lowercased */
	const uint8_t *auth_key;
	size_t auth_key_len;
	const char *kdf;             /* the kdf object as compact JSON */
	const uint8_t *keyring;      /* may be NULL */
	size_t keyring_len;
	const char *invite;          /* may be NULL */
	size_t invite_len;
};

/* Register; writes the new account's public id into account_id.
 * ERR_REGISTRATION_CLOSED, ERR_INVALID_INVITE, ERR_USERNAME_TAKEN. */
enum err accounts_register(struct store *s, const struct config *c, const struct accounts_register_in *in,
    char account_id[STORE_PUBLIC_ID_MAX + 1]);

/*
 * The kdf object for `username` (valid, lowercased) into out as JSON: the
 * stored one verbatim, or for an unknown name a deterministic fake: the
 * config's template plus "salt" = base64(HMAC-SHA256(secret, name)[0..16)).
 */
enum err accounts_prelogin(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *username, struct buf *out);

/* Log in: verify, create a device and a token pair. ERR_INVALID_CREDENTIALS
 * (same time and answer for unknown users: nothing is written for either;
 * out->failed_account names a known account, whose login_failed event the
 * caller records with accounts_failed() once the answer is sent),
 * ERR_FORBIDDEN if disabled. */
enum err accounts_login(struct store *s, const struct config *c, const char *username, const uint8_t *key,
    size_t keylen, const char *device_name, const char *device_type, struct accounts_session *out);
/* Record a failed attempt ("login_failed": a wrong key; "recovery_failed": a
 * wrong recovery key) in the account's activity log, in a transaction of its
 * own. Meant to run after the 401 went out, so that an unknown name and a
 * wrong key cost the client the same time. */
enum err accounts_failed(struct store *s, int64_t account_id, const char *kind);

/* Rotate a refresh token. ERR_UNAUTHORIZED, ERR_TOKEN_EXPIRED, ERR_TOKEN_REUSED
 * (then every token of the device is revoked). */
enum err accounts_refresh(struct store *s, const struct config *c, const char *token, size_t len,
    struct accounts_session *out);

/* Revoke this device's tokens (the device row stays for the log). */
enum err accounts_logout(struct store *s, const struct auth *a);
/* Revoke one of the account's devices by public id; ERR_NOT_FOUND. */
enum err accounts_device_revoke(struct store *s, const struct auth *a, const char *device_id);
/* Replace the keyring at version `expected`; ERR_PRECONDITION_FAILED with *current set. */
enum err accounts_keyring_put(struct store *s, const struct auth *a, const uint8_t *keyring, size_t len,
    int64_t expected, int64_t *new_version, int64_t *current);

struct accounts_password_in {
	const uint8_t *auth_key;
	size_t auth_key_len;
	const uint8_t *new_auth_key;
	size_t new_auth_key_len;
	const char *new_kdf;
	const uint8_t *new_keyring;  /* NULL: keep the keyring */
	size_t new_keyring_len;
	int revoke_other_devices;
};
/* Change the auth key atomically; ERR_INVALID_CREDENTIALS if auth_key is wrong. */
enum err accounts_password(struct store *s, const struct config *c, const struct auth *a,
    const struct accounts_password_in *in);
struct share_ids;
/*
 * Delete the account and everything it stored (its memberships, the
 * invitations to and from it, the collections it owns with their members);
 * ERR_INVALID_CREDENTIALS. peers (may be NULL) gets the accounts that shared
 * a collection with it, whose status moved: wake them after.
 */
enum err accounts_delete(struct store *s, const struct auth *a, const uint8_t *key, size_t keylen,
    struct share_ids *peers);

/* ---- two-factor login and the recovery key (accounts_mfa.c) ---- */

#define ACCOUNTS_RESET_TTL 300     /* seconds a reset token of accounts_recover lives */

/* A second factor as the client sent it: one of the two, the other NULL. */
struct accounts_factor {
	const char *totp;            /* 6 ASCII digits (mfa_totp_shape) */
	size_t totp_len;
	const char *recovery_code;   /* a recovery code as typed (mfa_code_norm) */
	size_t recovery_code_len;
};

/*
 * accounts_login with a second factor: once the key is proven, an account
 * with TOTP on answers ERR_MFA_REQUIRED when f is NULL or empty,
 * ERR_INVALID_MFA for a wrong, replayed or used code (counted; the
 * MFA_FAILS_MAX-th locks the account's codes for mfa.lockout_seconds), and
 * ERR_RATE_LIMITED with out->retry_after while they are locked, right code
 * or not. Before the key is proven nothing about the second factor is read:
 * an unknown name, a wrong key with or without TOTP are the same
 * ERR_INVALID_CREDENTIALS. A factor sent for an account without TOTP is
 * ignored. secret is the server secret (mfa.h keys).
 */
enum err accounts_login_factor(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *username, const uint8_t *key, size_t keylen, const char *device_name, const char *device_type,
    const struct accounts_factor *f, struct accounts_session *out);

/*
 * Internal to accounts*.c: check a factor inside the caller's transaction
 * and record its outcome (accounts_mfa.c says how).
 */
enum err accounts_factor_check(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const char *public_id, int64_t account_id, struct store_mfa *m, const struct accounts_factor *f,
    int totp_only, int64_t now, enum err *outcome, int *retry_after, int *used_code);

/* The answer of accounts_totp_begin: shown once. */
struct accounts_totp_new {
	char secret[MFA_TOTP_B32_LEN + 1];
	char uri[MFA_URI_MAX];
};
/*
 * Begin TOTP (auth_key checked first: ERR_INVALID_CREDENTIALS): a new
 * secret, sealed in the store, not yet on (a second call replaces it).
 * ERR_CONFLICT if TOTP is already on. The caller wipes *out.
 */
enum err accounts_totp_begin(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, struct accounts_totp_new *out);

/* A new set of recovery codes, shown once; the caller wipes it. */
struct accounts_codes {
	char code[MFA_CODES][MFA_CODE_TEXT + 1];
};
/*
 * Turn TOTP on with a code of the secret of accounts_totp_begin (a TOTP
 * code only) and make the first set of recovery codes. ERR_CONFLICT when
 * no secret was begun or TOTP is already on; ERR_INVALID_MFA,
 * ERR_RATE_LIMITED (*retry_after) as for login.
 */
enum err accounts_totp_confirm(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const struct accounts_factor *f, struct accounts_codes *codes, int *retry_after);
/*
 * Turn TOTP off (auth_key and a code: a TOTP code or a recovery code):
 * the secret and the recovery codes go. ERR_CONFLICT if TOTP is off.
 */
enum err accounts_totp_disable(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, const struct accounts_factor *f, int *retry_after);
/*
 * Inside a write transaction (blindsync-admin user mfa-off, for an owner who
 * lost both the authenticator and the recovery codes): turn two-factor
 * login off without a code. The TOTP secret (confirmed or only begun), the
 * failure count and lock, and the recovery codes go, and an
 * "mfa_disabled_by_admin" event is logged; the recovery key and the
 * sessions stay. *was_on is 0 (and nothing is written) when the account had
 * none of them. ERR_NOT_FOUND for no such account.
 */
enum err accounts_mfa_off(struct store *s, int64_t account_id, int *was_on);
/* A new set of recovery codes (auth_key and a code); the old set stops working. ERR_CONFLICT if TOTP is off. */
enum err accounts_codes_renew(struct store *s, const struct config *c, const uint8_t secret[AUTH_SECRET_LEN],
    const struct auth *a, const uint8_t *key, size_t keylen, const struct accounts_factor *f,
    struct accounts_codes *codes, int *retry_after);

/* Store the recovery key: the PBKDF2 hash of recovery_auth and the client's blob (auth_key checked first). */
enum err accounts_recovery_put(struct store *s, const struct config *c, const struct auth *a, const uint8_t *key,
    size_t keylen, const uint8_t *recovery_auth, size_t ralen, const uint8_t *blob, size_t bloblen);
/* Remove the recovery key (auth_key checked first); ERR_NOT_FOUND if none is set. */
enum err accounts_recovery_delete(struct store *s, const struct auth *a, const uint8_t *key, size_t keylen);

/*
 * Begin a reset with the recovery key: ERR_INVALID_CREDENTIALS, after the
 * same work, for an unknown name, an account without a recovery key, a
 * disabled one and a wrong recovery_auth (*failed_account names a known
 * account with a key, for accounts_failed once the answer is
 * out). On ERR_OK: *blob (the caller frees) and a single-use reset token,
 * valid ACCOUNTS_RESET_TTL seconds, whose hash alone is stored.
 */
enum err accounts_recover(struct store *s, const struct config *c, const char *username, const uint8_t *ra,
    size_t ralen, uint8_t **blob, size_t *bloblen, struct auth_token *reset, int64_t *failed_account);

struct accounts_recover_in {
	const char *reset_token;
	size_t reset_token_len;
	const uint8_t *new_auth_key;
	size_t new_auth_key_len;
	const char *new_kdf;
	const uint8_t *new_keyring;
	size_t new_keyring_len;
};
/*
 * Finish a reset: the token's account gets the new credentials, kdf and
 * keyring; every token and device of the account and the used recovery
 * key are deleted, in one transaction. ERR_UNAUTHORIZED for an unknown,
 * used or expired token. TOTP, if on, stays on.
 */
enum err accounts_recover_complete(struct store *s, const struct config *c, const struct accounts_recover_in *in);
/* ---- blindsync-live tickets (docs/API-live.md) ---- */

#define ACCOUNTS_LIVE_TICKET_TTL 30 /* seconds a ticket stays valid */

/*
 * Issue a live ticket for the caller's device into *t (43 characters of
 * base64url in t->text; only its hash is stored), valid
 * ACCOUNTS_LIVE_TICKET_TTL seconds, in one write transaction. The caller
 * wipes *t once answered.
 */
enum err accounts_live_ticket(struct store *s, const struct auth *a, struct auth_token *t);
/*
 * Redeem a ticket presented to blindsync-live: take it (single use) and
 * check that its device still has a session and its account is enabled, in
 * one write transaction. ERR_OK with *account_id and *device_id; ERR_UNAUTHORIZED
 * for a malformed, unknown, used or expired ticket (an access token in its
 * place is just as unknown) or a device that lost its session; or the
 * store's error.
 */
enum err accounts_live_redeem(struct store *s, const char *ticket, size_t len, int64_t *account_id,
    int64_t *device_id);

#endif
