/*
 * app.js: the blindsync page (issue 11), an ES module over the SDK
 * (/sdk/ is web/sdk/src, served by nginx on the API's origin). Sign in,
 * list the account's collections by their decrypted names and their
 * records decrypted; open an anonymous slot by passphrase. The password
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

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The signed-in client, or null. @type {Client | null} */
let client = null;

/** Show a status line; error ones in red. */
function status(id, text, error = false) {
  const el = $(id);
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/** Bytes as text for a person: pretty JSON, else UTF-8 text, else hex. @param {Uint8Array} data */
function show(data) {
  let text = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch { /* not UTF-8 */ }
  if (text !== null) {
    try {
      return { kind: 'JSON', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch { /* not JSON */ }
    if (!/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text))
      return { kind: 'text', text };
  }
  const hex = Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { kind: `hex, ${data.length} bytes`, text: hex.replace(/((?:\S\S ){16})/g, '$1\n') };
}

/** A pre block holding shown data. @param {Uint8Array} data */
function dataBlock(data) {
  const s = show(data);
  const pre = document.createElement('pre');
  pre.className = 'data';
  pre.tabIndex = 0;
  pre.dataset.kind = s.kind;
  pre.textContent = s.text;
  return pre;
}

/** Give the thread back to the browser (input, painting) for a moment. */
function yieldThread() {
  /* scheduler.yield (Chromium 129+) resumes first; a timer otherwise */
  const sched = /** @type {any} */ (globalThis).scheduler;
  return typeof sched?.yield === 'function' ? sched.yield() : new Promise((r) => setTimeout(r, 0));
}

/** Records opened between two yields of the page's thread. */
const OPEN_CHUNK = 512;

/**
 * Collection A's records, each opened on its own so that one bad record shows
 * "cannot decrypt" and the others still show (Client.list fails whole).
 * Reads the Client's local copy the way Client.list does.
 * @param {Client} c
 * @param {string} A
 */
async function records(c, A) {
  const col = await c.collectionName(A);
  const rows = new Map();
  for (const prefix of ['r', 'q'])
    for (const k of await c.storage.keys(c.key(prefix, col, ''))) {
      const e = await c.storage.get(k);
      rows.set(k.slice(k.lastIndexOf('/') + 1), e.env);
    }
  const live = [...rows].filter(([, env]) => env !== null).map(([rid, env]) => ({ rid, env }));
  const out = [];
  /* Client.openRecords opens a chunk side by side (Web Crypto works off
     the thread); between chunks, yield and say how far it got, so that
     10,000 records never freeze the page */
  for (let i = 0; i < live.length; i += OPEN_CHUNK) {
    if (i > 0) {
      status('signin-status', `Decrypting ${A}: ${i} of ${live.length} records…`);
      await yieldThread();
    }
    for (const o of await c.openRecords(col, live.slice(i, i + OPEN_CHUNK)))
      out.push(o instanceof DecryptError ? { id: null, data: null } : { id: o.a, data: o.data });
  }
  return out.sort((x, y) => String(x.id) < String(y.id) ? -1 : 1);
}

/**
 * Records shown at a time in a collection: a longer list is paged ("Show
 * more"), so that 10,000 records are decrypted and listed without holding
 * the page's thread for the seconds that 10,000 rows of 1 KiB take to lay
 * out (make bench: tests/bench/page.sh).
 */
const PAGE = 100;

/** One record's view: its id and data, or "cannot decrypt". @param {{id: string | null, data: Uint8Array | null}} r */
function recordView(r) {
  const div = document.createElement('div');
  div.className = 'record';
  const h4 = document.createElement('h4');
  if (r.data === null) {
    h4.textContent = '(a record)';
    const p = document.createElement('p');
    p.className = 'bad';
    p.textContent = 'cannot decrypt: this record was altered or is not for this account';
    div.append(h4, p);
  } else {
    h4.textContent = r.id;
    div.append(h4, dataBlock(r.data));
  }
  return div;
}

/**
 * A collection's records, PAGE at a time: the list (its data-count is the
 * number of records, all decrypted) and a "Show more" button that appends
 * the next page (the focus moves to its first record once no more is left).
 * @param {{id: string | null, data: Uint8Array | null}[]} recs
 */
function recordList(recs) {
  const list = document.createElement('div');
  list.className = 'records';
  list.dataset.count = String(recs.length);
  const more = document.createElement('button');
  more.type = 'button';
  const showMore = () => {
    const from = list.childElementCount;
    const views = recs.slice(from, from + PAGE).map(recordView);
    list.append(...views);
    const shown = list.childElementCount;
    more.hidden = shown >= recs.length;
    more.textContent = `Show ${Math.min(PAGE, recs.length - shown)} more (${shown} of ${recs.length} shown)`;
    return views;
  };
  more.addEventListener('click', () => {
    const views = showMore();
    if (more.hidden)
      views[0]?.querySelector('pre')?.focus();
  });
  showMore();
  return [list, more];
}

/** Render the account's collections and records. @param {Client} c */
async function renderAccount(c) {
  const box = $('collections');
  box.replaceChildren();
  const cols = await c.collections();
  if (cols.length === 0)
    box.textContent = 'No collections yet.';
  for (const col of cols) {
    const h = document.createElement('h3');
    h.textContent = col.name;
    box.append(h, ...recordList(await records(c, col.name)));
  }
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
  $('signin').hidden = true;
  $('account').hidden = false;
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
    await c.login(user.value, password, { name: 'web page', type: 'browser' });
    status('signin-status', `Signed in (keys derived in ${$('signin-status').dataset.kdfMs} ms); fetching records…`);
    await enter(c);
    status('signin-status', '');
    $('account-h').focus();
  } catch (e) {
    const msg = e instanceof ServerError && e.status === 401 ? 'Wrong username or password.'
      : e instanceof DecryptError ? 'cannot decrypt the keyring: wrong password or altered data.'
        : `Sign-in failed: ${e instanceof Error ? e.message : e}`;
    status('signin-status', msg, true);
    await signOut(c);
    pw.focus();
  } finally {
    btn.disabled = false;
  }
});

$('signout-btn').addEventListener('click', async () => {
  const c = client;
  client = null;
  await signOut(c);
  await showBackups(null);
  $('collections').replaceChildren();
  $('account').hidden = true;
  $('signin').hidden = false;
  status('signin-status', 'Signed out.');
  $('username').focus();
});

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
