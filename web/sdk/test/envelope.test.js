/*
 * envelope.test.js: client.md sections 3 and 4 against the vectors:
 * padding, keys and opaque names, every envelope sealed byte for byte and
 * opened, every negative, kv mismatches and malformed frames failing with
 * the one DecryptError; round trips through the random entry points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DecryptError, InputError, KIND, backupKey, cidKey, ck, collectionName, ctxKeyring, ctxMeta,
  ctxRecord, ctxRecovery, envelopeLen, frameLen, idKey, keyringDataKey, keyringNew, keyringOpen,
  keyringSeal, metaOpen, metaSeal, open, recordId, recordOpen, recordSeal, recordSplit, recoveryOpen,
  recoverySeal, sealWithNonce, utf8Decode,
} from '../src/bs1/index.js';
import { V, hex, label, rejectsDecrypt, toHex } from './vectors.js';

const dataKey = hex(V.keys.data_key_hex);

for (const p of V.padding)
  test(`padding: L ${p.L} -> P ${p.P}`, () => assert.equal(frameLen(p.L - 4), p.P));

test('keys: id_key', async () => assert.equal(toHex(await idKey(dataKey)), V.keys.id_key_hex));
for (const c of V.keys.ck)
  test(`keys: ck(${c.collection}, ${c.kv})`, async () =>
    assert.equal(toHex(await ck(dataKey, c.collection, c.kv)), c.key_hex));
for (const c of V.keys.cid_key)
  test(`keys: cid_key(${c.collection})`, async () =>
    assert.equal(toHex(await cidKey(dataKey, c.collection)), c.key_hex));
for (const [i, b] of V.keys.backup_key.entries())
  test(`keys: backup_key ${i} (${b.name_utf8_hex})`, async () => {
    assert.equal(toHex(new TextEncoder().encode(b.name)), b.name_utf8_hex);
    assert.equal(toHex(await backupKey(dataKey, b.name)), b.key_hex);
  });

for (const [i, n] of V.opaque_names.names.entries()) {
  test(`opaque names ${i}: ${label(n.A)}`, async () => {
    assert.equal(toHex(new TextEncoder().encode(n.A)), n.A_utf8_hex);
    const collection = await collectionName(await idKey(dataKey), n.A);
    assert.equal(collection, n.collection);
    const cid = await cidKey(dataKey, collection);
    assert.equal(toHex(cid), n.cid_key_hex);
    for (const r of n.records)
      assert.equal(await recordId(cid, r.a), r.record_id);
  });
}

/** The key an envelope vector opens with (derived where the vector says how). */
async function keyOf(e) {
  if (e.kind === 2 || e.kind === 3) {
    const k = await ck(dataKey, e.collection, e.kv);
    assert.equal(toHex(k), e.key_hex);
  }
  return hex(e.key_hex);
}

/** The context of an envelope vector, computed from its names. */
function ctxOf(e) {
  switch (e.kind) {
  case 1: return ctxKeyring(e.username, e.keyring_version);
  case 2: return ctxRecord(e.collection, e.record_id);
  case 3: return ctxMeta(e.collection);
  case 6: return ctxRecovery(e.username);
  }
  throw new Error('kind');
}

for (const [i, e] of V.envelopes.entries()) {
  test(`envelope ${i} (kind ${e.kind}): ${label(e.what)}`, async () => {
    const key = await keyOf(e);
    const ctx = ctxOf(e);
    assert.equal(toHex(ctx), e.context_hex);
    const pt = hex(e.plaintext_hex);
    assert.equal(pt.length, e.plaintext_len);
    assert.equal(frameLen(pt.length), e.frame_len);
    const env = await sealWithNonce(e.kind, e.kv, key, ctx, pt, hex(e.nonce_hex));
    assert.equal(toHex(env), e.envelope_hex);
    assert.equal(env.length, envelopeLen(pt.length));
    assert.equal(toHex(await open(e.kind, key, ctx, env)), e.plaintext_hex);
    if (e.kind === 1) {
      assert.equal(toHex(await keyringOpen(key, e.username, e.keyring_version, env)), e.plaintext_hex);
      if (pt.length > 0) {
        const dk = keyringDataKey(pt);
        if (Object.keys(JSON.parse(utf8Decode(pt))).length === 2)
          assert.equal(toHex(keyringNew(dk)), e.plaintext_hex);
      }
    } else if (e.kind === 2) {
      const out = await recordOpen(dataKey, e.collection, e.record_id, env);
      const { a, data } = recordSplit(out);
      assert.equal(a, e.plaintext_means.a);
      assert.equal(toHex(data), e.plaintext_means.data_hex ?? toHex(data));
      assert.equal(e.record_id, await recordId(await cidKey(dataKey, e.collection), e.a));
      assert.equal(e.collection, await collectionName(await idKey(dataKey), e.A));
    } else if (e.kind === 3) {
      const out = await metaOpen(dataKey, e.collection, env);
      assert.deepEqual(JSON.parse(utf8Decode(out)), { name: e.A });
    } else {
      assert.equal(toHex(await recoveryOpen(key, e.username, env)), e.plaintext_hex);
    }
  });
  for (const [j, n] of (e.negatives ?? []).entries()) {
    test(`envelope ${i} negative ${j}: ${label(n.change)}`, async () => {
      assert.equal(n.expect, 'fail');
      const key = n.open_with_key_hex ? hex(n.open_with_key_hex) : hex(e.key_hex);
      const ctx = hex(n.open_with_context_hex ?? e.context_hex);
      await rejectsDecrypt(open(n.open_as_kind ?? e.kind, key, ctx, hex(n.envelope_hex)));
      if (!n.open_with_key_hex && !n.open_with_context_hex && !n.open_as_kind) {
        if (e.kind === 2)
          await rejectsDecrypt(recordOpen(dataKey, e.collection, e.record_id, hex(n.envelope_hex)));
        if (e.kind === 3)
          await rejectsDecrypt(metaOpen(dataKey, e.collection, hex(n.envelope_hex)));
      }
    });
  }
}

