/*
 * serve.test.js: the page as the front end serves it (nginx, or with
 * FRONT=apache|apache-fcgid|cgi the Apache file apache/blindsync-page.conf
 * of scripts/run.sh), in headless chromium (playwright-core). Every answer
 * of the first load: same origin, 200, the strict CSP, nosniff and
 * no-referrer, the right type, gzip for scripts and styles, no-cache (and
 * immutable for hash-wasm under its version); the first load under 200
 * KiB on the wire; then a sign-in through that front end shows a record an
 * SDK Client put, with no script error and no CSP violation. tests/run-all.sh
 * runs it behind nginx with the other page tests and once more behind each
 * Apache front end. Skipped with a message when chromium, playwright-core
 * or the C build is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, MemoryStorage } from '../../sdk/src/index.js';
import { FRONT, startStack } from '../../sdk/test/stack.js';
import { closeAll, launch, skipReason, watchErrors } from './harness.js';


const skip = skipReason({ cli: false });

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; " +
  "form-action 'self'; frame-ancestors 'none'";
const PASSWORD = 'served page password 9';

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
let browser = null;

before(async () => {
  if (skip)
    return;
  stack = await startStack();
  tmp = mkdtempSync(join(tmpdir(), 'bs-serve-'));
  browser = await launch(join(tmp, 'profile'));
});

after(() => closeAll(browser, stack, tmp));

test(`the page behind ${FRONT}: its headers on every file, gzip, the first load, a sign-in`, { skip }, async (t) => {
  const username = `serve${process.pid}`;
  const sdk = new Client({ url: stack.url, storage: new MemoryStorage() });
  await sdk.register(username, PASSWORD);
  await sdk.login(username, PASSWORD, { name: 'sdk', type: 'test' });
  await sdk.put('Served', 'hello', JSON.stringify({ through: FRONT }));
  await sdk.sync();
  await sdk.logout();

  const page = await browser.newPage();
  /* (the browser's own /favicon.ico is a 404: the page has none) */
  const errors = watchErrors(page, /status of 404/);
  page.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico')
      errors.push(`${r.status()} ${r.url()}`);
  });
  /** the answers of the first load */
  const loads = [];
  page.on('requestfinished', (r) => loads.push(r));
  const res = await page.goto(`${stack.url}/`);
  assert.equal(res.status(), 200);
  await page.getByLabel('Username', { exact: true }).waitFor();
  await page.waitForLoadState('networkidle');

  let wire = 0;
  let body = 0;
  const paths = [];
  for (const r of loads.splice(0)) {
    const url = new URL(r.url());
    const a = await r.response();
    const h = await a.allHeaders();
    const z = await r.sizes();
    wire += z.responseBodySize + z.responseHeadersSize;
    body += z.responseBodySize;
    paths.push(url.pathname);
    const what = `${url.pathname} behind ${FRONT}`;
    assert.equal(url.origin, stack.url, `same origin: ${r.url()}`);
    assert.equal(a.status(), 200, what);
    assert.equal(h['content-security-policy'], CSP, what);
    assert.equal(h['x-content-type-options'], 'nosniff', what);
    assert.equal(h['referrer-policy'], 'no-referrer', what);
    const type = url.pathname === '/' ? /^text\/html/ : url.pathname.endsWith('.js') ? /^text\/javascript/
      : url.pathname.endsWith('.css') ? /^text\/css/ : /^image\//;
    assert.match(h['content-type'] ?? '', type, what);
    if (/\.(js|css)$/.test(url.pathname) && z.responseBodySize > 1024)
      assert.equal(h['content-encoding'], 'gzip', what);
    assert.equal(h['cache-control'], url.pathname.startsWith('/vendor/hash-wasm@')
      ? 'public, max-age=31536000, immutable' : 'no-cache', what);
  }
  assert.ok(paths.includes('/sdk/index.js') && paths.some((p) => /^\/vendor\/hash-wasm@[^/]+\/index\.esm\.min\.js$/.test(p)),
    `the SDK and hash-wasm loaded: ${paths.join(' ')}`);
  t.diagnostic(`first load behind ${FRONT}: ${paths.length} requests, ${(body / 1024).toFixed(1)} KiB of bodies, ` +
    `${(wire / 1024).toFixed(1)} KiB with headers`);
  assert.ok(wire < 200 * 1024, `first load ${wire} bytes`);

  /* a sign-in through this front end: the record the SDK put, decrypted */
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account:not([hidden])').waitFor({ timeout: 120000 });
  await page.getByRole('heading', { name: 'Served' }).waitFor();
  assert.match(await page.locator('#collections').textContent(), new RegExp(`"through": "${FRONT}"`));
  assert.deepEqual(errors, [], 'no script error and no CSP violation');
  await page.close();
});

/*
 * The second load: the files are no-cache, so the browser asks again with
 * the ETag it was given, and a file that did not change must answer 304
 * with no body. Behind Apache, mod_deflate appends "-gzip" to the ETag of
 * a compressed answer and the file handler then never matches it (every
 * load downloads everything again) unless the page's file keeps the ETag
 * (DeflateAlterETag NoChange); nginx makes a compressed answer's ETag weak,
 * which If-None-Match compares weakly.
 */
test(`the page behind ${FRONT}: a file asked again with its ETag is a 304`, { skip }, async () => {
  for (const path of ['/', '/app/app.js', '/app/app.css', '/sdk/index.js']) {
    const what = `${path} behind ${FRONT}`;
    const headers = { 'accept-encoding': 'gzip' };
    const first = await fetch(`${stack.url}${path}`, { headers });
    assert.equal(first.status, 200, what);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    assert.ok(etag, `${what}: an ETag`);
    const again = await fetch(`${stack.url}${path}`, { headers: { ...headers, 'if-none-match': etag } });
    assert.equal(again.status, 304, `${what}: asked again with ${etag} (${first.headers.get('content-encoding') ?? 'identity'})`);
    assert.equal((await again.arrayBuffer()).byteLength, 0, what);
  }
});
