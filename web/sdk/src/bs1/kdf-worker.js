/*
 * kdf-worker.js: Argon2id (hash-wasm) in a module Web Worker, so that a
 * page's thread keeps running while a password or passphrase is derived
 * (kdf.js starts one worker per derivation and ends it after the answer,
 * which also drops the worker's WebAssembly memory with what Argon2id left
 * in it). Loaded only in browsers, from the same origin as kdf.js, so the
 * page's CSP (script-src 'self' 'wasm-unsafe-eval') admits it.
 *
 * Protocol: one message in, { pw, salt, t, m } (the password's bytes
 * transferred, wiped here once hashed); one message out, { out } (32
 * bytes, transferred) or { error } (the message of what failed). It must
 * never log or echo the password.
 */
import { argon2id } from 'hash-wasm';

const scope = /** @type {{ postMessage: (m: unknown, t?: Transferable[]) => void, onmessage: ((e: MessageEvent) => void) | null }} */ (
  /** @type {unknown} */ (globalThis));

/* says that the module (hash-wasm included) loaded: kdf.js falls back to
   the page's thread only when this never comes */
scope.postMessage({ ready: true });

scope.onmessage = async (/** @type {MessageEvent} */ e) => {
  const { pw, salt, t, m } = /** @type {{ pw: Uint8Array, salt: Uint8Array, t: number, m: number }} */ (e.data);
  try {
    const out = /** @type {Uint8Array} */ (await argon2id({ password: pw, salt, parallelism: 1, iterations: t,
      memorySize: m, hashLength: 32, outputType: 'binary' }));
    scope.postMessage({ out }, [out.buffer]);
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    pw.fill(0);
  }
};
