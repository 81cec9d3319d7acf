/*
 * keys.js: collection keys and opaque names (client.md section 4): ck,
 * id_key, cid_key and backup_key from the data key, and the 22-character
 * names the server sees instead of the application's.
 *
 * Names are used byte for byte as given (never normalised).
 */
import { b64url, concat, hkdf, hmac, key32, lp, randomBytes, u32be, utf8 } from './util.js';

/** Opaque collection names and record ids are 22 characters. */
export const NAME_LEN = 22;

/**
 * A fresh random data key (registration).
 * @returns {Uint8Array}
 */
export function dataKeyNew() {
  return randomBytes(32);
}

/**
 * ck(collection, kv) = HKDF(data_key, "blindsync bs1 collection key" ||
 * lp(collection) || u32be(kv), 32).
 * @param {Uint8Array} dataKey
 * @param {string} collection the server's name
 * @param {number} kv
 * @returns {Promise<Uint8Array>}
 */
export async function ck(dataKey, collection, kv) {
  return hkdf(key32(dataKey, 'data_key'),
    concat(utf8('blindsync bs1 collection key'), lp(collection), u32be(kv)));
}

/**
 * id_key = HKDF(data_key, "blindsync bs1 id key", 32).
 * @param {Uint8Array} dataKey
 * @returns {Promise<Uint8Array>}
 */
export async function idKey(dataKey) {
  return hkdf(key32(dataKey, 'data_key'), 'blindsync bs1 id key');
}

/**
 * cid_key(collection) = HKDF(data_key, "blindsync bs1 collection id key" || lp(collection), 32).
 * @param {Uint8Array} dataKey
 * @param {string} collection the server's name
 * @returns {Promise<Uint8Array>}
 */
export async function cidKey(dataKey, collection) {
  return hkdf(key32(dataKey, 'data_key'),
    concat(utf8('blindsync bs1 collection id key'), lp(collection)));
}

/**
 * backup_key(name) = HKDF(data_key, "blindsync bs1 backup key" || lp(name), 32).
 * @param {Uint8Array} dataKey
 * @param {string} name the backup's name (the server sees it)
 * @returns {Promise<Uint8Array>}
 */
export async function backupKey(dataKey, name) {
  return hkdf(key32(dataKey, 'data_key'), concat(utf8('blindsync bs1 backup key'), lp(name)));
}

/**
 * The server's name of application collection A:
 * b64url(HMAC(id_key, "c" || lp(A)))[0:22].
 * @param {Uint8Array} idKeyBytes id_key
 * @param {string} A
 * @returns {Promise<string>}
 */
export async function collectionName(idKeyBytes, A) {
  return b64url(await hmac(key32(idKeyBytes, 'id_key'), concat(utf8('c'), lp(A)))).slice(0, NAME_LEN);
}

/**
 * The record id of application id a in a collection with cid_key:
 * b64url(HMAC(cid_key, "r" || lp(a)))[0:22].
 * @param {Uint8Array} cidKeyBytes cid_key(collection)
 * @param {string} a
 * @returns {Promise<string>}
 */
export async function recordId(cidKeyBytes, a) {
  return b64url(await hmac(key32(cidKeyBytes, 'cid_key'), concat(utf8('r'), lp(a)))).slice(0, NAME_LEN);
}
