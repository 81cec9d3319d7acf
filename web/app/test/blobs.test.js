/*
 * blobs.test.js: the page (web/app) in headless Chromium (playwright-core,
 * as page.test.js) for what came with the page's second part: Argon2id in
 * a Web Worker (the page keeps ticking while the keys are derived),
 * "remember this device" (IndexedDB: a reload keeps or drops the session;
 * after sign-out IndexedDB holds nothing of the account), the SDK's
 * IndexedDBStorage in the browser, and the backups view against the C CLI
 * (byte-exact both ways, with progress). Screenshots go to
 * build/test-artifacts/. Skipped with a message when chromium,
 * playwright-core, the C build or the CLI is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, built, root, startStack, stopStack } from '../../sdk/test/stack.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CLI = join(BIN, 'blindsync');
const require = createRequire(join(root, 'web/sdk/package.json'));
let chromium = null;
try {
  ({ chromium } = require('playwright-core'));
} catch { /* skipped below */ }

const skip = !existsSync(CHROMIUM) ? `no browser: ${CHROMIUM} is missing (scripts/deps.sh browser)`
  : !chromium ? 'no playwright-core in web/sdk/node_modules (scripts/deps.sh node)'
    : !built ? `no C build in ${BIN}: run make first`
      : !existsSync(CLI) ? `no C CLI: ${CLI} is missing (run make)` : false;

const PASSWORD = 'blobs pässwörd ✓ 9';
const ART = join(root, 'build/test-artifacts');

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
/** the browser's one context (a persistent one, on a fresh profile) */
let browser = null;
const username = `blobs${process.pid}`;

/** Run the CLI (home under tmp); fails the test on a non-zero exit. @param {string[]} args */
function cli(args) {
  return new Promise((resolve, reject) => execFile(CLI, ['--server', stack.url, '--home', join(tmp, 'home'),
    '--password-file', join(tmp, 'pw'), ...args], { encoding: 'utf8', timeout: 120000 },
  (err, stdout, stderr) => (err ? reject(new Error(`blindsync ${args.join(' ')}: ${stderr}`)) : resolve(stdout))));
}

/**
 * A new page on the stack's origin whose script errors and console errors
 * (CSP violations included) are collected in the array returned.
 */
async function openPage() {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 900, height: 700 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[14]/.test(m.text()))
      errors.push(m.text());
  });
  await page.goto(`${stack.url}/`);
  await page.getByLabel('Username', { exact: true }).waitFor();
  return { page, errors };
}

/**
 * Start a tick counter on the page: setInterval every 10 ms records
 * performance.now() into window.ticks. @param {import('playwright-core').Page} page
 */
async function startTicks(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.ticks = [performance.now()];
    clearInterval(w.tickTimer);
    w.tickTimer = setInterval(() => w.ticks.push(performance.now()), 10);
  });
}

/**
 * The longest time between two ticks (or a bound and a tick) inside
 * [start, end] on the page's clock, in ms. @param {import('playwright-core').Page} page
 * @param {number} start @param {number} end
 */
function longestGap(page, start, end) {
  return page.evaluate(([s, e]) => {
    const w = /** @type {any} */ (window);
    clearInterval(w.tickTimer);
    const t = [s, ...w.ticks.filter((x) => x > s && x < e), e];
    let max = 0;
    for (let i = 1; i < t.length; i++)
      max = Math.max(max, t[i] - t[i - 1]);
    return max;
  }, [start, end]);
}

/** Sign in through the form. @param {import('playwright-core').Page} page @param {boolean} remember */
async function signIn(page, remember) {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  const box = page.getByLabel('Remember this device', { exact: true });
  if (await box.count() > 0)
    await box.setChecked(remember);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account:not([hidden])').waitFor({ timeout: 120000 });
}

before(async () => {
  if (skip)
    return;
  stack = await startStack([]);
  tmp = mkdtempSync(join(tmpdir(), 'bs-blobs-'));
  mkdirSync(ART, { recursive: true });
  writeFileSync(join(tmp, 'pw'), `${PASSWORD}\n`);
  browser = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM,
    headless: true, acceptDownloads: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  await cli(['register', username]);
  await cli(['login', username, '--device', 'cli']);
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
  if (tmp)
    rmSync(tmp, { recursive: true, force: true });
});

test('page: Argon2id runs in a Web Worker and the page keeps ticking while it runs', { skip }, async (t) => {
  const { page, errors } = await openPage();
  /* the control: Argon2id on the page's own thread (hash-wasm imported
     directly) freezes it; the same tick counter must see that, or the
     measurement below could not fail */
  await startTicks(page);
  const inline = await page.evaluate(async () => {
    const { argon2id } = await import('/vendor/hash-wasm/index.esm.js');
    const s = performance.now();
    await argon2id({ password: 'x', salt: new Uint8Array(16), parallelism: 1, iterations: 3, memorySize: 65536,
      hashLength: 32, outputType: 'binary' });
    return [s, performance.now()];
  });
  const inlineGap = await longestGap(page, inline[0], inline[1]);
  const inlineMs = inline[1] - inline[0];
  t.diagnostic(`Argon2id on the page's thread: ${inlineMs.toFixed(0)} ms, longest pause ${inlineGap.toFixed(0)} ms`);
  assert.ok(inlineGap > inlineMs / 2, 'the tick counter sees a frozen page');

  /* sign in: the SDK derives in its worker */
  await startTicks(page);
  await signIn(page, false);
  const st = page.locator('#signin-status');
  assert.equal(await st.getAttribute('data-kdf-where'), 'worker');
  const start = Number(await st.getAttribute('data-kdf-start'));
  const end = Number(await st.getAttribute('data-kdf-end'));
  const kdfMs = end - start;
  const gap = await longestGap(page, start, end);
  t.diagnostic(`Argon2id in the Web Worker: ${kdfMs.toFixed(0)} ms, longest pause of the page ${gap.toFixed(0)} ms`);
  assert.ok(kdfMs > 0);
  assert.ok(gap < kdfMs / 3, `the page paused ${gap.toFixed(0)} ms during a ${kdfMs.toFixed(0)} ms derivation`);
  assert.deepEqual(errors, [], 'no script error and no CSP violation (the worker is same-origin)');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.close();
});
