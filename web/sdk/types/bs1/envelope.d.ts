/**
 * P, the padded frame length for a plaintext of n bytes (section 3), or 0
 * when n exceeds MAX_PLAINTEXT.
 * @param {number} n
 * @returns {number}
 */
export function frameLen(n: number): number;
/**
 * The size of the envelope of a plaintext of n bytes (0 if too big).
 * @param {number} n
 * @returns {number}
 */
export function envelopeLen(n: number): number;
/**
 * frame(pt) = u32be(len) || pt || zero padding to P.
 * @param {Uint8Array} pt
 * @returns {Uint8Array}
 */
export function frame(pt: Uint8Array): Uint8Array;
/**
 * The plaintext inside a frame that was just authenticated: the length
 * must give exactly this P (minimal padding) and every padding byte must be
 * zero. A DecryptError otherwise.
 * @param {Uint8Array} f
 * @returns {Uint8Array}
 */
export function unframe(f: Uint8Array): Uint8Array;
/**
 * Seal with a given nonce (the deterministic core of seal(); tests use it
 * to reproduce the vectors; applications call seal()).
 * @param {number} kind 1, 2, 3 or 6
 * @param {number} kv 0 for kinds 1 and 6
 * @param {Uint8Array} key 32 bytes
 * @param {Uint8Array} ctx the context of section 3
 * @param {Uint8Array} pt
 * @param {Uint8Array} nonce 12 bytes
 * @returns {Promise<Uint8Array>}
 */
export function sealWithNonce(kind: number, kv: number, key: Uint8Array, ctx: Uint8Array, pt: Uint8Array, nonce: Uint8Array): Promise<Uint8Array>;
/**
 * Seal pt as an envelope of kind 1, 2, 3 or 6 with header kv, under key,
 * with associated data header || ctx, a fresh random nonce and the padded
 * frame. The envelope is not secret.
 * @param {number} kind
 * @param {number} kv
 * @param {Uint8Array} key
 * @param {Uint8Array} ctx
 * @param {Uint8Array} pt
 * @returns {Promise<Uint8Array>}
 */
export function seal(kind: number, kv: number, key: Uint8Array, ctx: Uint8Array, pt: Uint8Array): Promise<Uint8Array>;
/**
 * The kv in an envelope's header; a DecryptError if too short or not BS1.
 * @param {Uint8Array} env
 * @returns {number}
 */
export function envelopeKv(env: Uint8Array): number;
/**
 * Open an envelope that must be of the given kind, with the checks of
 * section 3 in order: length, magic, kind, kv (0 for kinds 1 and 6), tag,
 * frame length, padding. For kinds 2 and 3 the caller picked the key by the
 * header's kv (envelopeKv). The plaintext, or a DecryptError.
 * @param {number} kind
 * @param {Uint8Array} key
 * @param {Uint8Array} ctx
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function open(kind: number, key: Uint8Array, ctx: Uint8Array, env: Uint8Array): Promise<Uint8Array>;
/**
 * open() with the key already imported as an AES-GCM CryptoKey: what a
 * client that opens many envelopes under one key (a collection's records)
 * calls, so that the key is derived and imported once, not per envelope.
 * The same checks, in the same order.
 * @param {number} kind
 * @param {CryptoKey} aes
 * @param {Uint8Array} ctx
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function openWith(kind: number, aes: CryptoKey, ctx: Uint8Array, env: Uint8Array): Promise<Uint8Array>;
/**
 * lp(lowercase(username)) || u64be(version): a keyring's context.
 * @param {string} username
 * @param {number | bigint} version
 * @returns {Uint8Array}
 */
export function ctxKeyring(username: string, version: number | bigint): Uint8Array;
/**
 * lp(collection) || lp(record_id): a record's context (server names).
 * @param {string} collection
 * @param {string} recordId
 * @returns {Uint8Array}
 */
export function ctxRecord(collection: string, recordId: string): Uint8Array;
/**
 * lp(collection): a collection meta's context.
 * @param {string} collection
 * @returns {Uint8Array}
 */
export function ctxMeta(collection: string): Uint8Array;
/**
 * lp(lowercase(username)): a recovery blob's context.
 * @param {string} username
 * @returns {Uint8Array}
 */
export function ctxRecovery(username: string): Uint8Array;
/**
 * Seal a keyring plaintext (kind 1) of username at keyring_version.
 * @param {Uint8Array} keyringKey
 * @param {string} username
 * @param {number | bigint} version
 * @param {Uint8Array} pt
 * @returns {Promise<Uint8Array>}
 */
