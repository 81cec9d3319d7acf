/*
 * idb.js: the browser's storage for the Client: IndexedDBStorage, the
 * Storage interface of storage.js over one IndexedDB database, and the
 * remembered session of "remember this device" in the same database.
 *
 * Database <name> (default "blindsync"), version 1, two object stores:
 *   kv       the Storage's keys and JSON values (what the server sees:
 *            sealed envelopes, opaque names, versions, the sealed queue)
 *   session  one entry, "current": a non-extractable AES-256-GCM
 *            CryptoKey made for it, and the session (sessionExport) with
 *            its secret (tokens, keyring plaintext) sealed under that key
 *
 * It must never store a password, and never a key or a token in clear:
 * the remembered secret is sealed under a CryptoKey whose bytes no script
 * can read (it can only be used, on this origin). Transactions are
 * atomic: their writes go in one IndexedDB readwrite transaction, durable
 * ("strict") before the call resolves.
 */
import { DecryptError, InputError, bs, utf8, wipe } from './bs1/util.js';

/** The database's version (the object stores above). */
const VERSION = 1;
const KV = 'kv';
const SESSION = 'session';

/**
 * An IDBRequest as a promise of its result.
 * @template T
 * @param {IDBRequest<T>} r
 * @returns {Promise<T>}
 */
function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * A transaction's end: resolves when it committed, rejects when it aborted.
 * @param {IDBTransaction} tx
 * @returns {Promise<void>}
 */
function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('the IndexedDB transaction aborted'));
    tx.onerror = () => { /* onabort follows */ };
  });
}

/**
 * The browser's IndexedDB, or an InputError where there is none (Node).
 * @returns {IDBFactory}
 */
function factory() {
  const f = /** @type {any} */ (globalThis).indexedDB;
  if (!f)
    throw new InputError('IndexedDB is not available here (use MemoryStorage or your own Storage)');
  return f;
}

/**
 * The Storage of storage.js in IndexedDB, for browsers: the Client's
 * local copy survives a reload. Values are JSON values, copied in and out
 * (IndexedDB's structured clone). transaction(fn) buffers fn's writes and
 * applies them in one IndexedDB transaction when fn resolves (none when
 * it throws); transactions run one at a time, across the tabs of the
 * origin too where the Web Locks API exists. IndexedDB's own transactions
 * cannot span fn's other awaits (they commit when idle), hence the buffer.
 */
export class IndexedDBStorage {
  /** @param {{ name?: string }} [opts] name: the database's (default "blindsync") */
  constructor(opts = {}) {
    /** @type {string} */
    this.name = opts.name ?? 'blindsync';
    /** @type {Promise<IDBDatabase> | null} */
    this.opening = null;
    /** @type {Promise<unknown>} */
    this.lock = Promise.resolve();
  }

  /**
   * Whether the database exists already (without creating it).
   * @param {string} [name]
   * @returns {Promise<boolean>}
   */
  static async exists(name = 'blindsync') {
    const dbs = await factory().databases();
    return dbs.some((d) => d.name === name);
  }

  /**
   * The open database (opened, and created, on first use). Another tab's
   * upgrade or deletion closes it here; the next call opens it again.
   * @returns {Promise<IDBDatabase>}
   */
  db() {
    if (!this.opening) {
      const r = factory().open(this.name, VERSION);
      r.onupgradeneeded = () => {
        const db = r.result;
        if (!db.objectStoreNames.contains(KV))
          db.createObjectStore(KV);
        if (!db.objectStoreNames.contains(SESSION))
          db.createObjectStore(SESSION);
      };
      this.opening = req(r).then((db) => {
        db.onversionchange = () => {
          db.close();
          this.opening = null;
        };
        return db;
      }, (e) => {
        this.opening = null;
        throw e;
      });
    }
    return this.opening;
  }

  /**
   * One IndexedDB transaction over store: fn queues its requests, then the
   * result of fn's promise once the transaction committed.
   * @template T
   * @param {string} store
   * @param {IDBTransactionMode} mode
   * @param {(s: IDBObjectStore) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async run(store, mode, fn) {
    const db = await this.db();
    const tx = mode === 'readwrite' ? db.transaction(store, mode, { durability: 'strict' })
      : db.transaction(store, mode);
    const end = committed(tx);
    const out = fn(tx.objectStore(store));
    const [v] = await Promise.all([out, end]);
    return v;
  }

  /**
   * @param {string} key
   * @returns {Promise<any>} the value, or undefined
   */
  async get(key) {
    return this.run(KV, 'readonly', (s) => req(s.get(key)));
  }

  /**
   * @param {string} key
   * @param {any} value a JSON value
   */
  async put(key, value) {
    await this.run(KV, 'readwrite', (s) => req(s.put(value, key)));
  }

  /** @param {string} key */
  async delete(key) {
    await this.run(KV, 'readwrite', (s) => req(s.delete(key)));
  }

