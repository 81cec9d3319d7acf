/*
 * security.js: the page's account security (issue 15): the two-factor
 * code asked at sign-in when the server answers mfa_required (mfaPrompt,
 * handed to Client.login), and the account's security view: two-factor
 * login turned on (the otpauth:// URI as a QR code drawn on a canvas, and
 * its secret as text, then a code to confirm it, which shows the ten
 * recovery codes once), turned off, new recovery codes, and a recovery key
 * made and shown once, or removed (the password, then a confirm step). The QR code comes from uqr (an npm package pinned in
 * web/sdk's lockfile, served same-origin under /vendor/ by scripts/www.sh),
 * loaded only when it is needed; without it the URI and the secret show
 * as text.
 *
 * The password, codes and keys are read from their fields once and the
 * fields emptied; the secret, the recovery codes and the recovery key are
 * shown in the page and never kept: "Done" clears them.
 */
import { DecryptError, ServerError } from '/sdk/index.js';

/** uqr's one file, as scripts/www.sh lays it out (its version: web/sdk's lockfile). */
const UQR = '/vendor/uqr@0.1.3/index.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/** The signed-in client the view shows, or null. @type {import('/sdk/index.js').Client | null} */
let client = null;
/** An action runs: the buttons wait for it. */
let busy = false;

/** The security status line; error ones in red. @param {string} text @param {boolean} [error] */
function say(text, error = false) {
  const el = $('security-status');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/** What went wrong, in a sentence. @param {unknown} e */
function failure(e) {
  if (e instanceof DecryptError || (e instanceof ServerError && e.code === 'invalid_credentials'))
    return 'Wrong password.';
  if (e instanceof ServerError && e.code === 'invalid_mfa')
    return 'Wrong code, or a code already used.';
  if (e instanceof ServerError && e.status === 429)
    return 'Too many wrong codes: wait a while and try again.';
  return `${e instanceof Error ? e.message : e}`;
}

/* ---- sign-in: the second factor ---- */

/**
 * The prompt Client.login calls when the server wants a second factor:
 * shows the code form under the sign-in form and resolves with what the
 * user enters there (null on Cancel).
 * @param {boolean} again a code was just refused
 * @returns {Promise<string | null>}
 */
export function mfaPrompt(again) {
  const form = $('mfa-form');
  const code = input('mfa-code');
  const note = $('mfa-status');
  form.hidden = false;
  note.textContent = again ? 'Wrong code, or a code already used: try again.'
    : 'This account has two-factor login: enter the code from your authenticator app, or a recovery code.';
  note.className = again ? 'error' : '';
  code.value = '';
  code.focus();
  return new Promise((resolve) => {
    /** @param {string | null} v */
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      $('mfa-cancel').removeEventListener('click', onCancel);
      form.hidden = true;
      note.textContent = '';
      resolve(v);
    };
    /** @param {Event} ev */
    const onSubmit = (ev) => {
      ev.preventDefault();
      const v = code.value.trim();
      code.value = '';
      done(v || null);
    };
    const onCancel = () => done(null);
    form.addEventListener('submit', onSubmit);
    $('mfa-cancel').addEventListener('click', onCancel);
  });
}

/* ---- the account's security view ---- */

/**
 * Run one action at a time, with the buttons off meanwhile.
 * @param {() => Promise<void>} fn
 */
async function exclusive(fn) {
  if (busy)
    return;
  busy = true;
  for (const b of document.querySelectorAll('#security button'))
    /** @type {HTMLButtonElement} */ (b).disabled = true;
  try {
    await fn();
  } catch (e) {
    say(failure(e), true);
  } finally {
    busy = false;
    for (const b of document.querySelectorAll('#security button'))
      /** @type {HTMLButtonElement} */ (b).disabled = false;
  }
}

/** The password field's value, emptied; a message when it is empty. */
function password() {
  const v = input('security-password').value;
  input('security-password').value = '';
  if (!v)
    throw new Error('Enter your current password first.');
  return v;
}

/** The code field's value, emptied; a message when it is empty. */
function code() {
  const v = input('security-code').value.trim();
  input('security-code').value = '';
  if (!v)
    throw new Error('Enter a code from your authenticator app (or a recovery code) first.');
  return v;
}

/** Show what is on. */
async function refresh() {
  const c = client;
  if (!c)
    return;
  const s = await c.security();
  $('security-state').textContent = `Two-factor login: ${s.totp ? 'on' : 'off'}. Recovery key: ${s.recoveryKey ? 'set' : 'none'}.`;
  $('totp-on').hidden = s.totp;
  $('totp-off').hidden = !s.totp;
  $('totp-codes').hidden = !s.totp;
  $('recovery-key-delete').hidden = !s.recoveryKey;
}

/** Empty the shown secrets. */
function clearOut() {
  $('security-out').replaceChildren();
}

/**
 * A block of shown secrets with a heading, a note and a "Done" button that
 * clears them.
 * @param {string} title
 * @param {string} note
 * @param {Node[]} content
 */
function reveal(title, note, content) {
  const h = document.createElement('h3');
  h.textContent = title;
  h.tabIndex = -1;
  const p = document.createElement('p');
  p.textContent = note;
  const done = document.createElement('button');
  done.type = 'button';
  done.textContent = 'Done';
  done.addEventListener('click', clearOut);
  $('security-out').replaceChildren(h, p, ...content, done);
  h.focus();
}

/** A pre block of text lines. @param {string[]} lines @param {string} id */
function pre(lines, id) {
  const el = document.createElement('pre');
  el.className = 'data';
  el.id = id;
  el.tabIndex = 0;
  el.textContent = lines.join('\n');
  return el;
}

