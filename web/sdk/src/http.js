/*
 * http.js: every request the Client makes goes through request(): JSON in
 * and out, bounded retries with full-jitter back-off, and the API's errors
 * turned into ServerError. Nothing here logs: a body may hold an auth key
 * or a sealed keyring, a header a token.
 *
 * What is retried: a 5xx or 429 answer (the API guarantees that a failed
 * request changed nothing), waiting at least its Retry-After (a 429 that asks
 * for more than 60 s, such as two-factor codes locked for 15 minutes, is
 * thrown at once: nobody waits that long for a click); and a network
 * error or timeout, only for requests marked `idempotent` (reads, PUT,
 * DELETE, and pushes, which base_version makes safe to repeat). A login,
 * register, refresh or password change that got no answer is not sent
 * twice: it may have been applied (a refresh token is used up), so the
 * caller sees an UnreachableError.
 *
 * requestStream() is the same for the byte streams of backups, slots and
 * the export: the request body is a ReadableStream (made afresh per
 * attempt, so only a body that can be made again is retried) sent with its
 * Content-Length, and the answer's body is handed back unread.
 */
import { ServerError, UnreachableError } from './errors.js';

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
export const DEFAULT_RETRY = Object.freeze({
  retries: 4,
  baseMs: 250,
  capMs: 10000,
  timeoutMs: 30000,
  sleep: (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
});

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
export function backoff(p, attempt, retryAfterS) {
  const jitter = p.random() * Math.min(p.capMs, p.baseMs * 2 ** attempt);
  if (retryAfterS === null)
    return jitter;
  return Math.min(retryAfterS, 60) * 1000 + jitter;
}

/** @param {Headers} h @returns {number | null} Retry-After in whole seconds */
function retryAfter(h) {
  const v = h.get('retry-after');
  return v !== null && /^[0-9]{1,6}$/.test(v) ? Number(v) : null;
}

/** @param {string} text @returns {any} the JSON in text, or null */
function parseJson(text) {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The ServerError of an error answer's status and parsed body.
 * @param {number} status
 * @param {any} parsed
 * @returns {ServerError}
 */
function serverError(status, parsed) {
  const err = parsed?.error;
  const code = typeof err?.code === 'string' ? err.code : `http_${status}`;
  const message = typeof err?.message === 'string' ? err.message : `HTTP ${status}`;
  return new ServerError(status, code, message, parsed);
}

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
export async function request(fetchFn, base, req, p) {
  /** @type {Record<string, string>} */
  const headers = { ...(req.headers ?? {}), Accept: 'application/json' };
  if (req.token)
    headers.Authorization = `Bearer ${req.token}`;
  const body = req.json === undefined ? undefined : JSON.stringify(req.json);
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  for (let attempt = 0; ; attempt++) {
    /** @type {Response | null} */
    let res = null;
    const timeout = AbortSignal.timeout(p.timeoutMs + (req.waitMs ?? 0));
    try {
      if (req.signal?.aborted)
        throw req.signal.reason;
      res = await fetchFn(base + req.path, { method: req.method, headers, body,
        signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout });
    } catch (e) {
      if (req.signal?.aborted || !req.idempotent || attempt >= p.retries)
        throw new UnreachableError(`${req.method} ${req.path}: no answer from the server`, e);
      await p.sleep(backoff(p, attempt, null));
      continue;
    }
    const text = await res.text().catch(() => '');
    const parsed = parseJson(text);
    if ((res.status >= 200 && res.status < 300) || res.status === 304)
      return { status: res.status, body: parsed, headers: res.headers };
    const se = serverError(res.status, parsed);
    if (res.status === 429 && (retryAfter(res.headers) ?? 0) > 60)
      throw se;
    if ((res.status >= 500 || res.status === 429) && attempt < p.retries) {
      await p.sleep(backoff(p, attempt, retryAfter(res.headers)));
      continue;
    }
    if (res.status === 502 || res.status === 503 || res.status === 504)
      throw new UnreachableError(`${req.method} ${req.path}: the server stayed unavailable`, se);
    throw se;
  }
}

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
export async function requestStream(fetchFn, base, req, p) {
  /** @type {Record<string, string>} */
  const headers = { ...(req.headers ?? {}) };
  if (req.token)
    headers.Authorization = `Bearer ${req.token}`;
  if (req.body) {
    headers['Content-Type'] = 'application/octet-stream';
    headers['Content-Length'] = String(req.length);
  }
  const again = !req.body || req.replay === true;
  for (let attempt = 0; ; attempt++) {
    /** @type {Response | null} */
    let res = null;
    try {
      /** @type {RequestInit & { duplex?: string }} */
      const init = { method: req.method, headers, signal: req.signal };
      if (req.body) {
        const b = req.body();
        init.body = b;
        if (b instanceof ReadableStream)
          init.duplex = 'half';
      }
      res = await fetchFn(base + req.path, init);
    } catch (e) {
      if (req.signal?.aborted || !again || attempt >= p.retries)
        throw new UnreachableError(`${req.method} ${req.path}: no answer from the server`, e);
      await p.sleep(backoff(p, attempt, null));
      continue;
    }
    if ((res.status >= 200 && res.status < 300) || res.status === 304)
      return res;
    const se = serverError(res.status, parseJson(await res.text().catch(() => '')));
    if ((res.status >= 500 || res.status === 429) && again && attempt < p.retries) {
      await p.sleep(backoff(p, attempt, retryAfter(res.headers)));
      continue;
    }
    if (res.status === 502 || res.status === 503 || res.status === 504)
      throw new UnreachableError(`${req.method} ${req.path}: the server stayed unavailable`, se);
    throw se;
  }
}
