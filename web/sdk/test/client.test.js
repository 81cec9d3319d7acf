/*
 * client.test.js: the Client (src/client.js) against the REAL server: the
 * stack of scripts/run.sh (stack.js: handlers from $BIN, default
 * ../../build, behind nginx) on a free port with a temporary config (no
 * rate limits) and data directory, started once for the file and stopped
 * with SIGTERM at the end.
 * It needs the C build (`make`); without build/blindsync-status every test
 * here is skipped with a message saying so. A few tests use a fake fetch
 * (the kdf floor, retries) to see exactly which requests were sent.
 *
 * Tests wait for outcomes, never for a time: the start is bounded at 120 s
 * only so that a hung stack fails instead of hanging.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client, MemoryStorage, ServerError, UnreachableError, bs1 } from '../src/index.js';
import { BIN, built, startStack, stopStack } from './stack.js';

const skip = built ? false : `no C build in ${BIN} (build/blindsync-status is missing): run make first`;
const PASSWORD = 'correct horse battery staple';

/** @type {import('./stack.js').Stack | null} */
let stack = null;

before(async () => {
  if (built)
    stack = await startStack();
});

after(async () => {
  await stopStack(stack);
});

let users = 0;
/** A fresh username for one test. */
function user() {
  return `js${process.pid}x${++users}`;
}

/** A Client on the stack with its own storage (one simulated device). */
function device(opts = {}) {
  return new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage(), ...opts });
}

const text = (/** @type {Uint8Array | null} */ b) => (b === null ? null : new TextDecoder().decode(b));

test('client: register, login, devices, logout forgets the session', { skip }, async () => {
  const u = user();
  const reg = await device().register(u, PASSWORD);
  assert.match(reg.accountId, /^[A-Za-z0-9_-]+$/);
  const d = device();
  const got = await d.login(u, PASSWORD, { name: 'laptop', type: 'test' });
  assert.equal(got.accountId, reg.accountId);
  const list = await d.devices();
  assert.equal(list.length, 1);
  assert.equal(list[0].deviceId, got.deviceId);
  assert.equal(list[0].name, 'laptop');
  assert.equal(list[0].current, true);
  const dk = /** @type {any} */ (d).session.dataKey;
  await d.logout();
  assert.equal(d.loggedIn, false);
  assert.ok(dk.every((/** @type {number} */ x) => x === 0), 'the data key is wiped');
  await assert.rejects(d.devices(), { name: 'SessionError', code: 'session' });
});

test('client: a wrong password is invalid_credentials', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  await assert.rejects(device().login(u, 'not the password'),
    (e) => e instanceof ServerError && e.code === 'invalid_credentials' && e.status === 401);
});

test('client: put and get round trip between two devices of one account', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device(), b = device();
  await a.login(u, PASSWORD);
  await b.login(u, PASSWORD);
  await a.put('notes', 'note-1', 'hello from a');
  await a.put('notes', 'note-2', new Uint8Array([0, 1, 2, 255]));
  assert.equal(text(await a.get('notes', 'note-1')), 'hello from a', 'a queued change reads back at once');
  const ra = await a.sync();
  assert.equal(ra.pushed.length, 2);
  const rb = await b.sync();
  assert.deepEqual(rb.changed.map((c) => c.id).sort(), ['note-1', 'note-2']);
  assert.deepEqual((await b.collections()).map((c) => c.name), ['notes']);
  assert.equal(text(await b.get('notes', 'note-1')), 'hello from a');
  assert.deepEqual(await b.get('notes', 'note-2'), new Uint8Array([0, 1, 2, 255]));
  assert.deepEqual((await b.list('notes')).map((r) => r.id), ['note-1', 'note-2']);
  /* the server sees opaque names only */
  const cols = await (await fetch(`${stack?.url}/v1/collections`,
    { headers: { Authorization: `Bearer ${/** @type {any} */ (b).session.access}` } })).json();
  assert.equal(cols.collections.length, 1);
  assert.notEqual(cols.collections[0].name, 'notes');
  assert.match(cols.collections[0].name, /^[A-Za-z0-9_-]{22}$/);
  /* a deletion travels as a tombstone and maps back to its id */
  await b.delete('notes', 'note-1');
  await b.sync('notes');
  const back = await a.sync('notes');
  assert.deepEqual(back.changed.filter((c) => c.deleted).map((c) => c.id), ['note-1']);
  assert.equal(await a.get('notes', 'note-1'), null);
  assert.deepEqual((await a.list('notes')).map((r) => r.id), ['note-2']);
});

