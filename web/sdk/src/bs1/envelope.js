/*
 * envelope.js: the frame with its padding and the envelope of client.md
 * section 3 (kinds 1 keyring, 2 record, 3 collection meta, 6 recovery
 * blob), their contexts, and the keyring's JSON plaintext (section 4).
 *
 * It must never return plaintext from an envelope that failed any check:
 * every failure to open is the one DecryptError.
 */
import { ck } from './keys.js';
import {
  DecryptError, InputError, aeadOpen, aeadSeal, aesKey, asciiLower, b64, b64DecodeStrict,
  concat, key32, lp, randomBytes, u32be, u64be, utf8, utf8Decode, wipe,
} from './util.js';

/** The kinds of section 3 and 5. */
export const KIND = Object.freeze({ KEYRING: 1, RECORD: 2, META: 3, BACKUP: 4, SLOT: 5, RECOVERY: 6 });

export const ENV_HEADER = 8;
export const NONCE = 12;
export const TAG = 16;
export const ENV_MIN = ENV_HEADER + NONCE + TAG;
/** An envelope's plaintext is at most 64 MiB (as in the C library). */
export const MAX_PLAINTEXT = 64 * 1024 * 1024;

const MAGIC = [0x42, 0x53, 0x31]; /* "BS1" */

/**
 * P, the padded frame length for a plaintext of n bytes (section 3), or 0
 * when n exceeds MAX_PLAINTEXT.
 * @param {number} n
 * @returns {number}
 */
export function frameLen(n) {
  if (!Number.isInteger(n) || n < 0 || n > MAX_PLAINTEXT)
    return 0;
  const L = 4 + n;
  if (L <= 64)
    return 64;
  const E = 31 - Math.clz32(L);
  const S = 31 - Math.clz32(E) + 1;
  const mask = 2 ** (E - S) - 1;
  return (L + mask) & ~mask;
}

/**
 * The size of the envelope of a plaintext of n bytes (0 if too big).
 * @param {number} n
 * @returns {number}
 */
export function envelopeLen(n) {
  const P = frameLen(n);
  return P ? ENV_MIN + P : 0;
}

/**
 * frame(pt) = u32be(len) || pt || zero padding to P.
 * @param {Uint8Array} pt
 * @returns {Uint8Array}
 */
export function frame(pt) {
  const P = frameLen(pt.length);
  if (!P)
    throw new InputError('a plaintext is larger than 64 MiB');
  const f = new Uint8Array(P);
  new DataView(f.buffer).setUint32(0, pt.length);
  f.set(pt, 4);
  return f;
}

/**
 * The plaintext inside a frame that was just authenticated: the length
 * must give exactly this P (minimal padding) and every padding byte must be
 * zero. A DecryptError otherwise.
 * @param {Uint8Array} f
 * @returns {Uint8Array}
 */
export function unframe(f) {
  if (f.length < 4)
    throw new DecryptError();
  const n = new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0);
  if (n > MAX_PLAINTEXT || frameLen(n) !== f.length)
    throw new DecryptError();
  let bad = 0;
  for (let i = 4 + n; i < f.length; i++)
    bad |= f[i];
  if (bad)
    throw new DecryptError();
  return f.slice(4, 4 + n);
}

/**
 * @param {number} kind
 * @param {number} kv
 */
function header(kind, kv) {
  return concat(new Uint8Array([...MAGIC, kind]), u32be(kv));
}

/**
 * @param {number} kind
 * @param {number} kv
 */
