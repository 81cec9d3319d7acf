/*
 * interop.test.js: the C CLI (build/blindsync) and the JS Client read each
 * other's writes byte-exact through the REAL server (the stack of
 * stack.js, slots on): records (binary data, non-ASCII collection and
 * record names), a backup of several 64 KiB pieces and an anonymous slot
 * (read with no account, by a non-ASCII passphrase), first written by the
 * CLI and read by JS, then written by JS and read by the CLI; and the
 * If-Match of each side refuses to overwrite the other's newer backup;
 * and sharing (issue 14) both ways: the CLI shares with a JS account, which
 * sees the CLI's fingerprint, accepts and reads and writes; a JS account
 * shares with the CLI, which accepts and reads, and loses the collection
 * when JS removes it (JS rotated); a JS member leaves the CLI's collection
 * by itself and the CLI's next sync rotates (the member who stayed opens
 * the CLI's kv 2 grant and reads its next record), and the CLI leaves a
 * JS collection, which the JS owner's next sync rotates; the CLI as an
 * admin of a JS owner's collection removes a member and rotates (a random
 * key in its keyring): the JS owner and member read what it seals, the
 * owner writes under it; a JS device of the CLI's account finds that key
 * in the keyring and rotates as an admin too, and a fresh CLI home of the
 * account reads and writes under both keys it finds in the keyring.
 * Skipped with a message when build/blindsync (or the stack) is missing;
 * the sharing test also when the CLI has no sharing commands.
 * Argon2id runs about eight times here (~0.5 s each).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, ConflictError, MemoryStorage } from '../src/index.js';
import { BIN, built, startStack, stopStack } from './stack.js';

const CLI = join(BIN, 'blindsync');
const skip = !built ? `no C build in ${BIN} (build/blindsync-status is missing): run make first`
  : !existsSync(CLI) ? `no C CLI: ${CLI} is missing (run make)` : false;

/** the CLI's usage, to tell whether it has the sharing commands (issue 14) */
const usage = skip ? null : spawnSync(CLI, ['--help'], { encoding: 'utf8' });
const shareSkip = skip || (/share COLLECTION USER/.test(`${usage?.stdout}${usage?.stderr}`) ? false
  : `${CLI} has no sharing commands (blindsync share)`);

const PASSWORD = 'pässwörd interop ✓ 42';
const PASSPHRASE = 'ein Schlüssel für alle Geräte ✓';
const COLLECTION = 'Notizen-äöü ✓';
const BACKUP = 'main';

/** @type {import('./stack.js').Stack | null} */
let stack = null;
/** @type {string} */
let tmp = '';
const username = `io${process.pid}`;

/**
 * Deterministic pseudo-random bytes (every byte value occurs).
 * @param {number} n
 * @param {number} seed
 */
function bytes(n, seed) {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * Run the CLI with a home under tmp and the password file; resolves with
 * its exit status and output (never rejects on a non-zero status).
 * @param {string} home
 * @param {string[]} args
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function cli(home, args) {
  return new Promise((resolve) => execFile(CLI, ['--server', /** @type {any} */ (stack).url,
    '--home', join(tmp, home), '--password-file', join(tmp, 'pw'), ...args],
  { encoding: 'utf8', timeout: 120000 },
  (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
    stdout, stderr })));
}

