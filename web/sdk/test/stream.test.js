/*
 * stream.test.js: client.md section 5 against the vectors: every stream
 * sealed byte for byte (by length, sha256 and every chunk tag), opened
 * through the Web Streams pieces in input slices of several sizes, every
 * negative built from its ops failing with the one DecryptError; a piece
 * is never released before its tag; 128 MiB through sealer and opener in
 * bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CHUNK, DecryptError, StreamOpener, StreamSealer, aeadOpen, aeadSeal, aesKey, chunkNonce, concat,
  openStream, openStreamBytes, payloadKey, randomBytes, sealStream, sealStreamBytes, streamLen,
} from '../src/bs1/index.js';
import { V, hex, plaintextOf, rejectsDecrypt, toHex } from './vectors.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** A ReadableStream of buf in slices of n bytes. */
function sliced(buf, n) {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= buf.length) {
        c.close();
        return;
      }
      c.enqueue(buf.slice(o, o + n));
      o += n;
    },
  });
}

/** Read a ReadableStream of bytes whole. */
async function readAll(rs) {
  const parts = [];
  for await (const p of rs)
    parts.push(p);
  return concat(...parts);
}

/** Chunk i of a stream: bytes [20 + CHUNK * i, min(20 + CHUNK * (i + 1), len)). */
function chunkAt(s, i) {
  return s.subarray(20 + CHUNK * i, Math.min(20 + CHUNK * (i + 1), s.length));
}
function chunks(s) {
  const out = [];
  for (let i = 0; 20 + CHUNK * i < s.length; i++)
    out.push(chunkAt(s, i).slice());
  return out;
}

/** Apply a negative's ops, in order, to the positive stream. */
async function applyOps(stream, ops, pkey) {
  let s = stream.slice();
  const k = await aesKey(pkey);
  const header = () => s.subarray(0, 20);
  for (const op of ops) {
    switch (op.op) {
    case 'truncate': s = s.slice(0, s.length - op.bytes); break;
    case 'xor_byte': s[op.offset] ^= op.xor; break;
    case 'set_byte': s[op.offset] = op.value; break;
    case 'append': s = concat(s, hex(op.hex)); break;
    case 'swap_chunks': {
      const c = chunks(s);
      [c[op.a], c[op.b]] = [c[op.b], c[op.a]];
      s = concat(header(), ...c);
      break;
    }
    case 'drop_chunk': {
      const c = chunks(s);
      c.splice(op.index, 1);
      s = concat(header(), ...c);
      break;
    }
    case 'reseal_chunk': {
      const c = chunks(s);
      const last = op.index === c.length - 1;
      const piece = await aeadOpen(k, chunkNonce(op.index, last), c[op.index], header());
      c[op.index] = await aeadSeal(k, chunkNonce(op.index, op.last_flag === 1), piece, header());
      s = concat(header(), ...c);
      break;
    }
    case 'append_chunk':
      s = concat(s, await aeadSeal(k, chunkNonce(op.index, op.last_flag === 1), hex(op.piece_hex),
        header()));
      break;
    default:
      throw new Error(`unknown op ${op.op}`);
    }
  }
  return s;
}

/* input slices: 1 byte only for the small streams (each slice is a promise
 * turn through the TransformStream); 4093 and the others for every one */
const slicesFor = (len) => (len <= 4 * 4093 ? [1, 4093, CHUNK, 1 << 20] : [4093, CHUNK, 1 << 20]);

for (const [i, v] of V.streams.entries()) {
  const name = `stream ${i} (kind ${v.kind}, ${v.plaintext_len} bytes)`;
  /** @type {Uint8Array} */
  let positive;
  test(`${name}: sealed byte for byte`, async () => {
    const base = hex(v.base_key_hex);
    assert.equal(toHex(await payloadKey(base, hex(v.salt_hex))), v.payload_key_hex);
    const pt = plaintextOf(v);
    const s = await sealStreamBytes(v.kind, base, pt, hex(v.salt_hex));
    assert.equal(s.length, v.stream_len);
    assert.equal(streamLen(pt.length), v.stream_len);
    assert.equal(sha(s), v.stream_sha256);
    if (v.stream_hex)
      assert.equal(toHex(s), v.stream_hex);
    const c = chunks(s);
    assert.equal(c.length, v.chunk_count);
    assert.deepEqual(c.map((x) => toHex(x.subarray(x.length - 16))), v.chunk_tags_hex);
    /* the Web Streams sealer, fed in odd slices, makes the same bytes */
    const ws = await readAll(sliced(pt, 4093).pipeThrough(sealStream(v.kind, base, { salt: hex(v.salt_hex) })));
    assert.equal(sha(ws), v.stream_sha256);
    positive = s;
  });
  test(`${name}: opened in slices of ${slicesFor(v.stream_len).join(', ')} bytes`, async () => {
    const base = hex(v.base_key_hex);
    const want = sha(plaintextOf(v));
    for (const n of slicesFor(v.stream_len)) {
      const out = await readAll(sliced(positive, n).pipeThrough(openStream(v.kind, base)));
      assert.equal(out.length, v.plaintext_len);
      assert.equal(sha(out), want);
    }
    assert.equal(sha(await openStreamBytes(v.kind, base, positive)), want);
  });
  for (const [j, n] of v.negatives.entries()) {
    test(`${name} negative ${j}: ${n.change}`, async () => {
      assert.equal(n.expect, 'fail');
      const bad = await applyOps(positive, n.ops, hex(v.payload_key_hex));
      assert.equal(bad.length, n.stream_len);
      assert.equal(sha(bad), n.stream_sha256);
      if (n.stream_hex)
        assert.equal(toHex(bad), n.stream_hex);
      const base = hex(v.base_key_hex);
      await rejectsDecrypt(openStreamBytes(v.kind, base, bad));
      for (const sl of slicesFor(bad.length))
        await rejectsDecrypt(readAll(sliced(bad, sl).pipeThrough(openStream(v.kind, base))));
    });
  }
}

