/*
 * index.js: the entry point of @blindsync/sdk: the Client of client.md
 * section 7 (client.js), its storage interface and errors, and the bs1
 * suite (./bs1/), also re-exported at the top level.
 */
export * as bs1 from './bs1/index.js';
export * from './bs1/index.js';
export { Client } from './client.js';
export { MemoryStorage } from './storage.js';
export { IndexedDBStorage } from './idb.js';
export { ServerError, ConflictError, UnreachableError, SessionError, KeyChangedError } from './errors.js';
export { backoff, DEFAULT_RETRY } from './http.js';
