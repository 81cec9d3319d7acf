/*
 * app.js: the blindsync page (issue 11), an ES module over the SDK
 * (/sdk/ is web/sdk/src, served by nginx on the API's origin). Sign in,
 * list the account's collections by their decrypted names and their
 * records decrypted, edited and deleted (records.js, which also watches
 * the account), its devices (devices.js) and backups (backups.js);
 * set a new password with the recovery key (issue 15: Client.recover,
 * then signed in; every other device is signed out); share collections
 * (issue 14: share.js, loaded at the first sign-in); open an anonymous
 * slot by passphrase. The passwords, the recovery key
 * and the passphrase are read from their fields once and never stored; the
 * data key lives only in the Client's memory (MemoryStorage) and is
 * wiped on sign out, unless "remember this device" is ticked (session.js:
 * IndexedDB, sealed under a non-extractable key). A record that does not
 * open shows "cannot decrypt".
 */
import { Client, DecryptError, RecoveryKeyError, ServerError } from '/sdk/index.js';
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
/** The sharing view (share.js), loaded at the first sign-in too. */
const sharing = () => import('/app/share.js');

/** The signed-in client, or null. @type {Client | null} */
let client = null;

/** Show a status line; error ones in red. */
function status(id, text, error = false) {
  const el = $(id);
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/**
 * Show the account of signed-in client c: its records, after the one sync
 * of the watch's first round (startRecords), then the other views.
 * @param {Client} c
 */
async function enter(c) {
  const share = await sharing();
  await startRecords(c, () => leave('This device was signed out (revoked, or the session ended): sign in again.'),
    () => share.refreshInvitations(c));
  client = c;
  $('who').textContent = c.session?.username ?? '';
  void renderDevices(c);
  $('signin').hidden = true;
  $('account').hidden = false;
  await share.showSharing(c, () => renderAccount(c));
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

/** A field by id. @param {string} id */
const field = (id) => /** @type {HTMLInputElement} */ ($(id));

/* forgot the password: a new one set with the recovery key, then signed
   in (in memory only; the key and both passwords are read once, the fields
   emptied) */
$('recover-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const btn = /** @type {HTMLButtonElement} */ ($('recover-btn'));
  const user = field('recover-username').value;
  const key = field('recover-key').value;
  const pw = field('recover-password').value;
  const again = field('recover-password2').value;
  for (const id of ['recover-key', 'recover-password', 'recover-password2'])
    field(id).value = '';
  if (pw !== again) {
    status('recover-status', 'The two new passwords differ: type the key and the new password again.', true);
    field('recover-key').focus();
    return;
  }
  btn.disabled = true;
  /** @type {Client | null} */
  let c = null;
  try {
    c = await clientFor(false, { kdfStatus: kdfProgress($('recover-status'), 'Deriving keys') });
    status('recover-status', 'Checking the recovery key…');
    await c.recover(user, key, pw, { name: 'web page', type: 'browser' }, { prompt: mfaPrompt });
    status('recover-status', 'Password reset; fetching records…');
    await enter(c);
    status('recover-status', '');
    status('signin-status', '');
    /** @type {HTMLDetailsElement} */ ($('recover')).open = false;
    status('recovered-status', 'Password reset. Every other device of this account was signed out, and the ' +
      'recovery key is used up: make a new one under Security.');
    $('account-h').focus();
  } catch (e) {
    /* the login after the reset can fail on its second factor: the password is new by then */
    const msg = e instanceof RecoveryKeyError ? 'This is not a recovery key: 32 letters and digits 2-7, in groups of four.'
      : (e instanceof ServerError && e.code === 'invalid_credentials') || e instanceof DecryptError
        ? 'This recovery key does not match this account (or the account has none).'
        : e instanceof ServerError && (e.code === 'mfa_required' || e.code === 'invalid_mfa')
          ? 'Password reset: sign in with the new one (and your two-factor code).'
          : e instanceof ServerError && e.status === 429 ? 'Too many tries: wait a while and try again.'
            : `Recovery failed: ${e instanceof Error ? e.message : e}`;
    status('recover-status', msg, true);
    await signOut(c);
    field('recover-key').focus();
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
  await (await sharing()).showSharing(null);
  $('account').hidden = true;
  status('recovered-status', '');
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
