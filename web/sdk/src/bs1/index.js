/*
 * index.js: the bs1 suite of client.md (sections 1-6, 9 and 10) as one
 * module: no network and no state. See docs/CLIENT.md, "The JavaScript SDK".
 */
export * from './util.js';
export * from './kdf.js';
export * from './envelope.js';
export * from './keys.js';
export * from './stream.js';
export * from './grants.js';
export * from './recovery.js';
