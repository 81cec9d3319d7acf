/**
 * The blindsync client of client.md section 7: one account's session and
 * local copy. Operations that need the session throw SessionError without
 * one. Every method is async.
 */
export class Client {
    /** @param {ClientOptions} opts */
    constructor(opts: ClientOptions);
    /** @type {string} */
    url: string;
    /** @type {import('./storage.js').Storage} */
    storage: import("./storage.js").Storage;
    /** @type {typeof fetch} */
    fetch: typeof fetch;
    /** @type {typeof WebSocket | null | undefined} */
    WebSocket: typeof WebSocket | null | undefined;
    /** @type {MergeFn | undefined} */
    merge: MergeFn | undefined;
    /** @type {import('./http.js').RetryPolicy} */
    retry: import("./http.js").RetryPolicy;
    /** @type {bs1.KdfOptions} */
    kdfOpts: bs1.KdfOptions;
    /** @type {((c: Client) => (void | Promise<void>)) | undefined} */
    onSession: ((c: Client) => (void | Promise<void>)) | undefined;
    /** @type {Session | null} */
    session: Session | null;
    /** @type {Promise<void> | null} the refresh in flight, shared by every caller */
    refreshing: Promise<void> | null;
    /** @type {Promise<unknown>} the end of the last sync() queued: syncs run one at a time */
    syncing: Promise<unknown>;
    /**
     * Create an account: a fresh salt and data key, the section 2 keys, the
     * keyring (kind 1, version 1), POST /v1/account/register. Does not log in.
     * @param {string} username
     * @param {string} password
     * @param {{ invite?: string }} [opts] an invite code when the server asks for one
     * @returns {Promise<{ accountId: string }>}
     */
    register(username: string, password: string, opts?: {
        invite?: string;
    }): Promise<{
        accountId: string;
    }>;
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
    login(username: string, password: string, device?: DeviceInfo, mfa?: MfaOptions): Promise<{
        accountId: string;
        deviceId: string;
    }>;
    /**
     * POST /v1/account/login, asking mfa.prompt for a code on mfa_required
     * (and again on invalid_mfa after a prompted code), the same body resent.
     * @param {Record<string, unknown>} body
     * @param {MfaOptions} mfa
     * @returns {Promise<any>} the answer's body
     */
    loginSend(body: Record<string, unknown>, mfa: MfaOptions): Promise<any>;
    /** True while a session is held. @returns {boolean} */
    get loggedIn(): boolean;
    /**
     * Rotate the tokens: POST /v1/account/refresh with the refresh token; the
     * new pair replaces the old before anything uses it. Concurrent callers
     * share one refresh (a refresh token is good once). A 401 (token_reused,
     * token_expired, unauthorized) ends the session: log in again.
     */
    refresh(): Promise<void>;
    /**
     * Log out: POST /v1/account/logout (best effort: an unreachable server
     * does not keep the secrets), then forget the session's tokens and wipe
     * its keys. The local copy (sealed) stays; clearLocal() removes it.
     */
    logout(): Promise<void>;
    /** Wipe the session's secrets and drop it (no request). */
    forget(): void;
    /**
     * Tell the onSession callback, if any, that the session changed; its
     * errors are ignored.
     * @returns {Promise<void>}
     */
    sessionChanged(): Promise<void>;
    /**
     * The session to keep across restarts ("remember this device"; see
     * IndexedDBStorage.sessionSave, which seals the secret under a
     * non-extractable key). The caller owns the result and should wipe
     * its secret once kept.
     * @returns {SessionExport}
     */
    sessionExport(): SessionExport;
    /**
     * Take back a session that sessionExport gave (no request, no
     * password): the data key comes from the keyring plaintext. Replaces any
     * session held. The secret is not wiped here (the caller owns it). An
     * export that does not parse is an InputError and leaves no session.
     * @param {SessionExport} e
     */
    sessionImport(e: SessionExport): Promise<void>;
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
    changePassword(oldPassword: string, newPassword: string, opts?: {
        revokeOtherDevices?: boolean;
    }): Promise<void>;
    /**
     * The account's devices; `current` marks this one.
     * @returns {Promise<{ deviceId: string, name: string, type: string, createdAt: string, lastSeenAt: string | null, current: boolean }[]>}
     */
    devices(): Promise<{
        deviceId: string;
        name: string;
        type: string;
        createdAt: string;
        lastSeenAt: string | null;
        current: boolean;
    }[]>;
    /**
     * Revoke a device: its tokens stop working at once. Revoking this one
     * ends the session too.
     * @param {string} deviceId
     */
    deleteDevice(deviceId: string): Promise<void>;
    /**
     * The current password's auth_key and keyring_key under the session's kdf.
     * @param {string} password
     * @returns {Promise<{ authKey: Uint8Array, keyringKey: Uint8Array }>} the caller wipes both
     */
    proof(password: string): Promise<{
        authKey: Uint8Array;
        keyringKey: Uint8Array;
    }>;
    /**
     * Whether two-factor login is on and a recovery key is set (GET /v1/account).
     * @returns {Promise<{ totp: boolean, recoveryKey: boolean }>}
     */
    security(): Promise<{
        totp: boolean;
        recoveryKey: boolean;
    }>;
    /**
     * Start two-factor login (TOTP): the password proves the account; the
     * server makes the secret. Nothing is on until totpConfirm.
     * @param {string} password
     * @returns {Promise<{ secret: string, uri: string }>} the base32 secret and its otpauth:// URI
     */
    totpEnable(password: string): Promise<{
        secret: string;
        uri: string;
    }>;
    /**
     * Turn two-factor login on with a code of the authenticator app.
     * @param {string} code
     * @returns {Promise<string[]>} the ten single-use recovery codes (shown once)
     */
    totpConfirm(code: string): Promise<string[]>;
    /**
     * Turn two-factor login off: the password and a current code.
     * @param {string} password
     * @param {string} code
     */
    totpDisable(password: string, code: string): Promise<void>;
    /**
     * A new set of recovery codes (the old set stops working).
     * @param {string} password
     * @param {string} code a current code of the app
     * @returns {Promise<string[]>}
     */
    recoveryCodes(password: string, code: string): Promise<string[]>;
    /**
     * Make a recovery key (client.md section 10): the stored keyring opened
     * with the password (a wrong one is a DecryptError), its plaintext sealed
     * as the kind-6 blob under a fresh key, PUT /v1/account/recovery
     * (replacing an earlier key). The text is the only copy: show it once.
     * @param {string} password
     * @returns {Promise<string>} the recovery key's text (groups of four)
     */
    recoveryKeyCreate(password: string): Promise<string>;
    /**
     * Remove the account's recovery key.
     * @param {string} password
     */
    recoveryKeyDelete(password: string): Promise<void>;
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
    recover(username: string, text: string, newPassword: string, device?: DeviceInfo, mfa?: MfaOptions): Promise<{
        accountId: string;
        deviceId: string;
    }>;
    /**
     * Queue a write of record a in collection A (sealed now, sent by sync()).
     * A second put before a sync replaces the first, keeping its base version.
     * opts.base is the version the change was made from, when the caller
     * knows better than the local copy (an editor opened at version 7 while
     * a sync pulled 8): the push then conflicts, and the merge callback
     * decides, instead of writing over a version nobody looked at.
     * @param {string} A the application's collection name
     * @param {string} a the application's record id
     * @param {Uint8Array | string} data bytes, or a string stored as UTF-8
     * @param {WriteOptions} [opts]
     */
    put(A: string, a: string, data: Uint8Array | string, opts?: WriteOptions): Promise<void>;
    /**
     * Queue the deletion of record a in collection A (a tombstone on sync);
     * opts.base as for put().
     * @param {string} A
     * @param {string} a
     * @param {WriteOptions} [opts]
     */
    delete(A: string, a: string, opts?: WriteOptions): Promise<void>;
    /**
     * Record a's data from the local copy: this device's queued change if
     * there is one, else what the last sync brought; null when it does not
     * exist or is deleted. A record that does not open is a DecryptError.
     * @param {string} A
     * @param {string} a
     * @returns {Promise<Uint8Array | null>}
     */
    get(A: string, a: string): Promise<Uint8Array | null>;
    /**
     * Every record of collection A in the local copy (queued changes
     * included), sorted by id. Any record that does not open makes it a
     * DecryptError.
     * @param {string} A
     * @returns {Promise<{ id: string, data: Uint8Array, version: number }[]>}
     */
    list(A: string): Promise<{
        id: string;
        data: Uint8Array;
        version: number;
    }[]>;
    /**
     * The collections of the local copy by their application names (their
     * meta opened), sorted; each with its server name and the version pulled.
     * sync() with no argument learns the collections other devices created.
     * Collections whose meta does not open are left out.
     * @returns {Promise<{ name: string, collection: string, version: number }[]>}
     */
    collections(): Promise<{
        name: string;
        collection: string;
        version: number;
    }[]>;
    /**
     * Record a's versions the server keeps, newest first, each opened (data
     * null for a tombstone). Asks the server; a version that does not open
     * is a DecryptError.
     * @param {string} A
     * @param {string} a
     * @returns {Promise<{ version: number, modifiedAt: string, deleted: boolean, data: Uint8Array | null }[]>}
     */
    history(A: string, a: string): Promise<{
        version: number;
        modifiedAt: string;
        deleted: boolean;
        data: Uint8Array | null;
    }[]>;
    /**
     * Sync collections with the server: with no names, every collection of
     * the account (listed first, their meta opened) and every one with
     * queued changes; else the named ones. Per collection: create it with its
     * sealed meta if needed, push the queue with base_version (a conflict goes
     * to the merge callback, default: keep the server's; then again, up to 8
     * rounds, else a ConflictError), pull until more is false (a 410 starts
     * again from 0; a 404 drops the local copy of a collection deleted
     * elsewhere).
     * Syncs of one Client run one at a time (a second waits for the first),
     * so that a watch() and an application's own sync() never push the same
     * queue twice.
     * @param {...string} names application collection names
     * @returns {Promise<SyncResult>}
     */
    sync(...names: string[]): Promise<SyncResult>;
    /**
     * sync() itself, under its one-at-a-time chain.
     * @param {string[]} names
     * @returns {Promise<SyncResult>}
     */
    syncNow(names: string[]): Promise<SyncResult>;
    /**
     * One collection's sync (see sync()).
     * @param {Session} s
     * @param {string} A
     * @param {string} c
     * @param {SyncResult} res
     */
    syncOne(s: Session, A: string, c: string, res: SyncResult): Promise<void>;
    /**
     * Push queued changes of one collection (one request, capped in records
     * and bytes). Accepted ones move into the local copy; conflicts go to
     * the merge callback. False when nothing can progress this round (only
     * conflicts with remote records that do not open are left).
     * @param {Session} s
     * @param {string} A
     * @param {string} c
     * @param {string[]} keys the queue's keys
     * @param {SyncResult} res
     * @returns {Promise<boolean>}
     */
    pushSome(s: Session, A: string, c: string, keys: string[], res: SyncResult): Promise<boolean>;
    /**
     * After a push: versions in a collection only grow, so an accepted version
     * at or below this device's cursor means the push re-created a collection
     * deleted elsewhere: resync() it.
     * @param {string} c
     * @param {{ version: number }[]} accepted
     */
    recreated(c: string, accepted: {
        version: number;
    }[]): Promise<void>;
    /**
     * Start a collection's local copy again from 0 (the queue stays), after a
     * 410, a collection re-created under the cursor, or a push that
     * re-created it. Its sealed meta is sent again: a re-created collection
     * has none, and other devices name a collection by it (for a purge it is
     * the same name, sealed again).
     * @param {string} c
     * @param {{ version: number, meta: string | null }} col the local entry
     */
    resync(c: string, col: {
        version: number;
        meta: string | null;
    }): Promise<void>;
    /**
     * Pull one collection from its cursor until more is false, into the local
     * copy; a 410 empties the local copy (the queue stays) and pulls from 0;
     * a 404 drops it (the collection was deleted elsewhere: reported in
     * `gone` when this device knew it; queued changes stay and re-create it,
     * with its meta, on the next sync).
     * @param {Session} s
     * @param {string} A
     * @param {string} c
     * @param {SyncResult} res
     */
    pull(s: Session, A: string, c: string, res: SyncResult): Promise<void>;
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
     * @param {string[]} names application collection names ([] for all)
     * @param {(res: SyncResult) => (boolean | void | Promise<boolean | void>)} fn
     * @param {WatchOptions} [opts]
     * @returns {Promise<void>}
     */
    watch(names: string[], fn: (res: SyncResult) => (boolean | void | Promise<boolean | void>), opts?: WatchOptions): Promise<void>;
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
    live(round: () => Promise<boolean>, again: (e: unknown) => Promise<void>, helloed: () => void, signal: AbortSignal | undefined): Promise<"stop" | "off" | {
        opened: boolean;
        code: number;
        reason: string;
    }>;
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
    backupPut(name: string, source: Source, opts?: PutOptions): Promise<{
        version: number;
        bytes: number;
    }>;
    /**
     * Download a backup and open it as it arrives (section 5): the plaintext
     * stream and its version, or null when opts.since is still current. The
     * version is remembered (for the next backupPut's If-Match) once the
     * stream's end verified. A missing backup is a ServerError not_found.
     * @param {string} name
     * @param {GetOptions} [opts]
     * @returns {Promise<Download | null>}
     */
    backupGet(name: string, opts?: GetOptions): Promise<Download | null>;
    /**
     * The account's backups, sorted by name.
     * @returns {Promise<BackupInfo[]>}
     */
    backupList(): Promise<BackupInfo[]>;
    /**
     * Delete a backup (whatever its version) and forget the version seen.
     * @param {string} name
     */
    backupDelete(name: string): Promise<void>;
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
    slotPut(passphrase: string, source: Source, opts?: PutOptions): Promise<{
        version: number;
        bytes: number;
    }>;
    /**
     * Download and open the anonymous slot of (app, passphrase), as
     * backupGet does (no session needed). No slot for this passphrase (or
     * a server without slots) is a ServerError not_found.
     * @param {string} passphrase
     * @param {GetOptions} [opts]
     * @returns {Promise<Download | null>}
     */
    slotGet(passphrase: string, opts?: GetOptions): Promise<Download | null>;
    /**
     * The account's export (GET /v1/account/export): every collection,
     * record, history version and backup, still encrypted, with the kdf and
     * the keyring, as the JSON document's bytes. The stream errors with an
     * UnreachableError when the document was cut short.
     * @param {{ progress?: (done: number, total: number) => void, signal?: AbortSignal }} [opts]
     *   progress: total is 0 (the server streams it without a length)
     * @returns {Promise<ReadableStream<Uint8Array>>}
     */
    export(opts?: {
        progress?: (done: number, total: number) => void;
        signal?: AbortSignal;
    }): Promise<ReadableStream<Uint8Array>>;
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
    putStream(path: string, vkey: string, kind: number, key: Uint8Array, source: Source, opts: PutOptions, extra: Record<string, string>): Promise<{
        version: number;
        bytes: number;
    }>;
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
    getStream(path: string, vkey: string, kind: number, key: Uint8Array, opts: GetOptions, auth: boolean): Promise<Download | null>;
    /**
     * requestStream with the session's token; on 401 token_expired the
     * tokens are refreshed and the request sent again when its body can be.
     * @param {import('./http.js').StreamReq} req
     * @returns {Promise<Response>}
     */
    authedStream(req: import("./http.js").StreamReq): Promise<Response>;
    /** The session, or a SessionError. @returns {Session} */
    need(): Session;
    /**
     * A storage key under this account: parts joined by "/".
     * @param {...string} parts
     * @returns {string}
     */
    key(...parts: string[]): string;
    /**
     * One request with the retry policy.
     * @param {import('./http.js').Req} req
     * @returns {Promise<import('./http.js').Answer>}
     */
    send(req: import("./http.js").Req): Promise<import("./http.js").Answer>;
    /**
     * One authenticated request; on 401 token_expired the tokens are
     * refreshed once and the request sent again.
     * @param {import('./http.js').Req} req
     * @returns {Promise<import('./http.js').Answer>}
     */
    authed(req: import("./http.js").Req): Promise<import("./http.js").Answer>;
    /**
     * The server name of collection A (client.md section 4).
     * @param {string} A
     * @returns {Promise<string>}
     */
    collectionName(A: string): Promise<string>;
    /**
     * The server names of collection A and record a.
     * @param {string} A
     * @param {string} a
     * @returns {Promise<{ c: string, r: string }>}
     */
    names(A: string, a: string): Promise<{
        c: string;
        r: string;
    }>;
    /**
     * cid_key(collection), kept for the session.
     * @param {Session} s
     * @param {string} c
     * @returns {Promise<Uint8Array>}
     */
    cidKey(s: Session, c: string): Promise<Uint8Array>;
    /**
     * Seal record a (kv 1) as base64 for the push.
     * @param {Session} s
     * @param {string} c
     * @param {string} r
     * @param {string} a
     * @param {Uint8Array} data
     * @returns {Promise<string>}
     */
    sealRecord(s: Session, c: string, r: string, a: string, data: Uint8Array): Promise<string>;
    /**
     * Open a record's base64 envelope: a and data, or a DecryptError.
     * @param {string} c
     * @param {string} r
     * @param {string} envB64
     * @returns {Promise<{ a: string, data: Uint8Array }>}
     */
    openRecord(c: string, r: string, envB64: string): Promise<{
        a: string;
        data: Uint8Array;
    }>;
    /**
     * Open many envelopes of collection c, RECORD_BATCH at a time side by
     * side (Web Crypto works off the page's thread, so a batch costs little
     * more than one): for each, { a, data } or the DecryptError it failed
     * with, in order. Other errors reject.
     * @param {string} c
     * @param {{ rid: string, env: string }[]} items
     * @returns {Promise<({ a: string, data: Uint8Array } | import('./bs1/util.js').DecryptError)[]>}
     */
    openRecords(c: string, items: {
        rid: string;
        env: string;
    }[]): Promise<({
        a: string;
        data: Uint8Array;
    } | import("./bs1/util.js").DecryptError)[]>;
    /**
     * ck(c, kv) imported for AES-GCM, derived once per session and kept (as a
     * non-extractable CryptoKey) until logout.
     * @param {Session} s
     * @param {string} c
     * @param {number} kv
     * @returns {Promise<CryptoKey>}
     */
    ckAes(s: Session, c: string, kv: number): Promise<CryptoKey>;
    /**
     * A collection's application name from its base64 meta; a DecryptError
     * when it does not open or is not {"name": string}.
     * @param {Session} s
     * @param {string} c
     * @param {string | null} metaB64
     * @returns {Promise<string>}
     */
    openMeta(s: Session, c: string, metaB64: string | null): Promise<string>;
    /**
     * Queue a change of record a (data, or null for a delete); the first
     * change of a collection this device has not seen seals its meta too.
     * @param {string} A
     * @param {string} a
     * @param {Uint8Array | null} data
     * @param {number} [base] the version the change was made from (see put())
     */
    queue(A: string, a: string, data: Uint8Array | null, base?: number): Promise<void>;
}
/**
 * A session as sessionExport gives it, to keep across restarts: the
 * public part as JSON values and the secrets (tokens, keyring plaintext)
 * as bytes that whoever keeps them must protect, and wipe after use.
 */
