/*
 * kdf.js: from a password to the account's keys (client.md section 2) and
 * the anonymous slot's derivations (section 6): the kdf object and its
 * floor, NFC, Argon2id (hash-wasm; in a page, in the Web Worker of
 * kdf-worker.js), auth_key and keyring_key, slot_id,
 * slot_key and slot_enc, the passphrase rule.
 *
 * It must never derive anything from a kdf object below the floor, and
 * never send or log a password, a master key or a seed.
 */
import { argon2id } from 'hash-wasm';
import {
  InputError, KdfFloorError, PassphraseError, b64, b64DecodeStrict, concat, hkdf, lp,
  randomBytes, sha256, toHex, utf8, wipe,
} from './util.js';

/** What new accounts use (client.md section 2). */
export const KDF_M = 65536;
export const KDF_T = 3;
export const KDF_P = 1;
/** The kdf object is at most 1 KiB of JSON text. */
export const KDF_MAX_JSON = 1024;
/** A passphrase has at least this many code points after NFC. */
export const SLOT_MIN_CHARS = 12;
/** The application id of a slot when none is given. */
export const DEFAULT_APP = 'blindsync';

const M_MIN = 19456, M_MAX = 4194304, T_MIN = 2, T_MAX = 64;

/**
 * A kdf object that passed the floor.
 * @typedef {{ m: number, t: number, p: number, salt: Uint8Array }} Kdf
 */

/**
 * @param {Record<string, unknown>} obj
 * @param {string} name
 * @param {number} min
 * @param {number} max
 * @param {string} range the reason when out of range
 * @returns {number}
 */
function memberUint(obj, name, min, max, range) {
  if (!Object.hasOwn(obj, name))
    throw new KdfFloorError(`${name} is missing`);
  const v = obj[name];
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new KdfFloorError(`${name} is not an integer`);
  if (v < min || v > max)
    throw new KdfFloorError(range);
  return v;
}

/**
 * Apply the floor of client.md section 2 to a kdf object already parsed
 * (what JSON.parse gave). Returns the checked Kdf (a fresh object, the
 * salt decoded); throws KdfFloorError with a reason for anything refused.
 * Unknown members are ignored.
 * @param {unknown} obj
 * @returns {Kdf}
 */
export function kdfCheck(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    throw new KdfFloorError('the kdf is not a JSON object');
  const o = /** @type {Record<string, unknown>} */ (obj);
  if (o.alg !== 'argon2id')
    throw new KdfFloorError(Object.hasOwn(o, 'alg') ? 'alg is not argon2id' : 'alg is missing');
  if (o.suite !== 'bs1')
    throw new KdfFloorError(Object.hasOwn(o, 'suite') ? 'suite is not bs1' : 'suite is missing');
  const m = memberUint(o, 'm', M_MIN, M_MAX, 'm is outside 19456..4194304');
  const t = memberUint(o, 't', T_MIN, T_MAX, 't is outside 2..64');
  const p = memberUint(o, 'p', 1, 1, 'p is not 1');
  if (!Object.hasOwn(o, 'salt'))
    throw new KdfFloorError('salt is missing');
  if (typeof o.salt !== 'string')
    throw new KdfFloorError('salt is not a string');
  const salt = b64DecodeStrict(o.salt);
  if (!salt)
    throw new KdfFloorError('salt is not strict base64');
  if (salt.length !== 16)
    throw new KdfFloorError('salt is not 16 bytes');
  return { m, t, p, salt };
}

/**
 * Parse the kdf object text that prelogin returned (JSON.parse: one value,
 * nothing after it) and apply the floor. Text longer than 1 KiB (as UTF-8)
 * or that is not JSON is refused too. Nothing is derived.
 * @param {string} text
 * @returns {Kdf}
 */
export function kdfParse(text) {
  if (typeof text !== 'string')
    throw new KdfFloorError('the kdf is not valid JSON');
  if (text.length > KDF_MAX_JSON || new TextEncoder().encode(text).length > KDF_MAX_JSON)
    throw new KdfFloorError('the kdf object is longer than 1 KiB');
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new KdfFloorError('the kdf is not valid JSON');
  }
  return kdfCheck(obj);
}

