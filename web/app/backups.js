/*
 * backups.js: the page's backups view (issue 11): the account's backups
 * listed (name, size, date), each downloaded (streamed from the server and
 * decrypted piece by piece as it arrives, with progress, then saved as a
 * file) or deleted (after a confirmation), and a file uploaded (encrypted
 * as a section 5 stream in the page, with progress). Only the SDK's Client
 * touches keys; a backup that does not decrypt is never offered as a file.
 */
import { ConflictError, DecryptError, InputError, ServerError } from '/sdk/index.js';
import { saveFile } from '/app/records.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The signed-in client the view shows, or null. @type {import('/sdk/index.js').Client | null} */
let client = null;
/** A transfer runs: the buttons wait for it. */
let busy = false;

/**
 * The plaintext size of a sealed section 5 stream of s bytes: 20 bytes of
 * header, then each piece of at most 65536 bytes with a 16-byte tag.
 * @param {number} s
 */
function plainSize(s) {
  const m = s - 20;
  return m < 16 ? 0 : m - 16 * Math.ceil(m / 65552);
}

/** Bytes for a person: "1.2 MiB". @param {number} n */
function human(n) {
  if (n < 1024)
    return `${n} bytes`;
  const u = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${u[i]}`;
}

/** An API date as "2026-12-04 22:00 UTC", or the text as it came. @param {string} d */
function when(d) {
  const t = new Date(d);
  return Number.isNaN(t.getTime()) ? d : `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The status line; error ones in red. @param {string} text @param {boolean} [error] */
function say(text, error = false) {
  const el = $('backup-status');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/**
 * The progress bar: done of total (shown while a transfer runs).
 * @param {number} done @param {number} total
 */
function bar(done, total) {
  const p = /** @type {HTMLProgressElement} */ ($('backup-progress'));
  p.hidden = false;
  p.setAttribute('max', String(Math.max(total, 1)));
  p.setAttribute('value', String(Math.min(done, Math.max(total, 1))));
}

/** What went wrong, in a sentence. @param {unknown} e @param {string} name */
function failure(e, name) {
  if (e instanceof DecryptError)
    return `cannot decrypt backup ${name}: it was altered or is not this account's; nothing was saved.`;
  if (e instanceof ServerError && e.status === 404)
    return `There is no backup named ${name} (any more).`;
  if (e instanceof ServerError && e.code === 'quota_exceeded')
    return `The server refused it: ${e.message}`;
  return `${e instanceof Error ? e.message : e}`;
}

/**
 * Run one transfer at a time, with the buttons off meanwhile.
 * @param {() => Promise<void>} fn
 */
async function exclusive(fn) {
  if (busy)
    return;
  busy = true;
  for (const b of document.querySelectorAll('#backups button'))
    /** @type {HTMLButtonElement} */ (b).disabled = true;
  try {
    await fn();
  } finally {
    busy = false;
    for (const b of document.querySelectorAll('#backups button'))
      /** @type {HTMLButtonElement} */ (b).disabled = false;
  }
}

/**
 * The plaintext stream gathered into a Blob, read here piece by piece (a
 * Response over the stream would turn the SDK's DecryptError into a bare
 * TypeError). Every 16 MiB the pieces are folded into the Blob, which the
 * browser may keep on disk, so the page's own memory stays bounded.
 * Typed, so that the browser saves it under its name as it is.
 * @param {ReadableStream<Uint8Array>} stream
 * @returns {Promise<Blob>}
 */
async function gather(stream) {
  const type = 'application/octet-stream';
  let blob = new Blob([], { type });
  /** @type {Uint8Array[]} */
  let parts = [];
  let held = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done)
      break;
    parts.push(value);
    held += value.length;
    if (held >= 16 * 1024 * 1024) {
      blob = new Blob([blob, ...parts], { type });
      parts = [];
      held = 0;
    }
  }
  return new Blob([blob, ...parts], { type });
}

/**
 * Download backup name: the plaintext read from the SDK's stream (each
 * piece only after its tag verified), gathered into a Blob, and saved as
 * a file only once the stream's end verified.
 * @param {string} name
 */
