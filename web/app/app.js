/*
 * app.js: the blindsync page (issue 11), an ES module over the SDK
 * (/sdk/ is web/sdk/src, served by nginx on the API's origin). Sign in,
 * list the account's collections by their decrypted names and their
 * records decrypted, edited and deleted (records.js, which also watches
 * the account), its devices (devices.js) and backups (backups.js);
 * open an anonymous slot by passphrase. The password
 * and passphrase are read from their fields once and never stored; the
 * data key lives only in the Client's memory (MemoryStorage) and is
 * wiped on sign out, unless "remember this device" is ticked (session.js:
 * IndexedDB, sealed under a non-extractable key). A record that does not
 * open shows "cannot decrypt".
 */
import { Client, DecryptError, ServerError } from '/sdk/index.js';
import { kdfProgress } from '/app/kdf.js';
import { clientFor, restore, signOut } from '/app/session.js';
import { showBackups } from '/app/backups.js';
import { dataBlock, renderAccount, startRecords, stopRecords } from '/app/records.js';
import { hideDevices, renderDevices } from '/app/devices.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The security view and the sign-in's code prompt (security.js), loaded at
 * the first sign-in rather than with the page: the first load stays as it was. */
const security = () => import('/app/security.js');
/** The prompt Client.login calls for a second factor. @param {boolean} again */
const mfaPrompt = async (again) => (await security()).mfaPrompt(again);

/** The signed-in client, or null. @type {Client | null} */
let client = null;

/** Show a status line; error ones in red. */
function status(id, text, error = false) {
  const el = $(id);
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/**
 * Show the account of signed-in client c: sync, then its records.
 * @param {Client} c
 */
async function enter(c) {
  await c.sync();
  client = c;
  $('who').textContent = c.session?.username ?? '';
  await renderAccount(c);
  startRecords(c, () => leave('This device was signed out (revoked, or the session ended): sign in again.'));
  void renderDevices(c);
  $('signin').hidden = true;
  $('account').hidden = false;
  await (await security()).showSecurity(c);
  await showBackups(c);
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const user = /** @type {HTMLInputElement} */ ($('username'));
  const pw = /** @type {HTMLInputElement} */ ($('password'));
  const btn = /** @type {HTMLButtonElement} */ ($('signin-btn'));
  btn.disabled = true;
  const remember = /** @type {HTMLInputElement} */ ($('remember')).checked;
  /** @type {Client | null} */
  let c = null;
  try {
    c = await clientFor(remember, { kdfStatus: kdfProgress($('signin-status'), 'Deriving keys from the password') });
    status('signin-status', 'Signing in…');
    const password = pw.value;
    pw.value = '';
    await c.login(user.value, password, { name: 'web page', type: 'browser' }, { prompt: mfaPrompt });
    status('signin-status', `Signed in (keys derived in ${$('signin-status').dataset.kdfMs} ms); fetching records…`);
    await enter(c);
    status('signin-status', '');
    $('account-h').focus();
  } catch (e) {
    const msg = e instanceof ServerError && e.code === 'mfa_required' ? 'Sign-in needs a two-factor code.'
      : e instanceof ServerError && e.code === 'invalid_mfa' ? 'Wrong two-factor code, or a code already used.'
      : e instanceof ServerError && e.status === 429 ? 'Too many tries: wait a while and sign in again.'
      : e instanceof ServerError && e.status === 401 ? 'Wrong username or password.'
      : e instanceof DecryptError ? 'cannot decrypt the keyring: wrong password or altered data.'
        : `Sign-in failed: ${e instanceof Error ? e.message : e}`;
    status('signin-status', msg, true);
    await signOut(c);
    pw.focus();
  } finally {
    btn.disabled = false;
  }
});

/**
 * Sign out (the SDK wipes the data key; a remembered device's database
 * goes) and say why.
 * @param {string} why
 */
async function leave(why) {
  const c = client;
  client = null;
  stopRecords();
  hideDevices();
  await signOut(c);
  await showBackups(null);
  await (await security()).showSecurity(null);
  $('account').hidden = true;
  $('signin').hidden = false;
  status('signin-status', why, why !== 'Signed out.');
  $('username').focus();
}

$('signout-btn').addEventListener('click', () => leave('Signed out.'));

$('slot-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const pp = /** @type {HTMLInputElement} */ ($('passphrase'));
  const btn = /** @type {HTMLButtonElement} */ ($('slot-btn'));
  const out = $('slot-out');
  out.hidden = true;
  btn.disabled = true;
  try {
    const passphrase = pp.value;
    pp.value = '';
    const anon = new Client({ url: location.origin,
      kdfStatus: kdfProgress($('slot-status'), 'Deriving the slot key from the passphrase') });
    const got = await anon.slotGet(passphrase, {
      progress: (done, total) => status('slot-status', `Downloading and decrypting: ${done} of ${total} bytes`),
    });
    if (!got)
      throw new ServerError(404, 'not_found', 'no slot');
    const data = new Uint8Array(await new Response(got.stream).arrayBuffer());
    const block = dataBlock(data);
    out.textContent = block.textContent;
    out.dataset.kind = block.dataset.kind;
    out.hidden = false;
    status('slot-status', `Slot opened (version ${got.version}, ${data.length} bytes, ${block.dataset.kind}).`);
    out.focus();
  } catch (e) {
    const msg = e instanceof ServerError && e.status === 404 ? 'No slot for this passphrase.'
      : e instanceof DecryptError ? 'cannot decrypt this slot: it was altered.'
        : `Could not open the slot: ${e instanceof Error ? e.message : e}`;
    status('slot-status', msg, true);
    pp.focus();
  } finally {
    btn.disabled = false;
  }
});

/* a remembered device: back in with no password (a session that ended on
   the server meanwhile is forgotten: sign in again) */
(async () => {
  let c = null;
  try {
    c = await restore();
    if (!c)
      return;
    status('signin-status', 'Signing in with this device\'s remembered session…');
    await enter(c);
    status('signin-status', '');
  } catch (e) {
    await signOut(c);
    status('signin-status', `The remembered session ended (${e instanceof Error ? e.message : e}): sign in again.`, true);
  }
})();
