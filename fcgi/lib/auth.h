/*
 * auth.h: credentials and tokens.
 *
 * The client never sends a password: it sends an auth_key derived on the
 * device, which we hash again (PBKDF2-HMAC-SHA256, per-account salt) before
 * storing. Tokens are 32 random bytes, base64url without padding (43 chars);
 * the store keeps only their SHA-256. The server secret (32 random bytes in
 * secret_file) keys the deterministic fake answers of prelogin.
 *
 * Must never: log or store a token, auth key or the secret; compare secrets
 * except in constant time.
 */
#ifndef BLINDSYNC_AUTH_H
#define BLINDSYNC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "bsc.h"
#include "err.h"
#include "store.h"

#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_LEN 43          /* base64url, no padding */
#define AUTH_SECRET_LEN 32
#define AUTH_KEY_MIN 32            /* decoded auth_key bounds (api.md §3) */
#define AUTH_KEY_MAX 64
#define AUTH_PUBLIC_ID_BYTES 16    /* account and device ids: 22 chars */

struct auth_token {
	char text[AUTH_TOKEN_LEN + 1];
	uint8_t hash[BSC_SHA256_LEN];
};

/* A new random token and its hash. 0, or -1 if the RNG failed. */
int auth_token_new(struct auth_token *t) BSC_MUST_USE;
/*
 * Hash a token presented by a client. -1 if it is not exactly 43 base64url
 * characters of 32 bytes (then it cannot be one of ours).
 */
int auth_token_hash(const char *text, size_t len, uint8_t hash[BSC_SHA256_LEN]) BSC_MUST_USE;
/* A new opaque public id (base64url of 16 random bytes) into out (23 bytes). */
int auth_public_id(char *out, size_t outlen) BSC_MUST_USE;

/* out = PBKDF2-HMAC-SHA256(key, salt, iterations), 32 bytes. 0 or -1. */
int auth_hash_key(const uint8_t *key, size_t keylen, const uint8_t salt[STORE_SALT_LEN], int64_t iterations,
    uint8_t out[STORE_HASH_LEN]) BSC_MUST_USE;
/*
 * Check key against the account's stored hash in constant time (1 = match).
 * With a == NULL (unknown user) it hashes a dummy with `iterations` so that
 * the time taken is the same, and answers 0.
 */
int auth_verify_key(const struct store_account *a, const uint8_t *key, size_t keylen, int64_t iterations)
    BSC_MUST_USE;

/*
 * Load the server secret from `path`, creating it (32 random bytes, mode
 * 0600) if it does not exist, race-free when several processes start at once
 * (write a temp file, then link(2): the loser reads the winner's). 0, or -1
 * with errbuf filled.
 */
int auth_secret_load(const char *path, uint8_t secret[AUTH_SECRET_LEN], char *errbuf, size_t errlen);

/*
 * Validate a username of api.md §1 (3-64 chars of a-z 0-9 . _ - @ +, first a
 * letter or digit; uppercase letters accepted) and write it lowercased into
 * out (STORE_USERNAME_MAX + 1 bytes). 0, or -1 if invalid.
 */
int auth_username(const char *s, size_t n, char *out) BSC_MUST_USE;

struct req;

/* Who an authenticated request is. */
struct auth {
	int64_t account_id;
	int64_t device_id;
	char device_public_id[STORE_PUBLIC_ID_MAX + 1];
};

/*
 * The token of an Authorization header value "Bearer <token>" (the scheme
 * in any case, spaces around the token ignored): 0 with *tok and *len
 * pointing into header, or -1 when header is NULL or another scheme.
 */
int auth_bearer_token(const char *header, const char **tok, size_t *len);

/*
 * Who the access token tok[0..len) is, with no request in sight (the
 * handlers, blindsync-live and the unit tests share it): one indexed
 * lookup. Fills *a and returns ERR_OK; ERR_UNAUTHORIZED for a malformed,
 * unknown or revoked token or a disabled account; ERR_TOKEN_EXPIRED; or the
 * store's error. Updates the device's last_seen_at at most once a minute
 * (read-only stores skip it). *a is zeroed on every error.
 */
enum err auth_token_check(struct store *s, const char *tok, size_t len, struct auth *a);

/*
 * auth_token_check, calling early(r, the token's hash) first when early is
 * not NULL: the request's early reads (serve.h, route.early) go with the
 * token's lookup.
 */
enum err auth_token_check_early(struct store *s, const char *tok, size_t len, struct auth *a,
    void (*early)(struct req *r, const uint8_t hash[BSC_SHA256_LEN]), struct req *r);

/*
 * (auth_http.c) The FastCGI wrapper of auth_token_check: authenticate r by its
 * "Authorization: Bearer <access token>" header, answer the error sentence
 * on failure, set r->account_id and *a, then apply the per-account rate
 * limits of the route (serve_limit). early: the route's early reads, or NULL.
 */
enum err auth_require(struct req *r, struct auth *a, void (*early)(struct req *r, const uint8_t hash[BSC_SHA256_LEN]));

/*
 * (auth_http.c) Check r's access token again, as auth_require() did, for a
 * long-poll whose caller's account moved while it waited (serve_watch):
 * ERR_OK while the token is good, else the refusal with its sentence
 * answered (a revoked device, a disabled or deleted account: 401), or the
 * store's error. No rate limit is charged.
 */
enum err auth_recheck(struct req *r);

#endif
