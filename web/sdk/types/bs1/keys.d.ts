/**
 * A fresh random data key (registration).
 * @returns {Uint8Array}
 */
export function dataKeyNew(): Uint8Array;
/**
 * ck(collection, kv) = HKDF(data_key, "blindsync bs1 collection key" ||
 * lp(collection) || u32be(kv), 32).
 * @param {Uint8Array} dataKey
 * @param {string} collection the server's name
 * @param {number} kv
 * @returns {Promise<Uint8Array>}
 */
export function ck(dataKey: Uint8Array, collection: string, kv: number): Promise<Uint8Array>;
/**
 * id_key = HKDF(data_key, "blindsync bs1 id key", 32).
 * @param {Uint8Array} dataKey
 * @returns {Promise<Uint8Array>}
 */
export function idKey(dataKey: Uint8Array): Promise<Uint8Array>;
/**
 * cid_key(collection) = HKDF(data_key, "blindsync bs1 collection id key" || lp(collection), 32).
 * @param {Uint8Array} dataKey
 * @param {string} collection the server's name
 * @returns {Promise<Uint8Array>}
 */
export function cidKey(dataKey: Uint8Array, collection: string): Promise<Uint8Array>;
/**
 * backup_key(name) = HKDF(data_key, "blindsync bs1 backup key" || lp(name), 32).
 * @param {Uint8Array} dataKey
 * @param {string} name the backup's name (the server sees it)
 * @returns {Promise<Uint8Array>}
 */
export function backupKey(dataKey: Uint8Array, name: string): Promise<Uint8Array>;
/**
 * The server's name of application collection A:
 * b64url(HMAC(id_key, "c" || lp(A)))[0:22].
 * @param {Uint8Array} idKeyBytes id_key
 * @param {string} A
 * @returns {Promise<string>}
 */
export function collectionName(idKeyBytes: Uint8Array, A: string): Promise<string>;
/**
 * The record id of application id a in a collection with cid_key:
 * b64url(HMAC(cid_key, "r" || lp(a)))[0:22].
 * @param {Uint8Array} cidKeyBytes cid_key(collection)
 * @param {string} a
 * @returns {Promise<string>}
 */
export function recordId(cidKeyBytes: Uint8Array, a: string): Promise<string>;
/** Opaque collection names and record ids are 22 characters. */
export const NAME_LEN: 22;
