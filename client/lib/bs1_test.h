/*
 * bs1_test.h: the bs1 entry points that take their random inputs as
 * arguments, so that tests reproduce the reference vectors byte for byte.
 * For tests only: an application that calls these with a repeated nonce,
 * salt or ephemeral key loses the security of the suite. Not installed.
 */
#ifndef BLINDSYNC_BS1_TEST_H
#define BLINDSYNC_BS1_TEST_H

#include "bs1.h"

/* bs1_seal() with the given nonce instead of a random one. */
int bs1_seal_with_nonce(enum bs1_kind kind, uint32_t kv, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *pt, size_t ptlen,
    const uint8_t nonce[12], uint8_t **env, size_t *envlen) BS1_MUST_USE;

/* bs1_stream_writer_new() with the given salt. */
int bs1_stream_writer_new_salt(enum bs1_kind kind, const struct bs1_key *base_key,
    const uint8_t salt[16], struct bs1_stream **out) BS1_MUST_USE;

/* payload_key = HKDF(base_key, "blindsync bs1 stream" || salt, 32). */
int bs1_stream_payload_key(const struct bs1_key *base_key, const uint8_t salt[16],
    struct bs1_key *out) BS1_MUST_USE;

/* One chunk: AEAD(payload_key, u88be(index) || u8(last), piece, header);
 * out gets n + 16 bytes. */
int bs1_stream_chunk_seal(const struct bs1_key *payload_key,
    const uint8_t header[BS1_STREAM_HEADER], uint64_t index, int last, const uint8_t *piece,
    size_t n, uint8_t *out) BS1_MUST_USE;
/* Its inverse (out gets n - 16 bytes); BS1_E_DECRYPT on a bad tag. */
int bs1_stream_chunk_open(const struct bs1_key *payload_key,
    const uint8_t header[BS1_STREAM_HEADER], uint64_t index, int last, const uint8_t *chunk,
    size_t n, uint8_t *out) BS1_MUST_USE;

/* bs1_grant_seal() with the given ephemeral X25519 secret key. */
int bs1_grant_seal_with_eph(const struct bs1_identity *inviter,
    const struct bs1_x25519_pk *recipient, const char *username, const uint8_t *grant,
    size_t n, const uint8_t eph_sk[32], uint8_t **sealed, size_t *sealedlen,
    struct bs1_sig *sig) BS1_MUST_USE;

/* The slot seed (Argon2id of the NFC passphrase) and the slot from a seed. */
int bs1_slot_seed(const char *app, size_t applen, const char *pp, size_t pplen,
    struct bs1_key *seed) BS1_MUST_USE;
int bs1_slot_from_seed(const struct bs1_key *seed, struct bs1_slot *out) BS1_MUST_USE;

#endif
