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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, MemoryStorage, bs1 } from '../../sdk/src/index.js';
import { root, startStack } from '../../sdk/test/stack.js';
import { ART, cliRunner, closeAll, launch, skipReason, watchErrors } from './harness.js';


const skip = skipReason();

const PASSWORD = 'blobs pässwörd ✓ 9';
/** hash-wasm's one file as the page's tree serves it (scripts/www.sh: under its version) */
const HASH_WASM = `/vendor/hash-wasm@${existsSync(join(root, 'web/sdk/node_modules/hash-wasm/package.json'))
  ? JSON.parse(readFileSync(join(root, 'web/sdk/node_modules/hash-wasm/package.json'), 'utf8')).version
  : 'missing'}/index.esm.min.js`;

/** @type {import('../../sdk/test/stack.js').Stack | null} */
let stack = null;
let tmp = '';
/** The C CLI as the other device (home and password under tmp). */
const { cli } = cliRunner(() => ({ url: stack.url, tmp }));
/** the browser's one context (a persistent one, on a fresh profile) */
let browser = null;
const username = `blobs${process.pid}`;

/**
 * A new page on the stack's origin whose script errors and console errors
 * (CSP violations included) are collected in the array returned.
 */
async function openPage() {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 900, height: 700 });
  const errors = watchErrors(page, /status of 40[14]/);
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

/**
 * Everything in the page's IndexedDB as text: each database's stores,
 * bytes as hex, a CryptoKey as its visible properties.
 * @param {import('playwright-core').Page} page
 */
function idbDump(page) {
  return page.evaluate(async () => {
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const walk = (v) => (v instanceof CryptoKey ? { cryptoKey: true, extractable: v.extractable, type: v.type,
      algorithm: v.algorithm.name, usages: v.usages }
      : v instanceof ArrayBuffer ? { hex: hex(new Uint8Array(v)) }
        : ArrayBuffer.isView(v) ? { hex: hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) }
          : Array.isArray(v) ? v.map(walk)
            : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v);
    const out = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((ok, ko) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      out[name] = {};
      for (const st of db.objectStoreNames) {
        const tx = db.transaction(st);
        const [keys, values] = await Promise.all(['getAllKeys', 'getAll'].map((f) => new Promise((ok) => {
          const r = tx.objectStore(st)[f]();
          r.onsuccess = () => ok(r.result);
        })));
        out[name][st] = keys.map((k, i) => [k, walk(values[i])]);
      }
      db.close();
    }
    return out;
  });
}

before(async () => {
  if (skip)
    return;
  /* room for the CLI's backup and the page's (the default plan holds one) */
  stack = await startStack(['plans = { default = { backups = 10, backup_bytes = 16 * 1024 * 1024, ' +
    'bytes = 64 * 1024 * 1024 } }']);
  tmp = mkdtempSync(join(tmpdir(), 'bs-blobs-'));
  mkdirSync(ART, { recursive: true });
  writeFileSync(join(tmp, 'pw'), `${PASSWORD}\n`);
  browser = await launch(join(tmp, 'profile'), { acceptDownloads: true });
  await cli(['register', username]);
  await cli(['login', username, '--device', 'cli']);
  writeFileSync(join(tmp, 'rec.txt'), 'a record, so that the local copy holds something');
  await cli(['put', 'Notes', 'first', join(tmp, 'rec.txt')]);
  await cli(['sync']);
});

after(() => closeAll(browser, stack, tmp));

