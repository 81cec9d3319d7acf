/*
 * client.js: the SDK's operations of client.md section 7 over fetch, for
 * Node 20 and browsers: the Client class. Accounts (register, login with
 * the kdf floor before any login request, refresh with rotation, logout,
 * changePassword, devices), records under opaque names (put, delete, get,
 * list, collections, history) and sync (push queued changes with
 * base_version, conflicts to a merge callback, pull until more is false,
 * 410 -> resync from 0; one sync at a time per Client), watch (long polls
 * of GET /v1/status, then sync), backups and anonymous slots as section 5
 * streams over ReadableStream (backupPut, backupGet, backupList,
 * backupDelete, slotPut, slotGet) and the account's export; account
 * security (issue 15): the second factor at login, TOTP on and off,
 * recovery codes, and the recovery key of section 10 (recoveryKeyCreate,
 * recover: a new password with every record still readable); sharing
 * (issue 14, client.md section 9 and docs/API-sharing.md): identity keys,
 * pinned fingerprints, invitations sealed and signed, members, roles,
 * removal with key rotation, and shared collections synced as own ones.
 *
 * State: the session (tokens, data key, keyring plaintext) lives in memory
 * only and logout() wipes it. The local copy lives in a Storage
 * (storage.js) and holds only what the server sees: sealed envelopes,
 * opaque names, versions, and the queue of sealed changes (with the
 * application id of each queued change: a deletion has no envelope to read
 * it from, and a conflict must name it to the merge callback). A record is
 * opened when it is read, so a tampered one fails there with the one
 * DecryptError. Keys of the store, per account id:
 *   <acct>/c/<collection>            {version, meta, metaPending}  the pull cursor and sealed meta
 *   <acct>/r/<collection>/<record>   {version, env}                 env null for a tombstone
 *   <acct>/q/<collection>/<record>   {base, env, a}                 a queued change; env null = delete
 *   <acct>/b/<backup name>           {version}                      the backup's version last put or got
 *   <acct>/s/<owner>:<collection>    {owner, c, role, kv, grants}   a collection shared with this account:
 *                                    its grants as the server keeps them (sealed, signed) by key version
 *   <acct>/pin/<username>            {fingerprint, x25519, ed25519} another account's pinned public keys
 *   <acct>/keys                      {fingerprint}                  the identity published from here
 *   slot/<slot id>                   {version}                      the same for a slot (no account)
 * where <collection> and <record> are the 22-character server names; a
 * shared collection's local copy is under "<owner>:<collection>" in their
 * place (a username has no ":" and no "/").
 */
import * as bs1 from './bs1/index.js';
import { ConflictError, KeyChangedError, ServerError, SessionError, UnreachableError } from './errors.js';
import { DEFAULT_RETRY, backoff, request, requestStream } from './http.js';
import { MemoryStorage } from './storage.js';

const { b64, b64DecodeStrict, utf8, utf8Decode, wipe, DecryptError, InputError } = bs1;

/** The API's cap on records per push (limits.max_push_records' default). */
const PUSH_MAX_RECORDS = 500;
/** Sealed bytes per push, well under limits.max_body_bytes (8 MiB) once in base64. */
const PUSH_MAX_BYTES = 4 * 1024 * 1024;
/** Push rounds per sync before a ConflictError: other devices keep writing. */
const PUSH_ROUNDS = 8;
/* envelopes opened side by side by openRecords */
const RECORD_BATCH = 64;
/** Rotations tried per removal when the membership keeps changing under them (412) */
const ROTATE_TRIES = 5;
/** watch()'s live socket: the reconnect back-off's base and cap (full jitter) */
const LIVE_BASE_MS = 1000;
const LIVE_CAP_MS = 60000;
/** a live socket not open after this long is given up (a front end that never answers the upgrade) */
const LIVE_OPEN_MS = 10000;

/**
 * A collection as the Client's operations name it: the application's name
 * A of one of this account's collections, or {name: A, owner} for one that
 * another account shared with it (A is the owner's name for it, from the
 * grant).
 * @typedef {string | { name: string, owner: string }} CollectionRef
 */

/**
 * A collection resolved: the application's name, its owner (null: this
 * account), the server's name, and the segment of its storage keys (the
 * server name, or "<owner>:<server name>").
 * @typedef {{ A: string, owner: string | null, c: string, seg: string }} Target
 */

/**
 * Another account's public keys as the server gives them, checked
 * against the pinned ones.
 * @typedef {object} UserKeys
 * @property {string} username lowercased
 * @property {string} fingerprint b64url(SHA-256(x25519 || ed25519))[0:16]
 * @property {Uint8Array} x25519Pk
 * @property {Uint8Array} ed25519Pk
 * @property {boolean} firstUse true when they were pinned by this call
 */

/**
 * An incoming invitation (invitations()).
 * @typedef {object} Invitation
 * @property {string} id
 * @property {string | null} name the collection's application name from the opened grant (null when it
 *   does not open: keyChanged, or a grant that fails its checks; accept() then throws)
 * @property {string} collection the server's name
 * @property {string} owner
 * @property {string} from who invited
 * @property {string} fingerprint the inviter's key fingerprint, to compare with what the inviter sees
 * @property {boolean} keyChanged the inviter's key is not the one pinned for it
 * @property {string} role
 * @property {number} keyVersion
 * @property {string} createdAt
 * @property {string} expiresAt
 */

/**
 * A collection's membership (members()).
 * @typedef {object} Members
 * @property {string} owner
 * @property {number} version the membership version (rotate's If-Match)
 * @property {number} keyVersion the collection's newest key version
 * @property {boolean} rotateDue a member was removed or left since the last rotation (the owner's next sync rotates)
 * @property {{ username: string, role: string, joinedAt: string | null }[]} members the owner first
 */

/**
 * A device as the server lists it.
 * @typedef {{ name: string, type: string }} DeviceInfo
 */

/**
 * What a merge callback is given for one conflicting record: the
 * application's names, this device's queued value and the server's (each
 * the data, or null for a deletion), and the server's version.
 * @typedef {object} Conflict
 * @property {string} collection the application's collection name A
 * @property {string} [owner] the owner of a shared collection (absent: this account's)
 * @property {string} id the application's record id a
 * @property {Uint8Array | null} local this device's change (null: delete)
 * @property {Uint8Array | null} remote the server's current data (null: deleted or absent)
 * @property {number} remoteVersion the server's version of the record
 */

/**
 * The merge callback: return the data to write over the server's version
 * (a Uint8Array or a string, as UTF-8), null to delete the record, or
 * undefined to keep the server's copy and drop the local change.
 * @typedef {(c: Conflict) => (Uint8Array | string | null | undefined | Promise<Uint8Array | string | null | undefined>)} MergeFn
 */

/**
 * What sync() returns.
 * @typedef {object} SyncResult
 * @property {{ collection: string, owner?: string, id: string | null, version: number, deleted: boolean }[]} changed
 *   records that came from the server (id null: a tombstone of a record this device never saw); owner is
 *   set for a shared collection, here and below
 * @property {{ collection: string, owner?: string, id: string, version: number }[]} pushed this device's
 *   accepted changes
 * @property {{ collection: string, owner?: string, id: string, kept: 'server' | 'merged' }[]} conflicts
 *   every conflict and how it ended: "server" (the local change dropped) or "merged" (the callback's value pushed)
 * @property {{ collection: string, owner?: string, recordId: string }[]} undecryptable
 *   records that came from the server and do not open (by server id); reading them throws DecryptError
 * @property {string[]} resynced collections pulled again from 0 after a 410
 * @property {string[]} gone collections deleted on the server (their local copy dropped), or shared ones
 *   this account is no longer a member of
 * @property {{ collection: string, owner: string, error: Error }[]} refused shared collections left out
 *   because their grant does not open (a DecryptError) or the inviter's key changed (a KeyChangedError),
 *   or whose queued changes the server refused (a ServerError 403: a read member) and were dropped;
 *   and own collections (owner: this account) whose due rotation failed (a member's KeyChangedError, a
 *   ServerError): pulled, but nothing pushed into them until it succeeds
 */

/**
 * Options of put() and delete().
 * @typedef {object} WriteOptions
 * @property {number} [base] the record's version this change was made from
 *   (default: the queued change's base, else the local copy's version; 0 for a new record)
 */

/**
 * Options of watch().
 * @typedef {object} WatchOptions
 * @property {number} [wait] seconds a long poll may wait (1 to 3600, default 30; the server caps it)
 * @property {AbortSignal} [signal] stops the watch: it then resolves
 * @property {(e: Error) => void} [onError] told of each failure that is retried after a back-off
 */

/**
 * Client options.
 * @typedef {object} ClientOptions
 * @property {string} url the server's base URL, e.g. "https://sync.example.org" (any prefix)
 * @property {import('./storage.js').Storage} [storage] the local copy (default: a MemoryStorage)
 * @property {typeof fetch} [fetch] the fetch to use (default: globalThis.fetch)
 * @property {typeof WebSocket | null} [WebSocket] the WebSocket class of watch()'s live socket (default:
 *   globalThis.WebSocket; null or none: watch() long-polls)
 * @property {MergeFn} [merge] the conflict callback (default: keep the server's copy)
 * @property {Partial<import('./http.js').RetryPolicy>} [retry] retries and back-off
 * @property {(s: bs1.KdfStatus) => void} [kdfStatus] told when Argon2id starts (in a page: in a Web
 *   Worker) and ends, with its duration: a page shows it
 * @property {(c: Client) => (void | Promise<void>)} [onSession] called (and awaited) after the session
 *   changed: a login, a token rotation, a password change, and its end (then c.session is null), so
 *   that an application that keeps the session (sessionExport) keeps the current one; its errors are
 *   its own (the Client ignores them)
 */

/**
 * The second factor at login: a code given up front (six digits from the
 * authenticator app, or a recovery code), and/or a prompt the Client calls
 * when the server answers mfa_required (again: false) or invalid_mfa after
 * a prompted code (again: true), at most MFA_PROMPTS times; it returns the
 * code, or null to give up (the ServerError is then thrown). The login is
 * resent with the same auth_key: no second Argon2id.
 * @typedef {object} MfaOptions
 * @property {string} [code]
 * @property {(again: boolean) => (string | null | undefined | Promise<string | null | undefined>)} [prompt]
 */

/** Prompts for a second factor per login. */
const MFA_PROMPTS = 3;

/**
 * The login body's member for a code: six digits are "totp", anything else
 * "recovery_code".
 * @param {Record<string, unknown>} body
 * @param {string} code
 */
function mfaField(body, code) {
  delete body.totp;
  delete body.recovery_code;
  const c = String(code).trim();
  if (/^[0-9]{6}$/.test(c))
    body.totp = c;
  else
    body.recovery_code = c;
}

/**
 * The answer's recovery codes.
 * @param {any} body
 * @returns {string[]}
 */
function codesOf(body) {
  const a = body?.recovery_codes;
  if (!Array.isArray(a) || a.length === 0 || !a.every((c) => typeof c === 'string'))
    throw new UnreachableError('the server\'s answer lacks recovery_codes');
  return a;
}

/**
 * A session as sessionExport gives it, to keep across restarts: the
 * public part as JSON values and the secrets (tokens, keyring plaintext)
 * as bytes that whoever keeps them must protect, and wipe after use.
 * @typedef {object} SessionExport
 * @property {string} username
 * @property {string} accountId
 * @property {string} deviceId
 * @property {number} keyringVersion
 * @property {string} kdf the kdf object's JSON text
 * @property {Uint8Array} secret u32be(n) || n bytes of {"access","refresh"} JSON || the keyring plaintext
 */

/**
 * The session of a login: tokens and secrets, in memory only.
 * @typedef {object} Session
 * @property {string} username lowercased
 * @property {string} accountId
 * @property {string} deviceId
 * @property {string} access
 * @property {string} refresh
 * @property {Uint8Array} dataKey
 * @property {Uint8Array} keyringPt the keyring's plaintext (its unknown members are kept on re-seal)
 * @property {number} keyringVersion
 * @property {bs1.Kdf} kdf the kdf the password was derived with
 * @property {Uint8Array} idKey
 * @property {Map<string, Uint8Array>} cid cid_key per server collection name
 * @property {Map<string, CryptoKey>} [ck] ck(collection, kv) per "collection/kv", imported for AES-GCM
 *   (non-extractable): records open with one Web Crypto call, not four
 * @property {Uint8Array} [keyringKey] kept from the password's login, to add the identity to the keyring
 *   (an imported session has none)
 * @property {bs1.Identity} [identity] the identity key pairs, from the keyring
 * @property {Map<string, Uint8Array>} [sk] shared collections' keys per "<seg>/kv", from opened grants (and own
 *   collections' above version 1: an admin's grant, or derived)
 * @property {Map<string, Promise<Uint8Array>>} [okp] ownKey's lookups under way, per "<seg>/kv"
 * @property {Map<string, bs1.Grant>} [grants] each shared collection's newest opened grant, per seg
 */

/**
 * A record's data given as bytes or as a string (its UTF-8).
 * @param {Uint8Array | string} d
 * @returns {Uint8Array}
 */
function bytesOf(d) {
  if (typeof d === 'string')
    return utf8(d);
  if (d instanceof Uint8Array)
    return d;
  throw new InputError('record data must be a Uint8Array or a string');
}

/**
 * base64 from the server into bytes; a DecryptError when it is not strict
 * base64 (the server only ever sends what it stored).
 * @param {unknown} s
 * @returns {Uint8Array}
 */
function unb64(s) {
  const b = b64DecodeStrict(s);
  if (!b)
    throw new DecryptError();
  return b;
}

/**
 * The API path of backup name; an InputError for a name the API refuses.
 * @param {string} name
 * @returns {string}
 */
function backupPath(name) {
  if (typeof name !== 'string' || !BACKUP_NAME.test(name))
    throw new InputError('a backup name is 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~ ' +
      '(the server sees it: pick one that says nothing)');
  return `/v1/backups/${name}`;
}

/** Two byte arrays hold the same bytes. @param {Uint8Array} a @param {Uint8Array} b */
function sameBytes(a, b) {
  if (a.length !== b.length)
    return false;
  let d = 0;
  for (let i = 0; i < a.length; i++)
    d |= a[i] ^ b[i];
  return d === 0;
}

/**
 * What backupPut and slotPut read: bytes, a string (its UTF-8), a Blob, or
 * a ReadableStream of bytes (then its exact size must be given).
 * @typedef {Uint8Array | string | Blob | ReadableStream<Uint8Array>} Source
 */

/**
 * Options of backupPut and slotPut.
 * @typedef {object} PutOptions
 * @property {number} [size] the plaintext's exact size in bytes (required for a ReadableStream)
 * @property {(done: number, total: number) => void} [progress] sealed bytes sent so far, of total
 * @property {boolean} [force] overwrite whatever version the server holds (If-Match: *): no merge
 * @property {string} [app] slots only: the application id (default "blindsync")
 * @property {AbortSignal} [signal] cancels the transfer
 */

/**
 * Options of backupGet and slotGet.
 * @typedef {object} GetOptions
 * @property {(done: number, total: number) => void} [progress] sealed bytes received so far, of total
 * @property {number} [since] a version already held: resolve null if it is still the current one (304)
 * @property {string} [app] slots only: the application id (default "blindsync")
 * @property {AbortSignal} [signal] cancels the transfer
 */

/**
 * What backupGet and slotGet resolve to: the plaintext as a stream and the
 * version read. Each piece comes out only after its tag verified; on a
 * tampered or truncated stream the stream errors with a DecryptError and
 * whatever was read from it must be discarded.
 * @typedef {{ version: number, stream: ReadableStream<Uint8Array> }} Download
 */