test('client: three devices with conflicting offline edits converge; each conflict reaches merge', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  /** @type {{ id: string, local: string | null, remote: string | null }[]} */
  const calls = [];
  /* the merge: the union of the lines of both sides, sorted */
  const merge = (/** @type {import('../src/client.js').Conflict} */ c) => {
    calls.push({ id: c.id, local: text(c.local), remote: text(c.remote) });
    const lines = new Set([...(text(c.local) ?? '').split('\n'), ...(text(c.remote) ?? '').split('\n')]);
    lines.delete('');
    return [...lines].sort().join('\n');
  };
  const devs = [device({ merge }), device({ merge }), device({ merge })];
  for (const d of devs)
    await d.login(u, PASSWORD);
  /* all offline: each edits the same two records */
  for (const [i, d] of devs.entries()) {
    await d.put('shared', 'list', `from device ${i}`);
    await d.put('shared', `own-${i}`, `only ${i}`);
  }
  for (const d of devs)
    await d.sync();
  for (const d of devs)
    await d.sync();
  const want = 'from device 0\nfrom device 1\nfrom device 2';
  for (const d of devs) {
    assert.equal(text(await d.get('shared', 'list')), want);
    assert.deepEqual((await d.list('shared')).map((r) => r.id), ['list', 'own-0', 'own-1', 'own-2']);
  }
  /* devices 1 and 2 met a server copy that was not theirs: two conflicts */
  assert.equal(calls.length, 2);
  assert.deepEqual(calls.map((c) => c.local), ['from device 1', 'from device 2']);
  assert.deepEqual(calls.map((c) => c.remote), ['from device 0', 'from device 0\nfrom device 1']);
});

test('client: without a merge callback the server copy is kept and the conflict reported', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device(), b = device();
  await a.login(u, PASSWORD);
  await b.login(u, PASSWORD);
  await a.put('n', 'r', 'first');
  await b.put('n', 'r', 'second');
  await a.sync();
  const rb = await b.sync();
  assert.deepEqual(rb.conflicts, [{ collection: 'n', id: 'r', kept: 'server' }]);
  assert.equal(text(await b.get('n', 'r')), 'first');
});

test('client: history lists the versions, opened', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device();
  await a.login(u, PASSWORD);
  await a.put('h', 'r', 'v1');
  await a.sync();
  await a.put('h', 'r', 'v2');
  await a.sync();
  const h = await a.history('h', 'r');
  assert.deepEqual(h.map((v) => text(v.data)), ['v2', 'v1']);
  assert.ok(h[0].version > h[1].version);
});