test('page: Argon2id runs in a Web Worker and the page keeps ticking while it runs', { skip }, async (t) => {
  const { page, errors } = await openPage();
  /* the control: Argon2id on the page's own thread (hash-wasm imported
     directly) freezes it; the same tick counter must see that, or the
     measurement below could not fail */
  await startTicks(page);
  const inline = await page.evaluate(async (hashWasm) => {
    const { argon2id } = await import(hashWasm);
    const s = performance.now();
    await argon2id({ password: 'x', salt: new Uint8Array(16), parallelism: 1, iterations: 3, memorySize: 65536,
      hashLength: 32, outputType: 'binary' });
    return [s, performance.now()];
  }, HASH_WASM);
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

test('sdk: IndexedDBStorage in Chromium: the Storage interface, atomic transactions, kept across a reload', { skip },
  async () => {
    const { page, errors } = await openPage();
    const got = await page.evaluate(async () => {
      const { IndexedDBStorage } = await import('/sdk/index.js');
      const r = {};
      const s = new IndexedDBStorage({ name: 'bs-test' });
      const obj = { a: [1, 'two', null], b: { c: true } };
      await s.put('p/x', obj);
      obj.a.push(4);
      r.copiedIn = await s.get('p/x');
      const out = await s.get('p/x');
      out.b.c = false;
      r.copiedOut = await s.get('p/x');
      r.missing = (await s.get('nope')) === undefined;
      for (const k of ['p/b', 'p/a', 'p\uffffz', 'p/\uffff', 'p/\uffffzz', 'q/a', 'p0', 'p'])
        await s.put(k, k.length);
      r.keys = await s.keys('p/');
      r.all = await s.keys('');
      await s.delete('p/a');
      r.afterDelete = await s.keys('p/');
      /* a transaction: sees its own writes, applies all of them together */
      r.txOut = await s.transaction(async (tx) => {
        await tx.put('t/1', 1);
        await tx.delete('p/b');
        await new Promise((ok) => setTimeout(ok, 50)); /* an await that is not IndexedDB's */
        await tx.put('t/2', { two: 2 });
        return { own: await tx.get('t/1'), keys: await tx.keys('t/'), gone: await tx.get('p/b') };
      });
      r.afterTx = { t1: await s.get('t/1'), t2: await s.get('t/2'), pb: await s.get('p/b') };
      /* a transaction that throws applies nothing */
      r.thrown = await s.transaction(async (tx) => {
        await tx.put('t/1', 'changed');
        await tx.put('t/3', 3);
        await tx.delete('t/2');
        throw new Error('fn failed');
      }).then(() => 'resolved', (e) => e.message);
      r.afterThrow = { t1: await s.get('t/1'), t2: await s.get('t/2'), t3: await s.get('t/3') };
      /* transactions run one at a time: 20 read-increment-writes lose none */
      await s.put('n', 0);
      await Promise.all(Array.from({ length: 20 }, () => s.transaction(async (tx) => {
        const n = await tx.get('n');
        await new Promise((ok) => setTimeout(ok, 1));
        await tx.put('n', n + 1);
      })));
      r.n = await s.get('n');
      /* another connection sees it all */
      r.other = await new IndexedDBStorage({ name: 'bs-test' }).get('t/2');
      r.exists = await IndexedDBStorage.exists('bs-test');
      return r;
    });
    assert.deepEqual(got.copiedIn, { a: [1, 'two', null], b: { c: true } });
    assert.deepEqual(got.copiedOut, { a: [1, 'two', null], b: { c: true } });
    assert.equal(got.missing, true);
    assert.deepEqual(got.keys, ['p/a', 'p/b', 'p/x', 'p/\uffff', 'p/\uffffzz'], 'sorted, every key of the prefix');
    assert.deepEqual(got.all, ['p', 'p/a', 'p/b', 'p/x', 'p/\uffff', 'p/\uffffzz', 'p0', 'p\uffffz', 'q/a']);
    assert.deepEqual(got.afterDelete, ['p/b', 'p/x', 'p/\uffff', 'p/\uffffzz']);
    assert.deepEqual(got.txOut, { own: 1, keys: ['t/1', 't/2'], gone: undefined });
    assert.deepEqual(got.afterTx, { t1: 1, t2: { two: 2 }, pb: undefined });
    assert.equal(got.thrown, 'fn failed');
    assert.deepEqual(got.afterThrow, { t1: 1, t2: { two: 2 }, t3: undefined });
    assert.equal(got.n, 20);
    assert.deepEqual(got.other, { two: 2 });
    assert.equal(got.exists, true);

    /* kept across a reload; destroy leaves no database */
    await page.reload();
    const after = await page.evaluate(async () => {
      const { IndexedDBStorage } = await import('/sdk/index.js');
      const s = new IndexedDBStorage({ name: 'bs-test' });
      const r = { t2: await s.get('t/2'), keys: await s.keys('p/') };
      await s.destroy();
      r.exists = await IndexedDBStorage.exists('bs-test');
      return r;
    });
    assert.deepEqual(after, { t2: { two: 2 }, keys: ['p/x', 'p/\uffff', 'p/\uffffzz'], exists: false });
    assert.deepEqual(errors, []);
    await page.close();
  });

test('page: "remember this device": unticked, a reload signs out; ticked, it stays in; sign-out leaves nothing',
  { skip }, async () => {
    /* the account's data key, from a Client of its own, to look for it in the page's IndexedDB */
    const js = new Client({ url: stack.url, storage: new MemoryStorage() });
    await js.login(username, PASSWORD, { name: 'probe', type: 'test' });
    const dataKey = bs1.toHex(js.session.dataKey);
    await js.logout();

    const { page, errors } = await openPage();
    const tokens = new Set();
    page.on('request', (r) => {
      const a = r.headers().authorization;
      if (a)
        tokens.add(a.replace(/^Bearer /, ''));
    });
    /* unticked: nothing in IndexedDB; a reload shows the sign-in form */
    await signIn(page, false);
    assert.deepEqual(await idbDump(page), {}, 'no database at all');
    await page.reload();
    await page.getByLabel('Username', { exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('#account').isHidden(), true, 'signed out by the reload');
    assert.deepEqual(await idbDump(page), {});

    /* ticked: the session kept, sealed; a reload is signed in with no password */
    await signIn(page, true);
    await page.locator('#account:not([hidden])').waitFor();
    await page.waitForLoadState('networkidle');
    const dump = await idbDump(page);
    assert.deepEqual(Object.keys(dump), ['blindsync']);
    const kept = dump.blindsync.session;
    assert.equal(kept.length, 1);
    assert.deepEqual(kept[0][1].key, { cryptoKey: true, extractable: false, type: 'secret', algorithm: 'AES-GCM',
      usages: ['encrypt', 'decrypt'] }, 'a non-extractable key');
    assert.ok(dump.blindsync.kv.length > 0, 'the local copy is kept too');
    const text = JSON.stringify(dump);
    assert.ok(tokens.size > 0);
    for (const t of tokens)
      assert.ok(!text.includes(t) && !text.includes(bs1.toHex(bs1.utf8(t))), 'no token in clear');
    assert.ok(!text.includes(dataKey), 'no data key in clear');
    for (const p of [PASSWORD, bs1.toHex(bs1.utf8(PASSWORD)), bs1.toHex(bs1.utf8(PASSWORD.normalize('NFC')))])
      assert.ok(!text.includes(p), 'no password');
    await page.reload();
    await page.locator('#account:not([hidden])').waitFor({ timeout: 120000 });
    assert.equal(await page.locator('#who').textContent(), username);
    assert.equal(await page.locator('#password').inputValue(), '');
    assert.equal(await page.locator('.record', { has: page.locator('h4', { hasText: /^first$/ }) }).locator('pre')
      .textContent(), 'a record, so that the local copy holds something', 'the records open: the data key is back');

    /* sign-out: no database left; a reload stays signed out */
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin:not([hidden])').waitFor();
    assert.deepEqual(await idbDump(page), {}, 'IndexedDB holds nothing of the account');
    await page.reload();
    await page.getByLabel('Username', { exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('#account').isHidden(), true);
    assert.deepEqual(await idbDump(page), {});
    assert.deepEqual(errors, []);
    await page.close();
  });

/**
 * Record every value the page gives #backup-progress from now on.
 * @param {import('playwright-core').Page} page
 */
async function watchProgress(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    const p = document.getElementById('backup-progress');
    w.progressSeen = [];
    w.progressObs?.disconnect();
    /* (the callback may come once for several changes: each record's old
       value is the one before it, the last one is read at the end) */
    w.progressObs = new MutationObserver((recs) => {
      for (const r of recs)
        w.progressSeen.push(Number(r.oldValue));
    });
    w.progressObs.observe(p, { attributes: true, attributeFilter: ['value'], attributeOldValue: true });
  });
}

/**
 * What watchProgress saw: more than one step, ending full.
 * @param {import('playwright-core').Page} page @param {string} what
 */
async function assertProgress(page, what) {
  const [seen, v, m] = await page.evaluate(() => {
    const p = document.getElementById('backup-progress');
    return [/** @type {any} */ (window).progressSeen, Number(p.getAttribute('value')), Number(p.getAttribute('max'))];
  });
  const mid = seen.filter((x) => x > 0 && x < m);
  assert.ok(mid.length >= 1, `${what}: progress shown between 0 and the end (${JSON.stringify(seen)} of ${m})`);
  assert.equal(v, m, `${what}: progress ends full`);
}

test('page: backups: the CLI\'s downloaded byte-exact, the page\'s uploaded for the CLI byte-exact, delete', { skip },
  async () => {
    /* the CLI's backup: 40 full pieces and a part (enough network reads
       for the progress to show steps on a fast local link) */
    const cliData = randomBytes(40 * 65536 + 4321);
    writeFileSync(join(tmp, 'cli-backup.bin'), cliData);
    await cli(['backup', 'put', 'from-cli', join(tmp, 'cli-backup.bin')]);

    const { page, errors } = await openPage();
    await signIn(page, false);
    await page.locator('#backups:not([hidden])').waitFor();
    const row = page.locator('#backup-list tbody tr', { hasText: 'from-cli' });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'from-cli');
    assert.equal(cells[1], '2.5 MiB', 'the plaintext size');
    assert.match(cells[2], /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    assert.equal(await row.locator('td').nth(1).getAttribute('title'), `${cliData.length} bytes (${
      bs1.streamLen(cliData.length)} encrypted)`);

    /* download: decrypted in the page, saved as a file */
    await watchProgress(page);
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }),
      page.getByRole('button', { name: 'Download from-cli' }).click()]);
    assert.equal(dl.suggestedFilename(), 'from-cli');
    const saved = join(tmp, 'downloaded.bin');
    await dl.saveAs(saved);
    assert.ok(readFileSync(saved).equals(cliData), 'the download is the CLI\'s file, byte-exact');
    await page.locator('#backup-status', { hasText: 'decrypted and verified' }).waitFor();
    assert.equal(await page.locator('#backup-status').textContent(),
      `Downloaded from-cli: ${cliData.length} bytes, decrypted and verified.`);
    await assertProgress(page, 'download');

    /* upload: a file chosen in the page, encrypted there; the CLI gets it */
    const pageData = randomBytes(2 * 65536 + 999);
    await watchProgress(page);
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'notes.tar', mimeType: 'application/x-tar',
      buffer: pageData });
    assert.match(await page.getByLabel('Backup name', { exact: true }).inputValue(), /^backup-\d{4}-\d\d-\d\d$/,
      'a name that says nothing is suggested');
    await page.getByLabel('Backup name', { exact: true }).fill('from-page');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#backup-status', { hasText: /^(Uploaded|Not uploaded)/ }).or(page.locator('#backup-status.error'))
      .waitFor({ timeout: 120000 });
    assert.match(await page.locator('#backup-status').textContent(),
      new RegExp(`^Uploaded notes.tar as from-page \\(version \\d+, ${pageData.length} bytes, encrypted\\)\\.$`));
    await assertProgress(page, 'upload');
    await page.locator('#backup-list tbody tr', { hasText: 'from-page' }).waitFor();
    await cli(['backup', 'get', 'from-page', join(tmp, 'from-page.bin')]);
    assert.ok(readFileSync(join(tmp, 'from-page.bin')).equals(pageData), 'the CLI reads the page\'s upload byte-exact');
    await page.screenshot({ path: join(ART, 'page-backups.png'), fullPage: true });

    /* a bad name: the SDK's rule, said in the status line, nothing sent */
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'x', mimeType: 'text/plain',
      buffer: Buffer.from('x'.repeat(100)) });
    await page.getByLabel('Backup name', { exact: true }).fill('.hidden name');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#backup-status.error').waitFor();
    assert.match(await page.locator('#backup-status').textContent(), /^a backup name is 1-64 of/);

    /* delete: refused at the confirmation, then accepted */
    page.once('dialog', (d) => d.dismiss());
    await page.getByRole('button', { name: 'Delete from-page' }).click();
    await page.locator('#backup-list tbody tr', { hasText: 'from-page' }).waitFor();
    assert.match(await cli(['backup', 'ls']), /from-page/, 'kept when the confirmation is refused');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: 'Delete from-page' }).click();
    await page.locator('#backup-status', { hasText: 'Deleted from-page.' }).waitFor();
    assert.match(asked, /^Delete the backup from-page\?/);
    /* the list is redrawn after the status line says so: wait for the row to go */
    await page.locator('#backup-list tbody tr', { hasText: 'from-page' }).waitFor({ state: 'detached', timeout: 120000 });
    const ls = await cli(['backup', 'ls']);
    assert.doesNotMatch(ls, /from-page/);
    assert.match(ls, /from-cli/);

    /* altered on the server (one byte of its second chunk): "cannot decrypt", no file offered */
    const js = new Client({ url: stack.url, storage: new MemoryStorage() });
    await js.login(username, PASSWORD, { name: 'tamper', type: 'test' });
    const auth = { Authorization: `Bearer ${js.session.access}` };
    const raw = new Uint8Array(await (await fetch(`${stack.url}/v1/backups/from-cli`, { headers: auth })).arrayBuffer());
    raw[70000] ^= 1;
    const put = await fetch(`${stack.url}/v1/backups/from-cli`, { method: 'PUT', body: raw,
      headers: { ...auth, 'If-Match': '*', 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 200);
    await js.logout();
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByRole('button', { name: 'Download from-cli' }).click();
    await page.locator('#backup-status.error').waitFor({ timeout: 120000 });
    assert.equal(await page.locator('#backup-status').textContent(),
      'cannot decrypt backup from-cli: it was altered or is not this account\'s; nothing was saved.');
    assert.equal(downloads, 0, 'no file offered');

    assert.deepEqual(errors, []);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin:not([hidden])').waitFor();
    assert.equal(await page.locator('#backups').isHidden(), true);
    assert.equal(await page.locator('#backup-list tbody tr').count(), 0);
    await page.close();
  });
