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
export class MemoryStorage implements Storage {
    /** @type {Map<string, any>} */
    map: Map<string, any>;
    /** @type {Promise<unknown>} */
    lock: Promise<unknown>;
    /**
     * @param {string} key
     * @returns {Promise<any>}
     */
    get(key: string): Promise<any>;
    /**
     * @param {string} key
     * @param {any} value
     */
    put(key: string, value: any): Promise<void>;
    /** @param {string} key */
    delete(key: string): Promise<void>;
    /**
     * @param {string} prefix
     * @returns {Promise<string[]>}
     */
    keys(prefix: string): Promise<string[]>;
    /**
     * Run fn with a view whose writes are buffered, then apply them all, or
     * none when fn throws. Transactions are serialised.
     * @template T
     * @param {(tx: StorageTx) => Promise<T>} fn
     * @returns {Promise<T>}
     */
    transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T>;
}
/**
 * What a transaction sees: the same reads and writes, applied all together
 * when the transaction's function resolves, not at all when it throws.
 */
export type StorageTx = {
    /**
     * the value, or undefined
     */
    get: (key: string) => Promise<any>;
    put: (key: string, value: any) => Promise<void>;
    delete: (key: string) => Promise<void>;
    /**
     * every key that starts with prefix, sorted
     */
    keys: (prefix: string) => Promise<string[]>;
};
/**
 * The storage interface: a StorageTx plus transaction(fn), which runs fn
 * with a StorageTx and applies its writes atomically.
 */
export type Storage = StorageTx & {
    transaction: <T>(fn: (tx: StorageTx) => Promise<T>) => Promise<T>;
};