function checkKindKv(kind, kv) {
  if (![1, 2, 3, 6].includes(kind))
    throw new InputError('an envelope is of kind 1, 2, 3 or 6');
  if ((kind === 1 || kind === 6) && kv !== 0)
    throw new InputError('kinds 1 and 6 have kv 0');
  u32be(kv);
}

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
export async function sealWithNonce(kind, kv, key, ctx, pt, nonce) {
  checkKindKv(kind, kv);
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE)
    throw new InputError('a nonce is 12 bytes');
  const h = header(kind, kv);
  const f = frame(pt);
  try {
    const ct = await aeadSeal(await aesKey(key32(key)), nonce, f, concat(h, ctx));
    return concat(h, nonce, ct);
  } finally {
    wipe(f);
  }
}

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
export async function seal(kind, kv, key, ctx, pt) {
  return sealWithNonce(kind, kv, key, ctx, pt, randomBytes(NONCE));
}

/**
 * The kv in an envelope's header; a DecryptError if too short or not BS1.
 * @param {Uint8Array} env
 * @returns {number}
 */
export function envelopeKv(env) {
  if (!(env instanceof Uint8Array) || env.length < ENV_MIN ||
      env[0] !== MAGIC[0] || env[1] !== MAGIC[1] || env[2] !== MAGIC[2])
    throw new DecryptError();
  return new DataView(env.buffer, env.byteOffset, env.byteLength).getUint32(4);
}

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
export async function open(kind, key, ctx, env) {
  return openWith(kind, await aesKey(key32(key)), ctx, env);
}

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
export async function openWith(kind, aes, ctx, env) {
  const kv = envelopeKv(env);
  if (env[3] !== kind || ((kind === 1 || kind === 6) && kv !== 0))
    throw new DecryptError();
  const f = await aeadOpen(aes, env.subarray(8, 20), env.subarray(20),
    concat(env.subarray(0, 8), ctx));
  try {
    return unframe(f);
  } finally {
    wipe(f);
  }
}

/**
 * lp(lowercase(username)) || u64be(version): a keyring's context.
 * @param {string} username
 * @param {number | bigint} version
 * @returns {Uint8Array}
 */
export function ctxKeyring(username, version) {
  return concat(lp(asciiLower(username)), u64be(version));
}

/**
 * lp(collection) || lp(record_id): a record's context (server names).
 * @param {string} collection
 * @param {string} recordId
 * @returns {Uint8Array}
 */
export function ctxRecord(collection, recordId) {
  return concat(lp(collection), lp(recordId));
}

/**
 * lp(collection): a collection meta's context.
 * @param {string} collection
 * @returns {Uint8Array}
 */
export function ctxMeta(collection) {
  return lp(collection);
}

/**
 * lp(lowercase(username)): a recovery blob's context.
 * @param {string} username
 * @returns {Uint8Array}
 */
export function ctxRecovery(username) {
  return lp(asciiLower(username));
}

/**
 * Seal a keyring plaintext (kind 1) of username at keyring_version.
 * @param {Uint8Array} keyringKey
 * @param {string} username
 * @param {number | bigint} version
 * @param {Uint8Array} pt
 * @returns {Promise<Uint8Array>}
 */
export async function keyringSeal(keyringKey, username, version, pt) {
  return seal(KIND.KEYRING, 0, keyringKey, ctxKeyring(username, version), pt);
}

/**
 * Open a keyring (kind 1) of username at keyring_version.
 * @param {Uint8Array} keyringKey
 * @param {string} username
 * @param {number | bigint} version
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export async function keyringOpen(keyringKey, username, version, env) {
  return open(KIND.KEYRING, keyringKey, ctxKeyring(username, version), env);
}

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
export async function recordSeal(collectionKey, kv, collection, recordId, a, data) {
  const pt = concat(lp(a), data);
  try {
    return await seal(KIND.RECORD, kv, collectionKey, ctxRecord(collection, recordId), pt);
  } finally {
    wipe(pt);
  }
}

/**
 * Open a record with the owner's data key: ck is derived from the header's
 * kv. The whole plaintext lp(a) || data; recordSplit() finds a and data.
 * @param {Uint8Array} dataKey
 * @param {string} collection
 * @param {string} recordId
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export async function recordOpen(dataKey, collection, recordId, env) {
  const k = await ck(dataKey, collection, envelopeKv(env));
  try {
    return await open(KIND.RECORD, k, ctxRecord(collection, recordId), env);
  } finally {
    wipe(k);
  }
}

/**
 * recordOpen() with ck(collection, kv) already imported (openWith): the
 * caller picks the key by the envelope's kv (envelopeKv).
 * @param {CryptoKey} aes
 * @param {string} collection
 * @param {string} recordId
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export async function recordOpenWith(aes, collection, recordId, env) {
  return openWith(KIND.RECORD, aes, ctxRecord(collection, recordId), env);
}

/**
 * a (the application id) and data in a record's plaintext; a DecryptError
 * if lp(a) does not fit or a is not UTF-8.
 * @param {Uint8Array} pt
 * @returns {{ a: string, data: Uint8Array }}
 */
