/*
 * mfa.c: TOTP, base32, the otpauth URI, the sealed TOTP secret and the
 * recovery codes (mfa.h), on libbscrypto. No store, no HTTP, no log: a
 * failure is a return value. Must never: keep a secret, a code or a
 * derived key in memory after returning (every one is wiped), or compare
 * a code in time that depends on it.
 */
#include "mfa.h"

#include <stdio.h>
#include <string.h>

static const char b32_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";

int mfa_hotp(const uint8_t *secret, size_t n, uint64_t step, uint32_t *code)
{
	uint8_t msg[8], mac[BSC_SHA1_LEN];
	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (uint8_t)(step & 0xff);
	if (bsc_hmac_sha1(secret, n, msg, sizeof msg, mac) != 0)
		return -1;
	/* RFC 4226 §5.3: dynamic truncation */
	unsigned off = mac[BSC_SHA1_LEN - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	*code = bin % 1000000u;
	bsc_wipe(mac, sizeof mac);
	return 0;
}

int64_t mfa_totp_step(int64_t now) { return now < 0 ? 0 : now / MFA_TOTP_STEP; }

int mfa_totp_shape(const char *s, size_t len)
{
	if (!s || len != MFA_TOTP_DIGITS)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int mfa_totp_check(const uint8_t secret[MFA_TOTP_SECRET_LEN], const char *code, size_t len, int64_t now,
    int64_t last_step, int64_t *step)
{
	if (!mfa_totp_shape(code, len))
		return 0;
	char want[MFA_TOTP_DIGITS + 1];
	memcpy(want, code, MFA_TOTP_DIGITS);
	want[MFA_TOTP_DIGITS] = '\0';
	int64_t t = mfa_totp_step(now), found = 0;
	int ok = 0;
	/* every candidate is computed and compared whatever matched, so the
	 * time taken says nothing about which step (if any) it was */
	for (int64_t d = -MFA_TOTP_DRIFT; d <= MFA_TOTP_DRIFT; d++) {
		uint32_t v;
		char got[MFA_TOTP_DIGITS + 2];
		int64_t st = t + d;
		if (st < 0 || mfa_hotp(secret, MFA_TOTP_SECRET_LEN, (uint64_t)st, &v) != 0)
			continue;
		snprintf(got, sizeof got, "%06u", (unsigned)v);
		int m = bsc_equal(got, want, MFA_TOTP_DIGITS) & (st > last_step);
		found = m ? st : found;
		ok |= m;
		bsc_wipe(got, sizeof got);
	}
	bsc_wipe(want, sizeof want);
	if (ok && step)
		*step = found;
	return ok;
}

long mfa_base32(const uint8_t *src, size_t n, char *dst, size_t dstlen)
{
	size_t need = (n * 8 + 4) / 5;
	if (!dst || need + 1 > dstlen || (!src && n))
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | src[i];
		bits += 8;
		while (bits >= 5) {
			dst[o++] = b32_upper[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		dst[o++] = b32_upper[(acc << (5 - bits)) & 31];
	dst[o] = '\0';
	return (long)o;
}

/* Percent-encode s (everything but RFC 3986's unreserved characters) onto out at *o. */
static int pct(const char *s, char *out, size_t outlen, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~';
		if (*o + (plain ? 1 : 3) >= outlen)
			return -1;
		if (plain) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

/* Append a literal onto out at *o. */
static int lit(const char *s, char *out, size_t outlen, size_t *o)
{
	size_t n = strlen(s);
	if (*o + n >= outlen)
		return -1;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

int mfa_totp_uri(const char *issuer, const char *username, const char *b32, char *out, size_t outlen)
{
	size_t o = 0;
	if (!out || outlen == 0)
		return -1;
	out[0] = '\0';
	if (lit("otpauth://totp/", out, outlen, &o) || pct(issuer, out, outlen, &o) || lit(":", out, outlen, &o) ||
	    pct(username, out, outlen, &o) || lit("?secret=", out, outlen, &o) || lit(b32, out, outlen, &o) ||
	    lit("&issuer=", out, outlen, &o) || pct(issuer, out, outlen, &o) ||
	    lit("&algorithm=SHA1&digits=6&period=30", out, outlen, &o))
		return -1;
	return 0;
}

/* A 32-byte key for one use, from the server secret. */
static int derive(const uint8_t server_secret[AUTH_SECRET_LEN], const char *label, uint8_t key[32])
{
	return bsc_hkdf_sha256(server_secret, AUTH_SECRET_LEN, NULL, 0, label, strlen(label), key, 32);
}

int mfa_totp_seal(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const uint8_t secret[MFA_TOTP_SECRET_LEN], uint8_t out[MFA_SEALED_LEN])
{
	uint8_t key[32];
	int rc = -1;
	if (derive(server_secret, "blindsync mfa totp v1", key) == 0 &&
	    bsc_gcm_seal(key, account_public_id, strlen(account_public_id), secret, MFA_TOTP_SECRET_LEN, out,
	        MFA_SEALED_LEN) == 0)
		rc = 0;
	bsc_wipe(key, sizeof key);
	return rc;
}

int mfa_totp_open(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const uint8_t *sealed, size_t n, uint8_t secret[MFA_TOTP_SECRET_LEN])
{
	uint8_t key[32];
	int rc = -1;
	if (n == MFA_SEALED_LEN && derive(server_secret, "blindsync mfa totp v1", key) == 0 &&
	    bsc_gcm_open(key, account_public_id, strlen(account_public_id), sealed, n, secret,
	        MFA_TOTP_SECRET_LEN) == 0)
		rc = 0;
	bsc_wipe(key, sizeof key);
	return rc;
}

int mfa_code_new(char text[MFA_CODE_TEXT + 1])
{
	uint8_t r[MFA_CODE_CHARS];
	if (bsc_random(r, sizeof r) != 0)
		return -1;
	size_t o = 0;
	for (int i = 0; i < MFA_CODE_CHARS; i++) {
		if (i && i % 4 == 0)
			text[o++] = '-';
		text[o++] = b32_lower[r[i] & 31]; /* 256 is a multiple of 32: no bias */
	}
	text[o] = '\0';
	bsc_wipe(r, sizeof r);
	return 0;
}

int mfa_code_norm(const char *s, size_t len, char norm[MFA_CODE_CHARS + 1])
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == ' ' || c == '-')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) || o == MFA_CODE_CHARS) {
			bsc_wipe(norm, MFA_CODE_CHARS + 1);
			return -1;
		}
		norm[o++] = c;
	}
	norm[o] = '\0';
	if (o != MFA_CODE_CHARS) {
		bsc_wipe(norm, MFA_CODE_CHARS + 1);
		return -1;
	}
	return 0;
}

int mfa_code_hash(const uint8_t server_secret[AUTH_SECRET_LEN], const char *account_public_id,
    const char norm[MFA_CODE_CHARS + 1], uint8_t out[BSC_SHA256_LEN])
{
	uint8_t key[32], msg[STORE_PUBLIC_ID_MAX + 1 + MFA_CODE_CHARS];
	size_t idlen = strlen(account_public_id);
	int rc = -1;
	if (idlen > STORE_PUBLIC_ID_MAX)
		return -1;
	memcpy(msg, account_public_id, idlen);
	msg[idlen] = 0;
	memcpy(msg + idlen + 1, norm, MFA_CODE_CHARS);
	if (derive(server_secret, "blindsync mfa recovery code v1", key) == 0 &&
	    bsc_hmac_sha256(key, sizeof key, msg, idlen + 1 + MFA_CODE_CHARS, out) == 0)
		rc = 0;
	bsc_wipe(key, sizeof key);
	bsc_wipe(msg, sizeof msg);
	return rc;
}
