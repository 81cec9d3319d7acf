/*
 * bs1.h: the bs1 suite of the blindsync client (../shared/spec/client.md
 * sections 1-6, 9 and 10) as a C module with no network and no state:
 * password to keys, the envelope, collection keys and opaque names, the
 * streams of backups and slots, slot derivations, grants, recovery keys.
 *
 * It links libbscrypto (fcgi/crypto/), OpenSSL 3, libsodium (Argon2id only),
 * libunistring (NFC) and json-c; never anything of the server (fcgi/lib/).
 *
 * Conventions, libsodium style:
 *   - keys are fixed-size typed structs; a caller never passes a bare
 *     pointer and a length for a key;
 *   - every function returns BS1_OK (0) or a negative enum bs1_err; every
 *     open, verify and parse is warn_unused_result;
 *   - every failure to open (short, bad magic, wrong kind or kv, bad tag,
 *     bad frame or padding, bad signature, truncated or reordered stream)
 *     is the one error BS1_E_DECRYPT ("cannot decrypt"), whatever check
 *     caught it; nothing of the plaintext is returned then;
 *   - plaintext comes out only after its tag verified: in a malloc'd buffer
 *     the caller releases with bs1_free() (which wipes it), or, for streams,
 *     piece by piece through a sink;
 *   - secrets held in temporaries are wiped (bsc_wipe) on every path; the
 *     caller wipes its own key structs with bs1_wipe() when done.
 * Randomness comes from the CSPRNG (bsc_random). Tests that must reproduce
 * the reference vectors use the entry points of bs1_test.h, which take the
 * random inputs as arguments; applications never include it.
 *
 * The map, by file:
 *   bs1_util.c      errors, wipe/free, HKDF, length-prefixed builders
 *   bs1_kdf.c       the kdf object and its floor, NFC, Argon2id, account
 *                   keys, slot derivations and the passphrase rule
 *   bs1_env.c       frame and padding, envelopes of kinds 1, 2, 3, 6, the
 *                   keyring's JSON
 *   bs1_keys.c      ck, id_key, cid_key, backup_key, opaque names
 *   bs1_stream.c    the stream of section 5, reader and writer
 *   bs1_grant.c     identities, fingerprints, grants (section 9)
 *   bs1_recovery.c  recovery keys (section 10)
 */
#ifndef BLINDSYNC_BS1_H
#define BLINDSYNC_BS1_H

#include <stddef.h>
#include <stdint.h>

#define BS1_MUST_USE __attribute__((warn_unused_result))

/* ---- errors (bs1_util.c) ----------------------------------------------- */

enum bs1_err {
	BS1_OK = 0,
	BS1_E_DECRYPT = -1,     /* cannot decrypt: every failure to open or verify */
	BS1_E_KDF_FLOOR = -2,   /* a kdf object below the floor (reason given) */
	BS1_E_INPUT = -3,       /* a bad argument: too long, not UTF-8, NULL */
	BS1_E_NOMEM = -4,       /* an allocation failed */
	BS1_E_CRYPTO = -5,      /* the crypto library failed (not the data) */
	BS1_E_PASSPHRASE = -6,  /* a passphrase shorter than 12 code points */
	BS1_E_RECOVERY = -7,    /* a recovery key text that does not parse */
	BS1_E_SINK = -8,        /* a stream sink returned non-zero */
	BS1_E__MAX = -9
};

/* A stable English sentence for an error (never NULL). */
const char *bs1_strerror(int err);

/* A 32-byte symmetric key or secret (master, auth_key, data_key, ck...). */
struct bs1_key { uint8_t b[32]; };

/* Wipe n bytes (bsc_wipe); for key structs: bs1_wipe(&k, sizeof k). */
void bs1_wipe(void *p, size_t n);
/* Wipe then free a buffer this module returned (NULL is fine). */
void bs1_free(void *p, size_t n);

/* ---- the kdf object, passwords, account keys (bs1_kdf.c) --------------- */

#define BS1_KDF_M 65536u          /* what new accounts use */
#define BS1_KDF_T 3u
#define BS1_KDF_P 1u
#define BS1_KDF_MAX_JSON 1024     /* client.md: at most 1 KiB of JSON */

/* A kdf object that passed the floor. */
struct bs1_kdf {
	uint32_t m, t, p;
	uint8_t salt[16];
};

/*
 * Parse the kdf object text json[0..len) (what prelogin returns) with
 * json-c, strictly, and apply the floor of client.md section 2. BS1_OK and
 * *out filled; BS1_E_KDF_FLOOR with *reason (a static sentence naming what
 * is wrong, never NULL when reason is non-NULL) for anything refused,
 * including text that is not a JSON object or longer than 1 KiB; unknown
 * members are ignored. Nothing is derived.
 */