  /**
   * Every key that starts with prefix, sorted (IndexedDB orders strings
   * by UTF-16 code units, as Array.prototype.sort does).
   * @param {string} prefix
   * @returns {Promise<string[]>}
   */
  async keys(prefix) {
    return this.run(KV, 'readonly', (s) => keysIn(s, prefix));
  }

  /**
   * Run fn with a view whose writes are buffered, then apply them all in
   * one durable IndexedDB transaction, or none when fn throws.
   * @template T
   * @param {(tx: import('./storage.js').StorageTx) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async transaction(fn) {
    const body = async () => {
      /** @type {Map<string, any>} pending writes; undefined = delete */
      const w = new Map();
      /** @type {import('./storage.js').StorageTx} */
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
      if (w.size > 0)
        await this.run(KV, 'readwrite', async (s) => {
          for (const [k, v] of w)
            v === undefined ? s.delete(k) : s.put(v, k);
        });
      return out;
    };
    const locks = /** @type {any} */ (globalThis).navigator?.locks;
    const run = this.lock.then(() => (locks ? locks.request(`blindsync-idb ${this.name}`, body) : body()));
    this.lock = run.catch(() => {});
    return run;
  }

  /**
   * Keep client's session ("remember this device"): a fresh
   * non-extractable AES-256-GCM key, the secret sealed under it (the public
   * part as its additional data), both in one put that replaces what was
   * kept. With no session held, forgets the kept one instead: suits the
   * Client's onSession callback as it is.
   * @param {import('./client.js').Client} client
   */
  async sessionSave(client) {
    if (!client.session) {
      await this.sessionForget();
      return;
    }
    const e = client.sessionExport();
    try {
      const pub = { username: e.username, accountId: e.accountId, deviceId: e.deviceId,
        keyringVersion: e.keyringVersion, kdf: e.kdf };
      const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv,
        additionalData: bs(utf8(JSON.stringify(pub))) }, key, bs(e.secret)));
      await this.run(SESSION, 'readwrite', (s) => req(s.put({ pub, key, iv, sealed }, 'current')));
    } finally {
      wipe(e.secret);
    }
  }

  /**
   * Give client the kept session, if there is one and it opens; a kept
   * session that does not (altered, or its key gone) is forgotten.
   * @param {import('./client.js').Client} client
   * @returns {Promise<boolean>} whether client now holds the session
   */
  async sessionLoad(client) {
    const kept = await this.run(SESSION, 'readonly', (s) => req(s.get('current')));
    if (!kept)
      return false;
    /** @type {Uint8Array | null} */
    let secret = null;
    try {
      if (!(kept.key instanceof CryptoKey) || kept.key.extractable)
        throw new DecryptError();
      secret = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: kept.iv,
        additionalData: bs(utf8(JSON.stringify(kept.pub))) }, kept.key, kept.sealed));
      await client.sessionImport({ ...kept.pub, secret });
      return true;
    } catch {
      await this.sessionForget();
      return false;
    } finally {
      wipe(secret);
    }
  }

  /** Forget the kept session (its key with it). */
  async sessionForget() {
    await this.run(SESSION, 'readwrite', (s) => req(s.delete('current')));
  }

  /**
   * Remove everything: the kept session and the local copy emptied in one
   * transaction, then the database deleted (another tab that holds it open
   * is asked to close it; the emptied stores are what stays until then).
   */
  async destroy() {
    const db = await this.db();
    const tx = db.transaction([KV, SESSION], 'readwrite', { durability: 'strict' });
    const end = committed(tx);
    tx.objectStore(KV).clear();
    tx.objectStore(SESSION).clear();
    await end;
    db.close();
    this.opening = null;
    await new Promise((resolve, reject) => {
      const r = factory().deleteDatabase(this.name);
      r.onsuccess = () => resolve(undefined);
      r.onerror = () => reject(r.error);
      r.onblocked = () => resolve(undefined);
    });
  }
}

/**
 * The keys of store s that start with prefix, in order: the range
 * [prefix, prefix + U+FFFF] in one getAllKeys, then a cursor for the rare
 * keys past it that still start with prefix (prefix, U+FFFF, more).
 * @param {IDBObjectStore} s
 * @param {string} prefix
 * @returns {Promise<string[]>}
 */
async function keysIn(s, prefix) {
  const top = `${prefix}\uffff`;
  const out = /** @type {string[]} */ (await req(s.getAllKeys(IDBKeyRange.bound(prefix, top))));
  const cur = s.openKeyCursor(IDBKeyRange.lowerBound(top, true));
  await new Promise((resolve, reject) => {
    cur.onerror = () => reject(cur.error);
    cur.onsuccess = () => {
      const c = cur.result;
      if (!c || typeof c.key !== 'string' || !c.key.startsWith(prefix)) {
        resolve(undefined);
        return;
      }
      out.push(c.key);
      c.continue();
    };
  });
  return out;
}
