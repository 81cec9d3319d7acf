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
	 * wrong (0 for an unknown name), for accounts_login_failed() */
	int64_t failed_account;
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
 * caller records with accounts_login_failed() once the answer is sent),
 * ERR_FORBIDDEN if disabled. */
enum err accounts_login(struct store *s, const struct config *c, const char *username, const uint8_t *key,
    size_t keylen, const char *device_name, const char *device_type, struct accounts_session *out);
/* Record a failed login (a wrong key) in the account's activity log, in a
 * transaction of its own. Meant to run after the 401 went out, so that an
 * unknown name and a wrong key cost the client the same time. */
enum err accounts_login_failed(struct store *s, int64_t account_id);

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
/* Delete the account and everything it stored; ERR_INVALID_CREDENTIALS. */
enum err accounts_delete(struct store *s, const struct auth *a, const uint8_t *key, size_t keylen);

#endif
