/*
 * storage.js: the small interface the Client keeps its local state behind,
 * and the in-memory default. Keys are strings; values are JSON values
 * (objects, arrays, strings, numbers, booleans, null), so that any store
 * that holds JSON (IndexedDB, localStorage, files) can back it. The Client
 * stores only what the server sees (sealed envelopes, opaque names,
 * versions) and its queue of sealed changes: never a key, a password or a
 * plaintext.
 *
 * In a browser, IndexedDBStorage (idb.js) keeps the same in IndexedDB; an
 * application may bring its own by implementing Storage.
 */

/**
 * What a transaction sees: the same reads and writes, applied all together
 * when the transaction's function resolves, not at all when it throws.
 * @typedef {object} StorageTx
 * @property {(key: string) => Promise<any>} get the value, or undefined
 * @property {(key: string, value: any) => Promise<void>} put
 * @property {(key: string) => Promise<void>} delete
 * @property {(prefix: string) => Promise<string[]>} keys every key that starts with prefix, sorted
 */

/**
 * The storage interface: a StorageTx plus transaction(fn), which runs fn
 * with a StorageTx and applies its writes atomically.
 * @typedef {StorageTx & { transaction: <T>(fn: (tx: StorageTx) => Promise<T>) => Promise<T> }} Storage
 */

/**
 * The default storage: a Map in memory, gone with the process or page.
 * Values are copied in and out (structuredClone), so a caller's later
 * change to an object does not reach the store. Transactions run one at a
 * time; their writes are buffered and applied when fn resolves.
 * @implements {Storage}
 */
export class MemoryStorage {
  constructor() {
    /** @type {Map<string, any>} */
    this.map = new Map();
    /** @type {Promise<unknown>} */
    this.lock = Promise.resolve();
  }

  /**
   * @param {string} key
   * @returns {Promise<any>}
   */
  async get(key) {
    const v = this.map.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }

  /**
   * @param {string} key
   * @param {any} value
   */
  async put(key, value) {
    this.map.set(key, structuredClone(value));
  }

  /** @param {string} key */
  async delete(key) {
    this.map.delete(key);
  }

  /**
   * @param {string} prefix
   * @returns {Promise<string[]>}
   */
  async keys(prefix) {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /**
   * Run fn with a view whose writes are buffered, then apply them all, or
   * none when fn throws. Transactions are serialised.
   * @template T
   * @param {(tx: StorageTx) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async transaction(fn) {
    const run = this.lock.then(async () => {
      /** @type {Map<string, any>} pending writes; undefined = delete */
      const w = new Map();
      /** @type {StorageTx} */
      const tx = {
        get: async (k) => (w.has(k) ? structuredClone(w.get(k)) : this.get(k)),
        put: async (k, v) => { w.set(k, structuredClone(v)); },
        delete: async (k) => { w.set(k, undefined); },
        keys: async (p) => {
          const s = new Set(await this.keys(p));
          for (const [k, v] of w)
            if (k.startsWith(p))
              v === undefined ? s.delete(k) : s.add(k);
          return [...s].sort();
        },
      };
      const out = await fn(tx);
      for (const [k, v] of w)
        v === undefined ? this.map.delete(k) : this.map.set(k, v);
      return out;
    });
    this.lock = run.catch(() => {});
    return run;
  }
}
