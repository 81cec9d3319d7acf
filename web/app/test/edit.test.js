/*
 * edit.test.js: the page's records and devices (web/app/records.js,
 * devices.js) in a real browser, Debian's chromium headless through
 * playwright-core, against the real stack (web/sdk/test/stack.js) and the
 * C CLI as the other device. The CLI puts a record; the page edits it
 * with the keyboard and the CLI pulls the change; a change the CLI makes
 * reaches the page by its watch; the CLI changing the record while the
 * page edits it is marked "changed elsewhere", and on Save both sides are
 * shown and nothing is pushed until "Keep mine" (the CLI then reads the
 * page's text) or "Keep theirs" (the page then shows the CLI's); History
 * lists the versions newest first, decrypted; Delete asks first, then the
 * CLI finds the record gone; a binary record shows as hex and its Download
 * is the record byte for byte; Devices lists the CLI's device and this one
 * (no Revoke for it), and revoking the CLI's makes its next call fail
 * with its auth error; revoked in turn from the CLI, the page signs
 * itself out and says why. No request carries a plaintext. Screenshots of the
 * edit, conflict, history and devices views (the record's element, the
 * devices section) go to build/test-artifacts/.
 * Skipped with a message when chromium, playwright-core, the C build or
 * the CLI is missing. The tests run in order on one page and account.
 *
 * Waits are for outcomes (a text, an element), bounded generously; none
 * needs a fast clock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../../sdk/test/stack.js';
import { ART, BOUND, cliRunner, closeAll, launch, skipReason, watchErrors } from './harness.js';


const skip = skipReason();

const PASSWORD = 'edit pässwörd ✓ 11';
/** every text a record holds in this file: none may leave the page in clear */
const TEXTS = ['buy milk', 'buy milk and eggs', 'changed by the CLI', 'page while the CLI edits',
  'the CLI while the page edits', 'the page loses this one', 'the CLI wins this one', 'put after the revoke'];

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
/** The C CLI as the other device (home and password under tmp). */
const { run, cli } = cliRunner(() => ({ url: stack.url, tmp }));
let browser = null;
/** @type {any} the one page of the file */
let page = null;
/** every request the page made */
const seen = [];
/** script errors and console errors */
const errors = [];
const username = `edit${process.pid}`;

/** The CLI puts text as record Notes/todo (it pushes at once). @param {string} text */
async function cliPut(text) {
  writeFileSync(join(tmp, 'put.txt'), text);
  await cli(['put', 'Notes', 'todo', join(tmp, 'put.txt')]);
}

/** What the CLI reads as Notes/todo after a sync. */
async function cliGet() {
  await cli(['sync']);
  return cli(['get', 'Notes', 'todo']);
}

/** The page's element of record todo. */
const todo = () => page.locator('.record', { has: page.locator('h4', { hasText: /^todo$/ }) });

/** Wait until record todo shows text (its data block). @param {string} text */
async function shows(text) {
  await todo().locator(':scope > pre', { hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: BOUND });
}

/** Focus the control named name and press Enter (the keyboard's way). @param {string} name */
async function press(name) {
  const b = page.getByRole('button', { name, exact: true });
  await b.focus();
  await page.keyboard.press('Enter');
}

before(async () => {
  if (skip)
    return;
  stack = await startStack();
  tmp = mkdtempSync(join(tmpdir(), 'bs-edit-'));
  mkdirSync(ART, { recursive: true });
  writeFileSync(join(tmp, 'pw'), `${PASSWORD}\n`);
  browser = await launch(join(tmp, 'profile'));
  page = await browser.newPage();
  await page.setViewportSize({ width: 1000, height: 800 });
  page.on('request', (r) => seen.push({ url: r.url(), method: r.method(), body: r.postData() ?? '' }));
  /* (/favicon.ico's 404 and the revoked page's 401s are on purpose) */
  watchErrors(page, /status of 40[14]/, errors);
});

after(() => closeAll(browser, stack, tmp));

test('edit: the page edits the CLI\'s record by keyboard and the CLI pulls it; the watch brings the CLI\'s',
  { skip }, async () => {
    await cli(['register', username]);
    await cli(['login', username, '--device', 'cli']);
    await cliPut('buy milk');
    await cli(['sync']);                  /* the new collection's sealed meta: its name for the page */

    const res = await page.goto(`${stack.url}/`);
    assert.equal(res.status(), 200);
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('#account:not([hidden])').waitFor({ timeout: BOUND });
    await shows('buy milk');

    await press('Edit todo');
    const ta = todo().locator('textarea');
    assert.equal(await ta.evaluate((e) => e === document.activeElement), true, 'the focus is in the editor');
    assert.equal(await ta.inputValue(), 'buy milk');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('buy milk and eggs');
    await todo().screenshot({ path: join(ART, 'page-edit.png') });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Save');
    await page.keyboard.press('Enter');
    await page.locator('#records-status', { hasText: /^Saved todo$/ }).waitFor({ timeout: BOUND });
    await shows('buy milk and eggs');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'todo', 'focus on the record');
    assert.equal(await cliGet(), 'buy milk and eggs', 'the CLI pulled the page\'s change');

    /* another device's change reaches the page by its watch, with nothing clicked */
    await cliPut('changed by the CLI');
    await shows('changed by the CLI');
    await page.locator('#records-status', { hasText: 'Updated from another device.' }).waitFor({ timeout: BOUND });
  });