test('streams: a piece is released only after its tag, and errors latch', async () => {
  const v = V.streams.find((x) => x.plaintext_len === 131072);
  const base = hex(v.base_key_hex);
  const s = await sealStreamBytes(v.kind, base, plaintextOf(v), hex(v.salt_hex));
  const o = new StreamOpener(v.kind, base);
  /* the whole first chunk: held, since it may be the last */
  assert.deepEqual(await o.push(s.subarray(0, 20 + CHUNK)), []);
  /* one byte of chunk 1 releases piece 0 */
  const p0 = await o.push(s.subarray(20 + CHUNK, 21 + CHUNK));
  assert.equal(p0.length, 1);
  assert.equal(p0[0].length, 65536);
  /* a flipped byte in chunk 1: nothing of piece 1 comes out */
  const bad = s.slice(21 + CHUNK);
  bad[100] ^= 1;
  assert.deepEqual(await o.push(bad), []);
  await rejectsDecrypt(o.end());
  await rejectsDecrypt(o.push(new Uint8Array(1)));
  await rejectsDecrypt(o.end());
});

test('streams: empty input, a header only, a wrong kind or key fail', async () => {
  const v = V.streams[0];
  const base = hex(v.base_key_hex);
  await rejectsDecrypt(openStreamBytes(4, base, new Uint8Array(0)));
  await rejectsDecrypt(openStreamBytes(4, base, hex(v.stream_hex).subarray(0, 20)));
  await rejectsDecrypt(openStreamBytes(5, base, hex(v.stream_hex)));
  await rejectsDecrypt(openStreamBytes(4, new Uint8Array(32), hex(v.stream_hex)));
  assert.equal((await openStreamBytes(4, base, hex(v.stream_hex))).length, 0);
});

test('streams: random salts, round trips at the piece edges', async () => {
  const base = hex(V.streams[0].base_key_hex);
  for (const n of [0, 1, 65535, 65536, 65537, 131072, 131073]) {
    const pt = randomBytes(n);
    const a = await sealStreamBytes(4, base, pt);
    const b = await sealStreamBytes(4, base, pt);
    assert.notEqual(toHex(a.subarray(4, 20)), toHex(b.subarray(4, 20)));
    assert.equal(a.length, streamLen(n));
    assert.deepEqual(await openStreamBytes(4, base, a), pt);
  }
});

test('streams: 128 MiB through sealer and opener in bounded memory', async (t) => {
  const base = hex(V.streams[0].base_key_hex);
  const total = 128 << 20;
  const block = randomBytes(1 << 20);
  let made = 0;
  const src = new ReadableStream({
    pull(c) {
      if (made >= total) {
        c.close();
        return;
      }
      c.enqueue(block.slice());
      made += block.length;
    },
  }, { highWaterMark: 1 });
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const want = createHash('sha256');
  for (let i = 0; i < 128; i++)
    want.update(block);
  const got = createHash('sha256');
  let n = 0;
  const out = src.pipeThrough(sealStream(4, base)).pipeThrough(openStream(4, base));
  for await (const p of out) {
    got.update(p);
    n += p.length;
    if ((n & 0xfffff) === 0)
      peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.equal(n, total);
  assert.equal(got.digest('hex'), want.digest('hex'));
  const grew = (peak - rss0) / (1 << 20);
  /* the garbage collector frees late, so the bound is loose; what matters
   * is that it is far below the 128 MiB moved (about 40 MiB here) */
  t.diagnostic(`rss grew ${grew.toFixed(1)} MiB moving 128 MiB`);
  assert.ok(grew < 80, `rss grew ${grew.toFixed(1)} MiB moving 128 MiB`);
});
