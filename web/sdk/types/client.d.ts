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
     * @param {CollectionRef} A the application's collection name (or {name, owner}: a shared one)
     * @param {string} a the application's record id
     * @param {Uint8Array | string} data bytes, or a string stored as UTF-8
     * @param {WriteOptions} [opts]
     */
    put(A: CollectionRef, a: string, data: Uint8Array | string, opts?: WriteOptions): Promise<void>;
    /**
     * Queue the deletion of record a in collection A (a tombstone on sync);
     * opts.base as for put().
     * @param {CollectionRef} A
     * @param {string} a
     * @param {WriteOptions} [opts]
     */
    delete(A: CollectionRef, a: string, opts?: WriteOptions): Promise<void>;
    /**
     * Record a's data from the local copy: this device's queued change if
     * there is one, else what the last sync brought; null when it does not
     * exist or is deleted. A record that does not open is a DecryptError.
     * @param {CollectionRef} A
     * @param {string} a
     * @returns {Promise<Uint8Array | null>}
     */
    get(A: CollectionRef, a: string): Promise<Uint8Array | null>;
    /**
     * Every record of collection A in the local copy (queued changes
     * included), sorted by id. Any record that does not open makes it a
     * DecryptError.
     * @param {CollectionRef} A
     * @returns {Promise<{ id: string, data: Uint8Array, version: number }[]>}
     */
    list(A: CollectionRef): Promise<{
        id: string;
        data: Uint8Array;
        version: number;
    }[]>;
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
    collections(): Promise<{
        name: string;
        collection: string;
        version: number;
        owner?: string;
        role?: string;
    }[]>;
    /**
     * Record a's versions the server keeps, newest first, each opened (data
     * null for a tombstone). Asks the server; a version that does not open
     * is a DecryptError.
     * @param {CollectionRef} A
     * @param {string} a
     * @returns {Promise<{ version: number, modifiedAt: string, deleted: boolean, data: Uint8Array | null }[]>}
     */
    history(A: CollectionRef, a: string): Promise<{
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
    sync(...names: CollectionRef[]): Promise<SyncResult>;
    /**
     * sync() itself, under its one-at-a-time chain.
     * @param {CollectionRef[]} names
     * @returns {Promise<SyncResult>}
     */
    syncNow(names: CollectionRef[]): Promise<SyncResult>;
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
    sharedListed(s: Session, shared: any[], todo: Map<string, Target>, res: SyncResult): Promise<void>;
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
    syncOne(s: Session, t: Target, res: SyncResult, strict: boolean): Promise<void>;
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
    pushSome(s: Session, t: Target, keys: string[], res: SyncResult): Promise<boolean>;
    /**
     * After a push: versions in a collection only grow, so an accepted version
     * at or below this device's cursor means the push re-created a collection
     * deleted elsewhere: resync() it.
     * @param {Target} t
     * @param {{ version: number }[]} accepted
     */
    recreated(t: Target, accepted: {
        version: number;
    }[]): Promise<void>;
    /**
     * Start a collection's local copy again from 0 (the queue stays), after a
     * 410, a collection re-created under the cursor, or a push that
     * re-created it. Its sealed meta is sent again: a re-created collection
     * has none, and other devices name a collection by it (for a purge it is
     * the same name, sealed again). A shared collection's meta is its owner's.
     * @param {Target} t
     * @param {{ version: number, meta: string | null }} col the local entry
     */
    resync(t: Target, col: {
        version: number;
        meta: string | null;
    }): Promise<void>;
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
    pull(s: Session, t: Target, res: SyncResult): Promise<void>;
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
    watch(names: CollectionRef[], fn: (res: SyncResult) => (boolean | void | Promise<boolean | void>), opts?: WatchOptions): Promise<void>;
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
    keys(): Promise<{
        fingerprint: string;
        x25519: string;
        ed25519: string;
    }>;
    /**
     * Another account's public keys (GET /v1/users/{username}/keys), pinned
     * in the storage on first use; keys that differ from the pinned ones are
     * a KeyChangedError until trustKey(username).
     * @param {string} username
     * @returns {Promise<UserKeys>}
     */
    userKeys(username: string): Promise<UserKeys>;
    /**
     * Confirm that username's keys changed (after checking the new
     * fingerprint with its owner): the keys the server gives now replace the
     * pinned ones. Resolves the new fingerprint.
     * @param {string} username
     * @returns {Promise<string>}
     */
    trustKey(username: string): Promise<string>;
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
    invite(A: CollectionRef, username: string, role: "read" | "write" | "admin"): Promise<{
        id: string;
        expiresAt: string;
        fingerprint: string;
    }>;
    /**
     * The invitations addressed to this account (GET /v1/invitations), each
     * with the inviter's fingerprint and, when its grant opens under the
     * inviter's key (the pinned one, else the one given, not pinned until
     * accept), the collection's name.
     * @returns {Promise<Invitation[]>}
     */
    invitations(): Promise<Invitation[]>;
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
    accept(id: string): Promise<{
        name: string;
        owner: string;
        role: string;
    }>;
    /**
     * Decline an invitation addressed to this account, or withdraw one this
     * account sent (DELETE /v1/invitations/{id}).
     * @param {string} id
     */
    decline(id: string): Promise<void>;
    /**
     * A collection's pending outgoing invitations (owner or admin).
     * @param {CollectionRef} A
     * @returns {Promise<{ id: string, to: string, role: string, from: string, keyVersion: number, createdAt: string, expiresAt: string }[]>}
     */
    sentInvitations(A: CollectionRef): Promise<{
        id: string;
        to: string;
        role: string;
        from: string;
        keyVersion: number;
        createdAt: string;
        expiresAt: string;
    }[]>;
    /**
     * A collection's members, the owner first with role "owner"; the
     * membership version and the key version.
     * @param {CollectionRef} A
     * @returns {Promise<Members>}
     */
    members(A: CollectionRef): Promise<Members>;
    /**
     * Change a member's role (owner or admin; PATCH .../members/{username}).
     * @param {CollectionRef} A
     * @param {string} username
     * @param {'read' | 'write' | 'admin'} role
     */
    setRole(A: CollectionRef, username: string, role: "read" | "write" | "admin"): Promise<void>;
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
    unshare(A: CollectionRef, username: string): Promise<{
        rotated: boolean;
        keyVersion: number;
    }>;
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
    rotate(A: CollectionRef): Promise<number>;
    /**
     * Seal the queued changes of own collection t that are under a key
     * version below kv again, under kv (the collection's newest now): after
     * a rotation nothing queued goes out under the old key. A change
     * replaced meanwhile (put() again) is left as it is: it is under kv.
     * @param {Session} s
     * @param {Target} t
     * @param {number} kv
     */
    reseal(s: Session, t: Target, kv: number): Promise<void>;
    /**
     * Leave a collection shared with this account (DELETE
     * .../members/{me}?owner=O); its local copy and grants are dropped.
     * @param {CollectionRef} A {name, owner}
     */
    leave(A: CollectionRef): Promise<void>;
    /**
     * The identity key pairs from the keyring's plaintext; made and added to
     * the keyring (through resealKeyring) when it has none.
     * @param {Session} s
     * @returns {Promise<bs1.Identity>}
     */
    identity(s: Session): Promise<bs1.Identity>;
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
    resealKeyring(s: Session, change: (pt: Uint8Array) => Promise<Uint8Array | null>): Promise<void>;
    /**
     * Check keys the server gave for user against the pinned ones: pinned on
     * first use, a KeyChangedError when they differ.
     * @param {string} user lowercased
     * @param {unknown} keys {x25519, ed25519} base64
     * @returns {Promise<UserKeys>}
     */
    pinCheck(user: string, keys: unknown): Promise<UserKeys>;
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
    sealGrant(s: Session, t: Target, kv: number, u: UserKeys, role: "read" | "write" | "admin", fresh?: Uint8Array | null): Promise<{
        sealed: string;
        signature: string;
    }>;
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
    openGrant(s: Session, inv: any, ed25519Pk: Uint8Array): Promise<bs1.Grant>;
    /**
     * Keep an opened grant's keys for the session (the newest grant per
     * collection, and each key version's key, its "previous" ones included).
     * @param {Session} s
     * @param {string} seg
     * @param {bs1.Grant} g
     */
    keepGrant(s: Session, seg: string, g: bs1.Grant): void;
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
    keepGranted(s: Session, seg: string, kv: number, key: Uint8Array): Promise<void>;
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
    ownKey(s: Session, t: Target, kv: number): Promise<Uint8Array>;
    /**
     * ownKey's lookup of version kv (above 1) of own collection t: the
     * admin's grant, else ck(c, kv); kept in s.sk when settled.
     * @param {Session} s
     * @param {Target} t
     * @param {number} kv
     * @returns {Promise<Uint8Array>}
     */
    ownLookup(s: Session, t: Target, kv: number): Promise<Uint8Array>;
    /**
     * The newest grant this account keeps of shared collection t, opened
     * (once per session) under its inviter's pinned key; fetched when none is
     * kept. A DecryptError or KeyChangedError when it does not open.
     * @param {Session} s
     * @param {Target} t
     * @returns {Promise<bs1.Grant>}
     */
    grantOf(s: Session, t: Target): Promise<bs1.Grant>;
    /**
     * Fetch a grant of shared collection t (GET .../grant?owner=O, of key
     * version kv or the newest), check its inviter's keys against the pinned
     * ones, open it, keep it in the storage and the session.
     * @param {Session} s
     * @param {Target} t
     * @param {number | null} kv
     * @returns {Promise<bs1.Grant>}
     */
    grantFetch(s: Session, t: Target, kv: number | null): Promise<bs1.Grant>;
    /**
     * Forget a shared collection: its local copy, queue and grants (in the
     * storage) and its keys (in the session, wiped).
     * @param {Session} s
     * @param {string} seg
     */
    dropShared(s: Session, seg: string): Promise<void>;
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
     * A collection reference resolved: an own collection by its name; a
     * shared one ({name, owner}) by the grants kept in the storage (their
     * names opened), an InputError when none has that name (sync() or
     * accept() first). {name, owner} with this account as the owner is the
     * own collection name.
     * @param {CollectionRef} ref
     * @returns {Promise<Target>}
     */
    target(ref: CollectionRef): Promise<Target>;
    /**
     * The server names of collection A and record a.
     * @param {CollectionRef} A
     * @param {string} a
     * @returns {Promise<{ t: Target, c: string, r: string }>}
     */
    names(A: CollectionRef, a: string): Promise<{
        t: Target;
        c: string;
        r: string;
    }>;
    /**
     * cid_key(collection), kept for the session: derived for an own
     * collection, the grant's id_key for a shared one.
     * @param {Session} s
     * @param {Target | string} t
     * @returns {Promise<Uint8Array>}
     */
    cidKey(s: Session, t: Target | string): Promise<Uint8Array>;
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
    sealRecord(s: Session, t: Target, r: string, a: string, data: Uint8Array): Promise<string>;
    /**
     * Open a record's base64 envelope: a and data, or a DecryptError. The key
     * is the one of the envelope's key version.
     * @param {Target} t
     * @param {string} r
     * @param {string} envB64
     * @returns {Promise<{ a: string, data: Uint8Array }>}
     */
    openRecord(t: Target, r: string, envB64: string): Promise<{
        a: string;
        data: Uint8Array;
    }>;
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
    openRecords(t: Target | string, items: {
        rid: string;
        env: string;
    }[]): Promise<({
        a: string;
        data: Uint8Array;
    } | import("./bs1/util.js").DecryptError)[]>;
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
    ckAes(s: Session, t: Target, kv: number): Promise<CryptoKey>;
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
     * change of a collection this device has not seen seals its meta too
     * (an own one: a shared collection's meta is its owner's).
     * @param {CollectionRef} A
     * @param {string} a
     * @param {Uint8Array | null} data
     * @param {number} [base] the version the change was made from (see put())
     */
    queue(A: CollectionRef, a: string, data: Uint8Array | null, base?: number): Promise<void>;
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
    /**
     * kept from the password's login, to add the identity to the keyring
     * (an imported session has none)
     */
    keyringKey?: Uint8Array<ArrayBufferLike> | undefined;
    /**
     * the identity key pairs, from the keyring
     */
    identity?: bs1.Identity | undefined;
    /**
     * shared collections' keys per "<seg>/kv", from opened grants (and own
     * collections' above version 1: an admin's grant, or derived)
     */
    sk?: Map<string, Uint8Array<ArrayBufferLike>> | undefined;
    /**
     * ownKey's lookups under way, per "<seg>/kv"
     */
    okp?: Map<string, Promise<Uint8Array<ArrayBufferLike>>> | undefined;
    /**
     * each shared collection's newest opened grant, per seg
     */
    grants?: Map<string, bs1.Grant> | undefined;
};
/**
 * A collection as the Client's operations name it: the application's name
 * A of one of this account's collections, or {name: A, owner} for one that
 * another account shared with it (A is the owner's name for it, from the
 * grant).
 */
