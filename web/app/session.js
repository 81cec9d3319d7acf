/*
 * session.js: where the page keeps a signed-in Client. Unless the user
 * ticks "remember this device", nowhere but memory: a MemoryStorage, the
 * data key and the tokens in the Client only, so a reload signs out.
 * Ticked, the SDK's IndexedDBStorage keeps the local copy (sealed, as the
 * server has it) and the session (tokens and keyring sealed under a
 * non-extractable CryptoKey), re-kept at every token rotation, so a
 * reload stays signed in with no password. Signing out deletes the
 * database. Never stores the password.
 */
import { Client, IndexedDBStorage, MemoryStorage } from '/sdk/index.js';

/** The database name the page uses. */
const DB = 'blindsync';

/**
 * A Client for a sign-in: remembered (IndexedDB) or in memory only.
 * @param {boolean} remember
 * @param {object} opts more Client options (kdfStatus)
 * @returns {Promise<Client>}
 */
export async function clientFor(remember, opts) {
  if (!remember) {
    /* a remembered session of an earlier sign-in goes now: unticked means
       nothing of this device's session stays in IndexedDB */
    if (await IndexedDBStorage.exists(DB))
      await new IndexedDBStorage({ name: DB }).destroy();
    return new Client({ url: location.origin, storage: new MemoryStorage(), ...opts });
  }
  const storage = new IndexedDBStorage({ name: DB });
  return new Client({ url: location.origin, storage, ...opts,
    onSession: (c) => storage.sessionSave(c) });
}

/**
 * The remembered Client, or null when there is none (the database is not
 * created to find out) or it does not open (then it is deleted).
 * @returns {Promise<Client | null>}
 */
export async function restore() {
  if (!(await IndexedDBStorage.exists(DB)))
    return null;
  const storage = new IndexedDBStorage({ name: DB });
  const c = new Client({ url: location.origin, storage, onSession: (x) => storage.sessionSave(x) });
  if (await storage.sessionLoad(c))
    return c;
  await storage.destroy();
  return null;
}

/**
 * Sign c out: log the device out (the SDK wipes the keys) and, when it
 * was remembered, delete the database with the session and local copy.
 * @param {Client | null} c
 */
export async function signOut(c) {
  if (!c)
    return;
  c.onSession = undefined; /* the database goes whole below */
  await c.logout().catch(() => {});
  if (c.storage instanceof IndexedDBStorage)
    await c.storage.destroy();
}
