/*
 * stream.js: the stream of client.md section 5, that seals backups (kind
 * 4) and slots (kind 5) in 64 KiB pieces, in bounded memory whatever the
 * size: a sealer and an opener fed piece by piece, and the same as Web
 * Streams (TransformStream) for fetch bodies, files and pipes.
 *
 * It must never release a piece before its tag verified, and must fail
 * (one DecryptError) on a bad header, a bad tag, a truncation, a reordering
 * or anything after the last chunk. Whoever writes the output somewhere
 * lasting keeps it aside until the end verified (a temporary file renamed
 * into place, a Blob offered only after the stream closed).
 */
import {
  DecryptError, InputError, aeadOpen, aeadSeal, bs, concat, hkdf, key32, randomBytes, utf8, webcrypto,
  wipe,
} from './util.js';

export const PIECE = 65536;
export const CHUNK = PIECE + 16;
export const STREAM_HEADER = 20;

const MAGIC = [0x42, 0x53, 0x31]; /* "BS1" */

/**
 * The stream's size for n plaintext bytes (e.g. for a Content-Length).
 * @param {number} n
 * @returns {number}
 */
export function streamLen(n) {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InputError('a length must be a non-negative integer');
  const pieces = n === 0 ? 1 : Math.ceil(n / PIECE);
  return STREAM_HEADER + n + 16 * pieces;
}

/**
 * payload_key = HKDF(base_key, "blindsync bs1 stream" || salt, 32).
 * @param {Uint8Array} baseKey backup_key(name) or slot_enc
 * @param {Uint8Array} salt the header's 16 bytes
 * @returns {Promise<Uint8Array>}
 */
export async function payloadKey(baseKey, salt) {
  return hkdf(key32(baseKey, 'base key'), concat(utf8('blindsync bs1 stream'), salt));
}

/**
 * u88be(i) || u8(last).
 * @param {number} i
 * @param {boolean} last
 * @returns {Uint8Array}
 */