export type CollectionRef = string | {
    name: string;
    owner: string;
};
/**
 * A collection resolved: the application's name, its owner (null: this
 * account), the server's name, and the segment of its storage keys (the
 * server name, or "<owner>:<server name>").
 */
export type Target = {
    A: string;
    owner: string | null;
    c: string;
    seg: string;
};
/**
 * Another account's public keys as the server gives them, checked
 * against the pinned ones.
 */
export type UserKeys = {
    /**
     * lowercased
     */
    username: string;
    /**
     * b64url(SHA-256(x25519 || ed25519))[0:16]
     */
    fingerprint: string;
    x25519Pk: Uint8Array;
    ed25519Pk: Uint8Array;
    /**
     * true when they were pinned by this call
     */
    firstUse: boolean;
};
/**
 * An incoming invitation (invitations()).
 */
export type Invitation = {
    id: string;
    /**
     * the collection's application name from the opened grant (null when it
     * does not open: keyChanged, or a grant that fails its checks; accept() then throws)
     */
    name: string | null;
    /**
     * the server's name
     */
    collection: string;
    owner: string;
    /**
     * who invited
     */
    from: string;
    /**
     * the inviter's key fingerprint, to compare with what the inviter sees
     */
    fingerprint: string;
    /**
     * the inviter's key is not the one pinned for it
     */
    keyChanged: boolean;
    role: string;
    keyVersion: number;
    createdAt: string;
    expiresAt: string;
};
/**
 * A collection's membership (members()).
 */
