export * as bs1 from "./bs1/index.js";
export * from "./bs1/index.js";
export { Client } from "./client.js";
export { MemoryStorage } from "./storage.js";
export { IndexedDBStorage } from "./idb.js";
export { ServerError, ConflictError, UnreachableError, SessionError, KeyChangedError } from "./errors.js";
export { backoff, DEFAULT_RETRY } from "./http.js";
