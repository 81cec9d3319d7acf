/*
 * watch.test.js: the Client's watch() (long polls of GET /v1/status, then
 * sync), sync() one at a time, and put/delete with an explicit base
 * version, against the REAL server (stack.js: scripts/run.sh behind nginx
 * on a free port, started once for the file). Without the C build every
 * test here is skipped with a message saying so.
 *
 * Waits are for outcomes (a callback, a request's answer), each bounded
 * generously so that a hang fails instead of hanging; no test needs a
 * fast clock. Where a test must know that the watcher is waiting in a
 * long poll, it watches the requests through a wrapping fetch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, MemoryStorage, ServerError, UnreachableError } from '../src/index.js';
import { BIN, built, startStack, stopStack, waitFor } from './stack.js';

const skip = built ? false : `no C build in ${BIN} (build/blindsync-status is missing): run make first`;
const PASSWORD = 'correct horse battery staple';
/** the bound of every wait for an outcome */
const BOUND = 120000;

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
  return `watch${process.pid}x${++users}`;
}

/**
 * One request the wrapping fetch saw: its URL, If-None-Match, and the
 * answer's status once it came (0 while in flight, -1 for no answer).
 * @typedef {{ url: string, inm: string | null, status: number }} Seen
 */

/**
 * A Client on the stack with its own storage and a fetch that records
 * every request; fail(url) may throw instead of sending (a network error).
 * @param {{ fail?: (url: string) => boolean, retry?: object }} [o]
 */
function device(o = {}) {
  /** @type {Seen[]} */
  const seen = [];
  /** @type {typeof fetch} */
  const f = async (u, init) => {
    const s = { url: String(u), inm: new Headers(init?.headers).get('if-none-match'), status: 0 };
    seen.push(s);
    if (o.fail?.(s.url)) {
      s.status = -1;
      throw new TypeError('fetch failed (the test)');
    }
    try {
      const res = await fetch(u, init);
      s.status = res.status;
      return res;
    } catch (e) {
      s.status = -1;
      throw e;
    }
  };
  /* WebSocket null: these are the long-poll's tests (live.test.js has the socket's) */
  const c = new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage(), fetch: f,
    WebSocket: null, ...(o.retry ? { retry: o.retry } : {}) });
  return { c, seen };
}

const text = (/** @type {Uint8Array | null} */ b) => (b === null ? null : new TextDecoder().decode(b));

/** An account and n logged-in devices of it. @param {number} n @param {object} [o] options of the first */
async function devices(n, o) {
  const u = user();
  await new Client({ url: /** @type {any} */ (stack).url }).register(u, PASSWORD);
  const out = [];
  for (let i = 0; i < n; i++) {
    const d = device(i === 0 ? o : {});
    await d.c.login(u, PASSWORD, { name: `dev${i}`, type: 'test' });
    out.push(d);
  }
  return out;
}

test('watch: a put by another Client wakes the waiting long poll; abort ends the watch', { skip }, async () => {
  const [a, b] = await devices(2);
  /** @type {import('../src/client.js').SyncResult[]} */
  const results = [];
  const ac = new AbortController();
  const watching = a.c.watch([], (res) => {
    results.push(res);
  }, { wait: 60, signal: ac.signal });
  /* the first round: a status without a tag, a sync, the callback */
  assert.ok(await waitFor(() => results.length >= 1, BOUND), 'the first sync reached the callback');
  assert.deepEqual(results[0].changed, []);
  assert.equal(a.seen.find((s) => s.url.endsWith('/v1/status'))?.inm, null);
  /* then a long poll with the status' tag, in flight */
  const poll = () => a.seen.find((s) => s.url.endsWith('/v1/status?wait=60') && s.status === 0);
  assert.ok(await waitFor(() => poll() !== undefined, BOUND), 'a long poll is waiting');
  const waiting = /** @type {Seen} */ (poll());
  assert.match(String(waiting.inm), /^"[0-9]+"$/);

  await b.c.put('notes', 'n1', 'from b');
  await b.c.sync();
  /* the waiting poll answers 200 (a 304 would need its 60 s), and the sync brings n1 */
  assert.ok(await waitFor(() => results.some((r) => r.changed.some((x) => x.id === 'n1')), BOUND),
    'the watcher synced the change');
  assert.equal(waiting.status, 200, 'the change woke the long poll');
  assert.equal(text(await a.c.get('notes', 'n1')), 'from b');
  const hit = /** @type {import('../src/client.js').SyncResult} */ (results.find((r) => r.changed.length > 0));
  assert.deepEqual(hit.changed.map((x) => [x.collection, x.id, x.deleted]), [['notes', 'n1', false]]);

  /* abort while the next poll waits: the watch resolves, the poll is cancelled */
  assert.ok(await waitFor(() => a.seen.filter((s) => s.url.includes('wait=') && s.status === 0).length === 1,
    BOUND));
  const calls = results.length;
  ac.abort();
  await watching;
  assert.equal(results.length, calls, 'no callback after the abort');
  await a.c.logout();
  await b.c.logout();
});