export type SessionExport = {
    username: string;
    accountId: string;
    deviceId: string;
    keyringVersion: number;
    /**
     * the kdf object's JSON text
     */
    kdf: string;
    /**
     * u32be(n) || n bytes of {"access","refresh"} JSON || the keyring plaintext
     */
    secret: Uint8Array;
};
/**
 * The session of a login: tokens and secrets, in memory only.
 */
export type Session = {
    /**
     * lowercased
     */
    username: string;
    accountId: string;
    deviceId: string;
    access: string;
    refresh: string;
    dataKey: Uint8Array;
    /**
     * the keyring's plaintext (its unknown members are kept on re-seal)
     */
    keyringPt: Uint8Array;
    keyringVersion: number;
    /**
     * the kdf the password was derived with
     */
    kdf: bs1.Kdf;
    idKey: Uint8Array;
    /**
     * cid_key per server collection name
     */
    cid: Map<string, Uint8Array>;
    /**
     * ck(collection, kv) per "collection/kv", imported for AES-GCM
     * (non-extractable): records open with one Web Crypto call, not four
     */
    ck?: Map<string, CryptoKey> | undefined;
};
/**
 * A device as the server lists it.
 */
export type DeviceInfo = {
    name: string;
    type: string;
};
/**
 * What a merge callback is given for one conflicting record: the
 * application's names, this device's queued value and the server's (each
 * the data, or null for a deletion), and the server's version.
 */
