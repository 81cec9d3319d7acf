/*
 * vectors.js: the reference vectors of client.md (tests/client/bs1-vectors.json,
 * the project's one copy) and small helpers the tests share.
 */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { DecryptError, fromHex, toHex } from '../src/bs1/index.js';

/** The parsed vectors file. */
export const V = JSON.parse(readFileSync(new URL('../../../tests/client/bs1-vectors.json', import.meta.url),
  'utf8'));

export const hex = fromHex;
export { toHex };

/** bytes(i % 251 for i in range(n)) */
export function rulePlaintext(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    b[i] = i % 251;
  return b;
}

/** A vector's plaintext: its hex, or its rule. */
export function plaintextOf(v) {
  if (typeof v.plaintext_hex === 'string')
    return hex(v.plaintext_hex);
  assert.equal(v.plaintext_rule, 'i % 251');
  return rulePlaintext(v.plaintext_len);
}

/** Assert that the promise rejects with the one DecryptError ("cannot decrypt"). */
export async function rejectsDecrypt(p) {
  await assert.rejects(p, (e) => e instanceof DecryptError && e.code === 'decrypt' &&
    e.message === 'cannot decrypt');
}

/** A short label for a test name. */
export function label(s) {
  return String(s).length > 70 ? String(s).slice(0, 67) + '...' : String(s);
}
