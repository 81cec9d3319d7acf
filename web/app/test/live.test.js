/*
 * live.test.js: the page's watch on the live socket (docs/API-live.md), in
 * a real browser (Debian's chromium headless through playwright-core)
 * against the real stack (web/sdk/test/stack.js: scripts/run.sh starts
 * blindsync-live beside the handlers) with the C CLI as the other device.
 * Signed in, the page's watch opens GET /v1/live (its handshake answered
 * 101, seen through the DevTools protocol) and makes no long poll
 * (GET /v1/status?wait=) while the socket is open; a CLI push reaches the
 * page by a "changed" message. Then blindsync-live is killed (its pid in
 * $RUN_DIR/live.pid; run.sh keeps the rest running): the page falls back
 * to long polls and a CLI push still reaches it.
 * Skipped with a message when chromium, playwright-core, the C build, the
 * CLI or blindsync-live is missing.
 *
 * Waits are for outcomes (a text, a request, a frame), bounded
 * generously; none needs a fast clock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, waitFor } from '../../sdk/test/stack.js';
import { BOUND, cliRunner, closeAll, launch, skipReason, watchErrors } from './harness.js';


const skip = skipReason({ live: true });

const PASSWORD = 'live pässwörd ✓ 12';

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
/** The C CLI as the other device (home and password under tmp). */
const { cli } = cliRunner(() => ({ url: stack.url, tmp }));
let browser = null;
/** @type {any} the one page of the file */
let page = null;
/** the URL of every HTTP request the page made */
const requests = [];
/** the page's WebSocket handshakes: URL and status (from the DevTools protocol) */
const handshakes = [];
/** the text frames the page's sockets received */
const frames = [];
/** script errors and console errors */
const errors = [];
const username = `live${process.pid}`;

/** The CLI puts text as record Notes/todo (it pushes at once). @param {string} text */
async function cliPut(text) {
  writeFileSync(join(tmp, 'put.txt'), text);
  await cli(['put', 'Notes', 'todo', join(tmp, 'put.txt')]);
}

/** Wait until record todo shows text. @param {string} text */
async function shows(text) {
  await page.locator('.record', { has: page.locator('h4', { hasText: /^todo$/ }) })
    .locator(':scope > pre', { hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: BOUND });
}

/** The long polls the page made so far. */
const longPolls = () => requests.filter((u) => /\/v1\/status\?wait=/.test(u));

before(async () => {
  if (skip)
    return;
  stack = await startStack();
  tmp = mkdtempSync(join(tmpdir(), 'bs-live-'));
  writeFileSync(join(tmp, 'pw'), `${PASSWORD}\n`);
  browser = await launch(join(tmp, 'profile'));
  page = await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  const cdp = await browser.newCDPSession(page);
  /** @type {Map<string, string>} */
  const urls = new Map();
  cdp.on('Network.webSocketCreated', (e) => urls.set(e.requestId, e.url));
  cdp.on('Network.webSocketHandshakeResponseReceived',
    (e) => handshakes.push({ url: urls.get(e.requestId) ?? '', status: e.response.status }));
  await cdp.send('Network.enable');
  /* (/favicon.ico's 404 and the refused socket after the kill are on purpose) */
  watchErrors(page, /status of 404|WebSocket connection to/, errors);
});

after(() => closeAll(browser, stack, tmp));

test('live: the page watches by the socket (101, no long poll) and a CLI push reaches it',
  { skip }, async () => {
    await cli(['register', username]);
    await cli(['login', username, '--device', 'cli']);
    await cliPut('before the page');
    await cli(['sync']);
    const res = await page.goto(`${stack.url}/`);
    assert.equal(res.status(), 200);
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('#account:not([hidden])').waitFor({ timeout: BOUND });
    await shows('before the page');
    assert.ok(await waitFor(() => handshakes.some((h) => /\/v1\/live\?ticket=/.test(h.url) && h.status === 101),
      BOUND), `no 101 for /v1/live: ${JSON.stringify(handshakes)}`);
    assert.ok(await waitFor(() => frames.some((f) => JSON.parse(f).type === 'hello'), BOUND), 'no hello');
    assert.ok(!handshakes.some((h) => /ticket=/.test(h.url) && /[?&]token=|Bearer/.test(h.url)));

    await cliPut('pushed while live');
    await shows('pushed while live');
    assert.ok(frames.some((f) => JSON.parse(f).type === 'changed'), 'the change came as a changed message');
    assert.deepEqual(longPolls(), [], 'no long poll while the socket is open');
    assert.deepEqual(errors, []);
  });

test('live: blindsync-live killed, the page falls back to long polls and a CLI push still reaches it',
  { skip }, async () => {
    const pid = Number(readFileSync(join(stack.run, 'live.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitFor(() => longPolls().length > 0, BOUND), 'no long poll after the socket went');
    await cliPut('pushed after the kill');
    await shows('pushed after the kill');
    /* the stack itself runs on: the API answers */
    assert.equal((await fetch(`${stack.url}/v1/health`)).status, 200);
    assert.deepEqual(errors, []);
  });
