/*
 * mfa.test.js: the page's two-factor login (issue 15) in headless
 * chromium (as page.test.js: playwright-core, the real stack). An SDK
 * Client registers; the page signs in, turns two-factor login on from its
 * security view (the QR code drawn from uqr, served same-origin; the
 * secret as text; a code computed here from that secret with
 * web/sdk/test/totp.js confirms it; ten recovery codes shown; the canvas
 * read back module by module is uqr's matrix of the URI shown), makes a
 * recovery key (shown once), signs out; a sign-in then asks for the code,
 * a wrong one is refused with the question asked again, the right one
 * signs in. No script error, no CSP violation. Skipped with a message
 * when chromium, playwright-core or the C build is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, MemoryStorage } from '../../sdk/src/index.js';
import { root, startStack } from '../../sdk/test/stack.js';
import { ART, closeAll, launch, skipReason, watchErrors } from './harness.js';
import { codes } from '../../sdk/test/totp.js';


const skip = skipReason({ cli: false });

const PASSWORD = 'page two-factor password';

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
let browser = null;
const username = `pagemfa${process.pid}`;

before(async () => {
  if (skip)
    return;
  stack = await startStack();
  tmp = mkdtempSync(join(tmpdir(), 'bs-page-mfa-'));
  mkdirSync(ART, { recursive: true });
  browser = await launch(join(tmp, 'profile'));
});

after(() => closeAll(browser, stack, tmp));

/** Sign in with the form (the code form may follow). @param {import('playwright-core').Page} page */
async function signIn(page) {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('page: two-factor login turned on in the page (QR code), then asked at sign-in', { skip }, async () => {
  await new Client({ url: stack.url, storage: new MemoryStorage() }).register(username, PASSWORD);
  const page = await browser.newPage();
  /* (the wrong code's 401 and the browser's /favicon.ico 404 are expected; any other 404 is not) */
  const errors = watchErrors(page, /status of 40[14]/);
  page.on('response', (r) => {
    if (r.status() === 404 && new URL(r.url()).pathname !== '/favicon.ico')
      errors.push(`404 ${r.url()}`);
  });
  await page.goto(`${stack.url}/`);
  await signIn(page);
  await page.locator('#account:not([hidden])').waitFor({ timeout: 120000 });
  await page.locator('#security:not([hidden])').waitFor();
  await page.locator('#security-state', { hasText: 'Two-factor login: off. Recovery key: none.' }).waitFor();

  /* turn it on: the QR code and the secret, then a code from "the app" */
  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Turn on two-factor login' }).click();
  await page.locator('#totp-secret').waitFor({ timeout: 120000 });
  const shown = await page.locator('#totp-secret').textContent();
  const secret = /secret: ([A-Z2-7]+)/.exec(shown ?? '')?.[1] ?? '';
  assert.match(shown ?? '', /otpauth:\/\/totp\//);
  const qr = page.locator('canvas#totp-qr');
  await qr.waitFor();
  /* the canvas holds the QR code of exactly the URI shown: each module's
     centre pixel against uqr's own matrix of it, computed here */
  const uri = (shown ?? '').split('\n').find((l) => l.startsWith('otpauth://')) ?? '';
  const { encode } = await import(join(root, 'web/sdk/node_modules/uqr/dist/index.mjs'));
  const want = encode(uri, { ecc: 'M', border: 4 });
  const drawn = await qr.evaluate((c, size) => {
    const canvas = /** @type {HTMLCanvasElement} */ (c);
    const scale = canvas.width / size;
    const px = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'))
      .getImageData(0, 0, canvas.width, canvas.height).data;
    const rows = [];
    for (let y = 0; y < size; y++) {
      const row = [];
      for (let x = 0; x < size; x++)
        row.push(px[(Math.floor((y + 0.5) * scale) * canvas.width + Math.floor((x + 0.5) * scale)) * 4] < 128);
      rows.push(row);
    }
    return rows;
  }, want.size);
  assert.deepEqual(drawn, want.data, 'the QR code drawn is the URI\'s');
  await page.screenshot({ path: join(ART, 'page-2fa-qr.png'), fullPage: true });
  const { next, wrong } = codes(secret);
  await page.getByLabel('Code from the app', { exact: true }).fill(await next());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#recovery-codes').waitFor({ timeout: 30000 });
  assert.equal((await page.locator('#recovery-codes').textContent())?.split('\n').length, 10);
  await page.locator('#security-state', { hasText: 'Two-factor login: on.' }).waitFor();
  await page.screenshot({ path: join(ART, 'page-2fa-codes.png'), fullPage: true });

  /* a recovery key, shown once */
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create a recovery key' }).click();
  await page.locator('#recovery-key').waitFor({ timeout: 120000 });
  assert.match(await page.locator('#recovery-key').textContent() ?? '', /^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$/);
  await page.locator('#security-state', { hasText: 'Recovery key: set.' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#signin:not([hidden])').waitFor();
  assert.equal(await page.locator('#security-out').textContent(), '', 'nothing secret left shown');

  /* the sign-in asks for the code; a wrong one asks again; the right one signs in */
  await signIn(page);
  await page.locator('#mfa-form:not([hidden])').waitFor({ timeout: 120000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'mfa-code');
  await page.getByLabel('Two-factor code', { exact: true }).first().fill(wrong());
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#mfa-status.error').waitFor({ timeout: 30000 });
  await page.getByLabel('Two-factor code', { exact: true }).first().fill(await next());
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#account:not([hidden])').waitFor({ timeout: 30000 });
  assert.ok(await page.locator('#mfa-form').isHidden());
  assert.deepEqual(errors, [], 'no script error and no CSP violation');
  await page.close();
});
