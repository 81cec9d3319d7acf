/*
 * mfa.test.js: account security in the Client (issue 15) against the REAL
 * server (stack.js): a password reset with the recovery key keeps every
 * record readable, logs every old device out, and uses the key up; and
 * two-factor login with TOTP codes computed here from the secret the
 * server gave (test/totp.js: RFC 6238, HMAC-SHA1, 6 digits, 30 s), its
 * recovery codes single use, five wrong codes locking them (a 429 thrown
 * at once, not retried). Skipped without the C build.
 *
 * Codes are picked to be valid whatever the clock does: each one is for the
 * step after the last one used (the server refuses a step already used),
 * and never more than one step ahead of now (the server's drift window):
 * the fourth code of a test waits for the clock's next step (at most 30 s).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, MemoryStorage, ServerError, bs1 } from '../src/index.js';
import { BIN, built, startStack, stopStack } from './stack.js';
import { codes, totpCode } from './totp.js';

const skip = built ? false : `no C build in ${BIN} (build/blindsync-status is missing): run make first`;
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a new and different password';

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
  return `mfa${process.pid}x${++users}`;
}

/** A Client on the stack with its own storage (one simulated device). */
function device() {
  return new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage() });
}

const text = (/** @type {Uint8Array | null} */ b) => (b === null ? null : new TextDecoder().decode(b));

test('totpCode: the SHA-1 vectors of RFC 6238 Appendix B', () => {
  const key = Buffer.from('12345678901234567890');
  const vec = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
    [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']];
  for (const [time, eight] of vec)
    assert.equal(totpCode(key, Math.floor(Number(time) / 30)), String(eight).slice(2));
});

/** A ServerError of this status and code. */
const refused = (/** @type {number} */ status, /** @type {string} */ code) =>
  (/** @type {any} */ e) => e instanceof ServerError && e.status === status && e.code === code;

test('recover: a new password with the recovery key, every record still readable', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device();
  await a.login(u, PASSWORD, { name: 'old laptop', type: 'test' });
  await a.put('notes', 'one', 'first note');
  await a.put('notes', 'two', 'second note');
  await a.put('todo', 'milk', 'buy milk');
  await a.sync();
  assert.deepEqual(await a.security(), { totp: false, recoveryKey: false });
  await assert.rejects(a.recoveryKeyCreate('not the password'), (e) => e instanceof bs1.DecryptError);
  const key = await a.recoveryKeyCreate(PASSWORD);
  assert.match(key, /^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$/);
  assert.deepEqual(await a.security(), { totp: false, recoveryKey: true });

  /* the password is forgotten; a new device recovers (the key typed in lower case, with spaces) */
  const b = device();
  const typed = key.toLowerCase().replace(/-/g, ' ');
  await assert.rejects(b.recover(u, bs1.recoveryText(new Uint8Array(20)), NEW_PASSWORD),
    refused(401, 'invalid_credentials'));
  await b.recover(u, typed, NEW_PASSWORD, { name: 'new laptop', type: 'test' });
  await b.sync();
  assert.equal(text(await b.get('notes', 'one')), 'first note');
  assert.equal(text(await b.get('notes', 'two')), 'second note');
  assert.equal(text(await b.get('todo', 'milk')), 'buy milk');
  assert.deepEqual((await b.collections()).map((x) => x.name), ['notes', 'todo']);
  assert.deepEqual(await b.security(), { totp: false, recoveryKey: false });

  /* the old password, the old device and the used key no longer work */
  await assert.rejects(device().login(u, PASSWORD), refused(401, 'invalid_credentials'));
  await assert.rejects(a.sync(), (e) => e instanceof ServerError && e.status === 401);
  await assert.rejects(device().recover(u, key, 'yet another password'), refused(401, 'invalid_credentials'));
  /* the new password works on a third device, and writes go on */
  const c = device();
  await c.login(u, NEW_PASSWORD);
  await c.sync();
  assert.equal(text(await c.get('notes', 'one')), 'first note');
  await b.put('notes', 'three', 'after the reset');
  await b.sync();
  await c.sync();
  assert.equal(text(await c.get('notes', 'three')), 'after the reset');
});