/**
 * The otpauth:// URI as a QR code on a canvas (4 modules of quiet zone),
 * or null when uqr cannot be loaded.
 * @param {string} uri
 * @returns {Promise<HTMLCanvasElement | null>}
 */
async function qr(uri) {
  let mod;
  try {
    mod = await import(UQR);
  } catch {
    return null;
  }
  const { data, size } = mod.encode(uri, { ecc: 'M', border: 4 });
  const scale = Math.max(2, Math.floor(240 / size));
  const canvas = document.createElement('canvas');
  canvas.id = 'totp-qr';
  canvas.width = canvas.height = size * scale;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'QR code of the two-factor secret, for an authenticator app');
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#000';
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if (data[y][x])
        g.fillRect(x * scale, y * scale, scale, scale);
  return canvas;
}

/** Turn two-factor login on: the secret shown, then a code confirms it. */
async function totpOn() {
  const c = client;
  if (!c)
    return;
  say('Deriving keys from the password…');
  const { secret, uri } = await c.totpEnable(password());
  const picture = await qr(uri);
  const form = document.createElement('form');
  form.id = 'totp-confirm-form';
  const label = document.createElement('label');
  label.htmlFor = 'totp-confirm-code';
  label.textContent = 'Code from the app';
  const field = document.createElement('input');
  field.id = 'totp-confirm-code';
  field.autocomplete = 'one-time-code';
  field.inputMode = 'numeric';
  field.required = true;
  const ok = document.createElement('button');
  ok.type = 'submit';
  ok.textContent = 'Confirm';
  form.append(label, field, ok);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = field.value.trim();
    field.value = '';
    void exclusive(async () => {
      const codes = await c.totpConfirm(v);
      reveal('Recovery codes', 'Two-factor login is on. These ten recovery codes are shown once: each signs in ' +
        'once in place of a code from the app. Keep them apart from your password (printed, or in a password manager).',
      [pre(codes, 'recovery-codes')]);
      say('Two-factor login is on.');
      await refresh();
    });
  });
  reveal('Add this account to your authenticator app', picture
    ? 'Scan the QR code, or type the secret, then enter the code the app shows. Two-factor login is not on until then.'
    : 'Type the secret (or open the link) in the app, then enter the code it shows. (The QR code could not be loaded.)',
  [...(picture ? [picture] : []), pre([`secret: ${secret}`, uri], 'totp-secret'), form]);
  say('');
  field.focus();
}

/** Turn two-factor login off. */
async function totpOff() {
  const c = client;
  if (!c)
    return;
  const pw = password();
  const k = code();
  say('Deriving keys from the password…');
  await c.totpDisable(pw, k);
  clearOut();
  say('Two-factor login is off.');
  await refresh();
}

/** A new set of recovery codes. */
async function newCodes() {
  const c = client;
  if (!c)
    return;
  const pw = password();
  const k = code();
  say('Deriving keys from the password…');
  const codes = await c.recoveryCodes(pw, k);
  reveal('New recovery codes', 'The old codes no longer work. These are shown once: keep them apart from your password.',
    [pre(codes, 'recovery-codes')]);
  say('');
}

/** Make a recovery key and show it once. */
async function recoveryKey() {
  const c = client;
  if (!c)
    return;
  say('Deriving keys from the password…');
  const key = await c.recoveryKeyCreate(password());
  reveal('Your recovery key', 'Shown this once. With it you can set a new password if you forget yours and keep ' +
    'every record; without your password and this key, your data is gone for good, by design. Keep it offline, ' +
    'apart from your password. A new key replaces any earlier one.', [pre([key], 'recovery-key')]);
  say('');
  await refresh();
}

/** Remove the recovery key: a confirm step, then the password. */
async function recoveryKeyRemove() {
  const c = client;
  if (!c)
    return;
  const yes = document.createElement('button');
  yes.type = 'button';
  yes.textContent = 'Yes, remove it';
  const no = document.createElement('button');
  no.type = 'button';
  no.textContent = 'Keep it';
  no.addEventListener('click', () => { clearOut(); say(''); });
  yes.addEventListener('click', () => void exclusive(async () => {
    const pw = password();
    say('Deriving keys from the password…');
    await c.recoveryKeyDelete(pw);
    clearOut();
    say('The recovery key is removed: it no longer sets a new password.');
    await refresh();
  }));
  reveal('Remove the recovery key?', 'Enter your current password above, then confirm. Without a recovery key, ' +
    'a forgotten password means your data is gone for good.', [yes, no]);
  say('');
}

let wired = false;

/**
 * Show the security view of signed-in client c (null: hide it and forget
 * what it showed).
 * @param {import('/sdk/index.js').Client | null} c
 */
export async function showSecurity(c) {
  client = c;
  clearOut();
  say('');
  $('security').hidden = !c;
  if (!c)
    return;
  if (!wired) {
    wired = true;
    $('totp-on').addEventListener('click', () => exclusive(totpOn));
    $('totp-off').addEventListener('click', () => exclusive(totpOff));
    $('totp-codes').addEventListener('click', () => exclusive(newCodes));
    $('recovery-key-btn').addEventListener('click', () => exclusive(recoveryKey));
    $('recovery-key-delete').addEventListener('click', () => exclusive(recoveryKeyRemove));
    $('security-form').addEventListener('submit', (ev) => ev.preventDefault());
  }
  try {
    await refresh();
  } catch (e) {
    say(failure(e), true);
  }
}
