/*
 * page.js: the browser half of the page's benchmark (tests/bench/page.sh,
 * part of make bench; never part of make test). Headless Debian chromium
 * through playwright-core, against a running stack whose account already
 * holds the records (page.sh seeds them):
 *   node web/app/bench/page.js URL USER PASSWORD-FILE RECORDS RUNS
 * Each run is a fresh browser context (empty cache, as a first visit):
 *   - the first load: the sum of the encoded (gzip) body sizes of every
 *     answer until the network is idle, and the same with the headers;
 *   - the sign-in: from the click on "Sign in" to RECORDS records listed,
 *     decrypted (the account view shown, and its records: rendered rows,
 *     or the data-count of a paged list, which app.js sets once every
 *     record of the collection is decrypted),
 *     Argon2id included; and the longest task that held the page's thread
 *     meanwhile (a PerformanceObserver of long tasks): how long the page
 *     was frozen at worst;
 *     and its phases as the network shows them: to the login's answer
 *     (prelogin, Argon2id, login), to the last pull's answer (the sync),
 *     and the rest (the records decrypted for the list, and shown);
 *   - Argon2id alone in the page (the SDK's bs1.masterKey at the default
 *     parameters, as the page calls it).
 * Prints one JSON object per run on stdout: {load, loadHeaders, requests,
 * signin, login, sync, show, listed, longest, argon}; page.sh takes the medians. Nothing here
 * asserts a time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const require = createRequire(join(root, 'web/sdk/package.json'));
const { chromium } = require('playwright-core');

const [url, user, pwFile, recordsArg, runsArg] = process.argv.slice(2);
if (!url || !user || !pwFile) {
  console.error('usage: page.js URL USER PASSWORD-FILE RECORDS RUNS');
  process.exit(2);
}
const password = readFileSync(pwFile, 'utf8').replace(/\n$/, '');
const records = Number(recordsArg ?? 10000);
const runs = Number(runsArg ?? 3);

/** The records the page lists: its rows, or the count it says it holds. */
function listed() {
  /* a page that renders every row: the rows; one that pages or virtualizes
     them says how many it holds in data-count on #collections or a
     collection (the larger wins) */
  let n = document.querySelectorAll('#collections .record').length;
  for (const el of document.querySelectorAll('#collections[data-count], #collections [data-count]'))
    n = Math.max(n, Number(el.getAttribute('data-count')) || 0);
  return n;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const page = await context.newPage();
    /* the longest task on the page's thread from now on */
    await page.addInitScript(() => {
      globalThis.__bsLongest = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries())
          globalThis.__bsLongest = Math.max(globalThis.__bsLongest, e.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    const done = [];
    page.on('requestfinished', (r) => done.push(r));
    const res = await page.goto(`${url}/`);
    if (res?.status() !== 200)
      throw new Error(`GET / answered ${res?.status()}`);
    await page.getByLabel('Username', { exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    let load = 0;
    let loadHeaders = 0;
    const requests = done.length;
    for (const r of done.splice(0)) {
      const z = await r.sizes();
      load += z.responseBodySize;
      loadHeaders += z.responseBodySize + z.responseHeadersSize;
    }

    await page.evaluate(() => { globalThis.__bsLongest = 0; });
    await page.getByLabel('Username', { exact: true }).fill(user);
    await page.getByLabel('Password', { exact: true }).fill(password);
    /* the phases, from the network: the login's answer, the last pull's
       of the sign-in's sync (the page's watch, which starts once the list
       is shown with a GET /v1/status, syncs again: its pulls are not it) */
    let loginAt = 0;
    let pullAt = 0;
    let watching = false;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.endsWith('/v1/status'))
        watching = true;
    });
    page.on('requestfinished', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.endsWith('/v1/account/login'))
        loginAt = Date.now();
      else if (path.endsWith('/pull') && !watching)
        pullAt = Date.now();
    });
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    /* (a function, not a string: the page's CSP forbids eval) */
    await page.waitForFunction((want) => {
      let n = document.querySelectorAll('#collections .record').length;
      for (const el of document.querySelectorAll('#collections[data-count], #collections [data-count]'))
        n = Math.max(n, Number(el.getAttribute('data-count')) || 0);
      return (n >= want && document.getElementById('account')?.hidden === false) ||
        document.querySelector('#signin-status.error') !== null;
    }, records, { timeout: 300000, polling: 20 });
    const signin = Date.now() - t0;
    const error = await page.locator('#signin-status.error').count();
    if (error)
      throw new Error(`sign-in failed: ${await page.locator('#signin-status').textContent()}`);
    const n = await page.evaluate(listed);
    const longest = await page.evaluate(() => globalThis.__bsLongest);
    /* Argon2id alone, in the page, as the SDK runs it there (after the
       sign-in, which met hash-wasm first, as a real visit does) */
    const argon = await page.evaluate(async () => {
      const { bs1 } = await import('/sdk/index.js');
      const kdf = bs1.kdfNew();
      const t0 = performance.now();
      bs1.wipe(await bs1.masterKey('correct horse battery staple', kdf));
      return performance.now() - t0;
    });

    console.log(JSON.stringify({ load, loadHeaders, requests, signin, login: loginAt - t0, sync: pullAt - loginAt,
      show: t0 + signin - pullAt, listed: n, longest: Math.round(longest), argon: Math.round(argon) }));
    await context.close();
  }
} finally {
  await browser.close();
}