int bs1_kdf_parse(const char *json, size_t len, struct bs1_kdf *out, const char **reason)
    BS1_MUST_USE;

/* The same floor on an object already parsed by json-c (struct json_object). */
struct json_object;
int bs1_kdf_check(const struct json_object *obj, struct bs1_kdf *out, const char **reason)
    BS1_MUST_USE;

/* A fresh kdf object for a new account: default m, t, p and a random salt. */
int bs1_kdf_new(struct bs1_kdf *out) BS1_MUST_USE;

/*
 * Write the kdf object as JSON text into buf (len bytes, NUL-terminated):
 * {"alg":"argon2id","suite":"bs1","m":..,"t":..,"p":1,"salt":".."}.
 */
int bs1_kdf_json(const struct bs1_kdf *kdf, char *buf, size_t len) BS1_MUST_USE;

/*
 * The password's NFC form as UTF-8 (client.md section 2), in a malloc'd
 * buffer (*out, *outlen; released with bs1_free). BS1_E_INPUT if pw is not
 * valid UTF-8 or holds a NUL.
 */
int bs1_nfc(const char *pw, size_t len, uint8_t **out, size_t *outlen) BS1_MUST_USE;

/*
 * master = Argon2id(NFC(password), salt, t, m, p = 1, 32 bytes) under a kdf
 * that passed the floor. Takes 0.2 s or more at the default parameters.
 */
int bs1_master(const char *password, size_t len, const struct bs1_kdf *kdf,
    struct bs1_key *master) BS1_MUST_USE;

/* auth_key and keyring_key from master (either output may be NULL). */
int bs1_account_keys(const struct bs1_key *master, struct bs1_key *auth_key,
    struct bs1_key *keyring_key) BS1_MUST_USE;

/* ---- anonymous slots (bs1_kdf.c) ---------------------------------------- */

#define BS1_SLOT_MIN_CHARS 12
#define BS1_DEFAULT_APP "blindsync"

/* BS1_OK if the passphrase has at least 12 code points after NFC, else
 * BS1_E_PASSPHRASE (BS1_E_INPUT if it is not UTF-8). */
int bs1_passphrase_check(const char *pp, size_t len) BS1_MUST_USE;

/* slot_salt = SHA-256("blindsync bs1 slot salt" || lp(app))[0:16]. */
int bs1_slot_salt(const char *app, size_t applen, uint8_t salt[16]) BS1_MUST_USE;

/* What a slot needs: id (64 lowercase hex, the URL), key (b64, the
 * X-Slot-Key header) and enc (the kind-5 stream's base key; secret). */
struct bs1_slot {
	char id[65];
	char key_b64[45];
	struct bs1_key enc;
};

/*
 * The slot of (app, passphrase) after the passphrase rule: Argon2id at
 * t = 3, m = 65536, then the three HKDF outputs. The seed is wiped. The
 * caller wipes *out (key_b64 and enc are secrets) with bs1_wipe.
 */
int bs1_slot_derive(const char *app, size_t applen, const char *pp, size_t pplen,
    struct bs1_slot *out) BS1_MUST_USE;

/* ---- envelopes (bs1_env.c) ---------------------------------------------- */

enum bs1_kind {
	BS1_KIND_KEYRING = 1, BS1_KIND_RECORD = 2, BS1_KIND_META = 3,
	BS1_KIND_BACKUP = 4, BS1_KIND_SLOT = 5, BS1_KIND_RECOVERY = 6
};

#define BS1_ENV_HEADER 8
#define BS1_NONCE 12
#define BS1_TAG 16
#define BS1_ENV_MIN (BS1_ENV_HEADER + BS1_NONCE + BS1_TAG)
#define BS1_MAX_PLAINTEXT (64u * 1024 * 1024)  /* an envelope's plaintext */

/* P, the padded frame length for a plaintext of ptlen bytes (section 3);
 * 0 when ptlen exceeds BS1_MAX_PLAINTEXT. */
size_t bs1_frame_len(size_t ptlen);

/* The size of the envelope of a plaintext of ptlen bytes (0 if too big). */
size_t bs1_envelope_len(size_t ptlen);

/*
 * Seal pt[0..ptlen) as an envelope of kind 1, 2, 3 or 6 with header kv,
 * under key, with associated data header || ctx[0..ctxlen), a fresh random
 * nonce, and the padded frame. The envelope is malloc'd into *env, *envlen
 * (free() it; it is not secret). kv must be 0 for kinds 1 and 6.
 */
