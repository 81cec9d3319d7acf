/*
 * grants.test.js: client.md sections 9 and 10 against the vectors:
 * identities and fingerprints, every grant sealed and signed byte for byte
 * and opened, every negative failing with the one DecryptError; recovery
 * key texts, their parsing and refusals, recovery_auth and recovery_wrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DecryptError, InputError, RecoveryKeyError, b64, collectionName, fingerprint, grantJson, grantOpen,
  grantParse, grantSeal, grantSealWithEph, idKey, identityFromSecrets, identityKeyring, identityNew,
  recordId, recoveryKeys, recoveryNew, recoveryParse, recoveryText, utf8Decode,
} from '../src/bs1/index.js';
import { V, hex, label, rejectsDecrypt, toHex } from './vectors.js';

const G = V.grants;
/** @type {Record<string, any>} */
const ids = {};
async function identity(name) {
  const v = G.identities.find((x) => x.name === name);
  ids[name] ??= await identityFromSecrets(hex(v.x25519_sk_hex), hex(v.ed25519_seed_hex));
  return ids[name];
}

for (const v of G.identities) {
  test(`identity ${v.name}: public keys, fingerprint, keyring member`, async () => {
    const id = await identity(v.name);
    assert.equal(toHex(id.x25519Pk), v.x25519_pk_hex);
    assert.equal(toHex(id.ed25519Pk), v.ed25519_pk_hex);
    assert.equal(await fingerprint(id.x25519Pk, id.ed25519Pk), v.fingerprint);
    assert.deepEqual(identityKeyring(id), v.keyring_identity);
  });
}

for (const [i, g] of G.grants.entries()) {
  test(`grant ${i}: ${label(g.what)}`, async () => {
    const inviter = await identity(g.inviter);
    const recipient = await identity(g.recipient);
    const json = grantJson({ collection: g.collection, name: g.A, kv: g.kv, key: hex(g.key_hex),
      idKey: hex(g.id_key_hex), role: g.role });
    assert.equal(toHex(json), g.grant_json_hex);
    assert.equal(utf8Decode(json), g.grant_json);
    const { sealed, signature } = await grantSealWithEph(inviter, recipient.x25519Pk, g.recipient_username,
      json, hex(g.eph_sk_hex));
    assert.equal(toHex(sealed), g.sealed_hex);
    assert.equal(toHex(signature), g.signature_hex);
    const opened = await grantOpen(recipient, g.recipient_username, inviter.ed25519Pk, sealed, signature);
    assert.equal(toHex(opened), g.grant_json_hex);
    const p = grantParse(opened);
    assert.deepEqual([p.collection, p.name, p.kv, toHex(p.key), toHex(p.idKey), p.role],
      [g.collection, g.A, g.kv, g.key_hex, g.id_key_hex, g.role]);
    for (const r of g.member_record_ids)
      assert.equal(await recordId(p.idKey, r.a), r.record_id);
  });
}

test('grant 0: the collection name is the owner\'s opaque name', async () => {
  assert.equal(await collectionName(await idKey(hex(V.keys.data_key_hex)), G.grants[0].A),
    G.grants[0].collection);
});

for (const [i, n] of G.negatives.entries()) {
  test(`grant negative ${i}: ${label(n.change)}`, async () => {
    assert.equal(n.expect, 'fail');
    const me = await identity(n.open_as);
    const inviter = await identity(n.pinned_inviter);
    await rejectsDecrypt(grantOpen(me, n.recipient_username, inviter.ed25519Pk, hex(n.sealed_hex),
      hex(n.signature_hex)));
  });
}

test('grants: a fresh seal opens, is different each time, and a low-order key is refused', async () => {
  const alice = await identity('alice');
  const bob = await identity('bob');
  const json = hex(G.grants[0].grant_json_hex);
  const a = await grantSeal(alice, bob.x25519Pk, 'Bob', json);
  const b = await grantSeal(alice, bob.x25519Pk, 'bob', json);
  assert.notEqual(toHex(a.sealed), toHex(b.sealed));
  assert.deepEqual(await grantOpen(bob, 'BOB', alice.ed25519Pk, a.sealed, a.signature), json);
  await assert.rejects(grantSeal(alice, new Uint8Array(32), 'bob', json), InputError);
  const eve = await identityNew();
  assert.equal(eve.x25519Pk.length, 32);
  const c = await grantSeal(eve, bob.x25519Pk, 'bob', json);
  await rejectsDecrypt(grantOpen(bob, 'bob', alice.ed25519Pk, c.sealed, c.signature));
  assert.deepEqual(await grantOpen(bob, 'bob', eve.ed25519Pk, c.sealed, c.signature), json);
  await rejectsDecrypt(grantOpen(bob, 'bob', alice.ed25519Pk, a.sealed, a.signature.subarray(0, 63)));
});