test('conflict: the CLI changes the record while the page edits it: both shown, nothing pushed before the choice',
  { skip }, async () => {
    /* keep mine: the watch marks the open editor, Save shows both sides */
    await press('Edit todo');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('page while the CLI edits');
    await cliPut('the CLI while the page edits');
    await todo().locator('.elsewhere', { hasText: /^Changed on another device meanwhile/ })
      .waitFor({ timeout: BOUND });
    assert.equal(await todo().locator('textarea').inputValue(), 'page while the CLI edits',
      'the editor is not redrawn under the user');
    await page.keyboard.press('Control+Enter');
    const cf = todo().locator('.conflict');
    await cf.waitFor({ timeout: BOUND });
    assert.equal(await cf.locator('.mine pre').textContent(), 'page while the CLI edits');
    assert.equal(await cf.locator('.theirs pre').textContent(), 'the CLI while the page edits');
    assert.match(await cf.locator('h5').textContent(), /^Conflict: todo changed on another device/);
    await todo().screenshot({ path: join(ART, 'page-conflict.png') });
    assert.equal(await cliGet(), 'the CLI while the page edits', 'nothing pushed before the choice');
    assert.equal(await cf.count(), 1, 'still waiting for the choice');
    await press('Keep mine');
    await page.locator('#records-status', { hasText: 'yours kept' }).waitFor({ timeout: BOUND });
    await shows('page while the CLI edits');
    assert.equal(await cliGet(), 'page while the CLI edits', 'the CLI reads the page\'s choice');

    /* keep theirs: Save at once after the CLI's change (the push itself conflicts) */
    await press('Edit todo');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('the page loses this one');
    await cliPut('the CLI wins this one');
    await press('Save');
    await cf.waitFor({ timeout: BOUND });
    assert.equal(await cf.locator('.mine pre').textContent(), 'the page loses this one');
    assert.equal(await cf.locator('.theirs pre').textContent(), 'the CLI wins this one');
    await press('Keep theirs');
    await page.locator('#records-status', { hasText: /^Kept the other device's version of todo/ })
      .waitFor({ timeout: BOUND });
    await shows('the CLI wins this one');
    assert.equal(await cliGet(), 'the CLI wins this one');
  });

test('history: the versions newest first, decrypted', { skip }, async () => {
  await press('History of todo');
  const items = todo().locator('ol.history > li');
  await items.first().waitFor({ timeout: BOUND });
  const versions = await items.locator('.meta').allTextContents();
  const texts = await items.locator('pre').allTextContents();
  const nums = versions.map((v) => Number(/^version (\d+)/.exec(v)?.[1]));
  assert.deepEqual(nums, [...nums].sort((x, y) => y - x), 'newest first');
  assert.equal(texts[0], 'the CLI wins this one', 'the current version first');
  for (const t of ['buy milk', 'buy milk and eggs', 'changed by the CLI', 'page while the CLI edits'])
    assert.ok(texts.includes(t), `the history holds "${t}"`);
  assert.ok(!texts.includes('the page loses this one'), 'the version dropped was never pushed');
  await todo().screenshot({ path: join(ART, 'page-history.png') });
  await press('Hide history of todo');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'History', 'the focus stays on it');
  assert.equal(await items.count(), 0);
});

test('delete: asks first, then the CLI finds the record gone', { skip }, async () => {
  await press('Delete todo');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'Cancel is the default');
  await page.keyboard.press('Enter');
  await shows('the CLI wins this one');
  assert.equal(await todo().locator('.confirm').count(), 0);
  await press('Delete todo');
  await press('Yes, delete todo');
  await page.locator('#records-status', { hasText: /^Deleted todo$/ }).waitFor({ timeout: BOUND });
  assert.equal(await todo().count(), 0, 'gone from the page');
  assert.equal(await page.locator('#collections').evaluate((e) => [...e.querySelectorAll('h3, .sub')]
    .map((x) => x.textContent).join('')), 'NotesNo records.', 'the collection is left with no record');
  await cli(['sync']);
  const r = await run(['get', 'Notes', 'todo']);
  assert.notEqual(r.code, 0, 'the CLI finds no record');
  assert.equal(r.stdout, '');
});

