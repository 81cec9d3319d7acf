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
import { Bs1Error } from './bs1/util.js';
