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
    /**
     * Whether the database exists already (without creating it).
     * @param {string} [name]
     * @returns {Promise<boolean>}
     */
    static exists(name?: string): Promise<boolean>;
    /** @param {{ name?: string }} [opts] name: the database's (default "blindsync") */
    constructor(opts?: {
        name?: string;
    });
    /** @type {string} */
    name: string;
    /** @type {Promise<IDBDatabase> | null} */
    opening: Promise<IDBDatabase> | null;
    /** @type {Promise<unknown>} */
    lock: Promise<unknown>;
    /**
     * The open database (opened, and created, on first use). Another tab's
     * upgrade or deletion closes it here; the next call opens it again.
     * @returns {Promise<IDBDatabase>}
     */
    db(): Promise<IDBDatabase>;
    /**
     * One IndexedDB transaction over store: fn queues its requests, then the
     * result of fn's promise once the transaction committed.
     * @template T
     * @param {string} store
     * @param {IDBTransactionMode} mode
     * @param {(s: IDBObjectStore) => Promise<T>} fn
     * @returns {Promise<T>}
     */
    run<T>(store: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => Promise<T>): Promise<T>;
    /**
     * @param {string} key
     * @returns {Promise<any>} the value, or undefined
     */
    get(key: string): Promise<any>;
    /**
     * @param {string} key
     * @param {any} value a JSON value
     */
    put(key: string, value: any): Promise<void>;
    /** @param {string} key */
    delete(key: string): Promise<void>;
    /**
     * Every key that starts with prefix, sorted (IndexedDB orders strings
     * by UTF-16 code units, as Array.prototype.sort does).
     * @param {string} prefix
     * @returns {Promise<string[]>}
     */
    keys(prefix: string): Promise<string[]>;
    /**
     * Run fn with a view whose writes are buffered, then apply them all in
     * one durable IndexedDB transaction, or none when fn throws.
     * @template T
     * @param {(tx: import('./storage.js').StorageTx) => Promise<T>} fn
     * @returns {Promise<T>}
     */
    transaction<T>(fn: (tx: import("./storage.js").StorageTx) => Promise<T>): Promise<T>;
    /**
     * Keep client's session ("remember this device"): a fresh
     * non-extractable AES-256-GCM key, the secret sealed under it (the public
     * part as its additional data), both in one put that replaces what was
     * kept. With no session held, forgets the kept one instead: suits the
     * Client's onSession callback as it is.
     * @param {import('./client.js').Client} client
     */
    sessionSave(client: import("./client.js").Client): Promise<void>;
    /**
     * Give client the kept session, if there is one and it opens; a kept
     * session that does not (altered, or its key gone) is forgotten.
     * @param {import('./client.js').Client} client
     * @returns {Promise<boolean>} whether client now holds the session
     */
    sessionLoad(client: import("./client.js").Client): Promise<boolean>;
    /** Forget the kept session (its key with it). */
    sessionForget(): Promise<void>;
    /**
     * Remove everything: the kept session and the local copy emptied in one
     * transaction, then the database deleted (another tab that holds it open
     * is asked to close it; the emptied stores are what stays until then).
     */
    destroy(): Promise<void>;
}
