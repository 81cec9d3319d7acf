/*
 * recovery.js: recovery keys (client.md section 10): 20 random bytes
 * shown as 32 base32 characters in groups of four, read back ignoring ASCII
 * case, spaces and "-", and the two keys derived from them.
 *
 * It must never accept a text that is not exactly a key (no look-alikes,
 * no padding, no other separators).
 */
import { RecoveryKeyError, hkdf, randomBytes } from './util.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The text of a recovery key: upper case, 8 groups of 4 joined by "-".
 * @param {Uint8Array} rk 20 bytes
 * @returns {string}
 */
export function recoveryText(rk) {
  if (!(rk instanceof Uint8Array) || rk.length !== 20)
    throw new RecoveryKeyError();
  let s = '';
  let acc = 0, bits = 0;
  for (const b of rk) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      s += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= 0xff;
  }
  return s.match(/.{4}/g)?.join('-') ?? '';
}

/**
 * A fresh recovery key and its text.
 * @returns {{ rk: Uint8Array, text: string }}
 */
export function recoveryNew() {
  const rk = randomBytes(20);
  return { rk, text: recoveryText(rk) };
}

/**
 * Read a recovery key text: ASCII spaces and "-" dropped, a-z folded to
 * A-Z, and exactly 32 base32 symbols must remain; anything else is a
 * RecoveryKeyError.
 * @param {string} text
 * @returns {Uint8Array} the 20 bytes
 */
export function recoveryParse(text) {
  if (typeof text !== 'string')
    throw new RecoveryKeyError();
  /** @type {number[]} */
  const v = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x2d)
      continue;
    if (c >= 0x61 && c <= 0x7a)
      c -= 32;
    const k = c < 128 ? B32.indexOf(String.fromCharCode(c)) : -1;
    if (k < 0)
      throw new RecoveryKeyError();
    v.push(k);
  }
  if (v.length !== 32)
    throw new RecoveryKeyError();
  const rk = new Uint8Array(20);
  let acc = 0, bits = 0, o = 0;
  for (const k of v) {
    acc = ((acc << 5) | k) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      rk[o++] = (acc >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return rk;
}

/**
 * recovery_auth (sent, b64) and recovery_wrap (kept) of a recovery key.
 * @param {Uint8Array} rk 20 bytes
 * @returns {Promise<{ auth: Uint8Array, wrap: Uint8Array }>}
 */
export async function recoveryKeys(rk) {
  if (!(rk instanceof Uint8Array) || rk.length !== 20)
    throw new RecoveryKeyError();
  return {
    auth: await hkdf(rk, 'blindsync bs1 recovery auth'),
    wrap: await hkdf(rk, 'blindsync bs1 recovery wrap'),
  };
}