int bs1_seal(enum bs1_kind kind, uint32_t kv, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *pt, size_t ptlen,
    uint8_t **env, size_t *envlen) BS1_MUST_USE;

/*
 * Open an envelope that must be of the given kind, with the checks of
 * section 3 in order. For kinds 1 and 6 the header kv must be 0; for kinds
 * 2 and 3 the caller picked key by the header's kv (bs1_envelope_kv), which
 * the tag binds. BS1_OK and the plaintext malloc'd into *pt, *ptlen (release
 * with bs1_free); any failure is BS1_E_DECRYPT with *pt NULL.
 */
int bs1_open(enum bs1_kind kind, const struct bs1_key *key,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *env, size_t envlen,
    uint8_t **pt, size_t *ptlen) BS1_MUST_USE;

/* The kv in an envelope's header (BS1_E_DECRYPT if too short or not BS1). */
int bs1_envelope_kv(const uint8_t *env, size_t envlen, uint32_t *kv) BS1_MUST_USE;

/*
 * The contexts of section 3, malloc'd into *ctx, *ctxlen (free()):
 * keyring  lp(lowercase(username)) || u64be(version)
 * record   lp(collection) || lp(record_id)
 * meta     lp(collection)
 * recovery lp(lowercase(username))
 * Lowercasing is ASCII only, as the server folds usernames.
 */
int bs1_ctx_keyring(const char *username, uint64_t version, uint8_t **ctx, size_t *ctxlen)
    BS1_MUST_USE;
int bs1_ctx_record(const char *collection, const char *record_id, uint8_t **ctx,
    size_t *ctxlen) BS1_MUST_USE;
int bs1_ctx_meta(const char *collection, uint8_t **ctx, size_t *ctxlen) BS1_MUST_USE;
int bs1_ctx_recovery(const char *username, uint8_t **ctx, size_t *ctxlen) BS1_MUST_USE;

/* The keyring (kind 1) of username at keyring_version. */
int bs1_keyring_seal(const struct bs1_key *keyring_key, const char *username,
    uint64_t version, const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen)
    BS1_MUST_USE;