export type Conflict = {
    /**
     * the application's collection name A
     */
    collection: string;
    /**
     * the application's record id a
     */
    id: string;
    /**
     * this device's change (null: delete)
     */
    local: Uint8Array | null;
    /**
     * the server's current data (null: deleted or absent)
     */
    remote: Uint8Array | null;
    /**
     * the server's version of the record
     */
    remoteVersion: number;
};
/**
 * The merge callback: return the data to write over the server's version
 * (a Uint8Array or a string, as UTF-8), null to delete the record, or
 * undefined to keep the server's copy and drop the local change.
 */
export type MergeFn = (c: Conflict) => (Uint8Array | string | null | undefined | Promise<Uint8Array | string | null | undefined>);
/**
 * What sync() returns.
 */
export type SyncResult = {
    /**
     *   records that came from the server (id null: a tombstone of a record this device never saw)
     */
    changed: {
        collection: string;
        id: string | null;
        version: number;
        deleted: boolean;
    }[];
    /**
     * this device's accepted changes
     */
    pushed: {
        collection: string;
        id: string;
        version: number;
    }[];
    /**
     *   every conflict and how it ended: "server" (the local change dropped) or "merged" (the callback's value pushed)
     */
    conflicts: {
        collection: string;
        id: string;
        kept: "server" | "merged";
    }[];
    /**
     *   records that came from the server and do not open (by server id); reading them throws DecryptError
     */
    undecryptable: {
        collection: string;
        recordId: string;
    }[];
    /**
     * collections pulled again from 0 after a 410
     */
    resynced: string[];
    /**
     * collections deleted on the server (their local copy dropped)
     */
    gone: string[];
};
/**
 * Options of put() and delete().
 */
