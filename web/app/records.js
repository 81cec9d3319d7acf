/*
 * records.js: the page's records view (issue 11), over the SDK's Client:
 * the account's collections and records decrypted, and on each record
 * Edit (a textarea; Save is put + sync from the version shown), Delete
 * (after a confirm step) and History (the versions the server keeps,
 * opened, newest first). While signed in the view watches the account
 * (Client.watch) and redraws when another device changed something.
 * Collections shared with this account (issue 14) show with their owner
 * and role, and every collection has Members (and Share, for its owner
 * or an admin: share.js, loaded when first used).
 *
 * What it must never do: write over a version the user has not seen. An
 * edit or a delete is queued with the version it started from as its
 * base, so if the record changed elsewhere meanwhile the push conflicts
 * and the Client's merge callback (here) shows both sides and waits:
 * nothing is pushed until the user picks "Keep mine" or "Keep theirs".
 * While an edit or a delete is open the view is not redrawn under it; a
 * change of that record is marked "changed elsewhere" instead. It keeps
 * no plaintext anywhere but the DOM and never logs.
 */
import { DecryptError, ServerError, SessionError } from '/sdk/index.js';
import { button, el } from '/app/dom.js';

/**
 * Bytes as text for a person: pretty JSON, else UTF-8 text, else hex;
 * raw is the text a textarea can hold unchanged (null for binary data).
 * @param {Uint8Array} data
 * @returns {{ kind: string, text: string, raw: string | null }}
 */
export function show(data) {
  let text = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch { /* not UTF-8 */ }
  if (text !== null) {
    try {
      return { kind: 'JSON', text: JSON.stringify(JSON.parse(text), null, 2), raw: text };
    } catch { /* not JSON */ }
    if (!/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text))
      return { kind: 'text', text, raw: text };
  }
  const hex = Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { kind: `hex, ${data.length} bytes`, text: hex.replace(/((?:\S\S ){16})/g, '$1\n'), raw: null };
}

/**
 * A pre block holding shown data.
 * @param {Uint8Array} data
 * @returns {HTMLPreElement}
 */
export function dataBlock(data) {
  const s = show(data);
  const pre = document.createElement('pre');
  pre.className = 'data';
  pre.tabIndex = 0;
  pre.dataset.kind = s.kind;
  pre.textContent = s.text;
  return pre;
}

/**
 * Offer a Blob as a file download named name (an object URL, revoked a
 * minute later): the one way the page saves what it decrypted.
 * @param {Blob} blob
 * @param {string} name
 */