/**
 * A backup as the server lists it.
 * @typedef {{ name: string, version: number, bytes: number, modifiedAt: string }} BackupInfo
 */

/** The API's rule for backup names (it sees them: they should say nothing). */
const BACKUP_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.~-]{0,63}$/;

/**
 * The plaintext of a put as a stream maker: its size, a function that
 * makes the stream (again, when replay), and whether it can be made again.
 * @param {Source} src
 * @param {number | undefined} size
 * @returns {{ size: number, make: () => ReadableStream<Uint8Array>, replay: boolean }}
 */
function sourceOf(src, size) {
  if (typeof src === 'string' || src instanceof Uint8Array) {
    const b = bytesOf(src);
    return { size: b.length, replay: true, make: () => new ReadableStream({
      start(c) {
        if (b.length > 0)
          c.enqueue(b);
        c.close();
      } }) };
  }
  if (typeof Blob !== 'undefined' && src instanceof Blob)
    return { size: src.size, replay: true, make: () => src.stream() };
  if (src instanceof ReadableStream) {
    if (!Number.isSafeInteger(size) || /** @type {number} */ (size) < 0)
      throw new InputError('a ReadableStream source needs its exact size (the size option)');
    let used = false;
    return { size: /** @type {number} */ (size), replay: false, make: () => {
      if (used)
        throw new InputError('the source stream was already read');
      used = true;
      return src;
    } };
  }
  throw new InputError('the source must be a Uint8Array, a string, a Blob or a ReadableStream');
}

/**
 * A TransformStream that passes exactly n bytes (as Uint8Array) and
 * errors with an InputError on more or fewer. Any BufferSource chunk of
 * an application's stream is taken as its bytes. The error is also kept
 * in seen.error: fetch reports a failed body only as a network error.
 * @param {number} n
 * @param {{ error?: Error }} seen
 * @returns {TransformStream<Uint8Array, Uint8Array>}
 */
function exactly(n, seen) {
  let got = 0;
  /** @param {string} m @returns {never} */
  const fail = (m) => {
    seen.error = new InputError(m);
    throw seen.error;
  };
  return new TransformStream({
    transform(/** @type {any} */ chunk, c) {
      const b = chunk instanceof Uint8Array ? chunk : ArrayBuffer.isView(chunk)
        ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : new Uint8Array(/** @type {ArrayBuffer} */ (chunk));
      got += b.length;
      if (got > n)
        fail(`the source is longer than its size (${n} bytes)`);
      c.enqueue(b);
    },
    flush() {
      if (got !== n)
        fail(`the source ended after ${got} of its ${n} bytes`);
    },
  });
}

/**
 * A TransformStream that counts the bytes going through for a progress
 * callback, and runs atEnd (if any) once the last byte went through.
 * @param {((done: number, total: number) => void) | undefined} progress
 * @param {number} total
 * @param {() => (void | Promise<void>)} [atEnd]
 * @returns {TransformStream<Uint8Array, Uint8Array>}
 */
function counted(progress, total, atEnd) {
  let done = 0;
  return new TransformStream({
    transform(chunk, c) {
      done += chunk.length;
      c.enqueue(chunk);
      if (progress)
        progress(done, total);
    },
    async flush() {
      if (atEnd)
        await atEnd();
    },
  });
}

/**
 * A bs1 stream transform (which takes any BufferSource) typed as a
 * Uint8Array transform, for pipeThrough.
 * @param {TransformStream<BufferSource, Uint8Array>} t
 * @returns {TransformStream<Uint8Array, Uint8Array>}
 */
function bytesIn(t) {
  return /** @type {TransformStream<Uint8Array, Uint8Array>} */ (/** @type {unknown} */ (t));
}

/**
 * The version in an ETag ("41" -> 41), or 0.
 * @param {string | null} etag
 * @returns {number}
 */
