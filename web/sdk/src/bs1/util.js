/*
 * util.js: what every module of the bs1 suite shares: the error classes,
 * byte helpers (UTF-8, hex, strict base64, lp(), big-endian integers) and
 * thin wrappers over Web Crypto (HKDF, HMAC, SHA-256, random).
 *
 * It must never log or keep a key; helpers that take secrets hand them to
 * Web Crypto and return fresh buffers the caller may wipe().
 */

/** The Web Crypto object of the platform (browsers and Node 20 alike). */
const subtle = globalThis.crypto?.subtle;

/** Every error of the suite: `code` is stable, the message a sentence. */
export class Bs1Error extends Error {
  /**
   * @param {string} code a stable code ("decrypt", "kdf_floor", ...)
   * @param {string} message an English sentence
   */
  constructor(code, message) {
    super(message);
    this.name = 'Bs1Error';
    /** @type {string} */
    this.code = code;
  }
}

/**
 * The one error of every failure to open (short, bad magic, wrong kind or
 * kv, bad tag, bad frame or padding, bad signature, truncated or reordered
 * stream). Which check failed is never told.
 */
export class DecryptError extends Bs1Error {
  constructor() {
    super('decrypt', 'cannot decrypt');
    this.name = 'DecryptError';
  }
}

/** A kdf object below the floor of client.md section 2; `reason` says why. */
export class KdfFloorError extends Bs1Error {
  /** @param {string} reason what is wrong, e.g. "m is outside 19456..4194304" */
  constructor(reason) {
    super('kdf_floor', `the kdf object is below the bs1 floor: ${reason}`);
    this.name = 'KdfFloorError';
    /** @type {string} */
    this.reason = reason;
  }
}

/** A bad argument (too long, not a string, a lone surrogate, a NUL...). */
export class InputError extends Bs1Error {
  /** @param {string} message what is wrong with the argument */
  constructor(message) {
    super('input', message);
    this.name = 'InputError';
  }
}

/** A passphrase shorter than 12 code points after NFC (section 6). */
export class PassphraseError extends Bs1Error {
  constructor() {
    super('passphrase', 'a passphrase needs at least 12 characters');
    this.name = 'PassphraseError';
  }
}

/** A recovery key text that does not parse (section 10). */
export class RecoveryKeyError extends Bs1Error {
  constructor() {
    super('recovery', 'this is not a recovery key (32 letters and digits 2-7, in groups of four)');
    this.name = 'RecoveryKeyError';
  }
}

/** The Web Crypto subtle object, or an error saying it is missing. */
export function webcrypto() {
  if (!subtle)
    throw new Bs1Error('crypto', 'Web Crypto (crypto.subtle) is not available here');
  return subtle;
}

const te = new TextEncoder();

/**
 * A byte array as the BufferSource Web Crypto's types ask for (TypeScript
 * 5.7+ tells an ArrayBuffer from a SharedArrayBuffer; ours are never shared).
 * @param {Uint8Array} b
 * @returns {BufferSource}
 */
export function bs(b) {
  return /** @type {BufferSource} */ (b);
}

/**
 * The UTF-8 bytes of a string. A lone surrogate (which has no UTF-8 form)
 * is an InputError rather than a silent U+FFFD.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function utf8(s) {
  if (typeof s !== 'string')
    throw new InputError('a name must be a string');
  if (!s.isWellFormed())
    throw new InputError('a string holds a lone surrogate (not Unicode text)');
  return te.encode(s);
}

/**
 * Decode UTF-8 strictly; null when the bytes are not UTF-8.
 * @param {Uint8Array} b
 * @returns {string | null}
 */
export function utf8Decode(b) {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return null;
  }
}

/**
 * Concatenate byte arrays into a new one.
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concat(...parts) {
  let n = 0;
  for (const p of parts)
    n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * u16be(len(x)) || x; x at most 65535 bytes (an InputError otherwise).
 * @param {Uint8Array | string} x bytes, or a string taken as UTF-8
 * @returns {Uint8Array}
 */
export function lp(x) {
  const b = typeof x === 'string' ? utf8(x) : x;
  if (b.length > 0xffff)
    throw new InputError('a name is longer than 65535 bytes');
  const out = new Uint8Array(2 + b.length);
  out[0] = b.length >>> 8;
  out[1] = b.length & 0xff;
  out.set(b, 2);
  return out;
}

/**
 * u32be(n) for an integer 0..2^32-1.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function u32be(n) {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new InputError('a key version must be an integer in 0..4294967295');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * u64be(n) for a safe non-negative integer or a bigint below 2^64.
 * @param {number | bigint} n
 * @returns {Uint8Array}
 */
export function u64be(n) {
  if (typeof n === 'number' && (!Number.isSafeInteger(n) || n < 0))
    throw new InputError('a version must be a non-negative integer');
  const v = BigInt(n);
  if (v < 0n || v >= 1n << 64n)
    throw new InputError('a version must be below 2^64');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

/**
 * Lowercase hex of bytes.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function toHex(b) {
  let s = '';
  for (const x of b)
    s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * Bytes of a hex string (even length, [0-9a-fA-F]); an InputError otherwise.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 || /[^0-9a-fA-F]/.test(s))
    throw new InputError('not a hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64REV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++)
  B64REV[B64.charCodeAt(i)] = i;

/**
 * @param {Uint8Array} b
 * @param {string} alphabet
 * @param {boolean} pad
 */
function encode64(b, alphabet, pad) {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += alphabet[v >>> 18] + alphabet[(v >>> 12) & 63] + alphabet[(v >>> 6) & 63] + alphabet[v & 63];
  }
  if (b.length - i === 1) {
    const v = b[i] << 16;
    s += alphabet[v >>> 18] + alphabet[(v >>> 12) & 63] + (pad ? '==' : '');
  } else if (b.length - i === 2) {
    const v = (b[i] << 16) | (b[i + 1] << 8);
    s += alphabet[v >>> 18] + alphabet[(v >>> 12) & 63] + alphabet[(v >>> 6) & 63] + (pad ? '=' : '');
  }
  return s;
}