export type Members = {
    owner: string;
    /**
     * the membership version (rotate's If-Match)
     */
    version: number;
    /**
     * the collection's newest key version
     */
    keyVersion: number;
    /**
     * a member was removed or left since the last rotation (the owner's next sync rotates)
     */
    rotateDue: boolean;
    /**
     * the owner first
     */
    members: {
        username: string;
        role: string;
        joinedAt: string | null;
    }[];
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
     * the owner of a shared collection (absent: this account's)
     */
    owner?: string | undefined;
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
     *   records that came from the server (id null: a tombstone of a record this device never saw); owner is
     *   set for a shared collection, here and below
     */
    changed: {
        collection: string;
        owner?: string;
        id: string | null;
        version: number;
        deleted: boolean;
    }[];
    /**
     * this device's
     * accepted changes
     */
    pushed: {
        collection: string;
        owner?: string;
        id: string;
        version: number;
    }[];
    /**
     *   every conflict and how it ended: "server" (the local change dropped) or "merged" (the callback's value pushed)
     */
    conflicts: {
        collection: string;
        owner?: string;
        id: string;
        kept: "server" | "merged";
    }[];
    /**
     *   records that came from the server and do not open (by server id); reading them throws DecryptError
     */
    undecryptable: {
        collection: string;
        owner?: string;
        recordId: string;
    }[];
    /**
     * collections pulled again from 0 after a 410
     */
    resynced: string[];
    /**
     * collections deleted on the server (their local copy dropped), or shared ones
     * this account is no longer a member of
     */
    gone: string[];
    /**
     * shared collections left out
     * because their grant does not open (a DecryptError) or the inviter's key changed (a KeyChangedError),
     * or whose queued changes the server refused (a ServerError 403: a read member) and were dropped;
     * and own collections (owner: this account) whose due rotation failed (a member's KeyChangedError, a
     * ServerError): pulled, but nothing pushed into them until it succeeds
     */
    refused: {
        collection: string;
        owner: string;
        error: Error;
    }[];
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
