/** The Web Crypto subtle object, or an error saying it is missing. */
export function webcrypto(): SubtleCrypto;
/**
 * A byte array as the BufferSource Web Crypto's types ask for (TypeScript
 * 5.7+ tells an ArrayBuffer from a SharedArrayBuffer; ours are never shared).
 * @param {Uint8Array} b
 * @returns {BufferSource}
 */
export function bs(b: Uint8Array): BufferSource;
/**
 * The UTF-8 bytes of a string. A lone surrogate (which has no UTF-8 form)
 * is an InputError rather than a silent U+FFFD.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function utf8(s: string): Uint8Array;
/**
 * Decode UTF-8 strictly; null when the bytes are not UTF-8.
 * @param {Uint8Array} b
 * @returns {string | null}
 */
export function utf8Decode(b: Uint8Array): string | null;
/**
 * Concatenate byte arrays into a new one.
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concat(...parts: Uint8Array[]): Uint8Array;
/**
 * u16be(len(x)) || x; x at most 65535 bytes (an InputError otherwise).
 * @param {Uint8Array | string} x bytes, or a string taken as UTF-8
 * @returns {Uint8Array}
 */
export function lp(x: Uint8Array | string): Uint8Array;
/**
 * u32be(n) for an integer 0..2^32-1.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function u32be(n: number): Uint8Array;
/**
 * u64be(n) for a safe non-negative integer or a bigint below 2^64.
 * @param {number | bigint} n
 * @returns {Uint8Array}
 */
export function u64be(n: number | bigint): Uint8Array;
/**
 * Lowercase hex of bytes.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function toHex(b: Uint8Array): string;
/**
 * Bytes of a hex string (even length, [0-9a-fA-F]); an InputError otherwise.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function fromHex(s: string): Uint8Array;
/**
 * Standard padded base64 (RFC 4648 section 4), as the HTTP API uses.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function b64(b: Uint8Array): string;
/**
 * URL-safe base64 without padding (RFC 4648 section 5).
 * @param {Uint8Array} b
 * @returns {string}
 */
export function b64url(b: Uint8Array): string;
/**
 * Strict standard base64: padded, the standard alphabet, no white space,
 * canonical trailing bits. The bytes, or null when s is not such a text.
 * @param {unknown} s
 * @returns {Uint8Array | null}
 */
export function b64DecodeStrict(s: unknown): Uint8Array | null;
/**
 * n bytes from the CSPRNG (crypto.getRandomValues).
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes(n: number): Uint8Array;
/**
 * Overwrite a buffer with zeros (best effort: JavaScript may have copied
 * it, and Web Crypto keeps its own copies of imported keys).
 * @param {...(Uint8Array | null | undefined)} bufs
 */
export function wipe(...bufs: (Uint8Array | null | undefined)[]): void;
/**
 * A 32-byte key as given (a Uint8Array of exactly 32 bytes), else an InputError.
 * @param {unknown} k
 * @param {string} what its name for the message
 * @returns {Uint8Array}
 */
export function key32(k: unknown, what?: string): Uint8Array;
/**
 * HKDF-SHA256 with an empty salt (client.md section 1): L bytes.
 * @param {Uint8Array} ikm
 * @param {Uint8Array | string} info bytes, or an ASCII label
 * @param {number} L
 * @returns {Promise<Uint8Array>}
 */
export function hkdf(ikm: Uint8Array, info: Uint8Array | string, L?: number): Promise<Uint8Array>;
/**
 * HMAC-SHA256(k, m).
 * @param {Uint8Array} k
 * @param {Uint8Array} m
 * @returns {Promise<Uint8Array>}
 */
export function hmac(k: Uint8Array, m: Uint8Array): Promise<Uint8Array>;
/**
 * SHA-256(m).
 * @param {Uint8Array} m
 * @returns {Promise<Uint8Array>}
 */
export function sha256(m: Uint8Array): Promise<Uint8Array>;
/**
 * An AES-256-GCM key for Web Crypto from 32 raw bytes (not extractable).
 * @param {Uint8Array} k
 * @returns {Promise<CryptoKey>}
 */
export function aesKey(k: Uint8Array): Promise<CryptoKey>;
/**
 * AEAD seal: ciphertext || 16-byte tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce 12 bytes
 * @param {Uint8Array} pt
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export function aeadSeal(key: CryptoKey, nonce: Uint8Array, pt: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
/**
 * AEAD open: the plaintext, or a DecryptError when the tag does not verify.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce 12 bytes
 * @param {Uint8Array} ct ciphertext || tag (at least 16 bytes)
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export function aeadOpen(key: CryptoKey, nonce: Uint8Array, ct: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
/**
 * ASCII-only lowercase, as the server folds usernames.
 * @param {string} s
 * @returns {string}
 */
export function asciiLower(s: string): string;
/** Every error of the suite: `code` is stable, the message a sentence. */
export class Bs1Error extends Error {
    /**
     * @param {string} code a stable code ("decrypt", "kdf_floor", ...)
     * @param {string} message an English sentence
     */
    constructor(code: string, message: string);
    /** @type {string} */
    code: string;
}
/**
 * The one error of every failure to open (short, bad magic, wrong kind or
 * kv, bad tag, bad frame or padding, bad signature, truncated or reordered
 * stream). Which check failed is never told.
 */
export class DecryptError extends Bs1Error {
    constructor();
}
/** A kdf object below the floor of client.md section 2; `reason` says why. */
export class KdfFloorError extends Bs1Error {
    /** @param {string} reason what is wrong, e.g. "m is outside 19456..4194304" */
    constructor(reason: string);
    /** @type {string} */
    reason: string;
}
/** A bad argument (too long, not a string, a lone surrogate, a NUL...). */
export class InputError extends Bs1Error {
    /** @param {string} message what is wrong with the argument */
    constructor(message: string);
}
/** A passphrase shorter than 12 code points after NFC (section 6). */
export class PassphraseError extends Bs1Error {
    constructor();
}
/** A recovery key text that does not parse (section 10). */
export class RecoveryKeyError extends Bs1Error {
    constructor();
}