test('totp: enable, login with a code, a prompt, a recovery code once, disable', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device();
  await a.login(u, PASSWORD);
  await assert.rejects(a.totpEnable('not the password'), refused(401, 'invalid_credentials'));
  const { secret, uri } = await a.totpEnable(PASSWORD);
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.match(uri, /^otpauth:\/\/totp\//);
  assert.ok(uri.includes(`secret=${secret}`));
  /* not on until confirmed */
  await device().login(u, PASSWORD);
  const { next, wrong } = codes(secret);
  const rc = await a.totpConfirm(await next());
  assert.equal(rc.length, 10);
  assert.equal(new Set(rc).size, 10);
  assert.deepEqual(await a.security(), { totp: true, recoveryKey: false });

  await assert.rejects(device().login(u, PASSWORD), refused(401, 'mfa_required'));
  await assert.rejects(device().login(u, 'not the password', undefined, { code: wrong() }),
    refused(401, 'invalid_credentials'));
  await assert.rejects(device().login(u, PASSWORD, undefined, { code: wrong() }),
    refused(401, 'invalid_mfa'));
  const code = await next();
  await device().login(u, PASSWORD, undefined, { code });
  await assert.rejects(device().login(u, PASSWORD, undefined, { code }), refused(401, 'invalid_mfa'),
    'a code used once is refused');

  /* the prompt: asked once, and again after a wrong code; the same auth_key resent
   * (the good answer a recovery code, to spare the clock's steps) */
  /** @type {boolean[]} */
  const asked = [];
  const d = device();
  await d.login(u, PASSWORD, undefined, { prompt: (again) => {
    asked.push(again);
    return asked.length === 1 ? wrong() : rc[0];
  } });
  assert.deepEqual(asked, [false, true]);
  assert.ok(d.loggedIn);
  await assert.rejects(device().login(u, PASSWORD, undefined, { prompt: () => null }),
    refused(401, 'mfa_required'));

  /* a recovery code works once */
  await device().login(u, PASSWORD, undefined, { code: rc[1] });
  await assert.rejects(device().login(u, PASSWORD, undefined, { code: rc[1] }), refused(401, 'invalid_mfa'));
  /* a new set: the old one stops working */
  const rc2 = await a.recoveryCodes(PASSWORD, await next());
  assert.equal(rc2.length, 10);
  await assert.rejects(device().login(u, PASSWORD, undefined, { code: rc[1] }), refused(401, 'invalid_mfa'));
  await device().login(u, PASSWORD, undefined, { code: rc2[1] });

  await a.totpDisable(PASSWORD, await next());
  assert.deepEqual(await a.security(), { totp: false, recoveryKey: false });
  await device().login(u, PASSWORD);
});

test('totp: five wrong codes lock the codes; the next login is a 429 at once, not retried', { skip }, async () => {
  const u = user();
  await device().register(u, PASSWORD);
  const a = device();
  await a.login(u, PASSWORD);
  const { secret } = await a.totpEnable(PASSWORD);
  const { next, wrong } = codes(secret);
  await a.totpConfirm(await next());
  for (let i = 0; i < 5; i++)
    await assert.rejects(device().login(u, PASSWORD, undefined, { code: wrong() }), refused(401, 'invalid_mfa'));
  /* locked for the server's lockout (15 minutes): even the right code; one request, no wait */
  let logins = 0;
  const counting = new Client({ url: /** @type {any} */ (stack).url, storage: new MemoryStorage(),
    fetch: (url, init) => {
      if (String(url).endsWith('/v1/account/login'))
        logins++;
      return fetch(url, init);
    } });
  await assert.rejects(counting.login(u, PASSWORD, undefined, { code: await next() }),
    (e) => e instanceof ServerError && e.status === 429);
  assert.equal(logins, 1);
});