for (const [i, e] of V.kv_mismatch.entries()) {
  test(`kv mismatch ${i}: ${label(e.what)}`, async () => {
    const env = hex(e.envelope_hex);
    if (e.key_hex)
      await rejectsDecrypt(open(e.kind, hex(e.key_hex), hex(e.context_hex), env));
    if (e.kind === 2)
      await rejectsDecrypt(recordOpen(dataKey, e.collection, e.record_id, env));
    else if (e.kind === 3)
      await rejectsDecrypt(metaOpen(dataKey, e.collection, env));
  });
}

for (const [i, e] of V.malformed_frames.entries()) {
  test(`malformed frame ${i}: ${label(e.what)}`, async () => {
    await rejectsDecrypt(open(e.kind, hex(e.key_hex), hex(e.context_hex), hex(e.envelope_hex)));
  });
}

test('envelopes: round trips with random nonces, every kind', async () => {
  const k = await ck(dataKey, 'qPJUaFw_CDKXa95CzSIi-u', 1);
  const data = new TextEncoder().encode('{"hello":"world"}');
  const r1 = await recordSeal(k, 1, 'qPJUaFw_CDKXa95CzSIi-u', 'Oz2YHHoNi5JaaffRwoSm2M', 'note-1', data);
  const r2 = await recordSeal(k, 1, 'qPJUaFw_CDKXa95CzSIi-u', 'Oz2YHHoNi5JaaffRwoSm2M', 'note-1', data);
  assert.notEqual(toHex(r1), toHex(r2));
  const { a, data: d } = recordSplit(await recordOpen(dataKey, 'qPJUaFw_CDKXa95CzSIi-u',
    'Oz2YHHoNi5JaaffRwoSm2M', r1));
  assert.equal(a, 'note-1');
  assert.deepEqual(d, data);
  const m = await metaSeal(k, 1, 'qPJUaFw_CDKXa95CzSIi-u', new TextEncoder().encode('{"name":"notes"}'));
  assert.equal(utf8Decode(await metaOpen(dataKey, 'qPJUaFw_CDKXa95CzSIi-u', m)), '{"name":"notes"}');
  const ring = keyringNew(dataKey);
  const kr = await keyringSeal(hex(V.kdf.derivations[0].keyring_key_hex), 'Alice', 7n, ring);
  const back = await keyringOpen(hex(V.kdf.derivations[0].keyring_key_hex), 'alice', 7, kr);
  assert.deepEqual(keyringDataKey(back), dataKey);
  await rejectsDecrypt(keyringOpen(hex(V.kdf.derivations[0].keyring_key_hex), 'alice', 8, kr));
  const rb = await recoverySeal(dataKey, 'Bob', ring);
  assert.deepEqual(await recoveryOpen(dataKey, 'bob', rb), ring);
  await rejectsDecrypt(open(KIND.KEYRING, dataKey, ctxRecovery('bob'), rb));
});

test('envelopes: every bit flip and every truncation fails', async () => {
  const k = hex(V.envelopes[4].key_hex);
  const ctx = hex(V.envelopes[4].context_hex);
  const env = hex(V.envelopes[4].envelope_hex);
  for (let i = 0; i < env.length * 8; i++) {
    const bad = env.slice();
    bad[i >> 3] ^= 1 << (i & 7);
    await rejectsDecrypt(open(2, k, ctx, bad));
  }
  for (let n = 0; n < env.length; n++)
    await rejectsDecrypt(open(2, k, ctx, env.subarray(0, n)));
});

test('envelopes: bad arguments are InputErrors, not DecryptErrors', async () => {
  const k = hex(V.envelopes[0].key_hex);
  await assert.rejects(sealWithNonce(1, 1, k, new Uint8Array(0), new Uint8Array(1), new Uint8Array(12)),
    InputError);
  await assert.rejects(sealWithNonce(4, 0, k, new Uint8Array(0), new Uint8Array(1), new Uint8Array(12)),
    InputError);
  await assert.rejects(open(1, new Uint8Array(31), new Uint8Array(0), hex(V.envelopes[0].envelope_hex)),
    InputError);
  assert.throws(() => ctxMeta('x'.repeat(65536)), InputError);
  assert.equal(frameLen(64 * 1024 * 1024 + 1), 0);
  assert.throws(() => recordSplit(new Uint8Array([0, 5, 1])), DecryptError);
  assert.throws(() => keyringDataKey(new TextEncoder().encode('{"suite":"bs2","data_key":"x"}')),
    DecryptError);
});