/** The CLI must succeed. @param {string} home @param {string[]} args */
async function ok(home, args) {
  const r = await cli(home, args);
  assert.equal(r.code, 0, `blindsync ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r;
}

/** A stream's bytes, gathered. @param {ReadableStream<Uint8Array>} s */
async function gather(s) {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** A new Client on the stack (one device). */
function client() {
  return new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage() });
}

/* the same data the other side checks */
const cRecords = [['rec-ä-1', bytes(5000, 1)], ['réc ✓ 2', new Uint8Array([0, 255, 0, 10, 13, 0x80])],
  ['empty', new Uint8Array(0)]];
const jsRecords = [['js-ß-1', bytes(70000, 2)], ['js ✓ 2', bytes(1, 3)]];
const cBackup = bytes(3 * 65536 + 123, 4);
const jsBackup = bytes(2 * 65536, 5);
const cSlot = bytes(100000, 6);
const jsSlot = bytes(65536 + 1, 7);

/** The JS device, logged in for the file. @type {Client} */
let js;

before(async () => {
  if (skip)
    return;
  stack = await startStack(['slots = { enabled = true }']);
  tmp = mkdtempSync(join(tmpdir(), 'bs-interop-'));
  writeFileSync(join(tmp, 'pw'), `${PASSWORD}\n`);
  writeFileSync(join(tmp, 'pp'), `${PASSPHRASE}\n`);
});

after(async () => {
  await js?.logout();
  await stopStack(stack);
  if (tmp)
    rmSync(tmp, { recursive: true, force: true });
});

test('interop: the C CLI writes records, a backup and a slot; the JS Client reads them byte-exact', { skip },
  async () => {
    await ok('c', ['register', username]);
    await ok('c', ['login', username, '--device', 'c-cli']);
    for (const [i, [id, data]] of cRecords.entries()) {
      writeFileSync(join(tmp, `c-rec-${i}`), data);
      await ok('c', ['put', COLLECTION, id, join(tmp, `c-rec-${i}`)]);
    }
    await ok('c', ['sync']);
    writeFileSync(join(tmp, 'c-backup'), cBackup);
    await ok('c', ['backup', 'put', BACKUP, join(tmp, 'c-backup')]);
    writeFileSync(join(tmp, 'c-slot'), cSlot);
    await ok('c', ['--password-file', join(tmp, 'pp'), 'slot', 'push', join(tmp, 'c-slot')]);

    js = client();
    await js.login(username, PASSWORD, { name: 'js', type: 'test' });
    await js.sync();
    assert.deepEqual((await js.collections()).map((c) => c.name), [COLLECTION]);
    for (const [id, data] of cRecords)
      assert.deepEqual(await js.get(COLLECTION, id), data, `record ${id}`);

    const seen = [];
    const b = await js.backupGet(BACKUP, { progress: (done, total) => seen.push([done, total]) });
    assert.ok(b && b.version > 0);
    assert.deepEqual(await gather(b.stream), cBackup);
    assert.ok(seen.length >= 1 && seen.every(([d], i) => i === 0 || d > seen[i - 1][0]), 'progress grows');
    assert.deepEqual(seen.at(-1), [cBackup.length + 20 + 16 * 4, cBackup.length + 20 + 16 * 4]);
    assert.deepEqual((await js.backupList()).map((x) => [x.name, x.version]), [[BACKUP, b.version]]);
    assert.equal(await js.backupGet(BACKUP, { since: b.version }), null, 'If-None-Match: 304');

    /* the slot, from no account at all */
    const anon = client();
    const s = await anon.slotGet(PASSPHRASE);
    assert.ok(s);
    assert.deepEqual(await gather(s.stream), cSlot);
  });

test('interop: the JS Client writes records, a backup and a slot; the C CLI reads them byte-exact', { skip },
  async () => {
    assert.ok(js, 'the first test logged in');
    for (const [id, data] of jsRecords)
      await js.put(COLLECTION, id, data);
    const r = await js.sync();
    assert.equal(r.pushed.length, jsRecords.length);

    /* a JS device that never read the backup is refused (If-None-Match: *): nothing overwritten */
    const other = client();
    await other.login(username, PASSWORD, { name: 'js2', type: 'test' });
    await assert.rejects(other.backupPut(BACKUP, jsBackup), ConflictError);
    await other.logout();

    /* js read it in the first test: If-Match with that version, from a stream with its size */
    const put = await js.backupPut(BACKUP, new Blob([jsBackup]).stream(), { size: jsBackup.length });
    assert.ok(put.version > 0);
    const slot = await client().slotGet(PASSPHRASE);
    await slot?.stream.cancel();
    /* that client remembered nothing; this one must read first, then overwrite */
    const writer = client();
    const cur = await writer.slotGet(PASSPHRASE);
    await gather(/** @type {any} */ (cur).stream);
    await writer.slotPut(PASSPHRASE, jsSlot);

    await ok('c', ['sync']);
    for (const [i, [id, data]] of jsRecords.entries()) {
      await ok('c', ['get', COLLECTION, id, join(tmp, `js-rec-${i}`)]);
      assert.deepEqual(new Uint8Array(readFileSync(join(tmp, `js-rec-${i}`))), data, `record ${id}`);
    }
    /* the CLI's home saw an older version of the backup: its put is a conflict (exit 3) */
    const stale = await cli('c', ['backup', 'put', BACKUP, join(tmp, 'c-backup')]);
    assert.equal(stale.code, 3, stale.stderr);
    await ok('c', ['backup', 'get', BACKUP, join(tmp, 'js-backup')]);
    assert.deepEqual(new Uint8Array(readFileSync(join(tmp, 'js-backup'))), jsBackup);
    /* the slot from a home that has no account */
    await ok('anon', ['--password-file', join(tmp, 'pp'), 'slot', 'pull', join(tmp, 'js-slot')]);
    assert.deepEqual(new Uint8Array(readFileSync(join(tmp, 'js-slot'))), jsSlot);
  });

test('interop: the export is the account\'s ciphertext, as the CLI exports it', { skip }, async () => {
  assert.ok(js, 'the first test logged in');
  const doc = JSON.parse(new TextDecoder().decode(await gather(await js.export())));
  await ok('c', ['export', join(tmp, 'c-export.json')]);
  const cdoc = JSON.parse(readFileSync(join(tmp, 'c-export.json'), 'utf8'));
  assert.equal(doc.format, 'blindsync-export-1');
  assert.deepEqual(doc.collections, cdoc.collections);
  const text = JSON.stringify(doc);
  assert.ok(!text.includes(COLLECTION) && !text.includes('js-ß-1'), 'no plaintext name in the export');
});

test('interop: sharing both ways between the CLI and the JS Client, fingerprints agreeing', { skip: shareSkip },
  async () => {
    assert.ok(js, 'the first test logged in');
    const other = `${username}js`;
    const j = client();
    await j.register(other, PASSWORD);
    await j.login(other, PASSWORD, { name: 'js2', type: 'test' });
    const jfp = (await j.keys()).fingerprint;
    const cfp = (await ok('c', ['keys'])).stdout.trim().split('\t')[1];
    assert.equal(cfp, (await js.keys()).fingerprint, 'the CLI and JS see one fingerprint for the CLI\'s account');

    /* the CLI shares its collection; JS accepts, reads the CLI's records and writes one the CLI reads */
    const id = (await ok('c', ['share', COLLECTION, other, '--role', 'write'])).stdout.trim().split('\n')[0];
    const [inv] = await j.invitations();
    assert.deepEqual([inv.id, inv.name, inv.from, inv.fingerprint], [id, COLLECTION, username, cfp]);
    assert.deepEqual(await j.accept(id), { name: COLLECTION, owner: username, role: 'write' });
    await j.sync();
    const ref = { name: COLLECTION, owner: username };
    for (const [rid, data] of cRecords)
      assert.deepEqual(await j.get(ref, rid), data, `shared record ${rid}`);
    await j.put(ref, 'from-js ✓', 'written by a JS member');
    await j.sync(ref);
    await ok('c', ['sync']);
    assert.equal((await ok('c', ['get', COLLECTION, 'from-js ✓'])).stdout, 'written by a JS member');

    /* JS shares its own collection with the CLI's account, read only; the CLI accepts and reads */
    await j.put('js-own ✓', 'r', 'a JS owner\'s record');
    await j.sync();
    const inv2 = await j.invite('js-own ✓', username, 'read');
    assert.equal(inv2.fingerprint, cfp);
    const listed = (await ok('c', ['invitations'])).stdout;
    assert.match(listed, new RegExp(`^${inv2.id}\tjs-own ✓\t${other}\t${other}\tread`, 'm'));
    assert.match(listed, new RegExp(jfp), 'the CLI shows the JS inviter\'s fingerprint');
    await ok('c', ['accept', inv2.id]);
    assert.equal((await ok('c', ['get', 'js-own ✓', 'r', '--owner', other])).stdout, 'a JS owner\'s record');

    /* JS removes it: rotated to kv 2, and the CLI's next read is not_found */
    assert.deepEqual(await j.unshare('js-own ✓', username), { rotated: true, keyVersion: 2 });
    const gone = await cli('c', ['get', 'js-own ✓', 'r', '--owner', other]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /not_found|not found/);

    /* a JS member leaves the CLI's collection by itself: the CLI's next sync rotates (kv 2), its grant
       opens for the JS member who stayed, who reads the CLI's next record (sealed at kv 2) */
    const stay = client();
    await stay.register(`${username}st`, PASSWORD);
    await stay.login(`${username}st`, PASSWORD, { name: 'js3', type: 'test' });
    await stay.keys();
    const id3 = (await ok('c', ['share', COLLECTION, `${username}st`, '--role', 'read'])).stdout.trim().split('\n')[0];
    await stay.accept(id3);
    await j.leave(ref);
    assert.deepEqual([(await stay.members(ref)).rotateDue, (await stay.members(ref)).keyVersion], [true, 1]);
    await ok('c', ['sync']);
    const after = await stay.members(ref);
    assert.deepEqual([after.rotateDue, after.keyVersion], [false, 2], 'the CLI\'s sync rotated');
    writeFileSync(join(tmp, 'kv2'), 'sealed at kv 2 by the CLI');
    await ok('c', ['put', COLLECTION, 'kv2 ✓', join(tmp, 'kv2')]);
    await stay.sync();
    assert.equal(new TextDecoder().decode(/** @type {Uint8Array} */ (await stay.get(ref, 'kv2 ✓'))),
      'sealed at kv 2 by the CLI');

    /* and the other way: the CLI leaves a JS collection; the JS owner's next sync rotates */
    const inv4 = await j.invite('js-own ✓', username, 'read');
    await ok('c', ['accept', inv4.id]);
    assert.equal((await ok('c', ['get', 'js-own ✓', 'r', '--owner', other])).stdout, 'a JS owner\'s record');
    await ok('c', ['leave', 'js-own ✓', '--owner', other]);
    assert.equal((await j.members('js-own ✓')).rotateDue, true);
    await j.sync();
    const m = await j.members('js-own ✓');
    assert.deepEqual([m.rotateDue, m.keyVersion], [false, 3]);

    /* a JS admin of the CLI's collection removes a member: its rotation's random key (kv 3) is sealed to
       the CLI owner too, who reads the admin's record and writes under that key, which the admin reads */
    await ok('c', ['role', COLLECTION, `${username}st`, 'admin']);
    const dropped = client();
    await dropped.register(`${username}dr`, PASSWORD);
    await dropped.login(`${username}dr`, PASSWORD, { name: 'js4', type: 'test' });
    await dropped.keys();
    await dropped.accept((await ok('c', ['share', COLLECTION, `${username}dr`, '--role', 'read'])).stdout.trim()
      .split('\n')[0]);
    await stay.sync();
    assert.deepEqual(await stay.unshare(ref, `${username}dr`), { rotated: true, keyVersion: 3 });
    await stay.put(ref, 'by-admin ✓', 'sealed at kv 3 by a JS admin');
    await stay.sync(ref);
    await ok('c', ['sync']);
    assert.equal((await ok('c', ['get', COLLECTION, 'by-admin ✓'])).stdout, 'sealed at kv 3 by a JS admin');
    writeFileSync(join(tmp, 'kv3'), 'sealed at kv 3 by the CLI owner');
    await ok('c', ['put', COLLECTION, 'owner-kv3 ✓', join(tmp, 'kv3')]);
    await stay.sync();
    assert.equal(new TextDecoder().decode(/** @type {Uint8Array} */ (await stay.get(ref, 'owner-kv3 ✓'))),
      'sealed at kv 3 by the CLI owner');
    assert.deepEqual((await dropped.sync()).gone, [COLLECTION]);
    await dropped.logout();
    await stay.logout();
    await j.logout();
  });

test('interop: a C admin\'s rotation read by JS, and a JS admin\'s keyring key read by the C client', { skip: shareSkip },
  async () => {
    assert.ok(js, 'the first test logged in');
    const text = (/** @type {Uint8Array | null} */ b) => new TextDecoder().decode(/** @type {Uint8Array} */ (b));
    /** @type {Client[]} */
    const made = [];
    const account = async (/** @type {string} */ u) => {
      const x = client();
      await x.register(u, PASSWORD);
      await x.login(u, PASSWORD, { name: 'js', type: 'test' });
      await x.keys();
      made.push(x);
      return x;
    };
    const owner = await account(`${username}ao`);
    const stays = await account(`${username}am`);
    const dropped = await account(`${username}ad`);
    const A = 'admin-rot ✓';
    const ref = { name: A, owner: `${username}ao` };
    await owner.put(A, 'r1', 'kv 1 by the JS owner');
    await owner.sync();
    /* the CLI's account is an admin of the JS owner's collection; two JS members */
    await ok('c', ['accept', (await owner.invite(A, username, 'admin')).id]);
    await stays.accept((await owner.invite(A, `${username}am`, 'read')).id);
    await dropped.accept((await owner.invite(A, `${username}ad`, 'read')).id);

    /* the CLI, an admin, removes one: it rotates at once (kv 2, a random key in its keyring) */
    await ok('c', ['unshare', A, `${username}ad`, '--owner', ref.owner]);
    const m = await owner.members(A);
    assert.deepEqual([m.keyVersion, m.rotateDue], [2, false], 'the C admin rotated');
    writeFileSync(join(tmp, 'adm2'), 'kv 2 by the C admin');
    await ok('c', ['put', A, 'r2', join(tmp, 'adm2'), '--owner', ref.owner]);
    /* JS reads what the C admin sealed: the owner (its key of kv 2 is the C admin's grant), the member */
    await owner.sync();
    assert.equal(text(await owner.get(A, 'r2')), 'kv 2 by the C admin');
    await stays.sync();
    assert.equal(text(await stays.get(ref, 'r2')), 'kv 2 by the C admin');
    assert.equal(text(await stays.get(ref, 'r1')), 'kv 1 by the JS owner');
    assert.deepEqual((await dropped.sync()).gone, [A]);
    /* the JS owner writes under the C admin's key; the CLI reads it */
    await owner.put(A, 'r3', 'kv 2 by the JS owner');
    await owner.sync();
    assert.equal((await ok('c', ['get', A, 'r3', '--owner', ref.owner])).stdout, 'kv 2 by the JS owner');

    /* a JS device of the CLI's account finds the C admin's key in the keyring ("granted") ... */
    const me = client();
    await me.login(username, PASSWORD, { name: 'js-me', type: 'test' });
    made.push(me);
    await me.sync();
    assert.equal(text(await me.get(ref, 'r2')), 'kv 2 by the C admin');
    /* ... and rotates as an admin itself (kv 3, its key added to the same keyring member) */
    assert.deepEqual(await me.unshare(ref, `${username}am`), { rotated: true, keyVersion: 3 });
    await me.put(ref, 'r4', 'kv 3 by the JS admin');
    await me.sync(ref);
    /* a fresh C home of that account reads every version: kv 2 and 3 from the keyring, kv 1 granted */
    await ok('c2', ['login', username]);
    for (const [r, want] of [['r1', 'kv 1 by the JS owner'], ['r2', 'kv 2 by the C admin'],
      ['r3', 'kv 2 by the JS owner'], ['r4', 'kv 3 by the JS admin']])
      assert.equal((await ok('c2', ['get', A, r, '--owner', ref.owner])).stdout, want, r);
    /* and writes under kv 3, which the JS owner reads */
    writeFileSync(join(tmp, 'adm3'), 'kv 3 by a second C home');
    await ok('c2', ['put', A, 'r5', join(tmp, 'adm3'), '--owner', ref.owner]);
    await owner.sync();
    assert.equal(text(await owner.get(A, 'r5')), 'kv 3 by a second C home');
    for (const x of made)
      await x.logout();
  });
