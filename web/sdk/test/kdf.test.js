/*
 * kdf.test.js: client.md section 2 against the vectors: every derivation
 * (NFC spellings included), every floor refusal and accepted edge, every
 * number form; section 6's slots and the passphrase rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KdfFloorError, PassphraseError, accountKeys, b64, kdfCheck, kdfJson, kdfNew, kdfParse, masterKey,
  nfc, passphraseCheck, slotDerive, slotSalt, InputError,
} from '../src/bs1/index.js';
import { V, hex, label, toHex } from './vectors.js';

for (const [i, d] of V.kdf.derivations.entries()) {
  test(`kdf derivation ${i}: ${label(d.what)}`, async () => {
    const kdf = kdfCheck(d.kdf);
    assert.equal(toHex(nfc(d.password)), d.password_nfc_utf8_hex);
    const master = await masterKey(d.password, kdf);
    assert.equal(toHex(master), d.master_hex);
    const { authKey, keyringKey } = await accountKeys(master);
    assert.equal(toHex(authKey), d.auth_key_hex);
    assert.equal(b64(authKey), d.auth_key_b64);
    assert.equal(toHex(keyringKey), d.keyring_key_hex);
    assert.deepEqual(kdfParse(kdfJson(kdf)), kdf);
  });
  for (const [j, pw] of d.same_result_for_passwords.entries()) {
    test(`kdf derivation ${i}: same master for spelling ${j}`, async () => {
      assert.equal(toHex(new TextEncoder().encode(pw)), d.same_result_for_passwords_utf8_hex[j]);
      assert.equal(toHex(nfc(pw)), d.password_nfc_utf8_hex);
      assert.equal(toHex(await masterKey(pw, kdfCheck(d.kdf))), d.master_hex);
    });
  }
}

for (const [i, r] of V.kdf.floor_refused.entries()) {
  test(`kdf floor refuses ${i}: ${label(r.reason)}`, () => {
    const text = r.kdf_json ?? JSON.stringify(r.kdf);
    assert.throws(() => kdfParse(text), (e) => e instanceof KdfFloorError && e.code === 'kdf_floor' &&
      typeof e.reason === 'string' && e.reason.length > 0);
    if (r.kdf)
      assert.throws(() => kdfCheck(r.kdf), KdfFloorError);
  });
}

for (const [i, k] of V.kdf.floor_accepted.entries()) {
  test(`kdf floor accepts ${i}: m ${k.m} t ${k.t}${k.note ? ' (' + k.note + ')' : ''}`, () => {
    const a = kdfCheck(k);
    assert.deepEqual([a.m, a.t, a.p, b64(a.salt)], [k.m, k.t, k.p, k.salt]);
    assert.deepEqual(kdfParse(JSON.stringify(k)), a);
  });
}

const base = V.kdf.derivations[0];
for (const [i, f] of V.kdf.floor_accepted_number_forms.kdf_json.entries()) {
  test(`kdf number form ${i}: ${f.what}`, async () => {
    const k = kdfParse(f.text);
    assert.deepEqual([k.m, k.t, k.p, b64(k.salt)], [65536, 3, 1, base.kdf.salt]);
    assert.equal(toHex(await masterKey(base.password, k)), base.master_hex);
  });
}

test('kdf: text over 1 KiB, not JSON, not an object, trailing text are refused', async () => {
  const ok = JSON.stringify(base.kdf);
  for (const t of [ok + ' '.repeat(1100), ok.slice(0, -1), '[]', 'null', ok + 'x', ok + ',{}', ''])
    assert.throws(() => kdfParse(t), KdfFloorError);
  await assert.rejects(masterKey('pw', { m: 1024, t: 1, p: 1, salt: new Uint8Array(16) }), KdfFloorError);
});

test('kdf: a new kdf object has the bs1 defaults and a fresh salt', () => {
  const a = kdfNew(), b = kdfNew();
  assert.deepEqual([a.m, a.t, a.p, a.salt.length], [65536, 3, 1, 16]);
  assert.notEqual(toHex(a.salt), toHex(b.salt));
  assert.deepEqual(Object.keys(JSON.parse(kdfJson(a))), ['alg', 'suite', 'm', 't', 'p', 'salt']);
});

test('kdf: a password with a NUL or a lone surrogate is refused', () => {
  assert.throws(() => nfc('a\0b'), InputError);
  assert.throws(() => nfc('a\ud800b'), InputError);
});

for (const [i, s] of V.slots.derivations.entries()) {
  test(`slot derivation ${i}: app ${s.app}`, async () => {
    assert.equal(toHex(await slotSalt(s.app)), s.slot_salt_hex);
    assert.equal(toHex(nfc(s.passphrase)), s.passphrase_nfc_utf8_hex);
    const slot = await slotDerive(s.app, s.passphrase);
    assert.equal(slot.id, s.slot_id);
    assert.equal(slot.key, s.slot_key_b64);
    assert.equal(toHex(slot.enc), s.slot_enc_hex);
  });
  for (const [j, pp] of s.same_result_for_passphrases.entries()) {
    test(`slot derivation ${i}: same slot for spelling ${j}`, async () => {
      assert.equal(toHex(new TextEncoder().encode(pp)), s.same_result_for_passphrases_utf8_hex[j]);
      const slot = await slotDerive(s.app, pp);
      assert.deepEqual([slot.id, slot.key, toHex(slot.enc)], [s.slot_id, s.slot_key_b64, s.slot_enc_hex]);
    });
  }
}

for (const [i, a] of V.slots.app_salts.entries()) {
  test(`slot salt ${i}: app ${label(a.app)}`, async () => {
    assert.equal(toHex(new TextEncoder().encode(a.app)), a.app_utf8_hex);
    assert.equal(toHex(await slotSalt(a.app)), a.slot_salt_hex);
  });
}

for (const [i, pp] of V.slots.passphrases_refused.entries()) {
  test(`slot passphrase refused ${i}`, async () => {
    assert.throws(() => passphraseCheck(pp), (e) => e instanceof PassphraseError && e.code === 'passphrase');
    await assert.rejects(slotDerive('blindsync', pp), PassphraseError);
  });
}

for (const [i, pp] of V.slots.passphrases_long_enough.entries())
  test(`slot passphrase long enough ${i}`, () => passphraseCheck(pp));
