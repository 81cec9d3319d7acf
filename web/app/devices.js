/*
 * devices.js: the page's devices view (issue 11): the account's devices
 * (name, type, last seen, "this device") from Client.devices(), and
 * Revoke, after a confirm step, through Client.deleteDevice(): the
 * revoked device's tokens stop working at once. Revoke is not offered
 * for this device (Sign out is the way to end this one's session).
 */
import { button } from '/app/dom.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The view's status line; error ones in red. @param {string} text @param {boolean} [error] */
function status(text, error = false) {
  const s = $('devices-status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

/** The Client the view shows, while signed in. @type {import('/sdk/index.js').Client | null} */
let shown = null;

/**
 * A time of the API ("2026-12-04T22:10:05Z") as "2026-12-04 22:10 UTC".
 * @param {string | null} t
 */
function when(t) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(t ?? '');
  return m ? `${m[1]} ${m[2]} UTC` : (t ?? 'never');
}

/**
 * A cell of a row.
 * @param {string} tag
 * @param {string | Node} content
 */
function cell(tag, content) {
  const c = document.createElement(tag);
  c.append(content);
  return c;
}

/**
 * List the account's devices in #devices-list and show the section.
 * Failures show in its status line.
 * @param {import('/sdk/index.js').Client} c
 */
export async function renderDevices(c) {
  shown = c;
  $('devices').hidden = false;
  const box = $('devices-list');
  let list;
  try {
    list = await c.devices();
  } catch (e) {
    status(`Could not list the devices: ${e instanceof Error ? e.message : e}`, true);
    return;
  }
  if (shown !== c)
    return;
  const table = document.createElement('table');
  table.append(cell('caption', `${list.length} device${list.length === 1 ? '' : 's'}`));
  const head = document.createElement('tr');
  for (const h of ['Name', 'Type', 'Last seen', ''])
    head.append(cell('th', h));
  table.append(cell('thead', head));
  const body = document.createElement('tbody');
  list.sort((x, y) => Number(y.current) - Number(x.current) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (const d of list) {
    const tr = document.createElement('tr');
    tr.dataset.device = d.deviceId;
    const name = document.createElement('td');
    name.textContent = d.name || '(no name)';
    if (d.current)
      name.append(' ', cell('strong', '(this device)'));
    const act = document.createElement('td');
    if (!d.current)
      act.append(button('Revoke', `Revoke ${d.name}`, () => confirmRevoke(c, d, act)));
    tr.append(name, cell('td', d.type || ''), cell('td', when(d.lastSeenAt)), act);
    body.append(tr);
  }
  table.append(body);
  box.replaceChildren(table);
}

/**
 * Ask before revoking device d; revoke and list again on yes.
 * @param {import('/sdk/index.js').Client} c
 * @param {{ deviceId: string, name: string }} d
 * @param {HTMLElement} td the row's action cell
 */
function confirmRevoke(c, d, td) {
  const before = [...td.childNodes];
  const q = document.createElement('span');
  q.textContent = `Revoke ${d.name}? It is signed out at once. `;
  const no = button('Cancel', `Cancel revoking ${d.name}`, () => {
    td.replaceChildren(...before);
    /** @type {HTMLElement} */ (td.querySelector('button'))?.focus();
  });
  const yes = button('Yes, revoke', `Yes, revoke ${d.name}`, async () => {
    yes.disabled = no.disabled = true;
    try {
      await c.deleteDevice(d.deviceId);
      await renderDevices(c);
      status(`Revoked ${d.name}: it must sign in again.`);
      $('devices-h').focus();
    } catch (e) {
      yes.disabled = no.disabled = false;
      status(`Could not revoke ${d.name}: ${e instanceof Error ? e.message : e}`, true);
    }
  });
  td.replaceChildren(q, yes, ' ', no);
  no.focus();
}

/** Hide and empty the view (sign out). */
export function hideDevices() {
  shown = null;
  $('devices').hidden = true;
  $('devices-list').replaceChildren();
  status('');
}

$('devices-refresh').addEventListener('click', () => {
  if (shown)
    void renderDevices(shown);
});