export type WriteOptions = {
    /**
     * the record's version this change was made from
     * (default: the queued change's base, else the local copy's version; 0 for a new record)
     */
    base?: number | undefined;
};
/**
 * Options of watch().
 */
export type WatchOptions = {
    /**
     * seconds a long poll may wait (1 to 3600, default 30; the server caps it)
     */
    wait?: number | undefined;
    /**
     * stops the watch: it then resolves
     */
    signal?: AbortSignal | undefined;
    /**
     * told of each failure that is retried after a back-off
     */
    onError?: ((e: Error) => void) | undefined;
};
/**
 * Client options.
 */
export type ClientOptions = {
    /**
     * the server's base URL, e.g. "https://sync.example.org" (any prefix)
     */
    url: string;
    /**
     * the local copy (default: a MemoryStorage)
     */
    storage?: import("./storage.js").Storage | undefined;
    /**
     * the fetch to use (default: globalThis.fetch)
     */
    fetch?: typeof fetch | undefined;
    /**
     * the WebSocket class of watch()'s live socket (default:
     * globalThis.WebSocket; null or none: watch() long-polls)
     */
    WebSocket?: {
        new (url: string | URL, protocols?: string | string[]): WebSocket;
        prototype: WebSocket;
        readonly CONNECTING: 0;
        readonly OPEN: 1;
        readonly CLOSING: 2;
        readonly CLOSED: 3;
    } | null | undefined;
    /**
     * the conflict callback (default: keep the server's copy)
     */
    merge?: MergeFn | undefined;
    /**
     * retries and back-off
     */
    retry?: Partial<import("./http.js").RetryPolicy> | undefined;
    /**
     * told when Argon2id starts (in a page: in a Web
     * Worker) and ends, with its duration: a page shows it
     */
    kdfStatus?: ((s: bs1.KdfStatus) => void) | undefined;
    /**
     * called (and awaited) after the session
     * changed: a login, a token rotation, a password change, and its end (then c.session is null), so
     * that an application that keeps the session (sessionExport) keeps the current one; its errors are
     * its own (the Client ignores them)
     */
    onSession?: ((c: Client) => (void | Promise<void>)) | undefined;
};
/**
 * The second factor at login: a code given up front (six digits from the
 * authenticator app, or a recovery code), and/or a prompt the Client calls
 * when the server answers mfa_required (again: false) or invalid_mfa after
 * a prompted code (again: true), at most MFA_PROMPTS times; it returns the
 * code, or null to give up (the ServerError is then thrown). The login is
 * resent with the same auth_key: no second Argon2id.
 */