test('client: a tampered record on the server is one DecryptError', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device(), b = device();
  await a.login(u, PASSWORD);
  await b.login(u, PASSWORD);
  await a.put('notes', 'ok', 'fine');
  await a.put('notes', 'bad', 'will be altered');
  await a.sync();
  /* alter the sealed record through the API, as raw ciphertext */
  const s = /** @type {any} */ (a).session;
  const c = await bs1.collectionName(s.idKey, 'notes');
  const r = await bs1.recordId(await bs1.cidKey(s.dataKey, c), 'bad');
  const auth = { Authorization: `Bearer ${s.access}` };
  const rec = await (await fetch(`${stack?.url}/v1/collections/${c}/records/${r}`, { headers: auth })).json();
  const env = bs1.b64DecodeStrict(rec.payload);
  assert.ok(env);
  env[env.length - 20] ^= 1;
  const push = await fetch(`${stack?.url}/v1/collections/${c}/push`, { method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ records: [{ id: r, base_version: rec.version, payload: bs1.b64(env) }] }) });
  assert.equal(push.status, 200);
  const res = await b.sync();
  assert.deepEqual(res.undecryptable, [{ collection: 'notes', recordId: r }]);
  assert.equal(text(await b.get('notes', 'ok')), 'fine');
  await assert.rejects(b.get('notes', 'bad'), (e) => e instanceof bs1.DecryptError && e.message === 'cannot decrypt');
  await assert.rejects(b.list('notes'), bs1.DecryptError);
});

test('client: change password re-seals the keyring as N + 1; records stay readable', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device();
  await a.login(u, PASSWORD);
  await a.put('p', 'r', 'kept');
  await a.sync();
  await a.changePassword(PASSWORD, 'a brand new passphrase');
  assert.equal(/** @type {any} */ (a).session.keyringVersion, 2);
  await assert.rejects(device().login(u, PASSWORD), { code: 'invalid_credentials' });
  const b = device();
  await b.login(u, 'a brand new passphrase');
  await b.sync();
  assert.equal(text(await b.get('p', 'r')), 'kept');
  /* the old session keeps working (no revoke_other_devices) */
  assert.equal((await a.devices()).length, 2);
});

test('client: an expired access token is refreshed (rotated) once and the request sent again', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  let expireNext = true;
  /** @type {string[]} */
  const seen = [];
  const f = /** @type {typeof fetch} */ (async (url, init) => {
    seen.push(`${init?.method} ${new URL(String(url)).pathname}`);
    if (expireNext && String(url).endsWith('/v1/account/devices')) {
      expireNext = false;
      return new Response(JSON.stringify({ error: { code: 'token_expired', message: 'expired' } }),
        { status: 401, headers: { 'Content-Type': 'application/json' } });
    }
    return fetch(url, init);
  });
  const a = device({ fetch: f });
  await a.login(u, PASSWORD);
  const s = /** @type {any} */ (a).session;
  const before = [s.access, s.refresh];
  assert.equal((await a.devices()).length, 1);
  assert.notEqual(s.access, before[0]);
  assert.notEqual(s.refresh, before[1]);
  assert.deepEqual(seen.slice(2), ['GET /v1/account/devices', 'POST /v1/account/refresh', 'GET /v1/account/devices']);
  /* the old refresh token is used up on the server */
  const again = await fetch(`${stack?.url}/v1/account/refresh`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: before[1] }) });
  assert.equal(again.status, 401);
});

/* ---- with a fake server: exactly what was sent ---- */

/** A fake fetch answering from a table of path -> (init) => Response; logs every request. */
function fake(routes) {
  /** @type {string[]} */
  const log = [];
  const f = /** @type {typeof fetch} */ (async (url, init) => {
    const path = new URL(String(url)).pathname;
    log.push(`${init?.method} ${path}`);
    const h = routes[path];
    if (!h)
      return new Response('{"error":{"code":"not_found","message":"no"}}', { status: 404 });
    return h(init);
  });
  return { f, log };
}

