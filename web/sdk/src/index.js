/*
 * index.js: the entry point of @blindsync/sdk. Today it is the bs1 suite
 * (./bs1/); the SDK's account, sync, backup and slot operations of
 * client.md section 7 are added beside it.
 */
export * as bs1 from './bs1/index.js';
export * from './bs1/index.js';