int bs1_keyring_open(const struct bs1_key *keyring_key, const char *username,
    uint64_t version, const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
    BS1_MUST_USE;

/*
 * A record (kind 2) under ck = ck(collection, kv): plaintext lp(a) || data.
 * collection and record_id are the server's names (section 4).
 */
int bs1_record_seal(const struct bs1_key *ck, uint32_t kv, const char *collection,
    const char *record_id, const char *a, const uint8_t *data, size_t datalen,
    uint8_t **env, size_t *envlen) BS1_MUST_USE;

/*
 * Open a record of the collection with the owner's data key: ck is derived
 * from the header's kv. The plaintext (lp(a) || data) comes back whole;
 * bs1_record_split() finds a and data in it.
 */
int bs1_record_open(const struct bs1_key *data_key, const char *collection,
    const char *record_id, const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen)
    BS1_MUST_USE;

/* Point *a (alen bytes, not NUL-terminated) and *data into a record's
 * plaintext; BS1_E_DECRYPT if lp(a) does not fit. */
int bs1_record_split(const uint8_t *pt, size_t ptlen, const uint8_t **a, size_t *alen,
    const uint8_t **data, size_t *datalen) BS1_MUST_USE;

/* A collection's meta (kind 3): seal under ck at kv; open with data_key. */
int bs1_meta_seal(const struct bs1_key *ck, uint32_t kv, const char *collection,
    const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen) BS1_MUST_USE;
int bs1_meta_open(const struct bs1_key *data_key, const char *collection,
    const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen) BS1_MUST_USE;

/* A recovery blob (kind 6) of username under recovery_wrap. */
int bs1_recovery_seal(const struct bs1_key *wrap, const char *username,
    const uint8_t *pt, size_t ptlen, uint8_t **env, size_t *envlen) BS1_MUST_USE;
int bs1_recovery_open(const struct bs1_key *wrap, const char *username,
    const uint8_t *env, size_t envlen, uint8_t **pt, size_t *ptlen) BS1_MUST_USE;

/*
 * The keyring's plaintext (section 4): bs1_keyring_new() makes
 * {"suite":"bs1","data_key":"<b64>"} for a data key (malloc'd, bs1_free);
 * bs1_keyring_data_key() reads the data key back out of an opened keyring
 * (suite must be "bs1", data_key 32 bytes of strict b64; other members are
 * left alone, and kept by re-sealing the same plaintext).
 */
int bs1_keyring_new(const struct bs1_key *data_key, uint8_t **pt, size_t *ptlen) BS1_MUST_USE;
int bs1_keyring_data_key(const uint8_t *pt, size_t ptlen, struct bs1_key *data_key)
    BS1_MUST_USE;

/* ---- collection keys and opaque names (bs1_keys.c) --------------------- */

#define BS1_NAME_LEN 22   /* opaque collection names and record ids */

/* A fresh random data key (registration). */
int bs1_data_key_new(struct bs1_key *data_key) BS1_MUST_USE;

/* ck(collection, kv), id_key, cid_key(collection), backup_key(name). Names
 * are NUL-terminated UTF-8 used as given (at most 65535 bytes). */
int bs1_ck(const struct bs1_key *data_key, const char *collection, uint32_t kv,
    struct bs1_key *out) BS1_MUST_USE;
int bs1_id_key(const struct bs1_key *data_key, struct bs1_key *out) BS1_MUST_USE;
int bs1_cid_key(const struct bs1_key *data_key, const char *collection, struct bs1_key *out)
    BS1_MUST_USE;
int bs1_backup_key(const struct bs1_key *data_key, const char *name, struct bs1_key *out)
    BS1_MUST_USE;

/* The server's name of application collection A; the record id of
 * application id a in a collection with cid_key. out gets 22 chars + NUL. */
int bs1_collection_name(const struct bs1_key *id_key, const char *A,
    char out[BS1_NAME_LEN + 1]) BS1_MUST_USE;
int bs1_record_id(const struct bs1_key *cid_key, const char *a,
    char out[BS1_NAME_LEN + 1]) BS1_MUST_USE;

/* ---- streams (bs1_stream.c) --------------------------------------------- */

#define BS1_PIECE 65536
#define BS1_CHUNK (BS1_PIECE + BS1_TAG)
#define BS1_STREAM_HEADER 20

/* Where a stream's output goes; non-zero aborts with BS1_E_SINK. */
typedef int (*bs1_sink)(void *arg, const uint8_t *p, size_t n);

/*
 * A stream of kind 4 (backup) or 5 (slot) in either direction, in bounded
 * memory (two 64 KiB buffers), whatever its size.
 *
 * Writing: bs1_stream_writer_new() picks a random salt; each
 * bs1_stream_write() takes any number of plaintext bytes and hands whole
 * header and chunk bytes to the sink as pieces fill; bs1_stream_write_end()
 * seals the last piece (the last flag set; 0 to 65536 bytes).
 *
 * Reading: bs1_stream_read() takes any number of stream bytes and hands
 * each piece to the sink only after its tag verified; a full chunk is held
 * until the next byte (or the end) says whether it was the last.
 * bs1_stream_read_end() checks the end: the last chunk carries the last
 * flag, nothing follows it, an empty last chunk only as chunk 0. The sink
 * has then seen the whole plaintext exactly when this returns BS1_OK; on
 * BS1_E_DECRYPT whatever the sink got must be discarded (write to a
 * temporary file, rename on success).
 *
 * Errors latch: after a failure every call fails the same way.
 * bs1_stream_free() wipes and frees (NULL is fine).
 */
struct bs1_stream;
int bs1_stream_writer_new(enum bs1_kind kind, const struct bs1_key *base_key,
    struct bs1_stream **out) BS1_MUST_USE;
int bs1_stream_write(struct bs1_stream *s, const uint8_t *in, size_t n, bs1_sink sink,
    void *arg) BS1_MUST_USE;
int bs1_stream_write_end(struct bs1_stream *s, bs1_sink sink, void *arg) BS1_MUST_USE;
int bs1_stream_reader_new(enum bs1_kind kind, const struct bs1_key *base_key,
    struct bs1_stream **out) BS1_MUST_USE;
int bs1_stream_read(struct bs1_stream *s, const uint8_t *in, size_t n, bs1_sink sink,
    void *arg) BS1_MUST_USE;
int bs1_stream_read_end(struct bs1_stream *s, bs1_sink sink, void *arg) BS1_MUST_USE;
void bs1_stream_free(struct bs1_stream *s);

/* The length of the stream of a plaintext of n bytes. */
uint64_t bs1_stream_len(uint64_t n);

/* ---- identities and grants (bs1_grant.c) -------------------------------- */

struct bs1_x25519_pk { uint8_t b[32]; };
struct bs1_ed25519_pk { uint8_t b[32]; };
struct bs1_sig { uint8_t b[64]; };

/* An account's identity: the secret halves (x25519 secret key, ed25519
 * seed) and the public halves derived from them. Wipe with bs1_wipe. */
struct bs1_identity {
	uint8_t x25519_sk[32];
	uint8_t ed25519_seed[32];
	struct bs1_x25519_pk x25519_pk;
	struct bs1_ed25519_pk ed25519_pk;
};

/* A fresh identity (two key pairs from the CSPRNG). */
int bs1_identity_new(struct bs1_identity *id) BS1_MUST_USE;
/* The identity of the given secrets (as the keyring's "identity" keeps them):
 * computes the public halves. */
int bs1_identity_from_secrets(const uint8_t x25519_sk[32], const uint8_t ed25519_seed[32],
    struct bs1_identity *id) BS1_MUST_USE;

#define BS1_FINGERPRINT_LEN 16
/* b64url(SHA-256(x25519_pk || ed25519_pk))[0:16], NUL-terminated. */
int bs1_fingerprint(const struct bs1_x25519_pk *xpk, const struct bs1_ed25519_pk *epk,
    char out[BS1_FINGERPRINT_LEN + 1]) BS1_MUST_USE;

/*
 * Seal grant[0..n) (the grant's JSON) to a recipient and sign it as
 * inviter (section 9): *sealed (malloc'd, free(); eph_pk || ciphertext)
 * and *sig. username is lowercased (ASCII) for the AAD and the signature.
 */
int bs1_grant_seal(const struct bs1_identity *inviter, const struct bs1_x25519_pk *recipient,
    const char *username, const uint8_t *grant, size_t n, uint8_t **sealed, size_t *sealedlen,
    struct bs1_sig *sig) BS1_MUST_USE;

/*
 * Open a grant addressed to me (my identity, my username) from an inviter
 * whose pinned ed25519 key is inviter_pk: the signature first, then the
 * length, X25519 (an all-zero result refused), the tag and the frame.
 * BS1_OK and the grant's JSON malloc'd into *grant, *n (bs1_free), or
 * BS1_E_DECRYPT.
 */
int bs1_grant_open(const struct bs1_identity *me, const char *username,
    const struct bs1_ed25519_pk *inviter_pk, const uint8_t *sealed, size_t sealedlen,
    const struct bs1_sig *sig, uint8_t **grant, size_t *n) BS1_MUST_USE;

enum bs1_role { BS1_ROLE_READ, BS1_ROLE_WRITE, BS1_ROLE_ADMIN };

/* A grant's members (section 9); name is malloc'd (bs1_grant_clear frees it
 * and wipes the keys). */
struct bs1_grant {
	char collection[BS1_NAME_LEN + 1];
	char *name;
	uint32_t kv;
	struct bs1_key key;      /* ck(collection, kv) */
	struct bs1_key id_key;   /* cid_key(collection) */
	enum bs1_role role;
};

/* The grant's JSON (malloc'd, bs1_free) and back: every member required,
 * with its type; key and id_key 32 bytes of strict b64. Parse failures of
 * an opened grant are BS1_E_DECRYPT. */
int bs1_grant_json(const struct bs1_grant *g, uint8_t **json, size_t *n) BS1_MUST_USE;
int bs1_grant_parse(const uint8_t *json, size_t n, struct bs1_grant *g) BS1_MUST_USE;
void bs1_grant_clear(struct bs1_grant *g);

/* ---- recovery keys (bs1_recovery.c) ------------------------------------- */

struct bs1_recovery_key { uint8_t b[20]; };
#define BS1_RECOVERY_TEXT_LEN 39   /* 8 groups of 4, 7 dashes */

/* A fresh recovery key and its text (upper case, groups of four). */
int bs1_recovery_new(struct bs1_recovery_key *rk, char text[BS1_RECOVERY_TEXT_LEN + 1])
    BS1_MUST_USE;
/* The text of a recovery key. */
int bs1_recovery_text(const struct bs1_recovery_key *rk, char text[BS1_RECOVERY_TEXT_LEN + 1])
    BS1_MUST_USE;
/* Read a text, ignoring ASCII case, U+0020 and '-' only: exactly 32 base32
 * symbols must remain. BS1_E_RECOVERY otherwise. */
int bs1_recovery_parse(const char *text, size_t len, struct bs1_recovery_key *rk)
    BS1_MUST_USE;
/* recovery_auth (sent, b64) and recovery_wrap (kept); either may be NULL. */
int bs1_recovery_keys(const struct bs1_recovery_key *rk, struct bs1_key *auth,
    struct bs1_key *wrap) BS1_MUST_USE;

#endif