test('grants: a grant JSON missing a member or mistyped is a DecryptError', () => {
  const good = JSON.parse(G.grants[0].grant_json);
  const bads = [
    { ...good, collection: 'short' }, { ...good, collection: 'qPJUaFw_CDKXa95CzSIi-!' },
    { ...good, kv: 0 }, { ...good, kv: 1.5 }, { ...good, kv: '1' }, { ...good, kv: 2 ** 32 },
    { ...good, role: 'owner' }, { ...good, key: good.key.slice(0, -4) }, { ...good, id_key: null },
    { ...good, name: 1 }, { ...good, name: 'a\0b' },
  ];
  for (const k of Object.keys(good)) {
    const o = { ...good };
    delete o[k];
    bads.push(o);
  }
  for (const b of bads)
    assert.throws(() => grantParse(new TextEncoder().encode(JSON.stringify(b))), DecryptError);
  assert.throws(() => grantParse(new Uint8Array([0xff])), DecryptError);
  assert.throws(() => grantParse(new TextEncoder().encode('[]')), DecryptError);
});

test('grant "previous" (the SDKs\' extension, docs/CLIENT.md): written only when given, read back, '
  + 'malformed ones refused, unknown members ignored', () => {
  const good = JSON.parse(G.grants[0].grant_json);
  const base = grantParse(new TextEncoder().encode(G.grants[0].grant_json));
  assert.equal(base.previous, undefined);
  assert.equal(utf8Decode(grantJson({ ...base, previous: [] })), G.grants[0].grant_json, 'none: the vector\'s bytes');
  const k1 = new Uint8Array(32).fill(7), k2 = new Uint8Array(32).fill(9);
  const g3 = { ...base, kv: 3, previous: [{ kv: 1, key: k1 }, { kv: 2, key: k2 }] };
  const back = grantParse(grantJson(g3));
  assert.deepEqual(back.previous, [{ kv: 1, key: k1 }, { kv: 2, key: k2 }]);
  assert.equal(back.kv, 3);
  assert.throws(() => grantJson({ ...base, kv: 2, previous: [{ kv: 2, key: k1 }] }), InputError);
  const enc = (/** @type {any} */ o) => new TextEncoder().encode(JSON.stringify(o));
  assert.equal(grantParse(enc({ ...good, future: { x: 1 } })).kv, good.kv, 'an unknown member is ignored');
  for (const previous of [null, {}, [null], [{ kv: 1 }], [{ kv: 2, key: b64(k1) }], [{ kv: 0, key: b64(k1) }],
    [{ kv: 1, key: b64(k1).slice(0, -4) }]])
    assert.throws(() => grantParse(enc({ ...good, kv: 2, previous })), DecryptError,
      JSON.stringify(previous));
});

for (const [i, k] of V.recovery.keys.entries()) {
  test(`recovery key ${i}: text, parsing, auth and wrap`, async () => {
    const rk = hex(k.rk_hex);
    assert.equal(recoveryText(rk), k.text);
    assert.equal(toHex(recoveryParse(k.text)), k.rk_hex);
    for (const t of k.same_key_for_texts)
      assert.equal(toHex(recoveryParse(t)), k.rk_hex, t);
    const { auth, wrap } = await recoveryKeys(rk);
    assert.equal(toHex(auth), k.recovery_auth_hex);
    assert.equal(b64(auth), k.recovery_auth_b64);
    assert.equal(toHex(wrap), k.recovery_wrap_hex);
  });
}

for (const [i, r] of V.recovery.refused_texts.entries()) {
  test(`recovery text refused ${i}: ${label(r.why)}`, () => {
    if (r.text_utf8_hex)
      assert.equal(toHex(new TextEncoder().encode(r.text)), r.text_utf8_hex);
    assert.throws(() => recoveryParse(r.text), (e) => e instanceof RecoveryKeyError && e.code === 'recovery');
  });
}

test('recovery: a new key round-trips through its text', () => {
  const { rk, text } = recoveryNew();
  assert.match(text, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
  assert.deepEqual(recoveryParse(text.toLowerCase()), rk);
});