const json = (/** @type {unknown} */ body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

test('client: a kdf below the floor is refused before any login request', async () => {
  const salt = bs1.b64(new Uint8Array(16));
  for (const [kdf, reason] of /** @type {[any, RegExp][]} */ ([
    [{ alg: 'argon2id', suite: 'bs1', m: 1024, t: 3, p: 1, salt }, /m is outside/],
    [{ alg: 'argon2id', suite: 'bs1', m: 65536, t: 1, p: 1, salt }, /t is outside/],
    [{ alg: 'pbkdf2', suite: 'bs1', m: 65536, t: 3, p: 1, salt }, /alg is not argon2id/],
    [{ alg: 'argon2id', suite: 'bs1', m: 65536, t: 3, p: 1, salt: 'c2FsdA==' }, /salt is not 16 bytes/],
    [null, /not a JSON object/]])) {
    const { f, log } = fake({ '/v1/account/prelogin': () => json({ kdf }),
      '/v1/account/login': () => json({}, 500) });
    const c = new Client({ url: 'http://fake.invalid', fetch: f });
    await assert.rejects(c.login('alice', PASSWORD), (e) => e instanceof bs1.KdfFloorError && reason.test(e.message));
    assert.deepEqual(log, ['POST /v1/account/prelogin'], 'no login request');
  }
});

test('client: 503 with Retry-After and network errors are retried with back-off, bounded', async () => {
  /** @type {number[]} */
  const waits = [];
  const retry = { sleep: async (/** @type {number} */ ms) => { waits.push(ms); }, random: () => 0.5 };
  let n = 0;
  const { f, log } = fake({ '/v1/account/prelogin': () => {
    n++;
    if (n === 1)
      throw new TypeError('fetch failed');
    if (n === 2)
      return json({ error: { code: 'unavailable', message: 'busy' } }, 503, { 'Retry-After': '2' });
    return json({ kdf: { alg: 'argon2id', suite: 'bs1', m: 10, t: 3, p: 1, salt: 'x' } });
  } });
  const c = new Client({ url: 'http://fake.invalid', fetch: f, retry });
  await assert.rejects(c.login('alice', PASSWORD), bs1.KdfFloorError);
  assert.equal(log.length, 3);
  assert.equal(waits.length, 2);
  assert.ok(waits[0] < 250, 'full jitter under the first cap');
  assert.ok(waits[1] >= 2000 && waits[1] < 2000 + 500, 'at least Retry-After');
  /* always 503: an UnreachableError after 1 + retries attempts */
  const down = fake({ '/v1/account/prelogin': () => json({ error: { code: 'unavailable', message: 'x' } }, 503) });
  const d = new Client({ url: 'http://fake.invalid', fetch: down.f, retry: { ...retry, retries: 3 } });
  await assert.rejects(d.login('alice', PASSWORD), UnreachableError);
  assert.equal(down.log.length, 4);
  /* a login that got no answer is not sent twice (it may have been applied) */
  const lost = fake({
    '/v1/account/prelogin': () => json({ kdf: { alg: 'argon2id', suite: 'bs1', m: 19456, t: 2, p: 1,
      salt: bs1.b64(new Uint8Array(16)) } }),
    '/v1/account/login': () => { throw new TypeError('fetch failed'); } });
  const e = new Client({ url: 'http://fake.invalid', fetch: lost.f, retry });
  await assert.rejects(e.login('alice', PASSWORD), UnreachableError);
  assert.deepEqual(lost.log, ['POST /v1/account/prelogin', 'POST /v1/account/login']);
});

test('client: storage keeps no plaintext and no key', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const storage = new MemoryStorage();
  const a = new Client({ url: /** @type {any} */ (stack).url, storage });
  await a.login(u, PASSWORD);
  await a.put('secret-collection', 'rec', 'a very secret plaintext');
  await a.sync();
  const dump = JSON.stringify([...storage.map]);
  assert.ok(!dump.includes('secret-collection'));
  assert.ok(!dump.includes('a very secret plaintext'));
  assert.ok(!dump.includes(bs1.b64(/** @type {any} */ (a).session.dataKey)));
});

