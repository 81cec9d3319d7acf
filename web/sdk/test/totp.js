/*
 * totp.js: RFC 6238 codes for the tests of two-factor login (the SDK's
 * mfa.test.js, the page's mfa.test.js): HMAC-SHA1, 6 digits, 30-second
 * steps, from the base32 secret the server gave. Test code only.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

/**
 * RFC 4648 base32 (no padding) to bytes.
 * @param {string} s
 */
export function base32(s) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let acc = 0, bits = 0;
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const v = A.indexOf(ch);
    assert.ok(v >= 0, `base32 symbol ${ch}`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/**
 * The RFC 6238 code of key for time step t (HMAC-SHA1, 6 digits).
 * @param {Buffer} key
 * @param {number} t
 */
export function totpCode(key, t) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(t));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/**
 * Codes of one secret, each for a step not used before, within the drift
 * window (waiting for the clock's next step when the window is used up);
 * wrong() a code valid for no step near now.
 */
export function codes(/** @type {string} */ secret) {
  const key = base32(secret);
  let last = -1;
  const next = async () => {
    for (;;) {
      const now = Math.floor(Date.now() / 30000);
      const step = Math.max(last + 1, now - 1);
      if (step <= now + 1) {
        last = step;
        return totpCode(key, step);
      }
      await new Promise((r) => setTimeout(r, (now + 1) * 30000 - Date.now() + 50));
    }
  };
  const wrong = () => {
    const now = Math.floor(Date.now() / 30000);
    const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(key, now + d)));
    return ['000000', '111111', '222222'].find((c) => !near.has(c)) ?? '333333';
  };
  return { next, wrong };
}