export function keyringSeal(keyringKey: Uint8Array, username: string, version: number | bigint, pt: Uint8Array): Promise<Uint8Array>;
/**
 * Open a keyring (kind 1) of username at keyring_version.
 * @param {Uint8Array} keyringKey
 * @param {string} username
 * @param {number | bigint} version
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function keyringOpen(keyringKey: Uint8Array, username: string, version: number | bigint, env: Uint8Array): Promise<Uint8Array>;
/**
 * A record (kind 2) under ck = ck(collection, kv): plaintext lp(a) || data.
 * @param {Uint8Array} collectionKey ck(collection, kv)
 * @param {number} kv
 * @param {string} collection the server's name
 * @param {string} recordId the server's name
 * @param {string} a the application's record id
 * @param {Uint8Array} data
 * @returns {Promise<Uint8Array>}
 */
export function recordSeal(collectionKey: Uint8Array, kv: number, collection: string, recordId: string, a: string, data: Uint8Array): Promise<Uint8Array>;
/**
 * Open a record with the owner's data key: ck is derived from the header's
 * kv. The whole plaintext lp(a) || data; recordSplit() finds a and data.
 * @param {Uint8Array} dataKey
 * @param {string} collection
 * @param {string} recordId
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function recordOpen(dataKey: Uint8Array, collection: string, recordId: string, env: Uint8Array): Promise<Uint8Array>;
/**
 * recordOpen() with ck(collection, kv) already imported (openWith): the
 * caller picks the key by the envelope's kv (envelopeKv).
 * @param {CryptoKey} aes
 * @param {string} collection
 * @param {string} recordId
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function recordOpenWith(aes: CryptoKey, collection: string, recordId: string, env: Uint8Array): Promise<Uint8Array>;
/**
 * a (the application id) and data in a record's plaintext; a DecryptError
 * if lp(a) does not fit or a is not UTF-8.
 * @param {Uint8Array} pt
 * @returns {{ a: string, data: Uint8Array }}
 */
export function recordSplit(pt: Uint8Array): {
    a: string;
    data: Uint8Array;
};
/**
 * Seal a collection's meta (kind 3) under ck at kv.
 * @param {Uint8Array} collectionKey
 * @param {number} kv
 * @param {string} collection
 * @param {Uint8Array} pt the JSON {"name": A}
 * @returns {Promise<Uint8Array>}
 */
export function metaSeal(collectionKey: Uint8Array, kv: number, collection: string, pt: Uint8Array): Promise<Uint8Array>;
/**
 * Open a collection's meta with the owner's data key (ck from the header's kv).
 * @param {Uint8Array} dataKey
 * @param {string} collection
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function metaOpen(dataKey: Uint8Array, collection: string, env: Uint8Array): Promise<Uint8Array>;
/**
 * Seal a recovery blob (kind 6) of username under recovery_wrap.
 * @param {Uint8Array} wrap
 * @param {string} username
 * @param {Uint8Array} pt the keyring's plaintext
 * @returns {Promise<Uint8Array>}
 */
export function recoverySeal(wrap: Uint8Array, username: string, pt: Uint8Array): Promise<Uint8Array>;
/**
 * Open a recovery blob (kind 6) of username under recovery_wrap.
 * @param {Uint8Array} wrap
 * @param {string} username
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export function recoveryOpen(wrap: Uint8Array, username: string, env: Uint8Array): Promise<Uint8Array>;
/**
 * The keyring's plaintext for a data key: exactly
 * {"suite":"bs1","data_key":"<b64>"} (the C library's bytes).
 * @param {Uint8Array} dataKey
 * @returns {Uint8Array}
 */
export function keyringNew(dataKey: Uint8Array): Uint8Array;
/**
 * The data key in an opened keyring: suite "bs1" and data_key 32 bytes of
 * strict b64; a DecryptError otherwise. Other members are left alone (a
 * rewrite re-seals the same plaintext, so they are kept).
 * @param {Uint8Array} pt
 * @returns {Uint8Array}
 */
export function keyringDataKey(pt: Uint8Array): Uint8Array;
/** The kinds of section 3 and 5. */
export const KIND: Readonly<{
    KEYRING: 1;
    RECORD: 2;
    META: 3;
    BACKUP: 4;
    SLOT: 5;
    RECOVERY: 6;
}>;
export const ENV_HEADER: 8;
export const NONCE: 12;
export const TAG: 16;
export const ENV_MIN: number;
/** An envelope's plaintext is at most 64 MiB (as in the C library). */
export const MAX_PLAINTEXT: number;