/**
 * Standard padded base64 (RFC 4648 section 4), as the HTTP API uses.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function b64(b) {
  return encode64(b, B64, true);
}

/**
 * URL-safe base64 without padding (RFC 4648 section 5).
 * @param {Uint8Array} b
 * @returns {string}
 */
export function b64url(b) {
  return encode64(b, B64URL, false);
}

/**
 * Strict standard base64: padded, the standard alphabet, no white space,
 * canonical trailing bits. The bytes, or null when s is not such a text.
 * @param {unknown} s
 * @returns {Uint8Array | null}
 */
export function b64DecodeStrict(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0)
    return null;
  let pad = 0;
  if (s.endsWith('=='))
    pad = 2;
  else if (s.endsWith('='))
    pad = 1;
  const body = s.length - pad;
  const vals = new Uint8Array(s.length);
  for (let i = 0; i < body; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64REV[c] : -1;
    if (v < 0)
      return null;
    vals[i] = v;
  }
  const n = (s.length / 4) * 3 - pad;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v = (vals[i] << 18) | (vals[i + 1] << 12) | (vals[i + 2] << 6) | vals[i + 3];
    if (o < n) out[o++] = v >>> 16;
    if (o < n) out[o++] = (v >>> 8) & 0xff;
    if (o < n) out[o++] = v & 0xff;
  }
  /* canonical: the bits the padding hides are zero */
  if ((pad === 1 && (vals[body - 1] & 3)) || (pad === 2 && (vals[body - 1] & 15)))
    return null;
  return out;
}

/**
 * n bytes from the CSPRNG (crypto.getRandomValues).
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536)
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/**
 * Overwrite a buffer with zeros (best effort: JavaScript may have copied
 * it, and Web Crypto keeps its own copies of imported keys).
 * @param {...(Uint8Array | null | undefined)} bufs
 */
export function wipe(...bufs) {
  for (const b of bufs)
    if (b)
      b.fill(0);
}

/**
 * A 32-byte key as given (a Uint8Array of exactly 32 bytes), else an InputError.
 * @param {unknown} k
 * @param {string} what its name for the message
 * @returns {Uint8Array}
 */
export function key32(k, what = 'key') {
  if (!(k instanceof Uint8Array) || k.length !== 32)
    throw new InputError(`${what} must be a Uint8Array of 32 bytes`);
  return k;
}

/**
 * HKDF-SHA256 with an empty salt (client.md section 1): L bytes.
 * @param {Uint8Array} ikm
 * @param {Uint8Array | string} info bytes, or an ASCII label
 * @param {number} L
 * @returns {Promise<Uint8Array>}
 */
export async function hkdf(ikm, info, L = 32) {
  const s = webcrypto();
  const k = await s.importKey('raw', bs(ikm), 'HKDF', false, ['deriveBits']);
  const inf = typeof info === 'string' ? utf8(info) : info;
  const bits = await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: bs(inf) },
    k, L * 8);
  return new Uint8Array(bits);
}

/**
 * HMAC-SHA256(k, m).
 * @param {Uint8Array} k
 * @param {Uint8Array} m
 * @returns {Promise<Uint8Array>}
 */
export async function hmac(k, m) {
  const s = webcrypto();
  const key = await s.importKey('raw', bs(k), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await s.sign('HMAC', key, bs(m)));
}

/**
 * SHA-256(m).
 * @param {Uint8Array} m
 * @returns {Promise<Uint8Array>}
 */
export async function sha256(m) {
  return new Uint8Array(await webcrypto().digest('SHA-256', bs(m)));
}

/**
 * An AES-256-GCM key for Web Crypto from 32 raw bytes (not extractable).
 * @param {Uint8Array} k
 * @returns {Promise<CryptoKey>}
 */
export async function aesKey(k) {
  return webcrypto().importKey('raw', bs(key32(k)), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/**
 * AEAD seal: ciphertext || 16-byte tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce 12 bytes
 * @param {Uint8Array} pt
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export async function aeadSeal(key, nonce, pt, aad) {
  return new Uint8Array(await webcrypto().encrypt(
    { name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 }, key, bs(pt)));
}

/**
 * AEAD open: the plaintext, or a DecryptError when the tag does not verify.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce 12 bytes
 * @param {Uint8Array} ct ciphertext || tag (at least 16 bytes)
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export async function aeadOpen(key, nonce, ct, aad) {
  if (ct.length < 16)
    throw new DecryptError();
  try {
    return new Uint8Array(await webcrypto().decrypt(
      { name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 }, key, bs(ct)));
  } catch {
    throw new DecryptError();
  }
}

/**
 * ASCII-only lowercase, as the server folds usernames.
 * @param {string} s
 * @returns {string}
 */
export function asciiLower(s) {
  if (typeof s !== 'string')
    throw new InputError('a username must be a string');
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
