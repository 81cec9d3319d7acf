/*
 * share.js: the page's sharing (issue 14), over the SDK's Client, loaded
 * at the first sign-in rather than with the page. The Sharing section:
 * this account's key fingerprint (what another user compares before
 * sharing with it) and the invitations to it, each with the inviter's
 * fingerprint, Accept and Decline. On each collection (records.js asks):
 * a Share dialog (a username and a role; the user's key fingerprint is
 * shown, pinned on first use, and the invitation is sent only once the
 * user confirmed it), and Members (roles changed, members removed, which
 * rotates the collection's key; "Rotate the key" again by hand after a
 * rotation that a changed key stopped; a collection due for rotation says
 * so, and for an admin that the owner's next sync rotates it), or Leave
 * for a collection shared with this account.
 *
 * What it must never do: seal a grant to a key the user has not seen. A
 * key that changed since it was pinned stops the share with both
 * fingerprints shown; only "Trust the new key" (after checking it with its
 * owner) goes on. It keeps no plaintext but the DOM and never logs.
 */
import { DecryptError, KeyChangedError, ServerError } from '/sdk/index.js';
import { button, el } from '/app/dom.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** The Client the section shows, while signed in. @type {import('/sdk/index.js').Client | null} */
let shown = null;
/** what to redraw after a change of membership (records.js's view) @type {() => Promise<void>} */
let redraw = async () => {};
/** ids of form controls made so far */
let seq = 0;

/** A status line's text; error ones in red. @param {HTMLElement} s @param {string} text @param {boolean} [error] */
function say(s, text, error = false) {
  s.textContent = text;
  s.className = error ? 'error' : '';
}

