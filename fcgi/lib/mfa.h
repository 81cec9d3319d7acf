/*
 * mfa.h: the pieces of the second factor that need no store and no HTTP:
 * TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), base32, the
 * otpauth:// URI, the TOTP secret sealed at rest, recovery codes and their
 * keyed hashes. accounts_mfa.c composes them with the store.
 *
 * Keys: every key here is derived with HKDF-SHA256 from the server secret
 * (secret_file, 32 bytes), one label per use, so the store alone (a copy of
 * the database, a dump) holds no usable TOTP secret and cannot test a guess
 * of a recovery code.
 *
 * Must never: log or return a secret or a code other than to its caller,
 * compare codes except in constant time, or leave a derived key unwiped.
 */
#ifndef BLINDSYNC_MFA_H
#define BLINDSYNC_MFA_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "bsc.h"

#define MFA_TOTP_SECRET_LEN 20   /* bytes, made by the server (RFC 4226's recommendation) */
#define MFA_TOTP_B32_LEN 32      /* its base32 text, no padding */
#define MFA_TOTP_STEP 30         /* seconds */
#define MFA_TOTP_DIGITS 6
#define MFA_TOTP_DRIFT 1         /* steps accepted either way */
#define MFA_SEALED_LEN (BSC_GCM_NONCE_LEN + MFA_TOTP_SECRET_LEN + BSC_GCM_TAG_LEN)
#define MFA_CODES 10             /* recovery codes per set */
#define MFA_CODE_CHARS 12        /* base32 characters of a recovery code: 60 bits */
#define MFA_CODE_TEXT 14         /* shown as xxxx-xxxx-xxxx */
#define MFA_URI_MAX 512
#define MFA_FAILS_MAX 5          /* wrong codes before the lockout */

/*
 * The HOTP value (RFC 4226) of `step` for secret[0..n): MFA_TOTP_DIGITS
 * decimal digits as a number. 0, or -1 if HMAC failed.
 */
int mfa_hotp(const uint8_t *secret, size_t n, uint64_t step, uint32_t *code) BSC_MUST_USE;

/* The TOTP step of unix time `now` (floor(now / 30)). */
int64_t mfa_totp_step(int64_t now);

/*
 * Check a TOTP code (exactly 6 ASCII digits, code[0..len)) against the
 * steps now-1, now and now+1 (every candidate computed and compared in
 * constant time), refusing any step <= last_step, the last one used: a code
 * is good once. 1 with *step the step it matched, or 0.
 */
int mfa_totp_check(const uint8_t secret[MFA_TOTP_SECRET_LEN], const char *code, size_t len, int64_t now,
    int64_t last_step, int64_t *step) BSC_MUST_USE;

/* 1 if s[0..len) has the shape of a TOTP code (6 ASCII digits). */
int mfa_totp_shape(const char *s, size_t len);

/*
 * RFC 4648 base32 of src[0..n), upper case, without padding, into dst
 * (dstlen bytes with the NUL). Returns the length written, or -1.
 */
long mfa_base32(const uint8_t *src, size_t n, char *dst, size_t dstlen);

/*
 * The otpauth:// URI an authenticator app reads (Key Uri Format):
 * otpauth://totp/ISSUER:USERNAME?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30,
 * issuer and username percent-encoded. 0, or -1 if it does not fit.
 */
int mfa_totp_uri(const char *issuer, const char *username, const char *b32, char *out, size_t outlen);

/*
 * Seal a TOTP secret for the store: AES-256-GCM under
 * HKDF(server secret, "blindsync mfa totp v1"), with the account's public
 * id as the associated data, so that a sealed secret copied to another
 * account does not open. 0 or -1.
 */
int mfa_totp_seal(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const uint8_t secret[MFA_TOTP_SECRET_LEN], uint8_t out[MFA_SEALED_LEN]) BSC_MUST_USE;
/* Open what mfa_totp_seal made; -1 if it does not verify (other key, account or bytes). */
int mfa_totp_open(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const uint8_t *sealed, size_t n, uint8_t secret[MFA_TOTP_SECRET_LEN]) BSC_MUST_USE;

/*
 * A new recovery code: MFA_CODE_CHARS random base32 characters (lower
 * case), written as xxxx-xxxx-xxxx into text (MFA_CODE_TEXT + 1 bytes). 0 or -1.
 */
int mfa_code_new(char text[MFA_CODE_TEXT + 1]) BSC_MUST_USE;

/*
 * Normalise a recovery code as typed: ASCII case, spaces and "-" ignored;
 * what remains must be MFA_CODE_CHARS base32 characters. 0 with norm
 * (MFA_CODE_CHARS + 1 bytes) filled in lower case, or -1 (not a code's shape).
 */
int mfa_code_norm(const char *s, size_t len, char norm[MFA_CODE_CHARS + 1]);

/*
 * The stored form of a recovery code: HMAC-SHA256 keyed with
 * HKDF(server secret, "blindsync mfa recovery code v1") over the account's
 * public id, a NUL and the normalised code. 0 or -1.
 */
int mfa_code_hash(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const char norm[MFA_CODE_CHARS + 1], uint8_t out[BSC_SHA256_LEN]) BSC_MUST_USE;

#endif
