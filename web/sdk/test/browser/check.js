/*
 * check.js: what the browser must have for the bs1 suite (Web Crypto's
 * X25519 and Ed25519, AES-GCM, HKDF, HMAC; hash-wasm's Argon2id; streams),
 * checked against the reference vectors. It prints one line on the
 * console, "BS1CHECK ok=N fail=M | ...", that run.sh reads.
 */
import * as bs1 from '/src/bs1/index.js';

const V = await (await fetch('/vectors.json')).json();
const hex = bs1.fromHex, toHex = bs1.toHex;
const lines = [];
let ok = 0, fail = 0;
function check(what, cond) {
  lines.push(`${cond ? 'ok' : 'FAIL'} ${what}`);
  cond ? ok++ : fail++;
}
const failsDecrypt = (p) => p.then(() => false, (e) => e instanceof bs1.DecryptError);

try {
  lines.push(navigator.userAgent.match(/(Chrome|Firefox|Version)\/[\d.]+/)?.[0] ?? navigator.userAgent);
  const ids = {};
  for (const i of V.grants.identities) {
    ids[i.name] = await bs1.identityFromSecrets(hex(i.x25519_sk_hex), hex(i.ed25519_seed_hex));
    check(`identity ${i.name}`, toHex(ids[i.name].x25519Pk) === i.x25519_pk_hex &&
      toHex(ids[i.name].ed25519Pk) === i.ed25519_pk_hex &&
      await bs1.fingerprint(ids[i.name].x25519Pk, ids[i.name].ed25519Pk) === i.fingerprint);
  }
  for (const g of V.grants.grants) {
    const s = await bs1.grantSealWithEph(ids[g.inviter], ids[g.recipient].x25519Pk, g.recipient_username,
      hex(g.grant_json_hex), hex(g.eph_sk_hex));
    const o = await bs1.grantOpen(ids[g.recipient], g.recipient_username, ids[g.inviter].ed25519Pk,
      s.sealed, s.signature);
    check(`grant to ${g.recipient}`, toHex(s.sealed) === g.sealed_hex &&
      toHex(s.signature) === g.signature_hex && toHex(o) === g.grant_json_hex);
  }
  for (const [i, n] of V.grants.negatives.entries())
    check(`grant negative ${i}`, await failsDecrypt(bs1.grantOpen(ids[n.open_as], n.recipient_username,
      ids[n.pinned_inviter].ed25519Pk, hex(n.sealed_hex), hex(n.signature_hex))));
  check('a low-order X25519 key is refused', await bs1.grantSeal(ids.alice, new Uint8Array(32), 'bob',
    new Uint8Array(4)).then(() => false, (e) => e.code === 'input'));
  for (const [i, e] of V.envelopes.entries()) {
    const env = await bs1.sealWithNonce(e.kind, e.kv, hex(e.key_hex), hex(e.context_hex),
      hex(e.plaintext_hex), hex(e.nonce_hex));
    check(`envelope ${i}`, toHex(env) === e.envelope_hex &&
      toHex(await bs1.open(e.kind, hex(e.key_hex), hex(e.context_hex), env)) === e.plaintext_hex);
  }
  const d = V.kdf.derivations[0];
  const t0 = performance.now();
  const m = await bs1.masterKey(d.password, bs1.kdfCheck(d.kdf));
  lines.push(`argon2id m=65536 t=3: ${(performance.now() - t0).toFixed(0)} ms`);
  check('argon2id master key', toHex(m) === d.master_hex);
  for (const st of V.streams.filter((x) => x.stream_hex)) {
    const so = await bs1.sealStreamBytes(st.kind, hex(st.base_key_hex), hex(st.plaintext_hex), hex(st.salt_hex));
    const rs = new Blob([so]).stream().pipeThrough(bs1.openStream(st.kind, hex(st.base_key_hex)));
    const back = new Uint8Array(await new Response(rs).arrayBuffer());
    check(`stream kind ${st.kind} of ${st.plaintext_len} bytes`, toHex(so) === st.stream_hex &&
      toHex(back) === st.plaintext_hex);
  }
  const sl = V.slots.derivations[0];
  const slot = await bs1.slotDerive(sl.app, sl.passphrase);
  check('slot', slot.id === sl.slot_id && slot.key === sl.slot_key_b64);
} catch (e) {
  check(`no exception (${e})`, false);
}
document.getElementById('out').textContent = lines.join('\n');
console.log(`BS1CHECK ok=${ok} fail=${fail} | ${lines.join(' | ')}`);