test('watch: the callback returning true stops it; it names the collections to sync', { skip }, async () => {
  const [a, b] = await devices(2);
  await b.c.put('one', 'x', '1');
  await b.c.put('two', 'y', '2');
  await b.c.sync();
  let calls = 0;
  await a.c.watch(['two'], (res) => {
    calls++;
    assert.deepEqual(res.changed.map((x) => x.id), ['y']);
    return true;
  });
  assert.equal(calls, 1);
  assert.equal(text(await a.c.get('two', 'y')), '2');
  assert.equal(await a.c.get('one', 'x'), null, 'only the named collection was synced');
  await assert.rejects(a.c.watch(/** @type {any} */ ('two'), () => true), { code: 'input' });
  await a.c.logout();
  await b.c.logout();
});

test('watch: failures back off (full jitter), are reported, and the watch goes on', { skip }, async () => {
  let failures = 2;
  /** @type {number[]} */
  const delays = [];
  const retry = { retries: 0, baseMs: 100, capMs: 400, timeoutMs: 30000, random: () => 0.5,
    sleep: (/** @type {number} */ ms) => {
      delays.push(ms);
      return Promise.resolve();
    } };
  const [a] = await devices(1, { retry, fail: (/** @type {string} */ u) => u.endsWith('/v1/status') &&
    failures-- > 0 });
  /** @type {Error[]} */
  const errors = [];
  let calls = 0;
  await a.c.watch([], () => ++calls === 1, { onError: (e) => errors.push(e) });
  assert.equal(calls, 1);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof UnreachableError));
  /* full jitter: half of 100 ms, then half of 200 ms */
  assert.deepEqual(delays, [50, 100]);
  assert.equal(a.seen.filter((s) => s.url.endsWith('/v1/status')).length, 3);
  await a.c.logout();
});

test('watch: a device revoked elsewhere ends its watch with the 401', { skip }, async () => {
  const [a, b] = await devices(2);
  let calls = 0;
  const watching = a.c.watch([], () => {
    calls++;
  }, { wait: 2 });
  assert.ok(await waitFor(() => calls >= 1, BOUND));
  const me = /** @type {any} */ (a.c).session.deviceId;
  /* the expectation first: the watch may end before deleteDevice's own answer arrives */
  const ended = assert.rejects(watching, (e) => e instanceof ServerError && e.status === 401);
  await b.c.deleteDevice(me);
  await ended;
  await b.c.logout();
});

test('sync: two at once on one Client push the queue once', { skip }, async () => {
  const [a] = await devices(1);
  await a.c.put('notes', 'n', 'once');
  const [r1, r2] = await Promise.all([a.c.sync('notes'), a.c.sync('notes')]);
  assert.equal(r1.pushed.length + r2.pushed.length, 1);
  assert.equal(a.seen.filter((s) => s.url.endsWith('/push')).length, 1);
  await a.c.logout();
});

test('put with base: an edit of an older version conflicts even after the newer one was pulled', { skip },
  async () => {
    /** @type {import('../src/client.js').Conflict[]} */
    const seen = [];
    const [a, b] = await devices(2);
    a.c.merge = (cf) => {
      seen.push(cf);
      return 'mine, merged';
    };
    await a.c.put('notes', 'n', 'v1');
    await a.c.sync();
    const v1 = (await a.c.list('notes'))[0].version;
    await b.c.sync();
    await b.c.put('notes', 'n', 'v2 from b');
    await b.c.sync();
    await a.c.sync();                              /* a's copy is at v2 now */
    assert.equal(text(await a.c.get('notes', 'n')), 'v2 from b');
    await a.c.put('notes', 'n', 'edited from v1', { base: v1 });
    const r = await a.c.sync();
    assert.equal(seen.length, 1);
    assert.equal(text(seen[0].local), 'edited from v1');
    assert.equal(text(seen[0].remote), 'v2 from b');
    assert.ok(seen[0].remoteVersion > v1);
    assert.deepEqual(r.conflicts, [{ collection: 'notes', id: 'n', kept: 'merged' }]);
    await b.c.sync();
    assert.equal(text(await b.c.get('notes', 'n')), 'mine, merged');
    /* a delete from a stale base conflicts too: local null */
    await a.c.delete('notes', 'n', { base: v1 });
    a.c.merge = (cf) => {
      seen.push(cf);
      return undefined;
    };
    await a.c.sync();
    assert.equal(seen.length, 2);
    assert.equal(seen[1].local, null);
    assert.equal(text(await a.c.get('notes', 'n')), 'mine, merged', 'kept the server\'s');
    await assert.rejects(a.c.put('notes', 'n', 'x', { base: -1 }), { code: 'input' });
    await a.c.logout();
    await b.c.logout();
  });