export function recordSplit(pt) {
  if (pt.length < 2)
    throw new DecryptError();
  const n = (pt[0] << 8) | pt[1];
  if (2 + n > pt.length)
    throw new DecryptError();
  const a = utf8Decode(pt.subarray(2, 2 + n));
  if (a === null)
    throw new DecryptError();
  return { a, data: pt.subarray(2 + n) };
}

/**
 * Seal a collection's meta (kind 3) under ck at kv.
 * @param {Uint8Array} collectionKey
 * @param {number} kv
 * @param {string} collection
 * @param {Uint8Array} pt the JSON {"name": A}
 * @returns {Promise<Uint8Array>}
 */
export async function metaSeal(collectionKey, kv, collection, pt) {
  return seal(KIND.META, kv, collectionKey, ctxMeta(collection), pt);
}

/**
 * Open a collection's meta with the owner's data key (ck from the header's kv).
 * @param {Uint8Array} dataKey
 * @param {string} collection
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export async function metaOpen(dataKey, collection, env) {
  const k = await ck(dataKey, collection, envelopeKv(env));
  try {
    return await open(KIND.META, k, ctxMeta(collection), env);
  } finally {
    wipe(k);
  }
}

/**
 * Seal a recovery blob (kind 6) of username under recovery_wrap.
 * @param {Uint8Array} wrap
 * @param {string} username
 * @param {Uint8Array} pt the keyring's plaintext
 * @returns {Promise<Uint8Array>}
 */
export async function recoverySeal(wrap, username, pt) {
  return seal(KIND.RECOVERY, 0, wrap, ctxRecovery(username), pt);
}

/**
 * Open a recovery blob (kind 6) of username under recovery_wrap.
 * @param {Uint8Array} wrap
 * @param {string} username
 * @param {Uint8Array} env
 * @returns {Promise<Uint8Array>}
 */
export async function recoveryOpen(wrap, username, env) {
  return open(KIND.RECOVERY, wrap, ctxRecovery(username), env);
}

/**
 * The keyring's plaintext for a data key: exactly
 * {"suite":"bs1","data_key":"<b64>"} (the C library's bytes).
 * @param {Uint8Array} dataKey
 * @returns {Uint8Array}
 */
export function keyringNew(dataKey) {
  return utf8(`{"suite":"bs1","data_key":"${b64(key32(dataKey, 'data_key'))}"}`);
}

/**
 * The data key in an opened keyring: suite "bs1" and data_key 32 bytes of
 * strict b64; a DecryptError otherwise. Other members are left alone (a
 * rewrite re-seals the same plaintext, so they are kept).
 * @param {Uint8Array} pt
 * @returns {Uint8Array}
 */
export function keyringDataKey(pt) {
  const text = utf8Decode(pt);
  let obj;
  try {
    obj = text === null ? null : JSON.parse(text);
  } catch {
    obj = null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || obj.suite !== 'bs1')
    throw new DecryptError();
  const k = b64DecodeStrict(obj.data_key);
  if (!k || k.length !== 32)
    throw new DecryptError();
  return k;
}
