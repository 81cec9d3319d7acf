/*
 * session.test.js: keeping a Client's session across restarts against the
 * real stack (stack.js): sessionExport / sessionImport and the onSession
 * callback that "remember this device" is built on. The browser half
 * (IndexedDBStorage sealing it under a non-extractable CryptoKey) is
 * tested in Chromium by web/app/test/blobs.test.js: Node has no IndexedDB.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, MemoryStorage, bs1 } from '../src/index.js';
import { built, startStack, stopStack } from './stack.js';

const skip = built ? false : 'no C build: run make first';
const PASSWORD = 'session test password ✓';

/** @type {import('./stack.js').Stack | null} */
let stack = null;

before(async () => {
  if (!skip)
    stack = await startStack([]);
});

after(async () => {
  await stopStack(stack);
});

test('session: exported, imported with no password, kept current through a refresh, ended', { skip }, async () => {
  const user = `sess${process.pid}`;
  /** @type {{ username: string, access: string } | null | string}[] */
  const told = [];
  const a = new Client({ url: stack.url, storage: new MemoryStorage(),
    onSession: (c) => { told.push(c.session ? c.session.access : null); } });
  await a.register(user, PASSWORD);
  await a.login(user, PASSWORD, { name: 'a', type: 'test' });
  assert.deepEqual(told, [a.session.access], 'told of the login');
  await a.put('notes', 'one', 'kept across a restart');
  await a.sync();

  const e = a.sessionExport();
  assert.deepEqual(Object.keys(e).sort(), ['accountId', 'deviceId', 'kdf', 'keyringVersion', 'secret', 'username']);
  assert.ok(e.secret instanceof Uint8Array);
  const pub = JSON.stringify({ ...e, secret: undefined });
  assert.ok(!pub.includes(a.session.access) && !pub.includes(a.session.refresh), 'tokens only in the secret');
  assert.ok(!pub.includes(bs1.b64(a.session.dataKey)));

  /* a second Client (a restart) takes it: no password, the same device */
  const b = new Client({ url: stack.url, storage: new MemoryStorage() });
  await b.sessionImport(e);
  assert.equal(b.session.deviceId, a.session.deviceId);
  assert.deepEqual(b.session.dataKey, a.session.dataKey);
  await b.sync();
  assert.equal(new TextDecoder().decode(await b.get('notes', 'one')), 'kept across a restart');

  /* a refresh rotates the tokens and tells onSession, so what is kept is current */
  const before = a.session.refresh;
  await a.refresh();
  assert.notEqual(a.session.refresh, before);
  assert.equal(told.length, 2);
  assert.equal(told[1], a.session.access);
  const e2 = a.sessionExport();
  const c = new Client({ url: stack.url, storage: new MemoryStorage() });
  await c.sessionImport(e2);
  await c.refresh();
  assert.ok((await c.devices()).some((d) => d.current && d.deviceId === a.session.deviceId));

  /* garbled exports are refused and leave no session */
  const d = new Client({ url: stack.url });
  for (const bad of [null, { ...e2, secret: e2.secret.slice(0, 3) }, { ...e2, secret: new Uint8Array(40) },
    { ...e2, keyringVersion: 'x' }])
    await assert.rejects(d.sessionImport(/** @type {any} */ (bad)), { code: 'input' });
  await assert.rejects(d.sessionImport({ ...e2, kdf: '{"alg":"argon2id","suite":"bs1","m":1024,"t":1,"p":1}' }),
    { code: 'kdf_floor' });
  const n = new DataView(e2.secret.buffer).getUint32(0);
  const torn = bs1.concat(e2.secret.subarray(0, 4 + n), bs1.utf8('not a keyring'));
  await assert.rejects(d.sessionImport({ ...e2, secret: torn }), { code: 'decrypt' });
  assert.equal(d.session, null);

  /* the end of the session is told too */
  await a.logout();
  assert.equal(told[told.length - 1], null);
  await c.logout();
  b.forget();
  e.secret.fill(0);
  e2.secret.fill(0);
});
