/*
 * live.test.js: the Client's watch() on the live socket (docs/API-live.md)
 * against the REAL stack (stack.js: scripts/run.sh starts blindsync-live),
 * with the WebSocket class given in the Client's options (Node 20 has one
 * only with --experimental-websocket; tests/run-all.sh passes it). The
 * watch opens the socket and makes no long poll; another device's push
 * reaches the callback; abort closes the socket; revoking the device
 * closes it with 4401 and the watch rejects with the 401 of a long poll;
 * blindsync-live stopped (SIGTERM, last) closes with 1012, the watch waits
 * at least the reason's retry delay before it asks for a ticket again,
 * then long-polls and still brings a change. Without the C build, without
 * blindsync-live or without a WebSocket class every test is skipped with a
 * message saying so.
 *
 * Waits are for outcomes, bounded generously; the one time compared is a
 * lower bound (the reconnect waits at least the retry delay), which a slow
 * machine only makes longer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, MemoryStorage, ServerError } from '../src/index.js';
import { BIN, built, startStack, stopStack, waitFor } from './stack.js';

const skip = !built ? `no C build in ${BIN} (build/blindsync-status is missing): run make first`
  : !existsSync(join(BIN, 'blindsync-live')) ? `no ${BIN}/blindsync-live (libwebsockets-dev missing at make?)`
    : typeof globalThis.WebSocket !== 'function' ? 'no WebSocket class: run node with --experimental-websocket'
      : false;
const PASSWORD = 'correct horse battery staple';
/** the bound of every wait for an outcome */
const BOUND = Number(process.env.LIVE_BOUND ?? 120000);

/** @type {import('./stack.js').Stack | null} */
let stack = null;

before(async () => {
  if (!skip)
    stack = await startStack();
});

after(async () => {
  await stopStack(stack);
});

let users = 0;

/**
 * A Client on the stack whose fetch records every request (URL, time) and
 * whose WebSocket class records every socket and how it closed.
 */
function device() {
  /** @type {{ url: string, at: number }[]} */
  const seen = [];
  /** @type {{ ws: WebSocket, close: { code: number, reason: string, at: number } | null }[]} */
  const sockets = [];
  /** @type {typeof fetch} */
  const f = (u, init) => {
    seen.push({ url: String(u), at: Date.now() });
    return fetch(u, init);
  };
  const WS = class extends globalThis.WebSocket {
    /** @param {string} url */
    constructor(url) {
      super(url);
      const s = { ws: /** @type {WebSocket} */ (this), close: null };
      sockets.push(s);
      this.addEventListener('close', (ev) => { s.close = { code: ev.code, reason: ev.reason, at: Date.now() }; });
    }
  };
  const c = new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage(), fetch: f,
    WebSocket: /** @type {any} */ (WS) });
  return { c, seen, sockets };
}

/** An account and n logged-in devices of it. @param {number} n */
async function devices(n) {
  const u = `live${process.pid}x${++users}`;
  await new Client({ url: /** @type {any} */ (stack).url }).register(u, PASSWORD);
  const out = [];
  for (let i = 0; i < n; i++) {
    const d = device();
    await d.c.login(u, PASSWORD, { name: `dev${i}`, type: 'test' });
    out.push(d);
  }
  return out;
}

const longPolls = (/** @type {{ url: string }[]} */ seen) => seen.filter((s) => s.url.includes('/v1/status'));

test('live: the watch opens the socket, a push elsewhere reaches it with no long poll; abort closes it',
  { skip }, async () => {
    const [a, b] = await devices(2);
    /** @type {import('../src/client.js').SyncResult[]} */
    const results = [];
    const ac = new AbortController();
    const watching = a.c.watch([], (res) => { results.push(res); }, { signal: ac.signal });
    /* the hello's round */
    assert.ok(await waitFor(() => results.length >= 1 && a.sockets[0]?.ws.readyState === 1, BOUND), 'hello');
    assert.match(a.sockets[0].ws.url, /^ws:\/\/127\.0\.0\.1:[0-9]+\/v1\/live\?ticket=[A-Za-z0-9_-]+$/);
    await b.c.put('notes', 'n1', 'from b');
    await b.c.sync();
    assert.ok(await waitFor(() => results.some((r) => r.changed.some((x) => x.id === 'n1')), BOUND),
      'the changed message brought n1');
    assert.deepEqual(longPolls(a.seen), [], 'no status request while the socket is open');
    assert.equal(a.sockets.length, 1);
    ac.abort();
    await watching;
    assert.ok(await waitFor(() => a.sockets[0].close !== null, BOUND), 'the abort closed the socket');
    assert.equal(/** @type {any} */ (a.sockets[0].close).code, 1000);
  });

test('live: revoking the device closes its socket with 4401 and the watch rejects with a 401', { skip }, async () => {
  const [a, b] = await devices(2);
  let calls = 0;
  const watching = a.c.watch([], () => { calls++; });
  assert.ok(await waitFor(() => calls >= 1 && a.sockets[0]?.ws.readyState === 1, BOUND), 'hello');
  const mine = (await b.c.devices()).find((d) => !d.current);
  /* the expectation first: the watch may end before deleteDevice's own answer arrives */
  const ended = assert.rejects(watching, (e) => e instanceof ServerError && e.status === 401);
  await b.c.deleteDevice(/** @type {any} */ (mine).deviceId);
  await ended;
  assert.equal(/** @type {any} */ (a.sockets[0].close).code, 4401);
});

test('live: SIGTERM to blindsync-live: 1012, a ticket again only after the retry delay, then long polls',
  { skip }, async () => {
    const [a, b] = await devices(2);
    /** @type {import('../src/client.js').SyncResult[]} */
    const results = [];
    const ac = new AbortController();
    const watching = a.c.watch([], (res) => { results.push(res); }, { signal: ac.signal, wait: 60 });
    assert.ok(await waitFor(() => results.length >= 1 && a.sockets[0]?.ws.readyState === 1, BOUND), 'hello');
    const tickets = () => a.seen.filter((s) => s.url.endsWith('/v1/live/ticket'));
    assert.equal(tickets().length, 1);
    process.kill(Number(readFileSync(join(/** @type {any} */ (stack).run, 'live.pid'), 'utf8')), 'SIGTERM');
    assert.ok(await waitFor(() => a.sockets[0].close !== null, BOUND), 'closed');
    const close = /** @type {{ code: number, reason: string, at: number }} */ (a.sockets[0].close);
    assert.equal(close.code, 1012);
    const delay = JSON.parse(close.reason).retry_after_ms;
    assert.ok(delay >= 1000 && delay <= 30000, `retry delay ${delay}`);
    /* a ticket again after the delay; the socket then cannot open (503): long polls */
    assert.ok(await waitFor(() => tickets().length === 2, BOUND), 'a ticket again');
    assert.ok(tickets()[1].at - close.at >= delay - 50, `${tickets()[1].at - close.at} ms < ${delay} ms`);
    assert.ok(await waitFor(() => a.seen.some((s) => s.url.includes('/v1/status?wait=60')), BOUND),
      `long polls: ${JSON.stringify(a.seen.slice(-5))} ${JSON.stringify(a.sockets.map((s) => [s.ws.readyState, s.close]))}`);
    await b.c.put('notes', 'n2', 'after the stop');
    await b.c.sync();
    assert.ok(await waitFor(() => results.some((r) => r.changed.some((x) => x.id === 'n2')), BOUND),
      'the long poll brought n2');
    ac.abort();
    await watching;
  });