export type MfaOptions = {
    code?: string | undefined;
    prompt?: ((again: boolean) => (string | null | undefined | Promise<string | null | undefined>)) | undefined;
};
/**
 * What backupPut and slotPut read: bytes, a string (its UTF-8), a Blob, or
 * a ReadableStream of bytes (then its exact size must be given).
 */
export type Source = Uint8Array | string | Blob | ReadableStream<Uint8Array>;
/**
 * Options of backupPut and slotPut.
 */
export type PutOptions = {
    /**
     * the plaintext's exact size in bytes (required for a ReadableStream)
     */
    size?: number | undefined;
    /**
     * sealed bytes sent so far, of total
     */
    progress?: ((done: number, total: number) => void) | undefined;
    /**
     * overwrite whatever version the server holds (If-Match: *): no merge
     */
    force?: boolean | undefined;
    /**
     * slots only: the application id (default "blindsync")
     */
    app?: string | undefined;
    /**
     * cancels the transfer
     */
    signal?: AbortSignal | undefined;
};
/**
 * Options of backupGet and slotGet.
 */
export type GetOptions = {
    /**
     * sealed bytes received so far, of total
     */
    progress?: ((done: number, total: number) => void) | undefined;
    /**
     * a version already held: resolve null if it is still the current one (304)
     */
    since?: number | undefined;
    /**
     * slots only: the application id (default "blindsync")
     */
    app?: string | undefined;
    /**
     * cancels the transfer
     */
    signal?: AbortSignal | undefined;
};
/**
 * What backupGet and slotGet resolve to: the plaintext as a stream and the
 * version read. Each piece comes out only after its tag verified; on a
 * tampered or truncated stream the stream errors with a DecryptError and
 * whatever was read from it must be discarded.
 */
export type Download = {
    version: number;
    stream: ReadableStream<Uint8Array>;
};
/**
 * A backup as the server lists it.
 */
export type BackupInfo = {
    name: string;
    version: number;
    bytes: number;
    modifiedAt: string;
};
import * as bs1 from './bs1/index.js';
