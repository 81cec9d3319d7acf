/**
 * The stream's size for n plaintext bytes (e.g. for a Content-Length).
 * @param {number} n
 * @returns {number}
 */
export function streamLen(n: number): number;
/**
 * payload_key = HKDF(base_key, "blindsync bs1 stream" || salt, 32).
 * @param {Uint8Array} baseKey backup_key(name) or slot_enc
 * @param {Uint8Array} salt the header's 16 bytes
 * @returns {Promise<Uint8Array>}
 */
export function payloadKey(baseKey: Uint8Array, salt: Uint8Array): Promise<Uint8Array>;
/**
 * u88be(i) || u8(last).
 * @param {number} i
 * @param {boolean} last
 * @returns {Uint8Array}
 */
export function chunkNonce(i: number, last: boolean): Uint8Array;
/**
 * A TransformStream that seals plaintext bytes into a stream of kind 4 or
 * 5 under base_key (random salt): pipe a file's or a Blob's stream through
 * it into a fetch body. Bounded memory, whatever the size.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {{ salt?: Uint8Array }} [opts] salt: tests only
 * @returns {TransformStream<BufferSource, Uint8Array>}
 */
export function sealStream(kind: number, baseKey: Uint8Array, opts?: {
    salt?: Uint8Array;
}): TransformStream<BufferSource, Uint8Array>;
/**
 * A TransformStream that opens a stream of kind 4 or 5 under base_key:
 * pipe a fetch response's body through it. Each piece comes out only after
 * its tag verified; a DecryptError errors the stream, and whatever came out
 * before it must be discarded.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @returns {TransformStream<BufferSource, Uint8Array>}
 */
export function openStream(kind: number, baseKey: Uint8Array): TransformStream<BufferSource, Uint8Array>;
/**
 * Seal a whole buffer as a stream (small data, tests): the stream's bytes.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {Uint8Array} pt
 * @param {Uint8Array} [salt] tests only
 * @returns {Promise<Uint8Array>}
 */
export function sealStreamBytes(kind: number, baseKey: Uint8Array, pt: Uint8Array, salt?: Uint8Array): Promise<Uint8Array>;
/**
 * Open a whole stream held in memory (small data, tests): the plaintext,
 * or a DecryptError.
 * @param {number} kind
 * @param {Uint8Array} baseKey
 * @param {Uint8Array} stream
 * @returns {Promise<Uint8Array>}
 */
export function openStreamBytes(kind: number, baseKey: Uint8Array, stream: Uint8Array): Promise<Uint8Array>;
export const PIECE: 65536;
export const CHUNK: number;
export const STREAM_HEADER: 20;
/**
 * Seals a plaintext of any size into the stream, piece by piece. Memory:
 * one 64 KiB buffer. push() and end() return the stream bytes made so far
 * (the header comes first, from the first call). A full piece is held until
 * more input (or the end) says whether it is the last.
 */
export class StreamSealer {
    /**
     * A sealer for a stream of kind 4 or 5 under base_key, with a random salt
     * (or the given one: tests reproducing the vectors only).
     * @param {number} kind
     * @param {Uint8Array} baseKey
     * @param {Uint8Array} [salt] 16 bytes
     * @returns {Promise<StreamSealer>}
     */
    static create(kind: number, baseKey: Uint8Array, salt?: Uint8Array): Promise<StreamSealer>;
    /**
     * Use StreamSealer.create().
     * @param {Uint8Array} header
     * @param {CryptoKey} key
     */
    constructor(header: Uint8Array, key: CryptoKey);
    /** @type {Uint8Array} the stream's 20-byte header */
    header: Uint8Array;
    key: CryptoKey;
    buf: Uint8Array<ArrayBuffer>;
    fill: number;
    index: number;
    headerSent: boolean;
    done: boolean;
    /** @param {Uint8Array[]} out */
    takeHeader(out: Uint8Array[]): void;
    /**
     * @param {boolean} last
     * @returns {Promise<Uint8Array>}
     */
    sealHeld(last: boolean): Promise<Uint8Array>;
    /**
     * Take plaintext bytes; returns the stream bytes now complete.
     * @param {Uint8Array | ArrayBuffer | ArrayBufferView} data
     * @returns {Promise<Uint8Array[]>}
     */
    push(data: Uint8Array | ArrayBuffer | ArrayBufferView): Promise<Uint8Array[]>;
    /**
     * Seal the last piece (0 to 65536 bytes, the last flag set).
     * @returns {Promise<Uint8Array[]>}
     */
    end(): Promise<Uint8Array[]>;
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
    constructor(kind: number, baseKey: Uint8Array);
    kind: number;
    baseKey: Uint8Array<ArrayBuffer>;
    header: Uint8Array<ArrayBuffer>;
    hfill: number;
    /** @type {CryptoKey | null} */
    key: CryptoKey | null;
    buf: Uint8Array<ArrayBuffer>;
    fill: number;
    index: number;
    failed: boolean;
    done: boolean;
    /** @returns {never} */
    fail(): never;
    /**
     * @param {boolean} last
     * @returns {Promise<Uint8Array>}
     */
    openHeld(last: boolean): Promise<Uint8Array>;
    /**
     * Take stream bytes; returns the pieces verified so far.
     * @param {Uint8Array | ArrayBuffer | ArrayBufferView} data
     * @returns {Promise<Uint8Array[]>}
     */
    push(data: Uint8Array | ArrayBuffer | ArrayBufferView): Promise<Uint8Array[]>;
    /**
     * The end of the stream: opens the held chunk as the last one.
     * @returns {Promise<Uint8Array[]>}
     */
    end(): Promise<Uint8Array[]>;
}