/**
 * A fresh kdf object for a new account: default m, t, p, a random salt.
 * @returns {Kdf}
 */
export function kdfNew() {
  return { m: KDF_M, t: KDF_T, p: KDF_P, salt: randomBytes(16) };
}

/**
 * The kdf object as the JSON text register sends:
 * {"alg":"argon2id","suite":"bs1","m":..,"t":..,"p":1,"salt":".."}.
 * @param {Kdf} kdf
 * @returns {string}
 */
export function kdfJson(kdf) {
  return JSON.stringify({ alg: 'argon2id', suite: 'bs1', m: kdf.m, t: kdf.t, p: kdf.p,
    salt: b64(kdf.salt) });
}

/**
 * A password's or passphrase's NFC form as UTF-8 bytes (the caller may
 * wipe them). A lone surrogate or a NUL is an InputError, as in the C
 * library (which refuses invalid UTF-8 and NUL).
 * @param {string} pw
 * @returns {Uint8Array}
 */
export function nfc(pw) {
  if (typeof pw !== 'string')
    throw new InputError('a password must be a string');
  if (pw.includes('\0'))
    throw new InputError('a password must not hold a NUL character');
  return utf8(pw.normalize('NFC'));
}

/**
 * What a kdf status callback is told: a derivation starts (where it runs:
 * "worker", a module Web Worker, or "inline", this thread) and is done
 * (with its duration in ms, measured around the Argon2id alone).
 * @typedef {{ phase: 'start' | 'done', where: 'worker' | 'inline', ms?: number }} KdfStatus
 */

/**
 * Options of the derivations: status, called as a derivation starts and
 * ends (a page shows it: Argon2id takes about a second).
 * @typedef {{ status?: (s: KdfStatus) => void }} KdfOptions
 */

/**
 * A page's main thread has a module Worker to run Argon2id in; Node and
 * code already running in a worker derive on their own thread.
 * @returns {boolean}
 */
function workerWanted() {
  const g = /** @type {any} */ (globalThis);
  return typeof g.Worker === 'function' && typeof g.document === 'object' && g.document !== null;
}

/**
 * Argon2id in a fresh module Worker (kdf-worker.js, same origin), ended
 * once it answered. Resolves null when the worker could not start (no
 * module workers, a CSP that refuses it, hash-wasm missing): the caller
 * then derives inline. A failure of Argon2id itself rejects.
 * @param {Uint8Array} pw
 * @param {Uint8Array} salt
 * @param {number} t
 * @param {number} m
 * @returns {Promise<Uint8Array | null>}
 */
function argon2Worker(pw, salt, t, m) {
  return new Promise((resolve, reject) => {
    /** @type {Worker} */
    let w;
    try {
      w = new Worker(new URL('./kdf-worker.js', import.meta.url), { type: 'module', name: 'blindsync-kdf' });
    } catch {
      resolve(null);
      return;
    }
    let started = false;
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      if (started)
        reject(new Error('the kdf worker failed'));
      else
        resolve(null);
    };
    w.onmessage = (e) => {
      if (e.data?.ready === true && !started) {
        started = true;
        const copy = pw.slice();
        w.postMessage({ pw: copy, salt: salt.slice(), t, m }, [copy.buffer]);
        return;
      }
      w.terminate();
      if (e.data?.out instanceof Uint8Array && e.data.out.length === 32)
        resolve(e.data.out);
      else
        reject(new Error(`Argon2id failed in the kdf worker: ${e.data?.error ?? 'no answer'}`));
    };
  });
}

/**
 * Argon2id (version 0x13, p = 1, 32 bytes) of the given bytes: in a
 * module Worker on a page's main thread (so the page never freezes), else
 * (Node, a worker, or a worker that cannot start) on this thread.
 * @param {Uint8Array} pw
 * @param {Uint8Array} salt
 * @param {number} t
 * @param {number} m
 * @param {KdfOptions} [opts]
 * @returns {Promise<Uint8Array>}
 */
