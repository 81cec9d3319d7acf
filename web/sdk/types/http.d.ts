/**
 * One request's description.
 * @typedef {object} Req
 * @property {string} method
 * @property {string} path under the base URL, starting with /v1/
 * @property {unknown} [json] a body, sent as application/json
 * @property {string} [token] a Bearer token
 * @property {boolean} [idempotent] retry on a network error too
 * @property {number} [waitMs] extra time the server may hold the request (long-poll)
 * @property {Record<string, string>} [headers] more headers (If-None-Match)
 * @property {AbortSignal} [signal] cancels the request (and its retries): an UnreachableError
 */
/**
 * An answer: status, the parsed JSON body (null when empty) and headers.
 * @typedef {{ status: number, body: any, headers: Headers }} Answer
 */
/**
 * The full-jitter back-off before retry number `attempt` (0 for the first
 * retry): a uniform delay in [0, min(cap, base * 2^attempt)), at least the
 * server's Retry-After when it sent one.
 * @param {RetryPolicy} p
 * @param {number} attempt
 * @param {number | null} retryAfterS the Retry-After header's seconds, or null
 * @returns {number} milliseconds
 */
export function backoff(p: RetryPolicy, attempt: number, retryAfterS: number | null): number;
/**
 * Send one request to base + req.path with the policy's retries. Resolves
 * with the answer for any 2xx or 304; throws ServerError for any other
 * answer (after the retries for 5xx and 429), UnreachableError when no
 * answer came.
 * @param {typeof fetch} fetchFn
 * @param {string} base the server's URL, without a trailing slash
 * @param {Req} req
 * @param {RetryPolicy} p
 * @returns {Promise<Answer>}
 */
export function request(fetchFn: typeof fetch, base: string, req: Req, p: RetryPolicy): Promise<Answer>;
/**
 * A streamed request's description: a Req without json, plus headers and
 * a body made afresh for each attempt.
 * @typedef {object} StreamReq
 * @property {string} method
 * @property {string} path
 * @property {string} [token] a Bearer token
 * @property {Record<string, string>} [headers] more headers (If-Match, X-Slot-Key)
 * @property {() => (ReadableStream<Uint8Array> | Blob)} [body] the body's bytes; called once per attempt
 *   (a Blob where a stream cannot be sent: browsers over HTTP/1.1)
 * @property {number} [length] the body's exact length, sent as Content-Length
 * @property {boolean} [replay] body() can be called again: 5xx, 429 and network errors are retried
 * @property {AbortSignal} [signal] cancels the transfer (there is no overall timeout: a large
 *   transfer may take long)
 */
/**
 * Send one request with a streamed body and/or a streamed answer. Resolves
 * with the Response for any 2xx or 304, its body unread; throws
 * ServerError for any other answer, UnreachableError when no answer came.
 * Retries as request() does, but only when req.replay says the body can
 * be sent again (a request without a body always can).
 * @param {typeof fetch} fetchFn
 * @param {string} base
 * @param {StreamReq} req
 * @param {RetryPolicy} p
 * @returns {Promise<Response>}
 */
export function requestStream(fetchFn: typeof fetch, base: string, req: StreamReq, p: RetryPolicy): Promise<Response>;
/**
 * How requests retry. Delays are in milliseconds.
 * @typedef {object} RetryPolicy
 * @property {number} retries attempts after the first (default 4)
 * @property {number} baseMs the first back-off's cap (default 250)
 * @property {number} capMs no back-off is longer (default 10000); a Retry-After is cut to 60 s
 * @property {number} timeoutMs one attempt's bound (default 30000; a long-poll adds its wait)
 * @property {(ms: number) => Promise<void>} sleep how to wait (tests pass their own)
 * @property {() => number} random a number in [0, 1) for the jitter
 */
/** @type {RetryPolicy} */
export const DEFAULT_RETRY: RetryPolicy;
/**
 * One request's description.
 */
export type Req = {
    method: string;
    /**
     * under the base URL, starting with /v1/
     */
    path: string;
    /**
     * a body, sent as application/json
     */
    json?: unknown;
    /**
     * a Bearer token
     */
    token?: string | undefined;
    /**
     * retry on a network error too
     */
    idempotent?: boolean | undefined;
    /**
     * extra time the server may hold the request (long-poll)
     */
    waitMs?: number | undefined;
    /**
     * more headers (If-None-Match)
     */
    headers?: Record<string, string> | undefined;
    /**
     * cancels the request (and its retries): an UnreachableError
     */
    signal?: AbortSignal | undefined;
};
/**
 * An answer: status, the parsed JSON body (null when empty) and headers.
 */
export type Answer = {
    status: number;
    body: any;
    headers: Headers;
};
/**
 * A streamed request's description: a Req without json, plus headers and
 * a body made afresh for each attempt.
 */
export type StreamReq = {
    method: string;
    path: string;
    /**
     * a Bearer token
     */
    token?: string | undefined;
    /**
     * more headers (If-Match, X-Slot-Key)
     */
    headers?: Record<string, string> | undefined;
    /**
     * the body's bytes; called once per attempt
     * (a Blob where a stream cannot be sent: browsers over HTTP/1.1)
     */
    body?: (() => (ReadableStream<Uint8Array> | Blob)) | undefined;
    /**
     * the body's exact length, sent as Content-Length
     */
    length?: number | undefined;
    /**
     * body() can be called again: 5xx, 429 and network errors are retried
     */
    replay?: boolean | undefined;
    /**
     * cancels the transfer (there is no overall timeout: a large
     * transfer may take long)
     */
    signal?: AbortSignal | undefined;
};
/**
 * How requests retry. Delays are in milliseconds.
 */
export type RetryPolicy = {
    /**
     * attempts after the first (default 4)
     */
    retries: number;
    /**
     * the first back-off's cap (default 250)
     */
    baseMs: number;
    /**
     * no back-off is longer (default 10000); a Retry-After is cut to 60 s
     */
    capMs: number;
    /**
     * one attempt's bound (default 30000; a long-poll adds its wait)
     */
    timeoutMs: number;
    /**
     * how to wait (tests pass their own)
     */
    sleep: (ms: number) => Promise<void>;
    /**
     * a number in [0, 1) for the jitter
     */
    random: () => number;
};