test('download: binary data shows as hex and downloads byte for byte', { skip }, async () => {
  /* every byte value, twice: not UTF-8, so shown as hex */
  const bytes = Buffer.alloc(512, 0).map((_, i) => (i * 7 + 3) & 0xff);
  writeFileSync(join(tmp, 'blob.bin'), bytes);
  await cli(['put', 'Notes', 'blob', join(tmp, 'blob.bin')]);
  const blob = page.locator('.record', { has: page.locator('h4', { hasText: /^blob$/ }) });
  await blob.locator(':scope > pre[data-kind="hex, 512 bytes"]').waitFor({ timeout: BOUND });
  assert.equal(await blob.locator('[data-action="edit"]').isDisabled(), true, 'binary data is not edited as text');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: BOUND }), press('Download blob')]);
  assert.equal(dl.suggestedFilename(), 'blob');
  assert.deepEqual(readFileSync(await dl.path()), bytes, 'the download is the record, byte for byte');
  await cli(['rm', 'Notes', 'blob']);
  await blob.waitFor({ state: 'detached', timeout: BOUND });
});

test('devices: the CLI\'s listed; revoke asks first; then the CLI\'s next call fails with its auth error',
  { skip }, async () => {
    const rows = page.locator('#devices-list tbody tr');
    await rows.nth(1).waitFor({ timeout: BOUND });
    await press('Refresh the list');
    await page.locator('#devices-list td:first-child', { hasText: /^cli$/ }).waitFor({ timeout: BOUND });
    assert.equal(await rows.count(), 2);
    const me = rows.filter({ hasText: '(this device)' });
    assert.equal(await me.locator('td').first().textContent(), 'web page (this device)');
    assert.equal(await me.locator('button').count(), 0, 'no Revoke for this device');
    const cliRow = rows.filter({ has: page.locator('td:first-child', { hasText: /^cli$/ }) });
    assert.match(await cliRow.locator('td').nth(2).textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'last seen');
    await page.locator('#devices').screenshot({ path: join(ART, 'page-devices.png') });
    await press('Revoke cli');
    await press('Cancel revoking cli');
    assert.equal(await rows.count(), 2);
    assert.equal((await run(['sync'])).code, 0, 'not revoked by a cancel');
    await press('Revoke cli');
    await press('Yes, revoke cli');
    await page.locator('#devices-status', { hasText: /^Revoked cli/ }).waitFor({ timeout: BOUND });
    assert.equal(await rows.count(), 1);
    const r = await run(['sync']);
    assert.equal(r.code, 2, `the CLI's auth error: ${r.stderr}`);
    assert.match(r.stderr, /unauthorized|revoked|401/);
    assert.ok(await page.locator('#account:not([hidden])').isVisible(), 'the page itself stays signed in');
  });

test('revoked from another device: the page signs itself out and says why', { skip }, async () => {
  const id = await page.locator('#devices-list tbody tr', { hasText: '(this device)' }).getAttribute('data-device');
  assert.match(String(id), /^[A-Za-z0-9_-]+$/);
  await cli(['login', username, '--device', 'cli2']);
  await cli(['devices', 'revoke', String(id)]);
  /* a change wakes the page's waiting poll (else the 401 comes at its next one, up to 30 s on);
     its sync then meets the 401 */
  writeFileSync(join(tmp, 'late.txt'), 'put after the revoke');
  await cli(['put', 'Notes', 'late', join(tmp, 'late.txt')]);
  await page.locator('#signin:not([hidden])').waitFor({ timeout: BOUND });
  assert.match(await page.locator('#signin-status').textContent(), /^This device was signed out/);
  assert.equal(await page.locator('#collections').textContent(), '', 'nothing decrypted left on view');
  assert.ok(await page.locator('#devices').isHidden());
});

test('edit: no request carried a plaintext; no script error', { skip }, async () => {
  for (const r of seen) {
    assert.ok(r.url.startsWith(`${stack.url}/`), `same origin: ${r.url}`);
    for (const t of TEXTS)
      assert.ok(!`${r.url}\n${r.body}`.includes(t), `${r.method} ${r.url} carries "${t}"`);
  }
  assert.ok(seen.some((r) => /\/v1\/live\/ticket$|\/v1\/status\?wait=/.test(r.url)),
    'the page watches: by the live socket (its ticket) or by long polls of the status');
  assert.ok(seen.some((r) => /\/push$/.test(r.url)), 'the page pushed');
  assert.deepEqual(errors, [], 'no script error and no CSP violation');
});