async function argon2(pw, salt, t, m, opts = {}) {
  const t0 = performance.now();
  if (workerWanted()) {
    opts.status?.({ phase: 'start', where: 'worker' });
    const out = await argon2Worker(pw, salt, t, m);
    if (out) {
      opts.status?.({ phase: 'done', where: 'worker', ms: performance.now() - t0 });
      return out;
    }
  }
  opts.status?.({ phase: 'start', where: 'inline' });
  const out = await argon2id({ password: pw, salt, parallelism: 1, iterations: t, memorySize: m,
    hashLength: 32, outputType: 'binary' });
  opts.status?.({ phase: 'done', where: 'inline', ms: performance.now() - t0 });
  return /** @type {Uint8Array} */ (out);
}

/**
 * master = Argon2id(NFC(password), salt, t, m, p = 1, 32 bytes) under a kdf
 * that passed the floor (the floor is applied again here, so it cannot be
 * skipped). About a second at the default parameters; in a page it runs
 * in a Web Worker (opts.status tells where and how long).
 * @param {string} password
 * @param {Kdf} kdf
 * @param {KdfOptions} [opts]
 * @returns {Promise<Uint8Array>}
 */
export async function masterKey(password, kdf, opts = {}) {
  const k = kdfCheck({ alg: 'argon2id', suite: 'bs1', m: kdf?.m, t: kdf?.t, p: kdf?.p,
    salt: kdf?.salt instanceof Uint8Array ? b64(kdf.salt) : null });
  const pw = nfc(password);
  try {
    return await argon2(pw, k.salt, k.t, k.m, opts);
  } finally {
    wipe(pw);
  }
}

/**
 * auth_key (sent, b64) and keyring_key (never leaves the device) from master.
 * @param {Uint8Array} master
 * @returns {Promise<{ authKey: Uint8Array, keyringKey: Uint8Array }>}
 */
export async function accountKeys(master) {
  return {
    authKey: await hkdf(master, 'blindsync bs1 auth key'),
    keyringKey: await hkdf(master, 'blindsync bs1 keyring key'),
  };
}

/**
 * The passphrase rule of section 6: at least 12 code points after NFC,
 * else a PassphraseError.
 * @param {string} passphrase
 */
export function passphraseCheck(passphrase) {
  if (typeof passphrase !== 'string')
    throw new InputError('a passphrase must be a string');
  if (!passphrase.isWellFormed())
    throw new InputError('a passphrase holds a lone surrogate (not Unicode text)');
  let n = 0;
  for (const _ of passphrase.normalize('NFC'))
    n++;
  if (n < SLOT_MIN_CHARS)
    throw new PassphraseError();
}

/**
 * slot_salt = SHA-256("blindsync bs1 slot salt" || lp(app))[0:16].
 * @param {string} app
 * @returns {Promise<Uint8Array>}
 */
export async function slotSalt(app = DEFAULT_APP) {
  return (await sha256(concat(utf8('blindsync bs1 slot salt'), lp(app)))).slice(0, 16);
}

/**
 * What a slot needs: id (64 lowercase hex, the URL), key (b64, the
 * X-Slot-Key header; secret) and enc (the kind-5 stream's base key; secret).
 * @typedef {{ id: string, key: string, enc: Uint8Array }} Slot
 */

/**
 * The slot of (app, passphrase) after the passphrase rule: Argon2id at
 * t = 3, m = 65536, then the three HKDF outputs. The seed is wiped.
 * @param {string} app the application id (default "blindsync")
 * @param {string} passphrase
 * @param {KdfOptions} [opts] status: as masterKey's
 * @returns {Promise<Slot>}
 */
export async function slotDerive(app, passphrase, opts = {}) {
  passphraseCheck(passphrase);
  const salt = await slotSalt(app ?? DEFAULT_APP);
  const pp = nfc(passphrase);
  let seed = null, kb = null;
  try {
    seed = await argon2(pp, salt, KDF_T, KDF_M, opts);
    const id = toHex(await hkdf(seed, 'blindsync slot id'));
    kb = await hkdf(seed, 'blindsync slot key');
    const enc = await hkdf(seed, 'blindsync slot encryption');
    return { id, key: b64(kb), enc };
  } finally {
    wipe(pp, seed, kb);
  }
}