test('client: examples/client-example.js runs against the stack', { skip }, async () => {
  const { execFile } = await import('node:child_process');
  const out = await new Promise((resolve, reject) => execFile(process.execPath,
    [fileURLToPath(new URL('../examples/client-example.js', import.meta.url)), user()],
    { env: { ...process.env, BLINDSYNC_URL: stack?.url }, encoding: 'utf8' },
    (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
  assert.equal(out, [
    'phone reads: bread',
    'conflicts: groceries/list merged',
    'laptop reads: "bread\\neggs\\nmilk"',
    'collections: groceries',
    'history: 3 versions',
    'devices: laptop, phone',
    'wrong password: invalid_credentials', ''].join('\n'));
});

test('client: a collection deleted on another device is gone; a queued change re-creates it with its meta', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device(), b = device();
  await a.login(u, PASSWORD);
  await b.login(u, PASSWORD);
  await a.put('tmp', 'r1', 'one');
  await a.sync();
  await b.sync();
  await b.put('tmp', 'r2', 'queued before the delete');
  const s = /** @type {any} */ (a).session;
  const c = await bs1.collectionName(s.idKey, 'tmp');
  const del = await fetch(`${stack?.url}/v1/collections/${c}`, { method: 'DELETE',
    headers: { Authorization: `Bearer ${s.access}` } });
  assert.equal(del.status, 204);
  const ra = await a.sync('tmp');
  assert.deepEqual(ra.gone, ['tmp']);
  assert.deepEqual(await a.list('tmp'), []);
  await b.sync();
  await a.sync();
  assert.deepEqual((await a.collections()).map((x) => x.name), ['tmp']);
  assert.deepEqual((await a.list('tmp')).map((r) => r.id), ['r2']);
  assert.deepEqual((await b.list('tmp')).map((r) => r.id), ['r2']);
});

test('client: backups stream up and down, list, delete; tampering and bad input are refused', { skip }, async () => {
  const a = device();
  const u = user();
  await a.register(u, PASSWORD);
  await a.login(u, PASSWORD);
  const data = new Uint8Array(65536 * 2 + 7).map((_, i) => (i * 7) & 0xff);
  const sent = [];
  const put = await a.backupPut('b1', data, { progress: (d, t) => sent.push([d, t]) });
  assert.equal(put.bytes, bs1.streamLen(data.length));
  assert.deepEqual(sent.at(-1), [put.bytes, put.bytes]);
  const got = await a.backupGet('b1');
  assert.equal(got?.version, put.version);
  assert.deepEqual(new Uint8Array(await new Response(got?.stream).arrayBuffer()), data);

  /* refused before anything is sent; a short source stores nothing */
  await assert.rejects(a.backupPut('.hidden', data), bs1.InputError);
  await assert.rejects(a.backupPut('b1', new Blob([data]).stream()), bs1.InputError);
  await assert.rejects(a.backupPut('b1', new Blob([data]).stream(), { size: data.length + 1 }), bs1.InputError);
  await assert.rejects(a.slotPut('too short', data), bs1.PassphraseError);
  assert.deepEqual((await a.backupList()).map((b) => [b.name, b.version]), [['b1', put.version]]);

  /* one flipped bit on the way down: the stream errors, with the one DecryptError */
  const real = a.fetch;
  a.fetch = async (url, init) => {
    const r = await real(url, init);
    if (!String(url).includes('/v1/backups/b1') || r.status !== 200)
      return r;
    const b = new Uint8Array(await r.arrayBuffer());
    b[100] ^= 1;
    return new Response(b, { status: 200, headers: r.headers });
  };
  const bad = await a.backupGet('b1');
  await assert.rejects(new Response(bad?.stream).arrayBuffer(), bs1.DecryptError);
  a.fetch = real;

  await a.backupDelete('b1');
  assert.deepEqual(await a.backupList(), []);
  await assert.rejects(a.backupGet('b1'), (e) => e instanceof ServerError && e.code === 'not_found');
  /* the version seen was forgotten: a new backup of that name is created with If-None-Match */
  assert.ok((await a.backupPut('b1', 'small but over 32 bytes once sealed')).version > put.version);
  const doc = JSON.parse(new TextDecoder().decode(new Uint8Array(await new Response(await a.export())
    .arrayBuffer())));
  assert.equal(doc.format, 'blindsync-export-1');
});
