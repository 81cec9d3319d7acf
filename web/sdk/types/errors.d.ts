/** The server answered with an error: `code` is the API's stable code. */
export class ServerError extends Bs1Error {
    /**
     * @param {number} status the HTTP status
     * @param {string} code the API's code ("invalid_credentials", ...)
     * @param {string} message the server's sentence
     * @param {unknown} [body] the whole parsed error body (extra members)
     */
    constructor(status: number, code: string, message: string, body?: unknown);
    /** @type {number} */
    status: number;
    /** @type {unknown} */
    body: unknown;
}
/** A change the server refused as a conflict that the SDK could not settle. */
export class ConflictError extends Bs1Error {
    /** @param {string} message what conflicted */
    constructor(message: string);
}
/** The server could not be reached (network error, timeout, 5xx) after every retry. */
export class UnreachableError extends Bs1Error {
    /**
     * @param {string} message what was tried
     * @param {unknown} [cause] the last failure
     */
    constructor(message: string, cause?: unknown);
}
/** An operation that needs a session was called without one (or after logout). */
export class SessionError extends Bs1Error {
    constructor();
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
    constructor(username: string, pinned: string, fingerprint: string);
    /** @type {string} */
    username: string;
    /** @type {string} */
    pinned: string;
    /** @type {string} */
    fingerprint: string;
}
import { Bs1Error } from './bs1/util.js';