/** A failure as a sentence for a person. @param {unknown} e */
function why(e) {
  if (e instanceof KeyChangedError)
    return `the key of ${e.username} changed: fingerprint ${e.pinned} -> ${e.fingerprint}. Check the new one with ` +
      `${e.username} before trusting it.`;
  if (e instanceof DecryptError)
    return 'cannot decrypt this invitation: it was altered, or it was not made for this account.';
  if (e instanceof ServerError && e.status === 404)
    return 'not found (no such user, or one that has not set up sharing yet).';
  if (e instanceof ServerError && e.code === 'conflict')
    return 'already a member, or already invited.';
  if (e instanceof ServerError && e.status === 403)
    return `not allowed (${e.message}).`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * A role picker.
 * @param {string} id
 * @param {string} value
 * @returns {HTMLSelectElement}
 */
function roleSelect(id, value) {
  const s = el('select');
  s.id = id;
  for (const r of ['read', 'write', 'admin']) {
    const o = el('option', '', r);
    o.value = r;
    s.append(o);
  }
  s.value = value;
  return s;
}

/**
 * Show the Sharing section for a signed-in Client (null: hide and empty
 * it): this account's fingerprint (its keys made and published first when
 * the account has none) and the invitations to it. onChange redraws the
 * records view after an accept or a membership change.
 * @param {import('/sdk/index.js').Client | null} c
 * @param {() => Promise<void>} [onChange]
 */
export async function showSharing(c, onChange) {
  shown = c;
  if (onChange)
    redraw = onChange;
  if (!c) {
    $('sharing').hidden = true;
    $('my-fingerprint').textContent = '';
    $('invitations').replaceChildren();
    say($('sharing-status'), '');
    return;
  }
  $('sharing').hidden = false;
  try {
    $('my-fingerprint').textContent = (await c.keys()).fingerprint;
  } catch (e) {
    say($('sharing-status'), `Sharing is not available: ${why(e)}`, true);
    return;
  }
  await refreshInvitations(c);
}

/**
 * Redraw the invitations to this account (a watch round calls it too:
 * an invitation moves the account's status).
 * @param {import('/sdk/index.js').Client} c
 */
export async function refreshInvitations(c) {
  if (shown !== c)
    return;
  const box = $('invitations');
  let list;
  try {
    list = await c.invitations();
  } catch (e) {
    say($('sharing-status'), `Could not list the invitations: ${why(e)}`, true);
    return;
  }
  if (shown !== c)
    return;
  if (list.length === 0) {
    box.replaceChildren(el('p', 'sub', 'No invitations.'));
    return;
  }
  const ul = el('ul', 'invitations');
  for (const inv of list) {
    const li = el('li', 'invitation');
    li.dataset.id = inv.id;
    const what = inv.name ?? '(a collection that cannot be decrypted)';
    li.append(el('strong', '', what), ` from ${inv.from} (${inv.role}) · their key fingerprint `,
      el('code', 'fingerprint', inv.fingerprint));
    if (inv.keyChanged)
      li.append(el('p', 'error', `The key of ${inv.from} changed since you last saw it: do not accept before ` +
        'checking it with them.'));
    const p = el('p', 'actions');
    p.append(button('Accept', `Accept ${what} from ${inv.from}`, () => accept(c, inv.id, li)), ' ',
      button('Decline', `Decline ${what} from ${inv.from}`, () => decline(c, inv.id, li)));
    li.append(p);
    ul.append(li);
  }
  box.replaceChildren(ul);
}

/**
 * Accept an invitation; the collection then shows in the records view.
 * @param {import('/sdk/index.js').Client} c
 * @param {string} id
 * @param {HTMLElement} li
 */
async function accept(c, id, li) {
  li.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  say($('sharing-status'), 'Checking the invitation and accepting it…');
  try {
    const got = await c.accept(id);
    await c.sync();
    say($('sharing-status'), `Accepted: ${got.name}, shared by ${got.owner} (${got.role}).`);
    await redraw();
  } catch (e) {
    say($('sharing-status'), `Not accepted: ${why(e)}`, true);
  }
  await refreshInvitations(c);
}

/**
 * Decline an invitation.
 * @param {import('/sdk/index.js').Client} c
 * @param {string} id
 * @param {HTMLElement} li
 */
async function decline(c, id, li) {
  li.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  try {
    await c.decline(id);
    say($('sharing-status'), 'Declined.');
  } catch (e) {
    say($('sharing-status'), `Not declined: ${why(e)}`, true);
  }
  await refreshInvitations(c);
}

/**
 * The Share dialog of collection ref: a username and a role; "Look up"
 * shows the user's key fingerprint (pinned on first use), "Share" sends
 * the invitation. A changed key shows both fingerprints and "Trust the
 * new key" instead.
 * @param {import('/sdk/index.js').Client} c
 * @param {import('/sdk/index.js').CollectionRef} ref
 * @param {string} name the collection's name as shown
 */
export function openShare(c, ref, name) {
  const d = el('dialog', 'share');
  const id = ++seq;
  d.setAttribute('aria-labelledby', `share-h-${id}`);
  const h = el('h3', '', `Share ${name}`);
  h.id = `share-h-${id}`;
  const form = el('form');
  const ul = el('label', '', 'Username');
  ul.htmlFor = `share-user-${id}`;
  const user = el('input');
  user.id = ul.htmlFor;
  user.required = true;
  user.autocomplete = 'off';
  const rl = el('label', '', 'Role');
  rl.htmlFor = `share-role-${id}`;
  const role = roleSelect(rl.htmlFor, 'write');
  const look = el('button', '', 'Look up their key');
  look.type = 'submit';
  form.append(ul, user, rl, role, look);
  const fp = el('div', 'fingerprint-box');
  const status = el('p');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const close = button('Close', `Close the Share dialog of ${name}`, () => {
    d.close();
    d.remove();
  });
  d.append(h, form, fp, status, el('p', 'actions'), close);
  /** Show the fingerprint of the user typed and the Share button. */
  const lookup = async () => {
    const who = user.value.trim();
    fp.replaceChildren();
    say(status, `Looking up ${who}'s key…`);
    try {
      const k = await c.userKeys(who);
      const go = button('Share', `Share ${name} with ${who} as ${role.value}`, () => send(who, go));
      go.dataset.action = 'share';
      const line = el('p', '', `Key fingerprint of ${k.username}: `);
      line.append(el('code', 'fingerprint', k.fingerprint));
      fp.append(line, el('p', 'sub', k.firstUse ? 'First time: compare it with the one they see under Sharing on their page, ' +
          'then share.' : 'The same key as before.'), go);
      say(status, '');
      go.focus();
    } catch (e) {
      say(status, `Cannot share with ${who}: ${why(e)}`, true);
      if (e instanceof KeyChangedError) {
        const trust = button('Trust the new key', `Trust the new key of ${e.username}`, async () => {
          await c.trustKey(e.username);
          await lookup();
        });
        fp.append(trust);
      }
    }
  };
  /** @param {string} who @param {HTMLButtonElement} go */
  const send = async (who, go) => {
    go.disabled = true;
    say(status, `Sealing the collection's key to ${who} and inviting…`);
    try {
      await c.invite(ref, who, /** @type {'read' | 'write' | 'admin'} */ (role.value));
      say(status, `Invited ${who} as ${role.value}: they see the invitation on their page.`);
    } catch (e) {
      go.disabled = false;
      say(status, `Not shared: ${why(e)}`, true);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void lookup();
  });
  document.body.append(d);
  d.showModal();
  user.focus();
}

/**
 * The members of collection ref in box (toggled): names and roles; for
 * the owner or an admin a role picker and Remove on each other member
 * (the owner's removal rotates the key), and Leave on a collection shared
 * with this account.
 * @param {import('/sdk/index.js').Client} c
 * @param {import('/sdk/index.js').CollectionRef} ref
 * @param {HTMLElement} box
 */
export async function toggleMembers(c, ref, box) {
  if (box.childElementCount > 0) {
    box.replaceChildren();
    return;
  }
  const status = el('p');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  box.replaceChildren(el('p', 'sub', 'Fetching the members…'));
  let m;
  try {
    m = await c.members(ref);
  } catch (e) {
    box.replaceChildren(el('p', 'error', `Could not list the members: ${why(e)}`));
    return;
  }
  const me = c.session?.username ?? '';
  const myRole = m.members.find((x) => x.username === me)?.role ?? '';
  const manage = myRole === 'owner' || myRole === 'admin';
  const table = el('table', 'members');
  const cap = el('caption', '', `Members (key version ${m.keyVersion})`);
  const head = el('tr');
  for (const t of ['Name', 'Role', 'Actions'])
    head.append(el('th', '', t));
  table.append(cap, head);
  for (const x of m.members) {
    const tr = el('tr');
    tr.dataset.user = x.username;
    const roleCell = el('td');
    const acts = el('td');
    if (manage && x.role !== 'owner' && x.username !== me) {
      const sel = roleSelect(`member-role-${++seq}`, x.role);
      sel.setAttribute('aria-label', `Role of ${x.username}`);
      sel.addEventListener('change', async () => {
        try {
          await c.setRole(ref, x.username, /** @type {'read' | 'write' | 'admin'} */ (sel.value));
          say(status, `${x.username} is now ${sel.value}.`);
        } catch (e) {
          say(status, `Role not changed: ${why(e)}`, true);
        }
      });
      roleCell.append(sel);
      acts.append(button('Remove', `Remove ${x.username}`, async () => {
        say(status, `Removing ${x.username} and rotating the collection's key…`);
        try {
          const r = await c.unshare(ref, x.username);
          box.replaceChildren();
          await toggleMembers(c, ref, box);
          const st = box.querySelector('[role="status"]');
          if (st)
            say(/** @type {HTMLElement} */ (st), r.rotated ? `Removed ${x.username}; new records use key version ` +
              `${r.keyVersion}, which ${x.username} never gets.` : `Removed ${x.username}; the owner rotates the key.`);
        } catch (e) {
          /* a key that changed stops the rotation after the removal */
          say(status, e instanceof KeyChangedError ? `Removed ${x.username}, but the key was not rotated: ${why(e)} ` +
            'Then use "Rotate the key".' : `Not removed: ${why(e)}`, true);
        }
      }));
    } else {
      roleCell.textContent = x.role;
    }
    if (x.username === me && x.role !== 'owner')
      acts.append(button('Leave', 'Leave this collection', async () => {
        try {
          await c.leave(ref);
          await redraw();
        } catch (e) {
          say(status, `Not left: ${why(e)}`, true);
        }
      }));
    tr.append(el('td', '', x.username), roleCell, acts);
    table.append(tr);
  }
  /* the owner rotates again by hand after a rotation a changed key stopped */
  const extra = el('p', 'actions');
  if (myRole === 'owner')
    extra.append(button('Rotate the key', 'Rotate the key of this collection', async () => {
      say(status, 'Rotating the collection\'s key…');
      try {
        say(status, `Key rotated: new records use key version ${await c.rotate(ref)}.`);
      } catch (e) {
        say(status, `Not rotated: ${why(e)}`, true);
      }
    }));
  box.replaceChildren(table, ...dueLine(m, myRole), extra, status);
}

/**
 * The line that says a collection is due for rotation (a member removed
 * or left since the last rotation: the server marks it rotate_due and
 * shows it to the owner and admins only), or nothing. Until the rotation
 * new records still use the key the removed member holds, so the owner
 * and an admin see who does it and when.
 * @param {{ owner: string, keyVersion: number, rotateDue: boolean }} m the SDK's members()
 * @param {string} myRole this account's role in the collection
 * @returns {HTMLElement[]}
 */
function dueLine(m, myRole) {
  if (!m.rotateDue)
    return [];
  const p = el('p', 'rotate-due', myRole === 'owner'
    ? `Due for rotation: a member was removed or left since key version ${m.keyVersion}. This page's next sync ` +
      'rotates the key (or "Rotate the key" now).'
    : `Due for rotation: a member was removed or left since key version ${m.keyVersion}. ${m.owner}'s next sync ` +
      `rotates the key; until then new records still use key version ${m.keyVersion}.`);
  return [p];
}