async function download(name) {
  const c = client;
  if (!c)
    return;
  try {
    say(`Downloading and decrypting ${name}…`);
    bar(0, 1);
    const got = await c.backupGet(name, {
      progress: (done, total) => {
        bar(done, total);
        say(`Downloading and decrypting ${name}: ${human(done)} of ${human(total)}`);
      },
    });
    if (!got)
      throw new ServerError(404, 'not_found', 'no backup');
    const blob = await gather(got.stream);
    saveFile(blob, name);
    say(`Downloaded ${name}: ${blob.size} bytes, decrypted and verified.`);
  } catch (e) {
    say(failure(e, name), true);
  }
}

/**
 * Delete backup name after the user confirmed.
 * @param {string} name
 */
async function remove(name) {
  const c = client;
  if (!c || !confirm(`Delete the backup ${name}? This cannot be undone.`))
    return;
  try {
    await c.backupDelete(name);
  } catch (e) {
    say(failure(e, name), true);
    await list();
    return;
  }
  /* the list first, so that when the line says so the row is gone */
  await list();
  say(`Deleted ${name}.`);
}

/** List the account's backups in the table. */
export async function list() {
  const c = client;
  if (!c)
    return;
  const body = /** @type {HTMLTableSectionElement} */ (document.querySelector('#backup-list tbody'));
  let rows;
  try {
    rows = await c.backupList();
  } catch (e) {
    say(`Could not list the backups: ${failure(e, '')}`, true);
    return;
  }
  body.replaceChildren();
  $('backup-none').hidden = rows.length > 0;
  for (const b of rows) {
    const tr = document.createElement('tr');
    const cells = [b.name, human(plainSize(b.bytes)), when(b.modifiedAt)].map((t) => {
      const td = document.createElement('td');
      td.textContent = t;
      return td;
    });
    cells[1].title = `${plainSize(b.bytes)} bytes (${b.bytes} encrypted)`;
    const act = document.createElement('td');
    for (const [label, fn] of /** @type {const} */ ([['Download', download], ['Delete', remove]])) {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.textContent = label;
      btn.setAttribute('aria-label', `${label} ${b.name}`);
      btn.addEventListener('click', () => exclusive(() => fn(b.name)));
      act.append(btn);
    }
    tr.append(...cells, act);
    body.append(tr);
  }
}

/**
 * Upload the chosen file as backup name: sealed in the page (progress
 * counts the sealed bytes; a browser sends the sealed file as one body
 * once sealed, so the last step says only "sending"). A backup of that
 * name that this page has not read is replaced only after a confirmation.
 */
async function upload() {
  const c = client;
  const input = /** @type {HTMLInputElement} */ ($('backup-file'));
  const nameEl = /** @type {HTMLInputElement} */ ($('backup-name'));
  const file = input.files?.[0];
  const name = nameEl.value.trim();
  if (!c || !file || !name)
    return;
  /** @param {boolean} force */
  const put = (force) => c.backupPut(name, file, { force,
    progress: (done, total) => {
      bar(done, total);
      say(done < total ? `Encrypting ${file.name}: ${human(done)} of ${human(total)}`
        : `Sending ${human(total)} of ciphertext…`);
    } });
  try {
    say(`Encrypting ${file.name}…`);
    bar(0, 1);
    let r;
    try {
      r = await put(false);
    } catch (e) {
      if (!(e instanceof ConflictError))
        throw e;
      if (!confirm(`A backup named ${name} exists, in a version this page has not read. Replace it?`)) {
        say(`Not uploaded: ${name} was kept as it is.`);
        return;
      }
      r = await put(true);
    }
    say(`Uploaded ${file.name} as ${name} (version ${r.version}, ${file.size} bytes, encrypted).`);
    input.value = '';
  } catch (e) {
    say(e instanceof InputError ? e.message : failure(e, name), true);
  }
  await list();
}

/**
 * Show the view for signed-in client c (null: hide and empty it).
 * @param {import('/sdk/index.js').Client | null} c
 */
export async function showBackups(c) {
  client = c;
  $('backups').hidden = !c;
  /** @type {HTMLElement} */ (document.querySelector('#backup-list tbody')).replaceChildren();
  $('backup-progress').hidden = true;
  say('');
  if (c)
    await list();
}

$('backup-file').addEventListener('change', () => {
  const nameEl = /** @type {HTMLInputElement} */ ($('backup-name'));
  if (!nameEl.value)
    nameEl.value = `backup-${new Date().toISOString().slice(0, 10)}`;
});
$('backup-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void exclusive(upload);
});