export function chunkNonce(i, last) {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setBigUint64(3, BigInt(i));
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * @param {number} kind
 */
function checkKind(kind) {
  if (kind !== 4 && kind !== 5)
    throw new InputError('a stream is of kind 4 (backup) or 5 (slot)');
}

/**
 * @param {Uint8Array} k
 * @returns {Promise<CryptoKey>}
 */
async function importPayloadKey(k) {
  try {
    return await webcrypto().importKey('raw', bs(k), 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    wipe(k);
  }
}

/**
 * @param {Uint8Array | ArrayBuffer | ArrayBufferView} b
 * @returns {Uint8Array}
 */
function bytes(b) {
  if (b instanceof Uint8Array)
    return b;
  if (ArrayBuffer.isView(b))
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer)
    return new Uint8Array(b);
  throw new InputError('a stream carries bytes (Uint8Array, ArrayBuffer or a view)');
}

/**
 * Seals a plaintext of any size into the stream, piece by piece. Memory:
 * one 64 KiB buffer. push() and end() return the stream bytes made so far
 * (the header comes first, from the first call). A full piece is held until
 * more input (or the end) says whether it is the last.
 */
export class StreamSealer {
  /**
   * Use StreamSealer.create().
   * @param {Uint8Array} header
   * @param {CryptoKey} key
   */
  constructor(header, key) {
    /** @type {Uint8Array} the stream's 20-byte header */
    this.header = header;
    this.key = key;
    this.buf = new Uint8Array(PIECE);
    this.fill = 0;
    this.index = 0;
    this.headerSent = false;
    this.done = false;
  }

  /**
   * A sealer for a stream of kind 4 or 5 under base_key, with a random salt
   * (or the given one: tests reproducing the vectors only).
   * @param {number} kind
   * @param {Uint8Array} baseKey
   * @param {Uint8Array} [salt] 16 bytes
   * @returns {Promise<StreamSealer>}
   */
  static async create(kind, baseKey, salt) {
    checkKind(kind);
    const s = salt ?? randomBytes(16);
    if (!(s instanceof Uint8Array) || s.length !== 16)
      throw new InputError('a stream salt is 16 bytes');
    const header = concat(new Uint8Array([...MAGIC, kind]), s);
    return new StreamSealer(header, await importPayloadKey(await payloadKey(baseKey, s)));
  }

  /** @param {Uint8Array[]} out */
  takeHeader(out) {
    if (!this.headerSent) {
      out.push(this.header);
      this.headerSent = true;
    }
  }

  /**
   * @param {boolean} last
   * @returns {Promise<Uint8Array>}
   */
  async sealHeld(last) {
    const c = await aeadSeal(this.key, chunkNonce(this.index, last), this.buf.subarray(0, this.fill),
      this.header);
    this.index++;
    this.fill = 0;
    return c;
  }

  /**
   * Take plaintext bytes; returns the stream bytes now complete.
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView} data
   * @returns {Promise<Uint8Array[]>}
   */
  async push(data) {
    if (this.done)
      throw new InputError('the stream is already ended');
    const d = bytes(data);
    /** @type {Uint8Array[]} */
    const out = [];
    this.takeHeader(out);
    let o = 0;
    while (o < d.length) {
      if (this.fill === PIECE)
        out.push(await this.sealHeld(false));
      const n = Math.min(PIECE - this.fill, d.length - o);
      this.buf.set(d.subarray(o, o + n), this.fill);
      this.fill += n;
      o += n;
    }
    return out;
  }

  /**
   * Seal the last piece (0 to 65536 bytes, the last flag set).
   * @returns {Promise<Uint8Array[]>}
   */
  async end() {
    if (this.done)
      throw new InputError('the stream is already ended');
    /** @type {Uint8Array[]} */
    const out = [];
    this.takeHeader(out);
    out.push(await this.sealHeld(true));
    this.done = true;
    wipe(this.buf);
    return out;
  }
}

/**
 * Opens a stream of a given kind under base_key, piece by piece. Memory:
 * one chunk buffer. push() returns the pieces whose tags verified; a full
 * chunk is held until the next byte (or the end) shows whether it was the
 * last, so piece i comes out when chunk i + 1 starts. end() checks the end
 * (last flag, nothing after, an empty last chunk only as chunk 0). The
 * caller has the whole plaintext exactly when end() resolved; on a
 * DecryptError whatever came out before must be discarded. Errors latch.
 */
export class StreamOpener {
  /**
   * @param {number} kind 4 or 5
   * @param {Uint8Array} baseKey
   */
  constructor(kind, baseKey) {
    checkKind(kind);
    this.kind = kind;
    this.baseKey = key32(baseKey, 'base key').slice();
    this.header = new Uint8Array(STREAM_HEADER);
    this.hfill = 0;
    /** @type {CryptoKey | null} */
    this.key = null;
    this.buf = new Uint8Array(CHUNK);
    this.fill = 0;
    this.index = 0;
    this.failed = false;
    this.done = false;
  }

  /** @returns {never} */
  fail() {
    this.failed = true;
    wipe(this.buf, this.baseKey);
    this.key = null;
    throw new DecryptError();
  }

  /**
   * @param {boolean} last
   * @returns {Promise<Uint8Array>}
   */
  async openHeld(last) {
    if (!this.key)
      this.fail();
    let piece;
    try {
      piece = await aeadOpen(/** @type {CryptoKey} */ (this.key), chunkNonce(this.index, last),
        this.buf.subarray(0, this.fill), this.header);
    } catch {
      this.fail();
    }
    this.index++;
    this.fill = 0;
    return /** @type {Uint8Array} */ (piece);
  }

  /**
   * Take stream bytes; returns the pieces verified so far.
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView} data
   * @returns {Promise<Uint8Array[]>}
   */
  async push(data) {
    if (this.failed || this.done)
      this.fail();
    const d = bytes(data);
    /** @type {Uint8Array[]} */
    const out = [];
    let o = 0;
    if (this.hfill < STREAM_HEADER) {
      const n = Math.min(STREAM_HEADER - this.hfill, d.length);
      this.header.set(d.subarray(0, n), this.hfill);
      this.hfill += n;
      o = n;
      if (this.hfill < STREAM_HEADER)
        return out;
      const h = this.header;
      if (h[0] !== MAGIC[0] || h[1] !== MAGIC[1] || h[2] !== MAGIC[2] || h[3] !== this.kind)
        this.fail();
      this.key = await importPayloadKey(await payloadKey(this.baseKey, h.subarray(4)));
      wipe(this.baseKey);
    }
    while (o < d.length) {
      if (this.fill === CHUNK)
        out.push(await this.openHeld(false));
      const n = Math.min(CHUNK - this.fill, d.length - o);
      this.buf.set(d.subarray(o, o + n), this.fill);
      this.fill += n;
      o += n;
    }
    return out;
  }

  /**
   * The end of the stream: opens the held chunk as the last one.
   * @returns {Promise<Uint8Array[]>}
   */
  async end() {
    if (this.failed || this.done || this.hfill < STREAM_HEADER || this.fill < 16)
      this.fail();
    const piece = await this.openHeld(true);
    if (piece.length === 0 && this.index !== 1)
      this.fail();
    this.done = true;
    wipe(this.buf);
    this.key = null;
    return [piece];
  }
}

/**
 * A TransformStream that seals plaintext bytes into a stream of kind 4 or
 * 5 under base_key (random salt): pipe a file's or a Blob's stream through
 * it into a fetch body. Bounded memory, whatever the size.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {{ salt?: Uint8Array }} [opts] salt: tests only
 * @returns {TransformStream<BufferSource, Uint8Array>}
 */
export function sealStream(kind, baseKey, opts = {}) {
  checkKind(kind);
  const base = key32(baseKey, 'base key').slice();
  /** @type {StreamSealer} */
  let s;
  return new TransformStream({
    async start() {
      try {
        s = await StreamSealer.create(kind, base, opts.salt);
      } finally {
        wipe(base);
      }
    },
    async transform(chunk, c) {
      for (const p of await s.push(chunk))
        c.enqueue(p);
    },
    async flush(c) {
      for (const p of await s.end())
        c.enqueue(p);
    },
  });
}

/**
 * A TransformStream that opens a stream of kind 4 or 5 under base_key:
 * pipe a fetch response's body through it. Each piece comes out only after
 * its tag verified; a DecryptError errors the stream, and whatever came out
 * before it must be discarded.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @returns {TransformStream<BufferSource, Uint8Array>}
 */
export function openStream(kind, baseKey) {
  const o = new StreamOpener(kind, baseKey);
  return new TransformStream({
    async transform(chunk, c) {
      for (const p of await o.push(chunk))
        c.enqueue(p);
    },
    async flush(c) {
      for (const p of await o.end())
        c.enqueue(p);
    },
  });
}

/**
 * Seal a whole buffer as a stream (small data, tests): the stream's bytes.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {Uint8Array} pt
 * @param {Uint8Array} [salt] tests only
 * @returns {Promise<Uint8Array>}
 */
export async function sealStreamBytes(kind, baseKey, pt, salt) {
  const s = await StreamSealer.create(kind, baseKey, salt);
  return concat(...(await s.push(pt)), ...(await s.end()));
}

/**
 * Open a whole stream held in memory (small data, tests): the plaintext,
 * or a DecryptError.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {Uint8Array} stream
 * @returns {Promise<Uint8Array>}
 */
export async function openStreamBytes(kind, baseKey, stream) {
  const o = new StreamOpener(kind, baseKey);
  return concat(...(await o.push(stream)), ...(await o.end()));
}