function etagVersion(etag) {
  const m = /^(?:W\/)?"([0-9]{1,15})"$/.exec(etag ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * The retry delay of a live socket's 1012 close reason ({"retry_after_ms": N}), or null.
 * @param {string} reason
 * @returns {number | null}
 */
function retryAfterMs(reason) {
  try {
    const ms = JSON.parse(reason)?.retry_after_ms;
    return Number.isSafeInteger(ms) && ms >= 0 && ms <= 600000 ? ms : null;
  } catch {
    return null;
  }
}

/**
 * "?owner=O" (or "&owner=O" with sep "&") for a shared collection's
 * routes, "" for an own one.
 * @param {{ owner: string | null }} t
 * @param {'?' | '&'} sep
 */
function ownerQ(t, sep) {
  return t.owner === null ? '' : `${sep}owner=${encodeURIComponent(t.owner)}`;
}

/**
 * A keyring plaintext with the member "identity" set (the other members
 * kept as they are).
 * @param {Uint8Array} pt
 * @param {{ x25519: string, ed25519: string }} identity
 * @returns {Uint8Array}
 */
function keyringWith(pt, identity) {
  const o = JSON.parse(utf8Decode(pt) ?? 'null');
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new DecryptError();
  o.identity = identity;
  return utf8(JSON.stringify(o));
}

/**
 * The identity secrets in a keyring plaintext, or null when it has none
 * (a malformed one is a DecryptError).
 * @param {Uint8Array} pt
 * @returns {{ x25519: Uint8Array, ed25519: Uint8Array } | null}
 */
function keyringIdentity(pt) {
  let o = null;
  try {
    o = JSON.parse(utf8Decode(pt) ?? 'null');
  } catch {
    o = null;
  }
  const id = o?.identity;
  if (id === undefined || id === null)
    return null;
  const x = b64DecodeStrict(id.x25519);
  const e = b64DecodeStrict(id.ed25519);
  if (!x || x.length !== 32 || !e || e.length !== 32)
    throw new DecryptError();
  return { x25519: x, ed25519: e };
}

/**
 * The keys this account made as an admin rotating a collection it does not
 * own (client.md section 9): the keyring plaintext's member "granted",
 * {"<owner>:<collection>": {"<kv>": b64(key)}}, as a Map from kv to key
 * for seg (the caller wipes them); empty when none. A malformed member is
 * a DecryptError.
 * @param {Uint8Array} pt
 * @param {string} seg
 * @returns {Map<number, Uint8Array>}
 */
function keyringGranted(pt, seg) {
  const o = JSON.parse(utf8Decode(pt) ?? 'null');
  const out = new Map();
  const mine = o?.granted?.[seg];
  if (mine === undefined)
    return out;
  if (mine === null || typeof mine !== 'object')
    throw new DecryptError();
  for (const [kv, k] of Object.entries(mine)) {
    const key = b64DecodeStrict(k);
    if (!Number.isSafeInteger(Number(kv)) || Number(kv) < 2 || !key || key.length !== 32)
      throw new DecryptError();
    out.set(Number(kv), key);
  }
  return out;
}

/**
 * A keyring plaintext with key version kv's key of seg added to its
 * member "granted" (see keyringGranted; the other members are kept).
 * @param {Uint8Array} pt
 * @param {string} seg
 * @param {number} kv
 * @param {Uint8Array} key
 * @returns {Uint8Array}
 */
function keyringWithGranted(pt, seg, kv, key) {
  const o = JSON.parse(utf8Decode(pt) ?? 'null');
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new DecryptError();
  o.granted ??= {};
  o.granted[seg] ??= {};
  o.granted[seg][String(kv)] = b64(key);
  return utf8(JSON.stringify(o));
}

/**
 * Public keys as the API gives them ({x25519, ed25519}, base64 of 32
 * bytes each) with their fingerprint; null when malformed.
 * @param {any} keys
 * @returns {Promise<{ x25519Pk: Uint8Array, ed25519Pk: Uint8Array, fingerprint: string } | null>}
 */
async function pubKeys(keys) {
  const x = b64DecodeStrict(keys?.x25519);
  const e = b64DecodeStrict(keys?.ed25519);
  if (!x || x.length !== 32 || !e || e.length !== 32)
    return null;
  return { x25519Pk: x, ed25519Pk: e, fingerprint: await bs1.fingerprint(x, e) };
}

/**
 * The blindsync client of client.md section 7: one account's session and
 * local copy. Operations that need the session throw SessionError without
 * one. Every method is async.
 */
export class Client {
  /** @param {ClientOptions} opts */
  constructor(opts) {
    if (!opts || typeof opts.url !== 'string')
      throw new InputError('Client needs options with a url');
    /** @type {string} */
    this.url = opts.url.replace(/\/+$/, '');
    /** @type {import('./storage.js').Storage} */
    this.storage = opts.storage ?? new MemoryStorage();
    /** @type {typeof fetch} */
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    /** @type {typeof WebSocket | null | undefined} */
    this.WebSocket = opts.WebSocket === undefined ? globalThis.WebSocket : opts.WebSocket;
    /** @type {MergeFn | undefined} */
    this.merge = opts.merge;
    /** @type {import('./http.js').RetryPolicy} */
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
    /** @type {bs1.KdfOptions} */
    this.kdfOpts = { status: opts.kdfStatus };
    /** @type {((c: Client) => (void | Promise<void>)) | undefined} */
    this.onSession = opts.onSession;
    /** @type {Session | null} */
    this.session = null;
    /** @type {Promise<void> | null} the refresh in flight, shared by every caller */
    this.refreshing = null;
    /** @type {Promise<unknown>} the end of the last sync() queued: syncs run one at a time */
    this.syncing = Promise.resolve();
  }

  /* ---- accounts ---- */

  /**
   * Create an account: a fresh salt and data key, the section 2 keys, the
   * keyring (kind 1, version 1), POST /v1/account/register. Does not log in.
   * @param {string} username
   * @param {string} password
   * @param {{ invite?: string }} [opts] an invite code when the server asks for one
   * @returns {Promise<{ accountId: string }>}
   */
  async register(username, password, opts = {}) {
    const user = bs1.asciiLower(username);
    const kdf = bs1.kdfNew();
    const master = await bs1.masterKey(password, kdf, this.kdfOpts);
    const { authKey, keyringKey } = await bs1.accountKeys(master);
    const dataKey = bs1.dataKeyNew();
    /* the identity key pairs of section 9 live in the keyring from the start */
    const id = await bs1.identityNew();
    const base = bs1.keyringNew(dataKey);
    const pt = keyringWith(base, bs1.identityKeyring(id));
    wipe(base, id.x25519Sk, id.ed25519Seed);
    try {
      const keyring = await bs1.keyringSeal(keyringKey, user, 1, pt);
      /** @type {Record<string, unknown>} */
      const body = { username: user, auth_key: b64(authKey), kdf: JSON.parse(bs1.kdfJson(kdf)),
        keyring: b64(keyring) };
      if (opts.invite !== undefined)
        body.invite = opts.invite;
      const a = await this.send({ method: 'POST', path: '/v1/account/register', json: body });
      return { accountId: String(a.body?.account_id) };
    } finally {
      wipe(master, authKey, keyringKey, dataKey, pt);
    }
  }

  /**
   * Log in as a new device: prelogin, the kdf floor (a KdfFloorError, and
   * no login request, for a weak kdf), Argon2id and HKDF, login, and the
   * keyring opened at the answer's keyring_version. Keeps the session.
   * An account with two-factor login needs mfa (a code or a prompt);
   * without, a ServerError with code "mfa_required" (status 401); a wrong
   * code "invalid_mfa".
   * @param {string} username
   * @param {string} password
   * @param {DeviceInfo} [device] how the device is listed
   * @param {MfaOptions} [mfa] the second factor, when the account has one
   * @returns {Promise<{ accountId: string, deviceId: string }>}
   */
  async login(username, password, device, mfa = {}) {
    const user = bs1.asciiLower(username);
    const pre = await this.send({ method: 'POST', path: '/v1/account/prelogin',
      json: { username: user }, idempotent: true });
    const kdfObj = pre.body?.kdf;
    if (JSON.stringify(kdfObj ?? null).length > bs1.KDF_MAX_JSON)
      throw new bs1.KdfFloorError('the kdf object is longer than 1 KiB');
    const kdf = bs1.kdfCheck(kdfObj);
    const master = await bs1.masterKey(password, kdf, this.kdfOpts);
    const { authKey, keyringKey } = await bs1.accountKeys(master);
    wipe(master);
    /** @type {Uint8Array | null} */
    let pt = null;
    try {
      /** @type {Record<string, unknown>} */
      const body = { username: user, auth_key: b64(authKey) };
      if (device)
        body.device = { name: device.name, type: device.type };
      if (mfa.code)
        mfaField(body, mfa.code);
      const a = await this.loginSend(body, mfa);
      if (a?.keyring === null || a?.keyring === undefined)
        throw new DecryptError();
      const version = Number(a.keyring_version);
      pt = await bs1.keyringOpen(keyringKey, user, version, unb64(a.keyring));
      const dataKey = bs1.keyringDataKey(pt);
      this.forget();
      this.session = { username: user, accountId: String(a.account_id), deviceId: String(a.device_id),
        access: a.access_token, refresh: a.refresh_token, dataKey, keyringPt: pt, keyringVersion: version,
        kdf, idKey: await bs1.idKey(dataKey), cid: new Map(), keyringKey: keyringKey.slice() };
      pt = null;
      await this.sessionChanged();
      return { accountId: this.session.accountId, deviceId: this.session.deviceId };
    } finally {
      wipe(authKey, keyringKey, pt);
    }
  }

  /**
   * POST /v1/account/login, asking mfa.prompt for a code on mfa_required
   * (and again on invalid_mfa after a prompted code), the same body resent.
   * @param {Record<string, unknown>} body
   * @param {MfaOptions} mfa
   * @returns {Promise<any>} the answer's body
   */
  async loginSend(body, mfa) {
    for (let prompts = 0; ; prompts++) {
      try {
        return (await this.send({ method: 'POST', path: '/v1/account/login', json: body })).body;
      } catch (e) {
        if (!(e instanceof ServerError && e.status === 401 &&
            (e.code === 'mfa_required' || (e.code === 'invalid_mfa' && prompts > 0))) ||
            !mfa.prompt || prompts >= MFA_PROMPTS)
          throw e;
        const code = await mfa.prompt(e.code === 'invalid_mfa');
        if (!code)
          throw e;
        mfaField(body, code);
      }
    }
  }

  /** True while a session is held. @returns {boolean} */
  get loggedIn() {
    return this.session !== null;
  }

  /**
   * Rotate the tokens: POST /v1/account/refresh with the refresh token; the
   * new pair replaces the old before anything uses it. Concurrent callers
   * share one refresh (a refresh token is good once). A 401 (token_reused,
   * token_expired, unauthorized) ends the session: log in again.
   */
  async refresh() {
    const s = this.need();
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const a = await this.send({ method: 'POST', path: '/v1/account/refresh',
            json: { refresh_token: s.refresh } });
          s.refresh = a.body.refresh_token;
          s.access = a.body.access_token;
          await this.sessionChanged();
        } catch (e) {
          if (e instanceof ServerError && e.status === 401)
            this.forget();
          throw e;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  /**
   * Log out: POST /v1/account/logout (best effort: an unreachable server
   * does not keep the secrets), then forget the session's tokens and wipe
   * its keys. The local copy (sealed) stays; clearLocal() removes it.
   */
  async logout() {
    const s = this.session;
    if (!s)
      return;
    try {
      await this.send({ method: 'POST', path: '/v1/account/logout', token: s.access });
    } catch {
      /* the tokens are forgotten either way; they expire on the server */
    } finally {
      this.forget();
    }
  }

  /** Wipe the session's secrets and drop it (no request). */
  forget() {
    const s = this.session;
    if (!s)
      return;
    wipe(s.dataKey, s.keyringPt, s.idKey, s.keyringKey, ...s.cid.values(), ...(s.sk?.values() ?? []));
    if (s.identity)
      wipe(s.identity.x25519Sk, s.identity.ed25519Seed);
    for (const g of s.grants?.values() ?? [])
      wipe(g.key, g.idKey, ...(g.previous ?? []).map((p) => p.key));
    s.ck?.clear(); /* CryptoKeys cannot be wiped: dropped */
    s.access = s.refresh = '';
    this.session = null;
    void this.sessionChanged();
  }

  /**
   * Tell the onSession callback, if any, that the session changed; its
   * errors are ignored.
   * @returns {Promise<void>}
   */
  async sessionChanged() {
    if (!this.onSession)
      return;
    try {
      await this.onSession(this);
    } catch {
      /* the callback's failure is the application's to report */
    }
  }

  /**
   * The session to keep across restarts ("remember this device"; see
   * IndexedDBStorage.sessionSave, which seals the secret under a
   * non-extractable key). The caller owns the result and should wipe
   * its secret once kept.
   * @returns {SessionExport}
   */
  sessionExport() {
    const s = this.need();
    const tokens = utf8(JSON.stringify({ access: s.access, refresh: s.refresh }));
    const secret = bs1.concat(bs1.u32be(tokens.length), tokens, s.keyringPt);
    wipe(tokens);
    return { username: s.username, accountId: s.accountId, deviceId: s.deviceId,
      keyringVersion: s.keyringVersion, kdf: bs1.kdfJson(s.kdf), secret };
  }

  /**
   * Take back a session that sessionExport gave (no request, no
   * password): the data key comes from the keyring plaintext. Replaces any
   * session held. The secret is not wiped here (the caller owns it). An
   * export that does not parse is an InputError and leaves no session.
   * @param {SessionExport} e
   */
  async sessionImport(e) {
    const sec = e?.secret;
    if (!(sec instanceof Uint8Array) || sec.length < 4 || typeof e.username !== 'string' ||
        typeof e.accountId !== 'string' || typeof e.deviceId !== 'string' ||
        !Number.isSafeInteger(e.keyringVersion))
      throw new InputError('not a session export');
    const n = new DataView(sec.buffer, sec.byteOffset, sec.byteLength).getUint32(0);
    if (n > sec.length - 4)
      throw new InputError('not a session export');
    let tokens = null;
    try {
      tokens = JSON.parse(utf8Decode(sec.subarray(4, 4 + n)) ?? '');
    } catch {
      tokens = null;
    }
    if (typeof tokens?.access !== 'string' || typeof tokens?.refresh !== 'string')
      throw new InputError('not a session export');
    const kdf = bs1.kdfParse(e.kdf);
    const pt = sec.slice(4 + n);
    let dataKey = null;
    try {
      dataKey = bs1.keyringDataKey(pt);
    } catch (err) {
      wipe(pt);
      throw err;
    }
    this.forget();
    this.session = { username: e.username, accountId: e.accountId, deviceId: e.deviceId,
      access: tokens.access, refresh: tokens.refresh, dataKey, keyringPt: pt, keyringVersion: e.keyringVersion,
      kdf, idKey: await bs1.idKey(dataKey), cid: new Map() };
  }

  /**
   * Change the password: check the old one (its auth key is what the
   * server verifies), derive the new keys under a fresh kdf, re-seal the
   * current keyring (read again, so that members another device added are
   * kept) as version N + 1, POST /v1/account/password. Other devices stay
   * logged in unless revokeOtherDevices.
   * @param {string} oldPassword
   * @param {string} newPassword
   * @param {{ revokeOtherDevices?: boolean }} [opts]
   */
  async changePassword(oldPassword, newPassword, opts = {}) {
    const s = this.need();
    const master = await bs1.masterKey(oldPassword, s.kdf, this.kdfOpts);
    const old = await bs1.accountKeys(master);
    wipe(master);
    const kdf = bs1.kdfNew();
    const nmaster = await bs1.masterKey(newPassword, kdf, this.kdfOpts);
    const nk = await bs1.accountKeys(nmaster);
    wipe(nmaster);
    /** @type {Uint8Array | null} */
    let pt = null;
    try {
      const kr = (await this.authed({ method: 'GET', path: '/v1/account/keyring', idempotent: true })).body;
      const version = Number(kr.version);
      pt = await bs1.keyringOpen(old.keyringKey, s.username, version, unb64(kr.keyring));
      const dk = bs1.keyringDataKey(pt);
      const same = sameBytes(dk, s.dataKey);
      wipe(dk);
      if (!same)
        throw new DecryptError();
      const sealed = await bs1.keyringSeal(nk.keyringKey, s.username, version + 1, pt);
      await this.authed({ method: 'POST', path: '/v1/account/password', json: {
        auth_key: b64(old.authKey), new_auth_key: b64(nk.authKey), new_kdf: JSON.parse(bs1.kdfJson(kdf)),
        new_keyring: b64(sealed), revoke_other_devices: opts.revokeOtherDevices === true } });
      wipe(s.keyringPt);
      s.keyringPt = pt;
      pt = null;
      s.keyringVersion = version + 1;
      s.kdf = kdf;
      wipe(s.keyringKey);
      s.keyringKey = nk.keyringKey.slice();
      await this.sessionChanged();
    } finally {
      wipe(old.authKey, old.keyringKey, nk.authKey, nk.keyringKey, pt);
    }
  }

  /**
   * The account's devices; `current` marks this one.
   * @returns {Promise<{ deviceId: string, name: string, type: string, createdAt: string, lastSeenAt: string | null, current: boolean }[]>}
   */
  async devices() {
    const a = await this.authed({ method: 'GET', path: '/v1/account/devices', idempotent: true });
    return (a.body?.devices ?? []).map((/** @type {any} */ d) => ({ deviceId: d.device_id, name: d.name,
      type: d.type, createdAt: d.created_at, lastSeenAt: d.last_seen_at ?? null, current: d.current === true }));
  }

  /**
   * Revoke a device: its tokens stop working at once. Revoking this one
   * ends the session too.
   * @param {string} deviceId
   */
  async deleteDevice(deviceId) {
    const s = this.need();
    await this.authed({ method: 'DELETE', path: `/v1/account/devices/${encodeURIComponent(deviceId)}`,
      idempotent: true });
    if (deviceId === s.deviceId)
      this.forget();
  }

  /* ---- two-factor login and the recovery key (issue 15) ---- */

  /**
   * The current password's auth_key and keyring_key under the session's kdf.
   * @param {string} password
   * @returns {Promise<{ authKey: Uint8Array, keyringKey: Uint8Array }>} the caller wipes both
   */
  async proof(password) {
    const s = this.need();
    const master = await bs1.masterKey(password, s.kdf, this.kdfOpts);
    try {
      return await bs1.accountKeys(master);
    } finally {
      wipe(master);
    }
  }

  /**
   * Whether two-factor login is on and a recovery key is set (GET /v1/account).
   * @returns {Promise<{ totp: boolean, recoveryKey: boolean }>}
   */
  async security() {
    const a = (await this.authed({ method: 'GET', path: '/v1/account', idempotent: true })).body;
    return { totp: a?.mfa?.totp === true, recoveryKey: a?.recovery_key === true };
  }

  /**
   * Start two-factor login (TOTP): the password proves the account; the
   * server makes the secret. Nothing is on until totpConfirm.
   * @param {string} password
   * @returns {Promise<{ secret: string, uri: string }>} the base32 secret and its otpauth:// URI
   */
  async totpEnable(password) {
    const k = await this.proof(password);
    try {
      const a = (await this.authed({ method: 'POST', path: '/v1/account/mfa/totp',
        json: { auth_key: b64(k.authKey) } })).body;
      if (typeof a?.secret !== 'string' || typeof a?.uri !== 'string')
        throw new UnreachableError('the server\'s answer lacks the secret');
      return { secret: a.secret, uri: a.uri };
    } finally {
      wipe(k.authKey, k.keyringKey);
    }
  }

  /**
   * Turn two-factor login on with a code of the authenticator app.
   * @param {string} code
   * @returns {Promise<string[]>} the ten single-use recovery codes (shown once)
   */
  async totpConfirm(code) {
    const a = await this.authed({ method: 'POST', path: '/v1/account/mfa/totp/confirm',
      json: { code: String(code) } });
    return codesOf(a.body);
  }

  /**
   * Turn two-factor login off: the password and a current code.
   * @param {string} password
   * @param {string} code
   */
  async totpDisable(password, code) {
    const k = await this.proof(password);
    try {
      await this.authed({ method: 'DELETE', path: '/v1/account/mfa/totp',
        json: { auth_key: b64(k.authKey), code: String(code) } });
    } finally {
      wipe(k.authKey, k.keyringKey);
    }
  }

  /**
   * A new set of recovery codes (the old set stops working).
   * @param {string} password
   * @param {string} code a current code of the app
   * @returns {Promise<string[]>}
   */
  async recoveryCodes(password, code) {
    const k = await this.proof(password);
    try {
      const a = await this.authed({ method: 'POST', path: '/v1/account/mfa/recovery-codes',
        json: { auth_key: b64(k.authKey), code: String(code) } });
      return codesOf(a.body);
    } finally {
      wipe(k.authKey, k.keyringKey);
    }
  }

  /**
   * Make a recovery key (client.md section 10): the stored keyring opened
   * with the password (a wrong one is a DecryptError), its plaintext sealed
   * as the kind-6 blob under a fresh key, PUT /v1/account/recovery
   * (replacing an earlier key). The text is the only copy: show it once.
   * @param {string} password
   * @returns {Promise<string>} the recovery key's text (groups of four)
   */
  async recoveryKeyCreate(password) {
    const s = this.need();
    const k = await this.proof(password);
    /** @type {Uint8Array | null} */
    let pt = null;
    /** @type {Uint8Array | null} */
    let rk = null;
    /** @type {{ auth: Uint8Array, wrap: Uint8Array } | null} */
    let rkeys = null;
    try {
      const kr = (await this.authed({ method: 'GET', path: '/v1/account/keyring', idempotent: true })).body;
      pt = await bs1.keyringOpen(k.keyringKey, s.username, Number(kr.version), unb64(kr.keyring));
      const made = bs1.recoveryNew();
      rk = made.rk;
      rkeys = await bs1.recoveryKeys(rk);
      const blob = await bs1.recoverySeal(rkeys.wrap, s.username, pt);
      await this.authed({ method: 'PUT', path: '/v1/account/recovery', json: {
        auth_key: b64(k.authKey), recovery_auth: b64(rkeys.auth), blob: b64(blob) } });
      return made.text;
    } finally {
      wipe(k.authKey, k.keyringKey, pt, rk, rkeys?.auth ?? null, rkeys?.wrap ?? null);
    }
  }

  /**
   * Remove the account's recovery key.
   * @param {string} password
   */
  async recoveryKeyDelete(password) {
    const k = await this.proof(password);
    try {
      await this.authed({ method: 'DELETE', path: '/v1/account/recovery',
        json: { auth_key: b64(k.authKey) } });
    } finally {
      wipe(k.authKey, k.keyringKey);
    }
  }

  /**
   * Set a new password with the recovery key (no session needed): POST
   * /v1/account/recover (a wrong key, user or an account without one: a
   * ServerError invalid_credentials), open the blob, seal the same keyring
   * plaintext under the new password at keyring_version + 1, POST
   * /v1/account/recover/complete (every device of the account is logged
   * out and the recovery key is used up), then log in as device. Every
   * record stays readable.
   * @param {string} username
   * @param {string} text the recovery key (case, spaces and "-" ignored)
   * @param {string} newPassword
   * @param {DeviceInfo} [device]
   * @param {MfaOptions} [mfa] for the login, when two-factor login is on
   * @returns {Promise<{ accountId: string, deviceId: string }>}
   */
  async recover(username, text, newPassword, device, mfa = {}) {
    const user = bs1.asciiLower(username);
    const rk = bs1.recoveryParse(text);
    const rkeys = await bs1.recoveryKeys(rk);
    /** @type {Uint8Array | null} */
    let pt = null;
    /** @type {{ authKey: Uint8Array, keyringKey: Uint8Array } | null} */
    let nk = null;
    try {
      const a = (await this.send({ method: 'POST', path: '/v1/account/recover',
        json: { username: user, recovery_auth: b64(rkeys.auth) } })).body;
      const version = Number(a?.keyring_version);
      if (!Number.isSafeInteger(version) || version < 1 || typeof a?.reset_token !== 'string')
        throw new UnreachableError('the server\'s recover answer lacks keyring_version or reset_token');
      pt = await bs1.recoveryOpen(rkeys.wrap, user, unb64(a.blob));
      wipe(bs1.keyringDataKey(pt));
      const kdf = bs1.kdfNew();
      const master = await bs1.masterKey(newPassword, kdf, this.kdfOpts);
      nk = await bs1.accountKeys(master);
      wipe(master);
      const sealed = await bs1.keyringSeal(nk.keyringKey, user, version + 1, pt);
      await this.send({ method: 'POST', path: '/v1/account/recover/complete', json: {
        reset_token: a.reset_token, new_auth_key: b64(nk.authKey), new_kdf: JSON.parse(bs1.kdfJson(kdf)),
        new_keyring: b64(sealed) } });
    } finally {
      wipe(rk, rkeys.auth, rkeys.wrap, pt, nk?.authKey ?? null, nk?.keyringKey ?? null);
    }
    return this.login(user, newPassword, device, mfa);
  }

  /* ---- records ---- */

  /**
   * Queue a write of record a in collection A (sealed now, sent by sync()).
   * A second put before a sync replaces the first, keeping its base version.
   * opts.base is the version the change was made from, when the caller
   * knows better than the local copy (an editor opened at version 7 while
   * a sync pulled 8): the push then conflicts, and the merge callback
   * decides, instead of writing over a version nobody looked at.
   * @param {CollectionRef} A the application's collection name (or {name, owner}: a shared one)
   * @param {string} a the application's record id
   * @param {Uint8Array | string} data bytes, or a string stored as UTF-8
   * @param {WriteOptions} [opts]
   */
  async put(A, a, data, opts = {}) {
    await this.queue(A, a, bytesOf(data), opts.base);
  }

  /**
   * Queue the deletion of record a in collection A (a tombstone on sync);
   * opts.base as for put().
   * @param {CollectionRef} A
   * @param {string} a
   * @param {WriteOptions} [opts]
   */
  async delete(A, a, opts = {}) {
    await this.queue(A, a, null, opts.base);
  }

  /**
   * Record a's data from the local copy: this device's queued change if
   * there is one, else what the last sync brought; null when it does not
   * exist or is deleted. A record that does not open is a DecryptError.
   * @param {CollectionRef} A
   * @param {string} a
   * @returns {Promise<Uint8Array | null>}
   */
  async get(A, a) {
    const { t, r } = await this.names(A, a);
    const q = await this.storage.get(this.key('q', t.seg, r));
    const e = q ?? (await this.storage.get(this.key('r', t.seg, r)));
    if (!e || e.env === null)
      return null;
    const got = await this.openRecord(t, r, e.env);
    if (got.a !== a)
      throw new DecryptError();
    return got.data;
  }

  /**
   * Every record of collection A in the local copy (queued changes
   * included), sorted by id. Any record that does not open makes it a
   * DecryptError.
   * @param {CollectionRef} A
   * @returns {Promise<{ id: string, data: Uint8Array, version: number }[]>}
   */
  async list(A) {
    const t = await this.target(A);
    const c = t.seg;
    /** @type {Map<string, { env: string | null, version: number }>} */
    const byRid = new Map();
    for (const k of await this.storage.keys(this.key('r', c, ''))) {
      const e = await this.storage.get(k);
      byRid.set(k.slice(k.lastIndexOf('/') + 1), { env: e.env, version: e.version });
    }
    for (const k of await this.storage.keys(this.key('q', c, ''))) {
      const e = await this.storage.get(k);
      const rid = k.slice(k.lastIndexOf('/') + 1);
      byRid.set(rid, { env: e.env, version: byRid.get(rid)?.version ?? 0 });
    }
    /** @type {{ id: string, data: Uint8Array, version: number }[]} */
    const out = [];
    const live = [...byRid].filter(([, e]) => e.env !== null);
    const opened = await this.openRecords(t, live.map(([rid, e]) => ({ rid, env: /** @type {string} */ (e.env) })));
    live.forEach(([, e], i) => {
      const o = opened[i];
      if (o instanceof DecryptError)
        throw o;
      out.push({ id: o.a, data: o.data, version: e.version });
    });
    return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  }

  /**
   * The collections of the local copy by their application names (their
   * meta opened), sorted; each with its server name and the version pulled.
   * sync() with no argument learns the collections other devices created,
   * and those shared with this account, which are listed too, with their
   * owner and this account's role (their name from the grant; pass
   * {name, owner} to the other operations). Collections whose meta or
   * grant does not open are left out.
   * @returns {Promise<{ name: string, collection: string, version: number, owner?: string, role?: string }[]>}
   */
  async collections() {
    const s = this.need();
    /** @type {{ name: string, collection: string, version: number, owner?: string, role?: string }[]} */
    const out = [];
    for (const k of await this.storage.keys(this.key('c', ''))) {
      const c = k.slice(k.lastIndexOf('/') + 1);
      if (c.includes(':'))
        continue;
      const e = await this.storage.get(k);
      const name = await this.openMeta(s, c, e.meta).catch(() => null);
      if (name !== null)
        out.push({ name, collection: c, version: e.version });
    }
    for (const k of await this.storage.keys(this.key('s', ''))) {
      const e = await this.storage.get(k);
      const seg = `${e.owner}:${e.c}`;
      const g = await this.grantOf(s, { A: '', owner: e.owner, c: e.c, seg }).catch(() => null);
      if (g)
        out.push({ name: g.name, collection: e.c, owner: e.owner, role: e.role,
          version: (await this.storage.get(this.key('c', seg)))?.version ?? 0 });
    }
    return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : (x.owner ?? '') < (y.owner ?? '') ? -1 : 1));
  }

  /**
   * Record a's versions the server keeps, newest first, each opened (data
   * null for a tombstone). Asks the server; a version that does not open
   * is a DecryptError.
   * @param {CollectionRef} A
   * @param {string} a
   * @returns {Promise<{ version: number, modifiedAt: string, deleted: boolean, data: Uint8Array | null }[]>}
   */
  async history(A, a) {
    const { t, r } = await this.names(A, a);
    const base = `/v1/collections/${t.c}/records/${r}/history`;
    const list = (await this.authed({ method: 'GET', path: base + ownerQ(t, '?'), idempotent: true })).body
      ?.versions ?? [];
    const out = [];
    for (const v of list) {
      let data = null;
      if (!v.deleted) {
        const one = (await this.authed({ method: 'GET', path: `${base}/${Number(v.version)}${ownerQ(t, '?')}`,
          idempotent: true })).body;
        const got = await this.openRecord(t, r, one.payload);
        if (got.a !== a)
          throw new DecryptError();
        data = got.data;
      }
      out.push({ version: Number(v.version), modifiedAt: String(v.modified_at), deleted: v.deleted === true,
        data });
    }
    return out;
  }

  /* ---- sync ---- */

  /**
   * Sync collections with the server: with no names, every collection of
   * the account (listed first, their meta opened) and every one with
   * queued changes; else the named ones. Per collection: create it with its
   * sealed meta if needed, push the queue with base_version (a conflict goes
   * to the merge callback, default: keep the server's; then again, up to 8
   * rounds, else a ConflictError), pull until more is false (a 410 starts
   * again from 0; a 404 drops the local copy of a collection deleted
   * elsewhere). With no names, the collections shared with this account
   * too (their newest grants fetched and opened; one that does not open is
   * listed in `refused`), and the local copy of one no longer shared is
   * dropped (`gone`). A push a read member may not make (403) drops its
   * queued changes; it throws for a named collection, else is listed in
   * `refused`.
   * Syncs of one Client run one at a time (a second waits for the first),
   * so that a watch() and an application's own sync() never push the same
   * queue twice.
   * @param {...CollectionRef} names application collection names ({name, owner} for a shared one)
   * @returns {Promise<SyncResult>}
   */
  sync(...names) {
    const run = this.syncing.then(() => this.syncNow(names));
    this.syncing = run.catch(() => {});
    return run;
  }

  /**
   * sync() itself, under its one-at-a-time chain.
   * @param {CollectionRef[]} names
   * @returns {Promise<SyncResult>}
   */
  async syncNow(names) {
    const s = this.need();
    /** @type {SyncResult} */
    const res = { changed: [], pushed: [], conflicts: [], undecryptable: [], resynced: [], gone: [], refused: [] };
    /** @type {Map<string, Target>} by storage segment */
    const todo = new Map();
    if (names.length === 0) {
      const list = (await this.authed({ method: 'GET', path: '/v1/collections', idempotent: true })).body;
      /** @type {any[]} */
      const all = list?.collections ?? [];
      const own = all.filter((col) => typeof col.owner !== 'string' || bs1.asciiLower(col.owner) === s.username);
      for (const col of own) {
        const name = await this.openMeta(s, col.name, col.meta).catch(() => null);
        if (name === null)
          continue;
        const k = this.key('c', col.name);
        const e = (await this.storage.get(k)) ?? { version: 0, meta: col.meta, metaPending: false };
        e.meta = col.meta;
        if (Number.isSafeInteger(col.key_version) && col.key_version >= 1)
          e.kv = col.key_version;
        /* a member removed or gone since the last rotation: syncOne rotates first */
        e.rotateDue = col.rotate_due === true;
        await this.storage.put(k, e);
        todo.set(col.name, { A: name, owner: null, c: col.name, seg: col.name });
      }
      /* one this device knows, listed without meta (re-created by a push): its meta again */
      for (const col of own) {
        const k = this.key('c', col.name);
        const e = col.meta === null ? await this.storage.get(k) : undefined;
        if (e?.meta)
          await this.storage.put(k, { ...e, metaPending: true });
      }
      for (const k of await this.storage.keys(this.key('c', ''))) {
        const c = k.slice(k.lastIndexOf('/') + 1);
        if (!todo.has(c) && !c.includes(':')) {
          const e = await this.storage.get(k);
          const name = await this.openMeta(s, c, e.meta).catch(() => null);
          if (name !== null)
            todo.set(c, { A: name, owner: null, c, seg: c });
        }
      }
      await this.sharedListed(s, all.filter((col) => !own.includes(col)), todo, res);
    } else {
      for (const A of names) {
        const t = await this.target(A);
        todo.set(t.seg, t);
      }
    }
    for (const t of todo.values())
      await this.syncOne(s, t, res, names.length > 0);
    return res;
  }

  /**
   * The shared collections of a listing (each with owner, role and
   * key_version): their entries kept up to date (a newer key version's grant
   * fetched and opened), each added to todo by its grant's name; one whose
   * grant does not open goes to res.refused. A local one no longer listed
   * was left or removed: its local copy is dropped (res.gone).
   * @param {Session} s
   * @param {any[]} shared
   * @param {Map<string, Target>} todo
   * @param {SyncResult} res
   */
  async sharedListed(s, shared, todo, res) {
    /** @type {Set<string>} */
    const listed = new Set();
    for (const col of shared) {
      const owner = bs1.asciiLower(String(col.owner));
      const t = { A: '', owner, c: String(col.name), seg: `${owner}:${col.name}` };
      listed.add(t.seg);
      const k = this.key('s', t.seg);
      const kv = Number(col.key_version) || 1;
      const e = (await this.storage.get(k)) ?? { owner, c: t.c, role: col.role, kv, grants: {} };
      e.role = col.role;
      e.kv = Math.max(e.kv, kv);
      await this.storage.put(k, e);
      try {
        let g = await this.grantOf(s, t);
        if (g.kv < e.kv)
          g = await this.grantFetch(s, t, null);
        todo.set(t.seg, { ...t, A: g.name });
      } catch (err) {
        if (!(err instanceof DecryptError || err instanceof KeyChangedError ||
            (err instanceof ServerError && err.status === 404)))
          throw err;
        res.refused.push({ collection: t.c, owner, error: /** @type {Error} */ (err) });
      }
    }
    for (const k of await this.storage.keys(this.key('s', ''))) {
      const seg = k.slice(k.lastIndexOf('/') + 1);
      if (listed.has(seg))
        continue;
      const e = await this.storage.get(k);
      const g = await this.grantOf(s, { A: '', owner: e.owner, c: e.c, seg }).catch(() => null);
      await this.dropShared(s, seg);
      if (g)
        res.gone.push(g.name);
    }
  }

  /**
   * One collection's sync (see sync()). A push to a shared collection that
   * this account may not write (403: a read member) drops the queued
   * changes (the server's copy stays), then throws when the collection was
   * named (strict), else is reported in res.refused and the pull goes on.
   * @param {Session} s
   * @param {Target} t
   * @param {SyncResult} res
   * @param {boolean} strict
   */
  async syncOne(s, t, res, strict) {
    const ck = this.key('c', t.seg);
    const col = await this.storage.get(ck);
    if (col?.metaPending && t.owner === null) {
      /* a collection this device created: its meta, sealed, before its records */
      await this.authed({ method: 'PUT', path: `/v1/collections/${t.c}`, json: { meta: col.meta },
        idempotent: true });
      col.metaPending = false;
      await this.storage.put(ck, col);
    }
    /* the server marked it rotate_due (a member removed or left): the new
       key before anything is pushed, so nothing new goes out under a key
       the gone member holds (rotate() re-seals the queue) */
    if (col?.rotateDue && t.owner === null) {
      try {
        await this.rotate(t.A);
      } catch (e) {
        /* a member's changed key (KeyChangedError) or a refusal: nothing is
           pushed into it until the rotation succeeds; the others sync on */
        if (strict || !(e instanceof KeyChangedError || e instanceof ServerError))
          throw e;
        res.refused.push({ collection: t.A, owner: s.username, error: /** @type {Error} */ (e) });
        await this.pull(s, t, res);
        return;
      }
    }
    for (let round = 0; ; round++) {
      const keys = await this.storage.keys(this.key('q', t.seg, ''));
      if (keys.length === 0)
        break;
      if (round >= PUSH_ROUNDS)
        throw new ConflictError(`collection ${t.A}: changes still conflict after ${PUSH_ROUNDS} rounds`);
      let more = false;
      try {
        more = await this.pushSome(s, t, keys, res);
      } catch (e) {
        if (!(t.owner !== null && e instanceof ServerError && e.status === 403))
          throw e;
        await this.storage.transaction(async (tx) => {
          for (const k of await tx.keys(this.key('q', t.seg, '')))
            await tx.delete(k);
        });
        if (strict)
          throw e;
        res.refused.push({ collection: t.A, owner: t.owner, error: e });
      }
      if (!more)
        break;
    }
    await this.pull(s, t, res);
  }

  /**
   * Push queued changes of one collection (one request, capped in records
   * and bytes). Accepted ones move into the local copy; conflicts go to
   * the merge callback. False when nothing can progress this round (only
   * conflicts with remote records that do not open are left).
   * @param {Session} s
   * @param {Target} t
   * @param {string[]} keys the queue's keys
   * @param {SyncResult} res
   * @returns {Promise<boolean>}
   */
  async pushSome(s, t, keys, res) {
    const c = t.seg;
    const A = t.A;
    const who = t.owner === null ? {} : { owner: t.owner };
    /** @type {{ id: string, base_version: number, payload?: string, deleted?: boolean }[]} */
    const records = [];
    /** @type {Map<string, any>} */
    const queued = new Map();
    let bytes = 0;
    for (const k of keys) {
      const q = await this.storage.get(k);
      const rid = k.slice(k.lastIndexOf('/') + 1);
      const size = q.env === null ? 0 : q.env.length;
      if (records.length > 0 && (records.length >= PUSH_MAX_RECORDS || bytes + size > PUSH_MAX_BYTES))
        break;
      bytes += size;
      queued.set(rid, q);
      records.push(q.env === null ? { id: rid, base_version: q.base, deleted: true }
        : { id: rid, base_version: q.base, payload: q.env });
    }
    const a = (await this.authed({ method: 'POST', path: `/v1/collections/${t.c}/push${ownerQ(t, '?')}`,
      json: { records }, idempotent: true })).body;
    await this.recreated(t, a.accepted ?? []);
    let progress = false;
    await this.storage.transaction(async (tx) => {
      for (const acc of a.accepted ?? []) {
        const q = queued.get(acc.id);
        await tx.put(this.key('r', c, acc.id), { version: Number(acc.version), env: q.env });
        await tx.delete(this.key('q', c, acc.id));
        res.pushed.push({ collection: A, ...who, id: q.a, version: Number(acc.version) });
        progress = true;
      }
    });
    for (const cf of a.conflicts ?? []) {
      const q = queued.get(cf.id);
      const ver = Number(cf.server_version);
      const remoteEnv = cf.deleted || cf.payload === null ? null : cf.payload;
      /* a push repeated after a lost answer meets its own write: that is success */
      if (remoteEnv !== null && q.env !== null && remoteEnv === q.env) {
        await this.storage.transaction(async (tx) => {
          await tx.put(this.key('r', c, cf.id), { version: ver, env: q.env });
          await tx.delete(this.key('q', c, cf.id));
        });
        res.pushed.push({ collection: A, ...who, id: q.a, version: ver });
        progress = true;
        continue;
      }
      /** @type {Uint8Array | null} */
      let remote = null;
      if (remoteEnv !== null) {
        try {
          const got = await this.openRecord(t, cf.id, remoteEnv);
          if (got.a !== q.a)
            throw new DecryptError();
          remote = got.data;
        } catch (e) {
          if (!(e instanceof DecryptError))
            throw e;
          /* the server's copy does not open: keep the change queued, say so */
          res.undecryptable.push({ collection: A, ...who, recordId: cf.id });
          continue;
        }
      }
      const local = q.env === null ? null : (await this.openRecord(t, cf.id, q.env)).data;
      const merged = this.merge ? await this.merge({ collection: A, ...who, id: q.a, local, remote,
        remoteVersion: ver }) : undefined;
      const env = merged === undefined || merged === null ? null
        : await this.sealRecord(s, t, cf.id, q.a, bytesOf(merged));
      await this.storage.transaction(async (tx) => {
        await tx.put(this.key('r', c, cf.id), { version: ver, env: remoteEnv });
        if (merged === undefined)
          await tx.delete(this.key('q', c, cf.id));
        else
          await tx.put(this.key('q', c, cf.id), { base: ver, env, a: q.a });
      });
      res.conflicts.push({ collection: A, ...who, id: q.a, kept: merged === undefined ? 'server' : 'merged' });
      progress = true;
    }
    return progress;
  }

  /**
   * After a push: versions in a collection only grow, so an accepted version
   * at or below this device's cursor means the push re-created a collection
   * deleted elsewhere: resync() it.
   * @param {Target} t
   * @param {{ version: number }[]} accepted
   */
  async recreated(t, accepted) {
    const ck = this.key('c', t.seg);
    const col = await this.storage.get(ck);
    if (!col || col.version === 0 || !accepted.some((x) => Number(x.version) <= col.version))
      return;
    await this.resync(t, col);
  }

  /**
   * Start a collection's local copy again from 0 (the queue stays), after a
   * 410, a collection re-created under the cursor, or a push that
   * re-created it. Its sealed meta is sent again: a re-created collection
   * has none, and other devices name a collection by it (for a purge it is
   * the same name, sealed again). A shared collection's meta is its owner's.
   * @param {Target} t
   * @param {{ version: number, meta: string | null }} col the local entry
   */
  async resync(t, col) {
    if (col.meta !== null && t.owner === null)
      await this.authed({ method: 'PUT', path: `/v1/collections/${t.c}`, json: { meta: col.meta },
        idempotent: true });
    await this.storage.transaction(async (tx) => {
      for (const k of await tx.keys(this.key('r', t.seg, '')))
        await tx.delete(k);
      await tx.put(this.key('c', t.seg), { ...col, version: 0, metaPending: false });
    });
  }

  /**
   * Pull one collection from its cursor until more is false, into the local
   * copy; a 410 empties the local copy (the queue stays) and pulls from 0;
   * a 404 drops it (the collection was deleted elsewhere: reported in
   * `gone` when this device knew it; queued changes stay and re-create it,
   * with its meta, on the next sync). A shared collection's 404 means this
   * account is no longer a member: its local copy, queue and grants go.
   * @param {Session} s
   * @param {Target} t
   * @param {SyncResult} res
   */
  async pull(s, t, res) {
    const c = t.seg;
    const A = t.A;
    const who = t.owner === null ? {} : { owner: t.owner };
    const ck = this.key('c', c);
    for (;;) {
      const col = (await this.storage.get(ck)) ?? { version: 0, meta: null, metaPending: false };
      let page;
      try {
        page = (await this.authed({ method: 'GET', idempotent: true,
          path: `/v1/collections/${t.c}/pull?since=${col.version}${ownerQ(t, '&')}` })).body;
      } catch (e) {
        if (e instanceof ServerError && e.status === 410 && col.version > 0) {
          await this.resync(t, col);
          res.resynced.push(A);
          continue;
        }
        if (e instanceof ServerError && e.status === 404 && t.owner !== null) {
          await this.dropShared(s, t.seg);
          res.gone.push(A);
          return;
        }
        if (e instanceof ServerError && e.status === 404) {
          const known = (await this.storage.get(ck)) !== undefined;
          await this.storage.transaction(async (tx) => {
            for (const k of await tx.keys(this.key('r', c, '')))
              await tx.delete(k);
            /* queued changes re-create it: with its meta, so others can name it */
            if ((await tx.keys(this.key('q', c, ''))).length > 0 && col.meta !== null)
              await tx.put(ck, { version: 0, meta: col.meta, metaPending: true });
            else
              await tx.delete(ck);
          });
          if (known)
            res.gone.push(A);
          return;
        }
        throw e;
      }
      /* a collection_version below the cursor: the collection was re-created */
      if (col.version > 0 && Number(page.collection_version) < col.version) {
        await this.resync(t, col);
        res.resynced.push(A);
        continue;
      }
      /** @type {{ rid: string, version: number, env: string | null }[]} */
      const recs = (page.records ?? []).map((/** @type {any} */ r) => ({ rid: String(r.id),
        version: Number(r.version), env: r.deleted ? null : r.payload }));
      /* open outside the transaction: the application ids of what changed */
      /** @type {(string | null)[]} */
      const ids = [];
      /** @type {{ rid: string, env: string, at: number, fresh: boolean }[]} */
      const toOpen = [];
      for (const r of recs) {
        const env = r.env ?? (await this.storage.get(this.key('r', c, r.rid)))?.env ?? null;
        if (env !== null)
          toOpen.push({ rid: r.rid, env, at: ids.length, fresh: r.env !== null });
        ids.push(null);
      }
      const opened = await this.openRecords(t, toOpen);
      toOpen.forEach((o, i) => {
        const got = opened[i];
        if (!(got instanceof DecryptError))
          ids[o.at] = got.a;
        else if (o.fresh)
          res.undecryptable.push({ collection: A, ...who, recordId: o.rid });
      });
      await this.storage.transaction(async (tx) => {
        for (const r of recs)
          await tx.put(this.key('r', c, r.rid), { version: r.version, env: r.env });
        const cur = (await tx.get(ck)) ?? col;
        await tx.put(ck, { ...cur, version: Number(page.next_since) });
      });
      recs.forEach((r, i) => res.changed.push({ collection: A, ...who, id: ids[i], version: r.version,
        deleted: r.env === null }));
      if (page.more !== true)
        return;
    }
  }

  /* ---- watch ---- */

  /**
   * Watch the account (the C library's bs_watch). First by the live socket
   * (docs/API-live.md) when GET /v1/info says "live": true and a WebSocket
   * class exists (opts.WebSocket of the Client, else globalThis.WebSocket:
   * browsers; Node 20 has none): a ticket from POST /v1/live/ticket, then
   * ws(s)://.../v1/live?ticket=T, and sync(...names) (no names: every
   * collection) and fn with its result on its hello and on each changed
   * message (this device's own pushes included: fn may see an empty
   * result). A socket that closes after it opened is opened again after a
   * full-jitter back-off (base 1 s doubling up to 60 s; after 1012, the
   * retry_after_ms of its reason); after 4401 a GET /v1/status tells
   * whether the session ended (its 401 rejects, as below). Without live
   * (off, the ticket route 404 or 503, no WebSocket, a socket that cannot
   * open): GET /v1/status, then the same sync and fn, then long polls of
   * GET /v1/status?wait=S with If-None-Match, and the same each time the
   * account changed; the socket is tried again between polls after the
   * same back-off, unless the server said live is off. fn returns true
   * (or a promise of true) to stop. A failure that may pass (no answer, a
   * 5xx or 429 after the request's own retries, a sync's ConflictError)
   * goes to opts.onError and the round is tried again after a full-jitter
   * back-off (the Client's retry policy: baseMs doubling up to capMs); a
   * status the server answers at once with 304 (its waiting slots full)
   * backs off the same way instead of polling in a tight loop. Any other
   * error rejects: a 401 (this device revoked, the session over), a
   * SessionError after logout(). Resolves when fn says stop or
   * opts.signal aborts (the socket is closed, a waiting poll cancelled; a
   * sync under way finishes first, and fn is not called after the abort).
   * @param {CollectionRef[]} names application collection names ([] for all)
   * @param {(res: SyncResult) => (boolean | void | Promise<boolean | void>)} fn
   * @param {WatchOptions} [opts]
   * @returns {Promise<void>}
   */
  async watch(names, fn, opts = {}) {
    this.need();
    if (!Array.isArray(names) || typeof fn !== 'function')
      throw new InputError('watch(names, fn, opts): names is an array of collection names, fn a function');
    const wait = Number.isSafeInteger(opts.wait) && /** @type {number} */ (opts.wait) >= 1 &&
      /** @type {number} */ (opts.wait) <= 3600 ? /** @type {number} */ (opts.wait) : 30;
    const signal = opts.signal;
    /** @type {string | null} the status' ETag as of the last sync that worked */
    let etag = null;
    let attempt = 0;
    /** when to try the live socket next (Infinity: never in this watch) */
    let liveAt = this.WebSocket ? 0 : Infinity;
    /** the live socket's back-off step */
    let liveTries = 0;
    const liveBackoff = () => backoff({ ...this.retry, baseMs: LIVE_BASE_MS, capMs: LIVE_CAP_MS }, liveTries++, null);
    /** Wait ms, or less when the signal aborts. @param {number} ms */
    const pause = (ms) => new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve(undefined);
      };
      signal?.addEventListener('abort', done, { once: true });
      this.retry.sleep(ms).then(done, done);
    });
    /** Report a failure that may pass and back off; rethrow any other. @param {unknown} e */
    const again = async (e) => {
      const passing = e instanceof UnreachableError || e instanceof ConflictError ||
        (e instanceof ServerError && (e.status >= 500 || e.status === 429));
      if (!passing)
        throw e;
      if (opts.onError)
        opts.onError(/** @type {Error} */ (e));
      await pause(backoff(this.retry, attempt++, null));
    };
    /** One sync and fn; true when the watch is over. */
    const round = async () => {
      const res = await this.sync(...names);
      attempt = 0;
      return signal?.aborted === true || (await fn(res)) === true;
    };
    while (!signal?.aborted) {
      if (Date.now() >= liveAt) {
        const r = await this.live(round, again, () => { liveTries = 0; }, signal);
        if (r === 'stop')
          return;
        if (r === 'off') {
          liveAt = Infinity;
        } else if (!r.opened) {
          liveAt = Date.now() + liveBackoff();   /* long polls meanwhile */
        } else {
          if (r.code === 4401)                      /* the session's end rejects here, as a 401 */
            await this.authed({ method: 'GET', idempotent: true, signal, path: '/v1/status' });
          const ms = r.code === 1012 ? retryAfterMs(r.reason) : null;
          await pause(ms ?? liveBackoff());
          continue;
        }
        etag = null;
      }
      /** @type {import('./http.js').Answer} */
      let st;
      const t0 = Date.now();
      try {
        st = await this.authed({ method: 'GET', idempotent: true, signal,
          path: etag ? `/v1/status?wait=${wait}` : '/v1/status',
          headers: etag ? { 'If-None-Match': etag } : undefined, waitMs: etag ? wait * 1000 : 0 });
      } catch (e) {
        if (signal?.aborted)
          return;
        await again(e);
        continue;
      }
      if (st.status === 304) {
        /* nothing changed during the wait; at once means the server had no slot to wait in */
        if (Date.now() - t0 < wait * 500)
          await pause(backoff(this.retry, attempt++, null));
        else
          attempt = 0;
        continue;
      }
      const tag = st.headers.get('etag');
      try {
        if (await round())
          return;
      } catch (e) {
        if (signal?.aborted)
          return;
        await again(e);
        continue;
      }
      /* the tag read before the sync: a change made during it wakes the next poll at once */
      etag = tag;
      if (!tag)         /* a server without ETag: poll no faster than the wait */
        await pause(wait * 1000);
    }
  }

  /**
   * One live socket of watch(): GET /v1/info (is live on?), a ticket, the
   * socket; round() (a sync and fn) on its hello and on each changed
   * message, one at a time (messages that arrive during a round make one
   * more). A failed round goes to again() (which rethrows what does not
   * pass) and is done again. "stop" when round() says so or the signal
   * aborts (the socket is then closed); "off" when the server has no live
   * socket (info says so, the ticket route is 404); else how the socket
   * ended: opened false when it never opened (no answer, a 503, a refused
   * upgrade, not open after LIVE_OPEN_MS), else its close code and reason.
   * @param {() => Promise<boolean>} round
   * @param {(e: unknown) => Promise<void>} again
   * @param {() => void} helloed told when a hello arrived (the back-off starts over)
   * @param {AbortSignal | undefined} signal
   * @returns {Promise<'stop' | 'off' | { opened: boolean, code: number, reason: string }>}
   */
  async live(round, again, helloed, signal) {
    const WS = /** @type {typeof WebSocket} */ (this.WebSocket);
    let ticket;
    try {
      const info = await this.send({ method: 'GET', idempotent: true, signal, path: '/v1/info' });
      if (/** @type {any} */ (info.body)?.live !== true)
        return 'off';
      const t = await this.authed({ method: 'POST', signal, path: '/v1/live/ticket', json: {} });
      ticket = /** @type {any} */ (t.body)?.ticket;
    } catch (e) {
      if (signal?.aborted)
        return 'stop';
      if (e instanceof ServerError && e.status === 404)
        return 'off';
      if (!(e instanceof UnreachableError || (e instanceof ServerError && (e.status >= 500 || e.status === 429))))
        throw e;
      return { opened: false, code: 0, reason: '' };
    }
    if (typeof ticket !== 'string')
      return { opened: false, code: 0, reason: '' };
    const url = new URL(`${this.url}/v1/live?ticket=${encodeURIComponent(ticket)}`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    /** @type {WebSocket} */
    let ws;
    try {
      ws = new WS(url.href);
    } catch {
      return { opened: false, code: 0, reason: '' };
    }
    let opened = false;
    let pending = false;
    /** @type {{ opened: boolean, code: number, reason: string } | null} */
    let closed = null;
    /** @type {(() => void) | null} */
    let wake = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const slow = setTimeout(() => {
      if (opened)
        return;
      ws.close();
      closed ??= { opened: false, code: 0, reason: '' };
      poke();
    }, LIVE_OPEN_MS);
    ws.onopen = () => {
      opened = true;
      clearTimeout(slow);
    };
    ws.onmessage = (ev) => {
      let m = null;
      try {
        m = JSON.parse(String(ev.data));
      } catch { /* not ours to judge: the next message or pull says the same */ }
      if (m?.type === 'hello')
        helloed();
      if (m?.type === 'hello' || m?.type === 'changed') {
        pending = true;
        poke();
      }
    };
    ws.onclose = (ev) => {
      clearTimeout(slow);
      closed = { opened, code: ev.code, reason: ev.reason };
      poke();
    };
    const abort = () => {
      ws.close(1000);
      poke();
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted)
          return 'stop';
        if (pending) {
          pending = false;
          try {
            if (await round())
              return 'stop';
          } catch (e) {
            if (signal?.aborted)
              return 'stop';
            await again(e);
            pending = true;
          }
          continue;
        }
        if (closed)
          return closed;
        await new Promise((resolve) => { wake = () => resolve(undefined); });
      }
    } finally {
      clearTimeout(slow);
      signal?.removeEventListener('abort', abort);
      if (ws.readyState === 0 || ws.readyState === 1)
        ws.close(1000);
    }
  }

  /* ---- backups, slots and export (client.md sections 5 and 6) ---- */

  /**
   * Upload a backup: the source sealed as a kind-4 stream under
   * backup_key(name), 64 KiB at a time while it is sent (bounded memory;
   * in a browser, which cannot stream a request body with its length, the
   * sealed bytes are gathered into a Blob first). The write carries
   * If-Match with the version this client last put or got (If-None-Match: *
   * when it has seen none), so a backup another device changed meanwhile is
   * never overwritten: that is a ConflictError (get it, merge, put again).
   * @param {string} name 1-64 of A-Z a-z 0-9 _ - . ~ (the server sees it)
   * @param {Source} source
   * @param {PutOptions} [opts]
   * @returns {Promise<{ version: number, bytes: number }>}
   */
  async backupPut(name, source, opts = {}) {
    const s = this.need();
    const path = backupPath(name);
    const key = await bs1.backupKey(s.dataKey, name);
    try {
      return await this.putStream(path, this.key('b', name), bs1.KIND.BACKUP, key, source, opts, {});
    } finally {
      wipe(key);
    }
  }

  /**
   * Download a backup and open it as it arrives (section 5): the plaintext
   * stream and its version, or null when opts.since is still current. The
   * version is remembered (for the next backupPut's If-Match) once the
   * stream's end verified. A missing backup is a ServerError not_found.
   * @param {string} name
   * @param {GetOptions} [opts]
   * @returns {Promise<Download | null>}
   */
  async backupGet(name, opts = {}) {
    const s = this.need();
    const path = backupPath(name);
    const key = await bs1.backupKey(s.dataKey, name);
    try {
      return await this.getStream(path, this.key('b', name), bs1.KIND.BACKUP, key, opts, true);
    } finally {
      wipe(key);
    }
  }

  /**
   * The account's backups, sorted by name.
   * @returns {Promise<BackupInfo[]>}
   */
  async backupList() {
    const a = await this.authed({ method: 'GET', path: '/v1/backups', idempotent: true });
    return (a.body?.backups ?? []).map((/** @type {any} */ b) => ({ name: String(b.name),
      version: Number(b.version), bytes: Number(b.bytes), modifiedAt: String(b.modified_at) }));
  }

  /**
   * Delete a backup (whatever its version) and forget the version seen.
   * @param {string} name
   */
  async backupDelete(name) {
    const path = backupPath(name);
    await this.authed({ method: 'DELETE', path, idempotent: true });
    await this.storage.delete(this.key('b', name));
  }

  /**
   * Upload the anonymous slot of (app, passphrase) (section 6; no session
   * needed): a kind-5 stream under slot_enc, the X-Slot-Key header, and the
   * same preconditions as backupPut. A passphrase shorter than 12 code
   * points is a PassphraseError; Argon2id runs first (about as long as a
   * login).
   * @param {string} passphrase
   * @param {Source} source
   * @param {PutOptions} [opts] opts.app: the application id (default "blindsync")
   * @returns {Promise<{ version: number, bytes: number }>}
   */
  async slotPut(passphrase, source, opts = {}) {
    const slot = await bs1.slotDerive(opts.app ?? bs1.DEFAULT_APP, passphrase, this.kdfOpts);
    try {
      return await this.putStream(`/v1/slots/${slot.id}`, `slot/${slot.id}`, bs1.KIND.SLOT, slot.enc,
        source, opts, { 'X-Slot-Key': slot.key });
    } finally {
      wipe(slot.enc);
      slot.key = '';
    }
  }

  /**
   * Download and open the anonymous slot of (app, passphrase), as
   * backupGet does (no session needed). No slot for this passphrase (or
   * a server without slots) is a ServerError not_found.
   * @param {string} passphrase
   * @param {GetOptions} [opts]
   * @returns {Promise<Download | null>}
   */
  async slotGet(passphrase, opts = {}) {
    const slot = await bs1.slotDerive(opts.app ?? bs1.DEFAULT_APP, passphrase, this.kdfOpts);
    slot.key = '';
    try {
      return await this.getStream(`/v1/slots/${slot.id}`, `slot/${slot.id}`, bs1.KIND.SLOT, slot.enc, opts,
        false);
    } finally {
      wipe(slot.enc);
    }
  }

  /**
   * The account's export (GET /v1/account/export): every collection,
   * record, history version and backup, still encrypted, with the kdf and
   * the keyring, as the JSON document's bytes. The stream errors with an
   * UnreachableError when the document was cut short.
   * @param {{ progress?: (done: number, total: number) => void, signal?: AbortSignal }} [opts]
   *   progress: total is 0 (the server streams it without a length)
   * @returns {Promise<ReadableStream<Uint8Array>>}
   */
  async export(opts = {}) {
    const res = await this.authedStream({ method: 'GET', path: '/v1/account/export', signal: opts.signal });
    if (!res.body)
      throw new UnreachableError('GET /v1/account/export: the answer has no body');
    let last = 0;
    let done = 0;
    return res.body.pipeThrough(new TransformStream({
      transform(chunk, c) {
        if (chunk.length > 0)
          last = chunk[chunk.length - 1];
        done += chunk.length;
        c.enqueue(chunk);
        if (opts.progress)
          opts.progress(done, 0);
      },
      flush() {
        if (last !== 0x7d) /* a document cut short is not one: its last byte is '}' */
          throw new UnreachableError('GET /v1/account/export: the export was cut short');
      },
    }));
  }

  /**
   * PUT a section 5 stream (see backupPut): the precondition from the
   * version remembered under vkey, which the answer's version replaces.
   * @param {string} path
   * @param {string} vkey
   * @param {number} kind
   * @param {Uint8Array} key the stream's base key
   * @param {Source} source
   * @param {PutOptions} opts
   * @param {Record<string, string>} extra more headers
   * @returns {Promise<{ version: number, bytes: number }>}
   */
  async putStream(path, vkey, kind, key, source, opts, extra) {
    const src = sourceOf(source, opts.size);
    const total = bs1.streamLen(src.size);
    const seen = Number((await this.storage.get(vkey))?.version ?? 0);
    /** @type {Record<string, string>} */
    const headers = { ...extra };
    if (opts.force)
      headers['If-Match'] = '*';
    else if (seen > 0)
      headers['If-Match'] = `"${seen}"`;
    else
      headers['If-None-Match'] = '*';
    const base = key.slice();
    /** @type {{ error?: Error }} */
    const seenErr = {};
    const sealed = () => src.make().pipeThrough(exactly(src.size, seenErr)).pipeThrough(bytesIn(bs1.sealStream(kind, base)))
      .pipeThrough(counted(opts.progress, total));
    /** @type {() => (ReadableStream<Uint8Array> | Blob)} */
    let body = sealed;
    if (!(/** @type {any} */ (globalThis).process?.versions?.node)) {
      /* browsers send a stream body only over HTTP/2 (and chunked: the API
         answers 411), so gather it and send the Blob, which has a length */
      const blob = await new Response(sealed()).blob();
      body = () => blob;
      src.replay = true;
    }
    /** @type {Response} */
    let res;
    try {
      const req = { method: 'PUT', path, headers, body, length: total, replay: src.replay, signal: opts.signal };
      res = extra['X-Slot-Key'] ? await requestStream(this.fetch, this.url, req, this.retry)
        : await this.authedStream(req);
    } catch (e) {
      if (e instanceof ServerError && e.status === 412)
        throw Object.assign(new ConflictError('it changed on the server since this client last saw it: ' +
          'nothing was overwritten (get it first, then put again)'),
        { currentVersion: Number(/** @type {any} */ (e.body)?.current_version ?? 0) });
      /* the source's own failure says more than the aborted upload */
      throw seenErr.error ?? e;
    } finally {
      wipe(base);
    }
    const a = await res.json().catch(() => null);
    const version = Number(a?.version ?? etagVersion(res.headers.get('etag')));
    await this.storage.put(vkey, { version });
    return { version, bytes: Number(a?.bytes ?? total) };
  }

  /**
   * GET a section 5 stream (see backupGet).
   * @param {string} path
   * @param {string} vkey
   * @param {number} kind
   * @param {Uint8Array} key the stream's base key
   * @param {GetOptions} opts
   * @param {boolean} auth send the session's token
   * @returns {Promise<Download | null>}
   */
  async getStream(path, vkey, kind, key, opts, auth) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (opts.since !== undefined)
      headers['If-None-Match'] = `"${Number(opts.since)}"`;
    const req = { method: 'GET', path, headers, signal: opts.signal };
    const res = auth ? await this.authedStream(req) : await requestStream(this.fetch, this.url, req, this.retry);
    if (res.status === 304)
      return null;
    const version = etagVersion(res.headers.get('etag'));
    const total = Number(res.headers.get('content-length') ?? 0);
    if (!res.body)
      throw new DecryptError();
    const stream = res.body.pipeThrough(counted(opts.progress, total))
      .pipeThrough(bytesIn(bs1.openStream(kind, key)))
      .pipeThrough(counted(undefined, 0, async () => {
        if (version > 0)
          await this.storage.put(vkey, { version });
      }));
    return { version, stream };
  }

  /**
   * requestStream with the session's token; on 401 token_expired the
   * tokens are refreshed and the request sent again when its body can be.
   * @param {import('./http.js').StreamReq} req
   * @returns {Promise<Response>}
   */
  async authedStream(req) {
    const s = this.need();
    try {
      return await requestStream(this.fetch, this.url, { ...req, token: s.access }, this.retry);
    } catch (e) {
      if (!(e instanceof ServerError && e.status === 401 && e.code === 'token_expired') ||
          (req.body && !req.replay))
        throw e;
    }
    await this.refresh();
    return requestStream(this.fetch, this.url, { ...req, token: this.need().access }, this.retry);
  }

  /* ---- sharing (issue 14: client.md section 9, docs/API-sharing.md) ---- */

  /**
   * This account's public keys and their fingerprint (what another user
   * compares before trusting them). Makes the identity key pairs first
   * when the keyring has none (an account older than sharing: the keyring
   * re-sealed as version N + 1 with PUT /v1/account/keyring, which needs
   * this session's password login, else an InputError), and publishes them
   * (PUT /v1/account/keys; the same keys again change nothing) unless this
   * storage says they are.
   * @returns {Promise<{ fingerprint: string, x25519: string, ed25519: string }>}
   */
  async keys() {
    const s = this.need();
    const id = await this.identity(s);
    const fp = await bs1.fingerprint(id.x25519Pk, id.ed25519Pk);
    const pub = { x25519: b64(id.x25519Pk), ed25519: b64(id.ed25519Pk) };
    const flag = this.key('keys');
    if ((await this.storage.get(flag))?.fingerprint !== fp) {
      /* the same keys again change nothing on the server (no event) */
      await this.authed({ method: 'PUT', path: '/v1/account/keys', json: pub, idempotent: true });
      await this.storage.put(flag, { fingerprint: fp });
    }
    return { fingerprint: fp, ...pub };
  }

  /**
   * Another account's public keys (GET /v1/users/{username}/keys), pinned
   * in the storage on first use; keys that differ from the pinned ones are
   * a KeyChangedError until trustKey(username).
   * @param {string} username
   * @returns {Promise<UserKeys>}
   */
  async userKeys(username) {
    const user = bs1.asciiLower(String(username));
    const a = (await this.authed({ method: 'GET', idempotent: true,
      path: `/v1/users/${encodeURIComponent(user)}/keys` })).body;
    return this.pinCheck(user, a);
  }

  /**
   * Confirm that username's keys changed (after checking the new
   * fingerprint with its owner): the keys the server gives now replace the
   * pinned ones. Resolves the new fingerprint.
   * @param {string} username
   * @returns {Promise<string>}
   */
  async trustKey(username) {
    const user = bs1.asciiLower(String(username));
    await this.storage.delete(this.key('pin', user));
    return (await this.userKeys(user)).fingerprint;
  }

  /**
   * Invite username to collection A (own, or a shared one this account
   * administers) with a role: the collection's newest key and id key in a
   * grant (with the older keys as "previous" when the key version is above
   * 1) sealed to the user's pinned X25519 key and signed with this
   * account's Ed25519 key, POST /v1/collections/{c}/invitations.
   * A KeyChangedError when the user's key changed; a ServerError as the
   * API says (404 unknown user or one without keys, 409 already a member
   * or invited, 403 member_limit / invitation_limit / not an admin).
   * @param {CollectionRef} A
   * @param {string} username
   * @param {'read' | 'write' | 'admin'} role
   * @returns {Promise<{ id: string, expiresAt: string, fingerprint: string }>}
   */
  async invite(A, username, role) {
    const s = this.need();
    if (!bs1.ROLES.includes(role))
      throw new InputError('a role is "read", "write" or "admin"');
    const t = await this.target(A);
    await this.keys();
    const u = await this.userKeys(username);
    const m = await this.members(A);
    const g = await this.sealGrant(s, t, m.keyVersion, u, role);
    const a = (await this.authed({ method: 'POST', path: `/v1/collections/${t.c}/invitations${ownerQ(t, '?')}`,
      json: { to: u.username, role, key_version: m.keyVersion, sealed: g.sealed, signature: g.signature } })).body;
    return { id: String(a.id), expiresAt: String(a.expires_at), fingerprint: u.fingerprint };
  }

  /**
   * The invitations addressed to this account (GET /v1/invitations), each
   * with the inviter's fingerprint and, when its grant opens under the
   * inviter's key (the pinned one, else the one given, not pinned until
   * accept), the collection's name.
   * @returns {Promise<Invitation[]>}
   */
  async invitations() {
    const s = this.need();
    await this.keys();
    const list = (await this.authed({ method: 'GET', path: '/v1/invitations', idempotent: true })).body
      ?.invitations ?? [];
    /** @type {Invitation[]} */
    const out = [];
    for (const inv of list) {
      const from = bs1.asciiLower(String(inv.from));
      const k = await pubKeys(inv.from_keys);
      const pin = k ? await this.storage.get(this.key('pin', from)) : undefined;
      const keyChanged = k !== null && pin !== undefined && pin.fingerprint !== k.fingerprint;
      let name = null;
      if (k && !keyChanged) {
        const g = await this.openGrant(s, inv, k.ed25519Pk).catch(() => null);
        name = g?.name ?? null;
      }
      out.push({ id: String(inv.id), name, collection: String(inv.collection), owner: String(inv.owner),
        from, fingerprint: k?.fingerprint ?? '', keyChanged, role: String(inv.role),
        keyVersion: Number(inv.key_version), createdAt: String(inv.created_at), expiresAt: String(inv.expires_at) });
    }
    return out;
  }

  /**
   * Accept invitation id: the inviter's keys checked against the pinned
   * ones (pinned now on first use; a KeyChangedError otherwise), the grant's
   * signature verified and the grant opened (any failure, a grant for
   * another collection, key version or recipient included, is the one
   * DecryptError and nothing is accepted), then POST
   * /v1/invitations/{id}/accept and the grant kept. The collection is then
   * {name, owner} for the other operations; sync() brings its records.
   * @param {string} id
   * @returns {Promise<{ name: string, owner: string, role: string }>}
   */
  async accept(id) {
    const s = this.need();
    await this.keys();
    const list = (await this.authed({ method: 'GET', path: '/v1/invitations', idempotent: true })).body
      ?.invitations ?? [];
    const inv = list.find((/** @type {any} */ i) => i.id === id);
    if (!inv)
      throw new ServerError(404, 'not_found', 'no such invitation for this account');
    const from = bs1.asciiLower(String(inv.from));
    const k = await this.pinCheck(from, inv.from_keys);
    const g = await this.openGrant(s, inv, k.ed25519Pk);
    const a = (await this.authed({ method: 'POST', path: `/v1/invitations/${encodeURIComponent(id)}/accept` }))
      .body;
    const owner = bs1.asciiLower(String(a.owner ?? inv.owner));
    const seg = `${owner}:${inv.collection}`;
    await this.storage.put(this.key('s', seg), { owner, c: String(inv.collection), role: String(a.role ?? inv.role),
      kv: g.kv, grants: { [g.kv]: { from, sealed: inv.sealed, signature: inv.signature } } });
    this.keepGrant(s, seg, g);
    return { name: g.name, owner, role: String(a.role ?? inv.role) };
  }

  /**
   * Decline an invitation addressed to this account, or withdraw one this
   * account sent (DELETE /v1/invitations/{id}).
   * @param {string} id
   */
  async decline(id) {
    await this.authed({ method: 'DELETE', path: `/v1/invitations/${encodeURIComponent(id)}`, idempotent: true });
  }

  /**
   * A collection's pending outgoing invitations (owner or admin).
   * @param {CollectionRef} A
   * @returns {Promise<{ id: string, to: string, role: string, from: string, keyVersion: number, createdAt: string, expiresAt: string }[]>}
   */
  async sentInvitations(A) {
    const t = await this.target(A);
    const list = (await this.authed({ method: 'GET', idempotent: true,
      path: `/v1/collections/${t.c}/invitations${ownerQ(t, '?')}` })).body?.invitations ?? [];
    return list.map((/** @type {any} */ i) => ({ id: String(i.id), to: String(i.to), role: String(i.role),
      from: String(i.from), keyVersion: Number(i.key_version), createdAt: String(i.created_at),
      expiresAt: String(i.expires_at) }));
  }

  /**
   * A collection's members, the owner first with role "owner"; the
   * membership version and the key version.
   * @param {CollectionRef} A
   * @returns {Promise<Members>}
   */
  async members(A) {
    const t = await this.target(A);
    const m = (await this.authed({ method: 'GET', idempotent: true,
      path: `/v1/collections/${t.c}/members${ownerQ(t, '?')}` })).body;
    return { owner: String(m.owner), version: Number(m.version), keyVersion: Number(m.key_version) || 1,
      rotateDue: m.rotate_due === true, members: (m.members ?? []).map((/** @type {any} */ x) => ({ username: String(x.username),
        role: String(x.role), joinedAt: x.joined_at ?? null })) };
  }

  /**
   * Change a member's role (owner or admin; PATCH .../members/{username}).
   * @param {CollectionRef} A
   * @param {string} username
   * @param {'read' | 'write' | 'admin'} role
   */
  async setRole(A, username, role) {
    if (!bs1.ROLES.includes(role))
      throw new InputError('a role is "read", "write" or "admin"');
    const t = await this.target(A);
    await this.authed({ method: 'PATCH', idempotent: true, json: { role },
      path: `/v1/collections/${t.c}/members/${encodeURIComponent(bs1.asciiLower(username))}${ownerQ(t, '?')}` });
  }

  /**
   * Remove a member and, at once, rotate the collection's key: the next
   * key version sealed to every remaining member and pending invitee (and
   * to the owner when an admin removes), POST .../rotate with the
   * membership version seen (If-Match), read again and retried on 412 (at
   * most 5 times). The removed member never receives the new key; records
   * written from now on use it. A rotation that fails after the removal
   * (a member's changed key) leaves the collection rotate_due: the owner's
   * next sync() rotates it.
   * @param {CollectionRef} A
   * @param {string} username
   * @returns {Promise<{ rotated: boolean, keyVersion: number }>}
   */
  async unshare(A, username) {
    const t = await this.target(A);
    await this.authed({ method: 'DELETE', idempotent: true,
      path: `/v1/collections/${t.c}/members/${encodeURIComponent(bs1.asciiLower(username))}${ownerQ(t, '?')}` });
    /* after any sync() running (a watch's): it may be rotating this
       collection already, from the rotate_due the removal just set, and two
       rotations side by side fail each other's If-Match; one that rotated
       it since the removal (rotate_due cleared) is not done again */
    const run = this.syncing.then(async () => {
      const m = await this.members(A);
      return m.rotateDue ? this.rotate(A) : m.keyVersion;
    });
    this.syncing = run.catch(() => {});
    return { rotated: true, keyVersion: await run };
  }

  /**
   * Rotate a collection's key (see unshare()); resolves the new key
   * version. The owner derives ck(c, n + 1); an admin that is not the owner
   * (client.md section 9) makes a random key, keeps it in its keyring's
   * member "granted" first (a keyring rewrite: needs this session's
   * password login, else an InputError), seals it to every member, the
   * owner included, and its own new records use it. A KeyChangedError when a member's key changed (nothing is
   * rotated: trustKey, then again); a ServerError 412 after 5 stale tries.
   * The server clears the collection's rotate_due; changes queued here and
   * not yet pushed are sealed again under the new key version. sync() calls
   * it by itself for a collection the server marked rotate_due (a member
   * removed or left since the last rotation), before it pushes.
   * @param {CollectionRef} A
   * @returns {Promise<number>}
   */
  async rotate(A) {
    const s = this.need();
    const t = await this.target(A);
    await this.keys();
    if (t.owner !== null && !s.keyringKey)
      throw new InputError('an admin rotates a collection it does not own only after signing in with the password ' +
        '(the new key goes into its keyring)');
    for (let tries = 1; ; tries++) {
      const m = await this.members(A);
      const pending = await this.sentInvitations(A);
      /* the owner too when an admin rotates (its grant says admin: the owner ignores the role) */
      /** @type {{ username: string, role: string }[]} */
      const to = [...m.members.filter((x) => x.username !== s.username)
        .map((x) => ({ username: x.username, role: x.role === 'owner' ? 'admin' : x.role })),
      ...pending.map((i) => ({ username: i.to, role: i.role }))];
      const kv = m.keyVersion + 1;
      /* an admin makes a random key and keeps it in its keyring before anyone gets it */
      const fresh = t.owner === null ? null : bs1.randomBytes(32);
      if (fresh)
        await this.keepGranted(s, t.seg, kv, fresh);
      const grants = [];
      for (const x of to) {
        const u = await this.userKeys(x.username);
        const g = await this.sealGrant(s, t, kv, u, /** @type {'read' | 'write' | 'admin'} */ (x.role), fresh);
        grants.push({ to: u.username, sealed: g.sealed, signature: g.signature });
      }
      try {
        await this.authed({ method: 'POST', path: `/v1/collections/${t.c}/rotate${ownerQ(t, '?')}`,
          headers: { 'If-Match': `"${m.version}"` }, json: { key_version: kv, grants } });
      } catch (e) {
        wipe(fresh);
        if (e instanceof ServerError && e.status === 412 && tries < ROTATE_TRIES)
          continue;
        throw e;
      }
      if (fresh) {
        /* this admin's new records go out under the key it made */
        const have = await this.grantOf(s, t);
        this.keepGrant(s, t.seg, { ...have, kv, key: fresh, previous: [] });
        const se = await this.storage.get(this.key('s', t.seg));
        if (se)
          await this.storage.put(this.key('s', t.seg), { ...se, kv: Math.max(Number(se.kv) || 1, kv) });
        await this.reseal(s, t, kv);
        return kv;
      }
      const ck = this.key('c', t.seg);
      const col = await this.storage.get(ck);
      if (col)
        await this.storage.put(ck, { ...col, kv, rotateDue: false });
      await this.reseal(s, t, kv);
      return kv;
    }
  }

  /**
   * Seal the queued changes of own collection t that are under a key
   * version below kv again, under kv (the collection's newest now): after
   * a rotation nothing queued goes out under the old key. A change
   * replaced meanwhile (put() again) is left as it is: it is under kv.
   * @param {Session} s
   * @param {Target} t
   * @param {number} kv
   */
  async reseal(s, t, kv) {
    for (const qk of await this.storage.keys(this.key('q', t.seg, ''))) {
      const q = await this.storage.get(qk);
      if (!q || q.env === null || bs1.envelopeKv(unb64(q.env)) >= kv)
        continue;
      const r = qk.slice(qk.lastIndexOf('/') + 1);
      const { a, data } = await this.openRecord(t, r, q.env);
      let env;
      try {
        env = await this.sealRecord(s, t, r, a, data);
      } finally {
        wipe(data);
      }
      await this.storage.transaction(async (tx) => {
        const now = await tx.get(qk);
        if (now && now.env === q.env)
          await tx.put(qk, { ...now, env });
      });
    }
  }

  /**
   * Leave a collection shared with this account (DELETE
   * .../members/{me}?owner=O); its local copy and grants are dropped.
   * @param {CollectionRef} A {name, owner}
   */
  async leave(A) {
    const s = this.need();
    const t = await this.target(A);
    if (t.owner === null)
      throw new InputError('leave() is for a collection another account shared; unshare() removes members');
    await this.authed({ method: 'DELETE', idempotent: true,
      path: `/v1/collections/${t.c}/members/${encodeURIComponent(s.username)}${ownerQ(t, '?')}` });
    await this.dropShared(s, t.seg);
  }

  /**
   * The identity key pairs from the keyring's plaintext; made and added to
   * the keyring (through resealKeyring) when it has none.
   * @param {Session} s
   * @returns {Promise<bs1.Identity>}
   */
  async identity(s) {
    if (s.identity)
      return s.identity;
    /* the pair found in the keyring, or the one made and sent with it */
    const got = /** @type {{ found: bs1.Identity | null, made: bs1.Identity | null }} */ ({ found: null, made: null });
    const drop = () => {
      if (got.made)
        wipe(got.made.x25519Sk, got.made.ed25519Seed);
      got.made = null;
    };
    try {
      await this.resealKeyring(s, async (pt) => {
        /* a try that lost the race to another device left its pair here */
        drop();
        const have = keyringIdentity(pt);
        if (have) {
          try {
            got.found = await bs1.identityFromSecrets(have.x25519, have.ed25519);
          } finally {
            wipe(have.x25519, have.ed25519);
          }
          return null;
        }
        if (!s.keyringKey)
          throw new InputError('this account has no sharing keys yet: sign in with the password once to make them');
        got.made = await bs1.identityNew();
        return keyringWith(pt, bs1.identityKeyring(got.made));
      });
    } catch (e) {
      drop();
      throw e;
    }
    s.identity = /** @type {bs1.Identity} */ (got.found ?? got.made);
    return s.identity;
  }

  /**
   * Re-seal this session's keyring with what change makes of its plaintext:
   * sealed as version N + 1 and sent with PUT /v1/account/keyring (If-Match
   * by version N). On 412 (another device rewrote it) the keyring is read
   * again, checked to hold this account's data key, and change is called
   * once more on that plaintext (3 retries). change returns the new
   * plaintext, which this takes (it becomes s.keyringPt, or is wiped when
   * the PUT fails), or null when the plaintext already has what it wants
   * (nothing is sent). Needs this session's password login when it sends.
   * @param {Session} s
   * @param {(pt: Uint8Array) => Promise<Uint8Array | null>} change
   * @returns {Promise<void>}
   */
  async resealKeyring(s, change) {
    for (let tries = 0; ; tries++) {
      const pt = await change(s.keyringPt);
      if (!pt)
        return;
      const version = s.keyringVersion;
      try {
        const env = await bs1.keyringSeal(/** @type {Uint8Array} */ (s.keyringKey), s.username, version + 1, pt);
        await this.authed({ method: 'PUT', path: '/v1/account/keyring', json: { keyring: b64(env), version } });
      } catch (e) {
        wipe(pt);
        if (!(e instanceof ServerError && e.status === 412) || tries >= 3)
          throw e;
        /* another device rewrote the keyring: read it and change that */
        const kr = (await this.authed({ method: 'GET', path: '/v1/account/keyring', idempotent: true })).body;
        const v = Number(kr.version);
        const npt = await bs1.keyringOpen(/** @type {Uint8Array} */ (s.keyringKey), s.username, v, unb64(kr.keyring));
        const dk = bs1.keyringDataKey(npt);
        const same = sameBytes(dk, s.dataKey);
        wipe(dk);
        if (!same)
          throw new DecryptError();
        wipe(s.keyringPt);
        s.keyringPt = npt;
        s.keyringVersion = v;
        continue;
      }
      wipe(s.keyringPt);
      s.keyringPt = pt;
      s.keyringVersion = version + 1;
      await this.sessionChanged();
      return;
    }
  }

  /**
   * Check keys the server gave for user against the pinned ones: pinned on
   * first use, a KeyChangedError when they differ.
   * @param {string} user lowercased
   * @param {unknown} keys {x25519, ed25519} base64
   * @returns {Promise<UserKeys>}
   */
  async pinCheck(user, keys) {
    const k = await pubKeys(keys);
    if (!k)
      throw new UnreachableError(`the server's answer lacks ${user}'s keys`);
    const pk = this.key('pin', user);
    const pin = await this.storage.get(pk);
    if (pin && pin.fingerprint !== k.fingerprint)
      throw new KeyChangedError(user, String(pin.fingerprint), k.fingerprint);
    if (!pin)
      await this.storage.put(pk, { fingerprint: k.fingerprint, x25519: b64(k.x25519Pk), ed25519: b64(k.ed25519Pk) });
    return { username: user, fingerprint: k.fingerprint, x25519Pk: k.x25519Pk, ed25519Pk: k.ed25519Pk,
      firstUse: !pin };
  }

  /**
   * A grant of key version kv of collection t sealed to user u with role,
   * signed by this account: the own collection's keys derived (older ones
   * as "previous"), or a shared one's from the grants this account holds.
   * @param {Session} s
   * @param {Target} t
   * @param {number} kv
   * @param {UserKeys} u
   * @param {'read' | 'write' | 'admin'} role
   * @param {Uint8Array | null} [fresh] the key of kv an admin rotating a shared collection made
   * @returns {Promise<{ sealed: string, signature: string }>}
   */
  async sealGrant(s, t, kv, u, role, fresh = null) {
    const id = await this.identity(s);
    /** @type {Uint8Array[]} */
    const temp = [];
    let json = null;
    try {
      /** @type {bs1.Grant} */
      let g;
      if (t.owner === null) {
        const key = await this.ownKey(s, t, kv);
        temp.push(key);
        const previous = [];
        for (let v = 1; v < kv; v++) {
          const p = await this.ownKey(s, t, v);
          temp.push(p);
          previous.push({ kv: v, key: p });
        }
        g = { collection: t.c, name: t.A, kv, key, idKey: await this.cidKey(s, t), role, previous };
      } else {
        let have = await this.grantOf(s, t);
        if (have.kv < kv && !fresh)
          have = await this.grantFetch(s, t, null);
        if (have.kv !== (fresh ? kv - 1 : kv))
          throw new InputError('this account holds no grant of the collection\'s newest key version');
        const previous = [];
        for (const [k, raw] of s.sk ?? [])
          if (k.startsWith(`${t.seg}/`) && Number(k.slice(t.seg.length + 1)) < kv)
            previous.push({ kv: Number(k.slice(t.seg.length + 1)), key: raw });
        g = { collection: t.c, name: have.name, kv, key: fresh ?? have.key, idKey: have.idKey, role, previous };
      }
      json = bs1.grantJson(g);
      const sealed = await bs1.grantSeal(id, u.x25519Pk, u.username, json);
      return { sealed: b64(sealed.sealed), signature: b64(sealed.signature) };
    } finally {
      wipe(json, ...temp);
    }
  }

  /**
   * Open a grant as the server gives it ({collection, key_version, sealed,
   * signature}) under the inviter's Ed25519 key: the signature, the seal,
   * then its collection and key version against the ones the server
   * says; a DecryptError for any failure.
   * @param {Session} s
   * @param {any} inv
   * @param {Uint8Array} ed25519Pk
   * @returns {Promise<bs1.Grant>}
   */
  async openGrant(s, inv, ed25519Pk) {
    const id = await this.identity(s);
    const sealed = b64DecodeStrict(inv.sealed);
    const sig = b64DecodeStrict(inv.signature);
    if (!sealed || !sig)
      throw new DecryptError();
    const json = await bs1.grantOpen(id, s.username, ed25519Pk, sealed, sig);
    try {
      const g = bs1.grantParse(json);
      if (g.collection !== inv.collection || (inv.key_version !== undefined && g.kv !== Number(inv.key_version)))
        throw new DecryptError();
      return g;
    } finally {
      wipe(json);
    }
  }

  /**
   * Keep an opened grant's keys for the session (the newest grant per
   * collection, and each key version's key, its "previous" ones included).
   * @param {Session} s
   * @param {string} seg
   * @param {bs1.Grant} g
   */
  keepGrant(s, seg, g) {
    s.sk ??= new Map();
    s.grants ??= new Map();
    for (const p of g.previous ?? [])
      if (!s.sk.has(`${seg}/${p.kv}`))
        s.sk.set(`${seg}/${p.kv}`, p.key);
    s.sk.set(`${seg}/${g.kv}`, g.key);
    const had = s.grants.get(seg);
    if (!had || had.kv <= g.kv)
      s.grants.set(seg, g);
    /* the keys this account made rotating it as an admin (its keyring): the
       newest of all is the one its new records go out under */
    for (const [kv, key] of keyringGranted(s.keyringPt, seg)) {
      if (s.sk.has(`${seg}/${kv}`)) {
        wipe(key);
        continue;
      }
      s.sk.set(`${seg}/${kv}`, key);
      const now = /** @type {bs1.Grant} */ (s.grants.get(seg));
      if (now.kv < kv)
        s.grants.set(seg, { ...now, kv, key, previous: [] });
    }
  }

  /**
   * Keep key version kv's key of shared collection seg, made by this
   * account as an admin rotating it, in its keyring's member "granted"
   * (client.md section 9): the keyring re-sealed through resealKeyring.
   * Needs this session's password login.
   * @param {Session} s
   * @param {string} seg
   * @param {number} kv
   * @param {Uint8Array} key
   */
  async keepGranted(s, seg, kv, key) {
    if (!s.keyringKey)
      throw new InputError('sign in with the password first: the new key goes into the keyring');
    await this.resealKeyring(s, async (pt) => keyringWithGranted(pt, seg, kv, key));
  }

  /**
   * Key version kv's key of own collection t, a copy the caller wipes:
   * ck(c, kv) derived, unless an admin's rotation made kv (then the grant
   * it gave this account, GET .../grant?owner=ME&key_version=kv, opened
   * under the admin's pinned key). Version 1 is always derived; the
   * others are looked up once per session (a derived one above the newest
   * version known here, one this account's rotation is making, each time).
   * @param {Session} s
   * @param {Target} t
   * @param {number} kv
   * @returns {Promise<Uint8Array>}
   */
  async ownKey(s, t, kv) {
    if (kv <= 1)
      return bs1.ck(s.dataKey, t.c, kv);
    s.sk ??= new Map();
    const id = `${t.seg}/${kv}`;
    const kept = s.sk.get(id);
    if (kept)
      return kept.slice();
    /* one lookup per version however many envelopes open side by side (openRecords) */
    s.okp ??= new Map();
    let p = s.okp.get(id);
    if (!p) {
      p = this.ownLookup(s, t, kv).finally(() => s.okp?.delete(id));
      s.okp.set(id, p);
    }
    return (await p).slice();
  }

  /**
   * ownKey's lookup of version kv (above 1) of own collection t: the
   * admin's grant, else ck(c, kv); kept in s.sk when settled.
   * @param {Session} s
   * @param {Target} t
   * @param {number} kv
   * @returns {Promise<Uint8Array>}
   */
  async ownLookup(s, t, kv) {
    let a = null;
    try {
      a = (await this.authed({ method: 'GET', idempotent: true,
        path: `/v1/collections/${t.c}/grant?owner=${encodeURIComponent(s.username)}&key_version=${kv}` })).body;
    } catch (e) {
      if (!(e instanceof ServerError && e.status === 404))
        throw e;
    }
    let k;
    if (a) {
      const from = await this.pinCheck(bs1.asciiLower(String(a.from)), a.from_keys);
      const g = await this.openGrant(s, { collection: t.c, key_version: kv, sealed: a.sealed,
        signature: a.signature }, from.ed25519Pk);
      wipe(g.idKey, ...(g.previous ?? []).map((p) => p.key));
      k = g.key;
    } else {
      k = await bs1.ck(s.dataKey, t.c, kv);
      /* a version above the newest known is the one a rotation of this
         account is making: not kept, an admin's may win the race */
      if (kv > (Number((await this.storage.get(this.key('c', t.seg)))?.kv) || 1))
        return k;
    }
    s.sk?.set(`${t.seg}/${kv}`, k);
    return k;
  }

  /**
   * The newest grant this account keeps of shared collection t, opened
   * (once per session) under its inviter's pinned key; fetched when none is
   * kept. A DecryptError or KeyChangedError when it does not open.
   * @param {Session} s
   * @param {Target} t
   * @returns {Promise<bs1.Grant>}
   */
  async grantOf(s, t) {
    const have = s.grants?.get(t.seg);
    if (have)
      return have;
    const e = await this.storage.get(this.key('s', t.seg));
    const kvs = Object.keys(e?.grants ?? {}).map(Number).sort((x, y) => y - x);
    if (kvs.length === 0)
      return this.grantFetch(s, t, null);
    const stored = e.grants[kvs[0]];
    const pin = await this.storage.get(this.key('pin', stored.from));
    const ed = pin ? b64DecodeStrict(pin.ed25519) : null;
    if (!ed)
      return this.grantFetch(s, t, null);
    const g = await this.openGrant(s, { collection: t.c, key_version: kvs[0], sealed: stored.sealed,
      signature: stored.signature }, ed);
    this.keepGrant(s, t.seg, g);
    return g;
  }

  /**
   * Fetch a grant of shared collection t (GET .../grant?owner=O, of key
   * version kv or the newest), check its inviter's keys against the pinned
   * ones, open it, keep it in the storage and the session.
   * @param {Session} s
   * @param {Target} t
   * @param {number | null} kv
   * @returns {Promise<bs1.Grant>}
   */
  async grantFetch(s, t, kv) {
    const owner = /** @type {string} */ (t.owner);
    const a = (await this.authed({ method: 'GET', idempotent: true,
      path: `/v1/collections/${t.c}/grant?owner=${encodeURIComponent(owner)}${kv === null ? '' : `&key_version=${kv}`}` }))
      .body;
    const from = bs1.asciiLower(String(a.from));
    const k = await this.pinCheck(from, a.from_keys);
    const g = await this.openGrant(s, { collection: t.c, key_version: a.key_version, sealed: a.sealed,
      signature: a.signature }, k.ed25519Pk);
    const key = this.key('s', t.seg);
    const e = (await this.storage.get(key)) ?? { owner, c: t.c, role: a.role, kv: g.kv, grants: {} };
    e.grants[g.kv] = { from, sealed: a.sealed, signature: a.signature };
    e.kv = Math.max(Number(e.kv) || 1, g.kv);
    if (kv === null && typeof a.role === 'string')
      e.role = a.role;
    await this.storage.put(key, e);
    this.keepGrant(s, t.seg, g);
    return g;
  }

  /**
   * Forget a shared collection: its local copy, queue and grants (in the
   * storage) and its keys (in the session, wiped).
   * @param {Session} s
   * @param {string} seg
   */
  async dropShared(s, seg) {
    await this.storage.transaction(async (tx) => {
      for (const k of [...await tx.keys(this.key('r', seg, '')), ...await tx.keys(this.key('q', seg, ''))])
        await tx.delete(k);
      await tx.delete(this.key('c', seg));
      await tx.delete(this.key('s', seg));
    });
    for (const k of [...(s.sk?.keys() ?? [])])
      if (k.startsWith(`${seg}/`)) {
        wipe(s.sk?.get(k) ?? null);
        s.sk?.delete(k);
        s.ck?.delete(k);
      }
    const g = s.grants?.get(seg);
    if (g)
      wipe(g.key, g.idKey, ...(g.previous ?? []).map((p) => p.key));
    s.grants?.delete(seg);
    wipe(s.cid.get(seg) ?? null);
    s.cid.delete(seg);
  }

  /* ---- inside ---- */

  /** The session, or a SessionError. @returns {Session} */
  need() {
    if (!this.session)
      throw new SessionError();
    return this.session;
  }

  /**
   * A storage key under this account: parts joined by "/".
   * @param {...string} parts
   * @returns {string}
   */
  key(...parts) {
    return [this.need().accountId, ...parts].join('/');
  }

  /**
   * One request with the retry policy.
   * @param {import('./http.js').Req} req
   * @returns {Promise<import('./http.js').Answer>}
   */
  send(req) {
    return request(this.fetch, this.url, req, this.retry);
  }

  /**
   * One authenticated request; on 401 token_expired the tokens are
   * refreshed once and the request sent again.
   * @param {import('./http.js').Req} req
   * @returns {Promise<import('./http.js').Answer>}
   */
  async authed(req) {
    const s = this.need();
    try {
      return await this.send({ ...req, token: s.access });
    } catch (e) {
      if (!(e instanceof ServerError && e.status === 401 && e.code === 'token_expired'))
        throw e;
    }
    await this.refresh();
    return this.send({ ...req, token: this.need().access });
  }

  /**
   * The server name of collection A (client.md section 4).
   * @param {string} A
   * @returns {Promise<string>}
   */
  async collectionName(A) {
    return bs1.collectionName(this.need().idKey, A);
  }

  /**
   * A collection reference resolved: an own collection by its name; a
   * shared one ({name, owner}) by the grants kept in the storage (their
   * names opened), an InputError when none has that name (sync() or
   * accept() first). {name, owner} with this account as the owner is the
   * own collection name.
   * @param {CollectionRef} ref
   * @returns {Promise<Target>}
   */
  async target(ref) {
    const s = this.need();
    if (typeof ref === 'string') {
      const c = await bs1.collectionName(s.idKey, ref);
      return { A: ref, owner: null, c, seg: c };
    }
    if (!ref || typeof ref.name !== 'string' || typeof ref.owner !== 'string')
      throw new InputError('a collection is its name, or {name, owner} for a shared one');
    const owner = bs1.asciiLower(ref.owner);
    if (owner === s.username)
      return this.target(ref.name);
    for (const k of await this.storage.keys(this.key('s', `${owner}:`))) {
      const e = await this.storage.get(k);
      const t = { A: ref.name, owner, c: String(e.c), seg: `${owner}:${e.c}` };
      const g = await this.grantOf(s, t).catch(() => null);
      if (g?.name === ref.name)
        return t;
    }
    throw new InputError(`no collection "${ref.name}" of ${owner} is shared with this account (sync or accept first)`);
  }

  /**
   * The server names of collection A and record a.
   * @param {CollectionRef} A
   * @param {string} a
   * @returns {Promise<{ t: Target, c: string, r: string }>}
   */
  async names(A, a) {
    const s = this.need();
    const t = await this.target(A);
    return { t, c: t.c, r: await bs1.recordId(await this.cidKey(s, t), a) };
  }

  /**
   * cid_key(collection), kept for the session: derived for an own
   * collection, the grant's id_key for a shared one.
   * @param {Session} s
   * @param {Target | string} t
   * @returns {Promise<Uint8Array>}
   */
  async cidKey(s, t) {
    const tt = typeof t === 'string' ? { A: '', owner: null, c: t, seg: t } : t;
    let k = s.cid.get(tt.seg);
    if (!k) {
      k = tt.owner === null ? await bs1.cidKey(s.dataKey, tt.c) : (await this.grantOf(s, tt)).idKey.slice();
      s.cid.set(tt.seg, k);
    }
    return k;
  }

  /**
   * Seal record a as base64 for the push: an own collection under its
   * newest key version (1 until rotated, as the listing or the last
   * rotation said), a shared one under the newest version this account
   * holds a grant of.
   * @param {Session} s
   * @param {Target} t
   * @param {string} r
   * @param {string} a
   * @param {Uint8Array} data
   * @returns {Promise<string>}
   */
  async sealRecord(s, t, r, a, data) {
    if (t.owner !== null) {
      const g = await this.grantOf(s, t);
      return b64(await bs1.recordSeal(g.key, g.kv, t.c, r, a, data));
    }
    const kv = Number((await this.storage.get(this.key('c', t.seg)))?.kv) || 1;
    const k = await this.ownKey(s, t, kv);
    try {
      return b64(await bs1.recordSeal(k, kv, t.c, r, a, data));
    } finally {
      wipe(k);
    }
  }

  /**
   * Open a record's base64 envelope: a and data, or a DecryptError. The key
   * is the one of the envelope's key version.
   * @param {Target} t
   * @param {string} r
   * @param {string} envB64
   * @returns {Promise<{ a: string, data: Uint8Array }>}
   */
  async openRecord(t, r, envB64) {
    const env = unb64(envB64);
    const pt = await bs1.recordOpenWith(await this.ckAes(this.need(), t, bs1.envelopeKv(env)), t.c, r, env);
    const { a, data } = bs1.recordSplit(pt);
    return { a, data: data.slice() };
  }

  /**
   * Open many envelopes of a collection (a Target, or the server name of an
   * own collection), RECORD_BATCH at a time side by side (Web Crypto works
   * off the page's thread, so a batch costs little more than one): for each,
   * { a, data } or the DecryptError it failed with, in order. Other errors
   * reject.
   * @param {Target | string} t
   * @param {{ rid: string, env: string }[]} items
   * @returns {Promise<({ a: string, data: Uint8Array } | import('./bs1/util.js').DecryptError)[]>}
   */
  async openRecords(t, items) {
    const tt = typeof t === 'string' ? { A: '', owner: null, c: t, seg: t } : t;
    /** @type {({ a: string, data: Uint8Array } | import('./bs1/util.js').DecryptError)[]} */
    const out = [];
    for (let i = 0; i < items.length; i += RECORD_BATCH) {
      const batch = items.slice(i, i + RECORD_BATCH).map((it) => this.openRecord(tt, it.rid, it.env).catch((e) => {
        if (e instanceof DecryptError)
          return e;
        throw e;
      }));
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }

  /**
   * ck(c, kv) imported for AES-GCM, kept (as a non-extractable CryptoKey)
   * until logout: derived for an own collection; for a shared one the key
   * of a grant (the newest kept, else the grant of that version fetched),
   * or of a grant's "previous" keys; a DecryptError when none has it.
   * @param {Session} s
   * @param {Target} t
   * @param {number} kv
   * @returns {Promise<CryptoKey>}
   */
  async ckAes(s, t, kv) {
    s.ck ??= new Map();
    const id = `${t.seg}/${kv}`;
    let k = s.ck.get(id);
    if (!k) {
      if (t.owner === null) {
        const raw = await this.ownKey(s, t, kv);
        try {
          k = await bs1.aesKey(raw);
        } finally {
          wipe(raw);
        }
      } else {
        let raw = s.sk?.get(id);
        if (!raw) {
          await this.grantOf(s, t).catch(() => null);
          raw = s.sk?.get(id);
        }
        if (!raw) {
          await this.grantFetch(s, t, kv).catch((e) => {
            if (!(e instanceof ServerError && e.status === 404) && !(e instanceof DecryptError))
              throw e;
          });
          raw = s.sk?.get(id);
        }
        if (!raw)
          throw new DecryptError();
        k = await bs1.aesKey(raw);
      }
      s.ck.set(id, k);
    }
    return k;
  }

  /**
   * A collection's application name from its base64 meta; a DecryptError
   * when it does not open or is not {"name": string}.
   * @param {Session} s
   * @param {string} c
   * @param {string | null} metaB64
   * @returns {Promise<string>}
   */
  async openMeta(s, c, metaB64) {
    if (typeof metaB64 !== 'string')
      throw new DecryptError();
    const pt = await bs1.metaOpen(s.dataKey, c, unb64(metaB64));
    let o = null;
    try {
      o = JSON.parse(utf8Decode(pt) ?? '');
    } catch {
      o = null;
    }
    if (typeof o?.name !== 'string' || (await bs1.collectionName(s.idKey, o.name)) !== c)
      throw new DecryptError();
    return o.name;
  }

  /**
   * Queue a change of record a (data, or null for a delete); the first
   * change of a collection this device has not seen seals its meta too
   * (an own one: a shared collection's meta is its owner's).
   * @param {CollectionRef} A
   * @param {string} a
   * @param {Uint8Array | null} data
   * @param {number} [base] the version the change was made from (see put())
   */
  async queue(A, a, data, base) {
    if (base !== undefined && !(Number.isSafeInteger(base) && base >= 0))
      throw new InputError('a base version is an integer >= 0');
    const s = this.need();
    const { t, r } = await this.names(A, a);
    const c = t.seg;
    const env = data === null ? null : await this.sealRecord(s, t, r, a, data);
    /** @type {string | null} */
    let meta = null;
    if (t.owner === null && !(await this.storage.get(this.key('c', c)))) {
      const k = await bs1.ck(s.dataKey, t.c, 1);
      try {
        meta = b64(await bs1.metaSeal(k, 1, t.c, utf8(JSON.stringify({ name: t.A }))));
      } finally {
        wipe(k);
      }
    }
    await this.storage.transaction(async (tx) => {
      const ck = this.key('c', c);
      if (!(await tx.get(ck)))
        await tx.put(ck, meta !== null ? { version: 0, meta, metaPending: true }
          : { version: 0, meta: null, metaPending: false });
      const qk = this.key('q', c, r);
      const prev = await tx.get(qk);
      const from = base ?? (prev ? prev.base : ((await tx.get(this.key('r', c, r)))?.version ?? 0));
      await tx.put(qk, { base: from, env, a });
    });
  }
}