export function saveFile(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

/**
 * An edit or a delete under way on one record: the view is not redrawn
 * while one is open.
 * @typedef {object} Pending
 * @property {'edit' | 'delete'} kind
 * @property {HTMLElement} panel where it shows (inside the record)
 * @property {boolean} saving its put/delete and sync are under way
 * @property {'mine' | 'theirs' | null} choice the user's last answer to a conflict (whichever
 *   sync met it: the page's own or the watch's)
 * @property {(note: string) => void} elsewhere mark it "changed elsewhere"
 * @property {(cf: import('/sdk/index.js').Conflict) => Promise<Uint8Array | null | undefined>} conflict
 *   show both sides; resolves with the merge callback's answer once the user chose
 * @property {() => void} cancel give up (sign out): a conflict shown resolves as "keep theirs"
 */

/** The view's state while signed in. */
const view = {
  /** @type {import('/sdk/index.js').Client | null} */
  client: null,
  /** @type {Map<string, Pending>} by recordKey() */
  pending: new Map(),
  /** another device changed something while a pending was open: redraw when the last one closes */
  stale: false,
  /** @type {AbortController | null} stops the watch */
  watch: null,
  /** ids of the form controls made so far */
  seq: 0,
  /** the collections drawn, with owner and role (shapeOf): a watch round that changes them redraws */
  shape: '',
};

/**
 * The collections as drawn: names, owners and roles.
 * @param {{ name: string, owner?: string, role?: string }[]} cols
 */
function shapeOf(cols) {
  return JSON.stringify(cols.map((x) => [x.name, x.owner ?? null, x.role ?? null]));
}

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * A collection as the SDK names it: A for an own one, {name, owner} for
 * one shared with this account (always built here, so that its JSON is
 * one string per collection).
 * @typedef {import('/sdk/index.js').CollectionRef} Ref
 */

/** The Ref of a collection listed or reported with an owner. @param {{ collection: string, owner?: string }} x */
function refOf(x) {
  return x.owner ? { name: x.collection, owner: x.owner } : x.collection;
}

/** A key for record a of collection A. @param {Ref} A @param {string} a */
function recordKey(A, a) {
  return JSON.stringify([A, a]);
}

/** The sharing part (share.js), loaded when first used. */
const sharing = () => import('/app/share.js');

/** The records view's status line; error ones in red. @param {string} text @param {boolean} [error] */
function status(text, error = false) {
  const s = $('records-status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

/** A failure as a sentence. @param {unknown} e */
function why(e) {
  return e instanceof Error ? e.message : String(e);
}

/** Give the thread back to the browser (input, painting) for a moment. */
function yieldThread() {
  /* scheduler.yield (Chromium 129+) resumes first; a timer otherwise */
  const sched = /** @type {any} */ (globalThis).scheduler;
  return typeof sched?.yield === 'function' ? sched.yield() : new Promise((r) => setTimeout(r, 0));
}

/**
 * Records shown at a time in a collection: a longer list is paged ("Show
 * more"), so that 10,000 records are decrypted and listed without holding
 * the page's thread for the seconds that 10,000 rows of 1 KiB take to lay
 * out (make bench: tests/bench/page.sh).
 */
const PAGE = 100;

/** Records opened between two yields of the page's thread. */
const OPEN_CHUNK = 512;

/**
 * Collection A's records from the Client's local copy, each opened on its
 * own so that one bad record shows "cannot decrypt" and the others still
 * show (Client.list fails whole); with the version each came from.
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @returns {Promise<{ id: string | null, data: Uint8Array | null, version: number }[]>}
 */
async function records(c, A) {
  const t = await c.target(A);
  const label = typeof A === 'string' ? A : A.name;
  /** @type {Map<string, { env: string | null, version: number }>} */
  const rows = new Map();
  for (const prefix of ['r', 'q'])
    for (const k of await c.storage.keys(c.key(prefix, t.seg, ''))) {
      const e = await c.storage.get(k);
      /* a queued change (a save that did not get through) counts from its base */
      rows.set(k.slice(k.lastIndexOf('/') + 1), { env: e.env, version: prefix === 'r' ? e.version : e.base });
    }
  const live = [...rows].filter(([, e]) => e.env !== null)
    .map(([rid, e]) => ({ rid, env: /** @type {string} */ (e.env), version: e.version }));
  const out = [];
  /* Client.openRecords opens a chunk side by side (Web Crypto works off
     the thread); between chunks, yield and say how far it got, so that
     10,000 records never freeze the page (in the sign-in's status line
     while signing in, else in the records') */
  for (let i = 0; i < live.length; i += OPEN_CHUNK) {
    if (i > 0) {
      const line = $($('account').hidden ? 'signin-status' : 'records-status');
      line.className = '';
      line.textContent = `Decrypting ${label}: ${i} of ${live.length} records…`;
      await yieldThread();
    }
    const chunk = live.slice(i, i + OPEN_CHUNK);
    const opened = await c.openRecords(t, chunk.map(({ rid, env }) => ({ rid, env })));
    opened.forEach((o, j) => out.push(o instanceof DecryptError ? { id: null, data: null, version: chunk[j].version }
      : { id: o.a, data: o.data, version: chunk[j].version }));
  }
  return out.sort((x, y) => String(x.id) < String(y.id) ? -1 : 1);
}

/**
 * A collection's records, PAGE at a time: the list (its data-count is the
 * number of records, all decrypted) and a "Show more" button that appends
 * the next page (the focus moves to its first record once no more is
 * left). A redraw shows at least as many as were shown before (shown).
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {{ id: string | null, data: Uint8Array | null, version: number }[]} recs
 * @param {number} shown how many the list showed before a redraw (0: none)
 * @param {boolean} [readOnly] a collection shared with this account to read only: no Edit, no Delete
 * @returns {HTMLElement[]}
 */
function recordList(c, A, recs, shown, readOnly = false) {
  const list = el('div', 'records');
  list.dataset.collection = JSON.stringify(A);
  list.dataset.count = String(recs.length);
  const more = el('button');
  more.type = 'button';
  /** @param {number} n */
  const showMore = (n) => {
    const from = list.childElementCount;
    const views = recs.slice(from, from + n).map((r) => recordView(c, A, r, readOnly));
    list.append(...views);
    const now = list.childElementCount;
    more.hidden = now >= recs.length;
    more.textContent = `Show ${Math.min(PAGE, recs.length - now)} more (${now} of ${recs.length} shown)`;
    return views;
  };
  more.addEventListener('click', () => {
    const views = showMore(PAGE);
    if (more.hidden)
      views[0]?.querySelector('pre')?.focus();
  });
  showMore(Math.max(PAGE, shown));
  return recs.length === 0 ? [el('p', 'sub', 'No records.')] : [list, more];
}

/**
 * Draw the account's collections and records into #collections, keeping
 * the focus on the same control of the same record when there is one, and
 * each collection's list as long as it was.
 * @param {import('/sdk/index.js').Client} c
 */
export async function renderAccount(c) {
  const box = $('collections');
  const had = /** @type {HTMLElement | null} */ (document.activeElement);
  const focusKey = box.contains(had) ? had?.closest('.record')?.getAttribute('data-key') : null;
  const focusAction = had?.dataset.action;
  /** @type {Map<string, number>} records shown per collection */
  const shown = new Map();
  for (const l of /** @type {NodeListOf<HTMLElement>} */ (box.querySelectorAll('.records')))
    shown.set(String(l.dataset.collection), l.childElementCount);
  const frag = document.createDocumentFragment();
  const cols = await c.collections();
  view.shape = shapeOf(cols);
  if (cols.length === 0)
    frag.append('No collections yet.');
  for (const col of cols) {
    const ref = refOf({ collection: col.name, owner: col.owner });
    const h3 = el('h3', '', col.name);
    if (col.owner)
      h3.append(el('span', 'shared', ` shared by ${col.owner} (${col.role})`));
    const box = el('div', 'members-box');
    const acts = el('p', 'actions collection-actions');
    if (!col.owner || col.role === 'admin') {
      const share = button('Share', `Share ${col.name}`, async () => (await sharing()).openShare(c, ref, col.name));
      share.dataset.action = 'share';
      acts.append(share, ' ');
    }
    const mem = button('Members', `Members of ${col.name}`, async () => (await sharing()).toggleMembers(c, ref, box));
    mem.dataset.action = 'members';
    acts.append(mem);
    const sec = el('div', 'collection');
    sec.dataset.collection = JSON.stringify(ref);
    sec.append(h3, acts, box, ...recordList(c, ref, await records(c, ref), shown.get(JSON.stringify(ref)) ?? 0,
      col.role === 'read'));
    frag.append(sec);
  }
  box.replaceChildren(frag);
  view.stale = false;
  if (focusKey && focusAction)
    /** @type {HTMLElement | null} */ (box.querySelector(
      `.record[data-key="${CSS.escape(focusKey)}"] [data-action="${CSS.escape(focusAction)}"]`))?.focus();
}

/**
 * One record: its id, version, data and actions.
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {{ id: string | null, data: Uint8Array | null, version: number }} r
 * @param {boolean} readOnly no Edit and no Delete (a collection shared to read only)
 */
function recordView(c, A, r, readOnly) {
  const div = el('div', 'record');
  const h4 = el('h4');
  h4.tabIndex = -1;
  if (r.id === null || r.data === null) {
    h4.textContent = '(a record)';
    div.append(h4, el('p', 'bad', 'cannot decrypt: this record was altered or is not for this account'));
    return div;
  }
  const id = r.id;
  const data = r.data;
  div.setAttribute('data-key', recordKey(A, id));
  h4.textContent = id;
  const meta = el('p', 'meta', `version ${r.version}`);
  const pre = dataBlock(data);
  const shown = show(data);
  const actions = el('p', 'actions');
  const history = el('div', 'history-box');
  const edit = button('Edit', `Edit ${id}`, () => openEdit(c, A, id, r.version, shown.raw ?? '', div));
  edit.dataset.action = 'edit';
  if (shown.raw === null) {
    edit.disabled = true;
    edit.title = 'binary data: not editable as text';
  }
  const hist = button('History', `History of ${id}`, () => toggleHistory(c, A, id, history, hist));
  hist.dataset.action = 'history';
  hist.setAttribute('aria-expanded', 'false');
  const del = button('Delete', `Delete ${id}`, () => openDelete(c, A, id, r.version, div));
  del.dataset.action = 'delete';
  if (readOnly)
    actions.append(hist);
  else
    actions.append(edit, ' ', hist, ' ', del);
  /* data that is not JSON (text, or binary shown as hex) can be saved as
     a file, byte for byte */
  if (shown.kind !== 'JSON') {
    const dl = button('Download', `Download ${id}`, () =>
      saveFile(new Blob([data], { type: 'application/octet-stream' }), id.replace(/[\/\\]/g, '_')));
    dl.dataset.action = 'download';
    actions.append(' ', dl);
  }
  div.append(h4, meta, pre, actions, history);
  return div;
}

/**
 * Show or hide record a's history under its actions.
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {string} a
 * @param {HTMLElement} box
 * @param {HTMLButtonElement} btn
 */
async function toggleHistory(c, A, a, box, btn) {
  if (btn.getAttribute('aria-expanded') === 'true') {
    box.replaceChildren();
    btn.setAttribute('aria-expanded', 'false');
    btn.textContent = 'History';
    btn.setAttribute('aria-label', `History of ${a}`);
    return;
  }
  btn.disabled = true;
  box.replaceChildren(el('p', 'sub', 'Fetching and decrypting the versions…'));
  try {
    const versions = await c.history(A, a);
    const h = el('h5', '', `History of ${a}: ${versions.length} version${versions.length === 1 ? '' : 's'}, newest first`);
    h.tabIndex = -1;
    const ol = el('ol', 'history');
    ol.setAttribute('aria-label', `History of ${a}`);
    for (const v of versions) {
      const li = el('li');
      li.append(el('p', 'meta', `version ${v.version} · ${v.modifiedAt}${v.deleted ? ' · deleted' : ''}`));
      if (v.data !== null)
        li.append(dataBlock(v.data));
      ol.append(li);
    }
    box.replaceChildren(h, ol);
    btn.setAttribute('aria-expanded', 'true');
    btn.textContent = 'Hide history';
    btn.setAttribute('aria-label', `Hide history of ${a}`);
    h.focus();
  } catch (e) {
    box.replaceChildren(el('p', 'error', e instanceof DecryptError
      ? 'cannot decrypt a version of this record: it was altered on the server' : `History failed: ${why(e)}`));
  } finally {
    btn.disabled = false;
  }
}

/**
 * The part of a pending edit or delete that shows a conflict: both sides
 * and the two choices; resolves with what the merge callback returns
 * (mine: the local data, or null for a delete; theirs: undefined).
 * @param {HTMLElement} panel
 * @param {string} a
 * @param {import('/sdk/index.js').Conflict} cf
 * @param {(resolve: (v: Uint8Array | null | undefined) => void) => void} keep where cancel() finds it
 * @returns {Promise<Uint8Array | null | undefined>}
 */
function showConflict(panel, a, cf, keep) {
  return new Promise((resolve) => {
    const box = el('div', 'conflict');
    box.setAttribute('role', 'group');
    const hid = `conflict-${++view.seq}`;
    box.setAttribute('aria-labelledby', hid);
    const h = el('h5', '', `Conflict: ${a} changed on another device (now version ${cf.remoteVersion})`);
    h.id = hid;
    h.tabIndex = -1;
    const sides = el('div', 'sides');
    /** @param {string} title @param {Uint8Array | null} d @param {string} cls */
    const side = (title, d, cls) => {
      const s = el('div', `side ${cls}`);
      s.append(el('h6', '', title), d === null ? el('p', 'meta', '(deleted)') : dataBlock(d));
      return s;
    };
    sides.append(side('Yours', cf.local, 'mine'), side(`Theirs (version ${cf.remoteVersion})`, cf.remote, 'theirs'));
    /** @param {Uint8Array | null | undefined} v */
    const done = (v) => {
      box.remove();
      resolve(v);
    };
    const mine = button('Keep mine', 'Keep mine', () => done(cf.local));
    const theirs = button('Keep theirs', 'Keep theirs', () => done(undefined));
    const p = el('p', 'actions');
    p.append(mine, ' ', theirs);
    box.append(h, el('p', '', 'Nothing was saved yet. Which one should stay?'), sides, p);
    keep(done);
    panel.append(box);
    h.focus();
  });
}

/**
 * Register a pending edit or delete of record a and give it the
 * conflict and cancel parts.
 * @param {Ref} A
 * @param {string} a
 * @param {'edit' | 'delete'} kind
 * @param {HTMLElement} panel
 * @param {HTMLElement} note where "changed elsewhere" shows
 * @returns {Pending}
 */
function pend(A, a, kind, panel, note) {
  /** @type {((v: undefined) => void) | null} */
  let open = null;
  /** @type {Pending} */
  const p = {
    kind, panel, saving: false, choice: null,
    elsewhere: (text) => {
      note.textContent = text;
      note.hidden = false;
    },
    conflict: (cf) => showConflict(panel, a, cf, (r) => {
      open = r;
    }).then((v) => {
      open = null;
      p.choice = v === undefined ? 'theirs' : 'mine';
      return v;
    }),
    cancel: () => open?.(undefined),
  };
  view.pending.set(recordKey(A, a), p);
  return p;
}

/**
 * Close a pending edit or delete; redraw if something changed meanwhile.
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {string} a
 * @param {boolean} changed this close changed the record: redraw now
 */
async function unpend(c, A, a, changed) {
  view.pending.delete(recordKey(A, a));
  if (view.pending.size === 0 && (changed || view.stale))
    await renderAccount(c);
}

/**
 * The record's element after a redraw (or null when it is gone).
 * @param {Ref} A
 * @param {string} a
 * @returns {HTMLElement | null}
 */
function recordEl(A, a) {
  return $('collections').querySelector(`.record[data-key="${CSS.escape(recordKey(A, a))}"]`);
}

/**
 * What saving record a did, as a sentence: from the user's answer to a
 * conflict, if one was met (by the page's sync or by the watch's, which
 * may have pushed the change first).
 * @param {Pending} p
 * @param {string} a
 * @param {string} done what happened when there was no conflict
 */
function outcome(p, a, done) {
  if (p.choice === null)
    return done;
  return p.choice === 'mine' ? `${done}: yours kept over the other device's change.`
    : `Kept the other device's version of ${a}; yours was dropped.`;
}

/**
 * Open the editor of record a (shown at version base).
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {string} a
 * @param {number} base
 * @param {string} text the record's text
 * @param {HTMLElement} div the record's element
 */
function openEdit(c, A, a, base, text, div) {
  if (view.pending.has(recordKey(A, a)))
    return;
  const form = el('form', 'edit');
  const tid = `edit-${++view.seq}`;
  const label = el('label', '', `New text of ${a} (from version ${base})`);
  label.htmlFor = tid;
  const ta = el('textarea');
  ta.id = tid;
  ta.value = text;
  ta.rows = Math.min(20, Math.max(4, text.split('\n').length + 1));
  const note = el('p', 'elsewhere');
  note.setAttribute('role', 'status');
  note.hidden = true;
  const save = el('button', '', 'Save');
  save.type = 'submit';
  const cancel = button('Cancel', `Cancel editing ${a}`, () => {
    form.remove();
    hidden.forEach((x) => { x.hidden = false; });
    void unpend(c, A, a, false).then(() => /** @type {HTMLElement | null} */ (recordEl(A, a)
      ?.querySelector('[data-action="edit"]'))?.focus());
  });
  const p = el('p', 'actions');
  p.append(save, ' ', cancel);
  form.append(label, ta, note, p);
  const pending = pend(A, a, 'edit', form, note);
  /* the record's data and actions hide while it is edited */
  const hidden = /** @type {HTMLElement[]} */ ([...div.querySelectorAll(':scope > pre, :scope > .actions')]);
  hidden.forEach((x) => { x.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (pending.saving)
      return;
    pending.saving = true;
    save.disabled = cancel.disabled = ta.readOnly = true;
    status(`Saving ${a}…`);
    try {
      await c.put(A, a, ta.value, { base });
      await c.sync(A);
      form.remove();
      await unpend(c, A, a, true);
      status(outcome(pending, a, `Saved ${a}`));
      recordEl(A, a)?.querySelector('h4')?.focus();
    } catch (e) {
      /* the change stays queued in the Client: Save again, or the watch sends it */
      pending.saving = false;
      save.disabled = cancel.disabled = ta.readOnly = false;
      status(e instanceof ServerError && e.status === 403 ? `Not saved: ${why(e)} (your role in this collection ` +
        'does not allow writing).' : `Not saved yet: ${why(e)}. It is kept here; Save again to retry.`, true);
    }
  });
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  div.append(form);
  ta.focus();
}

/**
 * Ask before deleting record a (shown at version base); delete on yes.
 * @param {import('/sdk/index.js').Client} c
 * @param {Ref} A
 * @param {string} a
 * @param {number} base
 * @param {HTMLElement} div the record's element
 */
function openDelete(c, A, a, base, div) {
  if (view.pending.has(recordKey(A, a)))
    return;
  const box = el('div', 'confirm');
  box.setAttribute('role', 'group');
  const q = el('p', '', `Delete ${a}? Other devices lose it at their next sync; the server keeps its ` +
    'older versions for a while.');
  q.id = `confirm-${++view.seq}`;
  box.setAttribute('aria-labelledby', q.id);
  const note = el('p', 'elsewhere');
  note.setAttribute('role', 'status');
  note.hidden = true;
  const actions = /** @type {HTMLElement} */ (div.querySelector(':scope > .actions'));
  const close = async (/** @type {boolean} */ changed) => {
    box.remove();
    actions.hidden = false;
    await unpend(c, A, a, changed);
  };
  const no = button('Cancel', `Cancel deleting ${a}`, () => {
    void close(false).then(() => /** @type {HTMLElement | null} */ (recordEl(A, a)
      ?.querySelector('[data-action="delete"]'))?.focus());
  });
  const pending = pend(A, a, 'delete', box, note);
  const yes = button('Yes, delete', `Yes, delete ${a}`, async () => {
    if (pending.saving)
      return;
    pending.saving = true;
    yes.disabled = no.disabled = true;
    status(`Deleting ${a}…`);
    try {
      await c.delete(A, a, { base });
      await c.sync(A);
      await close(true);
      status(outcome(pending, a, `Deleted ${a}`));
      const h = recordEl(A, a)?.querySelector('h4') ?? $('account-h');
      /** @type {HTMLElement} */ (h).focus();
    } catch (e) {
      pending.saving = false;
      yes.disabled = no.disabled = false;
      status(`Not deleted yet: ${why(e)}. Try again.`, true);
    }
  });
  const p = el('p', 'actions');
  p.append(yes, ' ', no);
  box.append(q, note, p);
  actions.hidden = true;
  div.append(box);
  no.focus();
}

/**
 * The Client's merge callback: a conflict of a record the user is saving
 * shows both sides and waits for the choice; any other keeps the server's.
 * @param {import('/sdk/index.js').Conflict} cf
 */
function merge(cf) {
  const p = view.pending.get(recordKey(refOf(cf), cf.id));
  if (!p)
    return undefined;
  status(`${cf.id} changed on another device: choose which version to keep.`, true);
  return p.conflict(cf);
}

/**
 * What a watch round brought: marks open edits of changed records, or
 * redraws the view when none is open.
 * @param {import('/sdk/index.js').Client} c
 * @param {import('/sdk/index.js').SyncResult} res
 */
async function synced(c, res) {
  $('watch-status').textContent = '';
  /* this page's own changes (a save the watch's sync pushed) come back in the pull: not news */
  const own = new Set(res.pushed.map((x) => JSON.stringify([x.collection, x.owner, x.id, x.version])));
  const changed = res.changed.filter((x) => !own.has(JSON.stringify([x.collection, x.owner, x.id, x.version])));
  if (changed.length === 0 && res.gone.length === 0 && res.resynced.length === 0 && res.conflicts.length === 0) {
    /* no record changed, but a collection may have been shared with this account, or a role changed */
    if (view.pending.size === 0 && shapeOf(await c.collections()) !== view.shape)
      await renderAccount(c);
    return;
  }
  for (const ch of changed) {
    const p = ch.id === null ? undefined : view.pending.get(recordKey(refOf(ch), ch.id));
    if (p && !p.saving)
      p.elsewhere(ch.deleted ? `Deleted on another device meanwhile (version ${ch.version}).`
        : `Changed on another device meanwhile (now version ${ch.version}). Saving shows both versions.`);
  }
  if (view.pending.size > 0) {
    view.stale = true;
    return;
  }
  await renderAccount(c);
  status('Updated from another device.');
}

/**
 * Start the records view for a signed-in Client: its merge callback, and
 * a watch whose first round is the sign-in's one sync (the records are
 * pulled and opened once, not by a sync before the watch and again by its
 * first round) and shows them; later rounds redraw on changes. Resolves
 * once the records are shown; rejects with the first round's error (its
 * sync or drawing failed, or the watch was stopped first), the watch
 * stopped. After that, onEnd is called (once) when the watch ends because
 * the session did (a 401: the device revoked elsewhere, the session
 * over); any other error it cannot retry stops the watch and says so,
 * signed in still.
 * @param {import('/sdk/index.js').Client} c
 * @param {(e: unknown) => void} onEnd
 * @param {() => (void | Promise<void>)} [onRound] told after each watch round (the sharing view
 *   lists the invitations again: an invitation moves the account's status)
 * @returns {Promise<void>}
 */
export function startRecords(c, onEnd, onRound) {
  view.watch?.abort();
  view.client = c;
  c.merge = merge;
  const ac = new AbortController();
  view.watch = ac;
  let first = true;
  /** @type {(e?: unknown) => void} */
  let settle = () => {};
  /** @type {Promise<void>} */
  const shown = new Promise((resolve, reject) => {
    settle = (e) => {
      if (!first)
        return;
      first = false;
      if (e === undefined)
        return resolve();
      if (!ac.signal.aborted)
        stopRecords();
      reject(e);
    };
  });
  ac.signal.addEventListener('abort', () => settle(new Error('the records view was stopped before it showed')));
  c.watch([], async (res) => {
    if (ac.signal.aborted)
      return;
    if (first) {
      await renderAccount(c);
      settle();
    } else {
      await synced(c, res);
    }
    if (!ac.signal.aborted)
      await onRound?.();
  }, { signal: ac.signal,
    onError: (e) => {
      if (first)
        settle(e);
      else
        $('watch-status').textContent = `Not in touch with the server (${why(e)}); retrying.`;
    } })
    .catch((e) => {
      if (first)
        settle(e);
      else if (ac.signal.aborted)
        return;
      else if ((e instanceof ServerError && e.status === 401) || e instanceof SessionError)
        onEnd(e);
      else
        $('watch-status').textContent = `Stopped watching for other devices' changes (${why(e)}): ` +
          'sign out and in again to restart.';
    });
  return shown;
}

/** Stop the watch, give up open edits (a conflict shown keeps the server's), empty the view. */
export function stopRecords() {
  view.watch?.abort();
  view.watch = null;
  for (const p of view.pending.values())
    p.cancel();
  view.pending.clear();
  view.stale = false;
  view.client = null;
  $('collections').replaceChildren();
  $('watch-status').textContent = '';
  status('');
}
