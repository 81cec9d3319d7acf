/*
 * bs1_impl.h: what the files of the bs1 module share and nobody else sees:
 * HKDF, AES-256-GCM, the frame, length-prefixed builders, Argon2id. Never
 * installed, never included by an application.
 */
#ifndef BLINDSYNC_BS1_IMPL_H
#define BLINDSYNC_BS1_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "bs1.h"

/* A growable byte string for infos, contexts and messages (malloc'd). */
struct bs1_bytes {
	uint8_t *p;
	size_t n, cap;
	int failed;     /* an append failed (no memory or a too long lp) */
};
void bs1__put(struct bs1_bytes *b, const void *p, size_t n);
void bs1__put_str(struct bs1_bytes *b, const char *s);
/* lp(x) = u16be(len(x)) || x; fails the builder when n > 65535. */
void bs1__put_lp(struct bs1_bytes *b, const void *p, size_t n);
/* lp of s lowercased in ASCII (usernames). */
void bs1__put_lp_lower(struct bs1_bytes *b, const char *s);
void bs1__put_u32be(struct bs1_bytes *b, uint32_t v);
void bs1__put_u64be(struct bs1_bytes *b, uint64_t v);
/* BS1_OK, BS1_E_NOMEM or BS1_E_INPUT (an lp too long). */
int bs1__bytes_status(const struct bs1_bytes *b);
/* Wipe and free the buffer. */
void bs1__bytes_free(struct bs1_bytes *b);

/* out = HKDF-SHA256(ikm, empty salt, info, 32). */
int bs1__hkdf(const void *ikm, size_t ikmlen, const void *info, size_t infolen,
    struct bs1_key *out);
/* HKDF with info = label || lp(name) (name NULL: label only) [|| u32be(kv)]. */
int bs1__hkdf_named(const struct bs1_key *ikm, const char *label, const char *name,
    int with_kv, uint32_t kv, struct bs1_key *out);

/* AES-256-GCM: out = ct || tag (ptlen + 16 bytes). 0 or -1. */
int bs1__aead_seal(const struct bs1_key *key, const uint8_t nonce[12], const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out);
/* in = ct || tag (inlen >= 16); out gets inlen - 16 bytes, wiped on a bad tag. */
int bs1__aead_open(const struct bs1_key *key, const uint8_t nonce[12], const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out);

/* frame(pt) malloc'd into *frame (bs1_free), *flen = P. */
int bs1__frame(const uint8_t *pt, size_t ptlen, uint8_t **frame, size_t *flen);
/* Check a frame (exact P for its length, zero padding): 0 and *ptlen, or -1. */
int bs1__unframe(const uint8_t *frame, size_t flen, size_t *ptlen);

/* NFC of UTF-8 text, malloc'd (bs1_free); *ncp code points if non-NULL. */
int bs1__nfc(const char *s, size_t len, uint8_t **out, size_t *outlen, size_t *ncp);
/* out = Argon2id(pw, salt, t, m KiB, p = 1, 32 bytes). */
int bs1__argon2id(const uint8_t *pw, size_t pwlen, const uint8_t salt[16], uint32_t t,
    uint32_t m, struct bs1_key *out);

#endif
