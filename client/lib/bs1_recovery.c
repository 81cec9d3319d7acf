/*
 * bs1_recovery.c: recovery keys of client.md section 10: 20 random bytes
 * shown as 32 RFC 4648 base32 characters in groups of four, read back
 * ignoring ASCII case, spaces and '-' (and nothing else), and the two keys
 * derived from them. The kind-6 blob is an envelope (bs1_env.c).
 *
 * Must never accept a text that is not exactly 32 base32 symbols once the
 * three ignored characters are dropped; wipes every copy of the key.
 */
#include <string.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The text of a recovery key: XXXX-XXXX-...-XXXX. */
int
bs1_recovery_text(const struct bs1_recovery_key *rk, char text[BS1_RECOVERY_TEXT_LEN + 1])
{
	size_t i, o = 0;

	if (!rk || !text)
		return BS1_E_INPUT;
	/* 160 bits, 5 per symbol: symbol i holds bits 5i..5i+4 */
	for (i = 0; i < 32; i++) {
		size_t bit = 5 * i, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)rk->b[byte] << 8 | (byte + 1 < 20 ? rk->b[byte + 1] : 0);

		if (i && i % 4 == 0)
			text[o++] = '-';
		text[o++] = b32[(v >> (11 - shift)) & 31];
	}
	text[o] = '\0';
	return BS1_OK;
}

/* A fresh recovery key and its text. */
int
bs1_recovery_new(struct bs1_recovery_key *rk, char text[BS1_RECOVERY_TEXT_LEN + 1])
{
	if (!rk || !text)
		return BS1_E_INPUT;
	if (bsc_random(rk->b, sizeof rk->b) != 0)
		return BS1_E_CRYPTO;
	return bs1_recovery_text(rk, text);
}

/* Read a text back. */
int
bs1_recovery_parse(const char *text, size_t len, struct bs1_recovery_key *rk)
{
	uint8_t sym[32];
	size_t i, n = 0;
	int rc = BS1_E_RECOVERY;

	if (!text || !rk)
		return BS1_E_INPUT;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		const char *p;

		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c == 0 || !(p = strchr(b32, c)) || n == 32)
			goto out;
		sym[n++] = (uint8_t)(p - b32);
	}
	if (n != 32)
		goto out;
	memset(rk->b, 0, sizeof rk->b);
	for (i = 0; i < 32; i++) {
		size_t bit = 5 * i, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)sym[i] << (11 - shift);

		rk->b[byte] |= (uint8_t)(v >> 8);
		if (byte + 1 < 20)
			rk->b[byte + 1] |= (uint8_t)v;
	}
	rc = BS1_OK;
out:
	bs1_wipe(sym, sizeof sym);
	return rc;
}

/* recovery_auth and recovery_wrap. */
int
bs1_recovery_keys(const struct bs1_recovery_key *rk, struct bs1_key *auth,
    struct bs1_key *wrap)
{
	static const char la[] = "blindsync bs1 recovery auth", lw[] = "blindsync bs1 recovery wrap";
	int rc = BS1_OK;

	if (!rk)
		return BS1_E_INPUT;
	if (auth)
		rc = bs1__hkdf(rk->b, sizeof rk->b, la, sizeof la - 1, auth);
	if (rc == BS1_OK && wrap)
		rc = bs1__hkdf(rk->b, sizeof rk->b, lw, sizeof lw - 1, wrap);
	if (rc != BS1_OK) {
		if (auth)
			bs1_wipe(auth, sizeof *auth);
		if (wrap)
			bs1_wipe(wrap, sizeof *wrap);
	}
	return rc;
}
