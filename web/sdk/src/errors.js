/*
 * errors.js: the SDK's errors beyond the bs1 suite's own. One class per
 * kind, each a Bs1Error with a stable `code`, so an application tells them
 * apart with instanceof or by code:
 *   ServerError       the server refused: its `code` and `message` (docs/API.md)
 *   ConflictError     a write that could not be settled (code "conflict")
 *   UnreachableError  no answer after the bounded retries (code "unreachable")
 *   SessionError      an operation that needs a login without one (code "session")
 *   KeyChangedError   another account's public key is not the pinned one (code "key_changed")
 * DecryptError and KdfFloorError come from the bs1 suite (bs1/util.js).
 */
import { Bs1Error } from './bs1/util.js';

/** The server answered with an error: `code` is the API's stable code. */
export class ServerError extends Bs1Error {
  /**
   * @param {number} status the HTTP status
   * @param {string} code the API's code ("invalid_credentials", ...)
   * @param {string} message the server's sentence
   * @param {unknown} [body] the whole parsed error body (extra members)
   */
  constructor(status, code, message, body) {
    super(code, message);
    this.name = 'ServerError';
    /** @type {number} */
    this.status = status;
    /** @type {unknown} */
    this.body = body;
  }
}

/** A change the server refused as a conflict that the SDK could not settle. */
export class ConflictError extends Bs1Error {
  /** @param {string} message what conflicted */
  constructor(message) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** The server could not be reached (network error, timeout, 5xx) after every retry. */
export class UnreachableError extends Bs1Error {
  /**
   * @param {string} message what was tried
   * @param {unknown} [cause] the last failure
   */
  constructor(message, cause) {
    super('unreachable', message);
    this.name = 'UnreachableError';
    /** @type {unknown} */
    this.cause = cause;
  }
}

/** An operation that needs a session was called without one (or after logout). */
export class SessionError extends Bs1Error {
  constructor() {
    super('session', 'not logged in');
    this.name = 'SessionError';
  }
}

/**
 * Another account's public keys are not the ones pinned for it (client.md
 * section 9): its fingerprint changed since first use. Nothing was sealed
 * or opened with the new keys; the application shows both fingerprints and,
 * once the user confirmed the change out of band, calls
 * client.trustKey(username).
 */
export class KeyChangedError extends Bs1Error {
  /**
   * @param {string} username whose key changed
   * @param {string} pinned the fingerprint pinned before
   * @param {string} fingerprint the fingerprint the server gives now
   */
  constructor(username, pinned, fingerprint) {
    super('key_changed', `the public key of ${username} changed: fingerprint ${pinned} -> ${fingerprint}; ` +
      `confirm with trustKey("${username}") once checked with ${username}`);
    this.name = 'KeyChangedError';
    /** @type {string} */
    this.username = username;
    /** @type {string} */
    this.pinned = pinned;
    /** @type {string} */
    this.fingerprint = fingerprint;
  }
}
