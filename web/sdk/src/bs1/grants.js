/*
 * grants.js: sharing a collection (client.md section 9): identity key
 * pairs (X25519 and Ed25519 through Web Crypto), fingerprints, and grants
 * sealed to a recipient and signed by the inviter, with the grant's JSON.
 *
 * It must never open a grant whose signature does not verify under the
 * pinned inviter key, and never hand out a grant that failed any check:
 * every failure to open is the one DecryptError.
 */
import { frame, unframe } from './envelope.js';
import { NAME_LEN } from './keys.js';
import {
  DecryptError, InputError, aeadOpen, bs, aeadSeal, aesKey, asciiLower, b64, b64DecodeStrict, b64url,
  concat, hkdf, key32, lp, sha256, utf8, utf8Decode, webcrypto, wipe,
} from './util.js';

/* PKCS #8 prefixes of a raw X25519 / Ed25519 private key (RFC 8410). */
const P8_X25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20];
const P8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const GRANT_LABEL = 'blindsync bs1 grant';
export const ROLES = Object.freeze(['read', 'write', 'admin']);

/**
 * An account's identity: secret halves (kept in the keyring) and public
 * halves (published with PUT /v1/account/keys). All 32 bytes.
 * @typedef {{ x25519Sk: Uint8Array, x25519Pk: Uint8Array,
 *             ed25519Seed: Uint8Array, ed25519Pk: Uint8Array }} Identity
 */

/**
 * @param {number[]} prefix
 * @param {Uint8Array} sk
 * @param {string} alg
 * @param {KeyUsage[]} usages
 * @returns {Promise<CryptoKey>}
 */
async function importPrivate(prefix, sk, alg, usages) {
  const p8 = concat(new Uint8Array(prefix), sk);
  try {
    return await webcrypto().importKey('pkcs8', bs(p8), { name: alg }, true, usages);
  } finally {
    wipe(p8);
  }
}

/**
 * The raw public key of an extractable private key (through its JWK).
 * @param {CryptoKey} k
 * @returns {Promise<Uint8Array>}
 */
async function publicOf(k) {
  const j = await webcrypto().exportKey('jwk', k);
  const x = /** @type {string} */ (j.x);
  const std = x.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (x.length % 4)) % 4);
  const pk = b64DecodeStrict(std);
  if (j.d)
    j.d = '';
  if (!pk || pk.length !== 32)
    throw new InputError('the platform returned a malformed public key');
  return pk;
}

/**
 * The identity of the given secrets (the keyring's "identity" member:
 * X25519 secret key, Ed25519 seed); the public keys are computed.
 * @param {Uint8Array} x25519Sk
 * @param {Uint8Array} ed25519Seed
 * @returns {Promise<Identity>}
 */
export async function identityFromSecrets(x25519Sk, ed25519Seed) {
  const xs = key32(x25519Sk, 'x25519 secret key').slice();
  const es = key32(ed25519Seed, 'ed25519 seed').slice();
  const x = await importPrivate(P8_X25519, xs, 'X25519', ['deriveBits']);
  const e = await importPrivate(P8_ED25519, es, 'Ed25519', ['sign']);
  return { x25519Sk: xs, x25519Pk: await publicOf(x), ed25519Seed: es, ed25519Pk: await publicOf(e) };
}

/**
 * A fresh identity (X25519 and Ed25519 key pairs from the platform's CSPRNG).
 * @returns {Promise<Identity>}
 */
export async function identityNew() {
  const s = webcrypto();
  const x = /** @type {CryptoKeyPair} */ (await s.generateKey({ name: 'X25519' }, true, ['deriveBits']));
  const e = /** @type {CryptoKeyPair} */ (await s.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']));
  const xs = new Uint8Array(await s.exportKey('pkcs8', x.privateKey)).slice(-32);
  const es = new Uint8Array(await s.exportKey('pkcs8', e.privateKey)).slice(-32);
  return identityFromSecrets(xs, es);
}

/**
 * The keyring's "identity" member of an identity: {"x25519": b64(sk),
 * "ed25519": b64(seed)}.
 * @param {Identity} id
 * @returns {{ x25519: string, ed25519: string }}
 */
export function identityKeyring(id) {
  return { x25519: b64(id.x25519Sk), ed25519: b64(id.ed25519Seed) };
}

/**
 * fingerprint = b64url(SHA-256(x25519_pk || ed25519_pk))[0:16].
 * @param {Uint8Array} x25519Pk
 * @param {Uint8Array} ed25519Pk
 * @returns {Promise<string>}
 */
export async function fingerprint(x25519Pk, ed25519Pk) {
  return b64url(await sha256(concat(key32(x25519Pk, 'x25519 public key'),
    key32(ed25519Pk, 'ed25519 public key')))).slice(0, 16);
}

/**
 * X25519(sk, pk); null for an all-zero result (a low-order pk) or a pk the
 * platform refuses.
 * @param {Uint8Array} sk
 * @param {Uint8Array} pk
 * @returns {Promise<Uint8Array | null>}
 */
async function x25519(sk, pk) {
  const s = webcrypto();
  try {
    const priv = await importPrivate(P8_X25519, sk, 'X25519', ['deriveBits']);
    const pub = await s.importKey('raw', bs(pk), { name: 'X25519' }, true, []);
    const out = new Uint8Array(await s.deriveBits({ name: 'X25519', public: pub }, priv, 256));
    let acc = 0;
    for (const b of out)
      acc |= b;
    if (acc === 0) {
      wipe(out);
      return null;
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * "blindsync bs1 grant" || lp(recipient username) || sealed.
 * @param {string} username
 * @param {Uint8Array} sealed
 */
function signedMessage(username, sealed) {
  return concat(utf8(GRANT_LABEL), lp(asciiLower(username)), sealed);
}

/**
 * Seal a grant with a given ephemeral X25519 secret key (the deterministic
 * core of grantSeal(); tests use it to reproduce the vectors).
 * @param {Identity} inviter
 * @param {Uint8Array} recipientX25519Pk
 * @param {string} username the recipient's username (lowercased in ASCII)
 * @param {Uint8Array} grant the grant's JSON bytes
 * @param {Uint8Array} ephSk 32 bytes
 * @returns {Promise<{ sealed: Uint8Array, signature: Uint8Array }>}
 */
export async function grantSealWithEph(inviter, recipientX25519Pk, username, grant, ephSk) {
  const rpk = key32(recipientX25519Pk, 'recipient x25519 key');
  const eph = await identityFromSecrets(key32(ephSk, 'ephemeral key'), new Uint8Array(32));
  const shared = await x25519(eph.x25519Sk, rpk);
  wipe(eph.x25519Sk, eph.ed25519Seed);
  if (!shared)
    throw new InputError('the recipient key is not a usable X25519 key');
  let wrap = null, f = null;
  try {
    wrap = await hkdf(shared, concat(utf8(GRANT_LABEL), eph.x25519Pk, rpk));
    f = frame(grant);
    const ct = await aeadSeal(await aesKey(wrap), new Uint8Array(12), f,
      concat(utf8('BS1grant'), lp(asciiLower(username))));
    const sealed = concat(eph.x25519Pk, ct);
    const sk = await importPrivate(P8_ED25519, key32(inviter.ed25519Seed, 'inviter seed'), 'Ed25519',
      ['sign']);
    const signature = new Uint8Array(await webcrypto().sign('Ed25519', sk, bs(signedMessage(username, sealed))));
    return { sealed, signature };
  } finally {
    wipe(shared, wrap, f);
  }
}

/**
 * Seal a grant to a recipient (a fresh ephemeral key) and sign it with the
 * inviter's Ed25519 key. Sealing to a low-order X25519 key is an InputError.
 * @param {Identity} inviter
 * @param {Uint8Array} recipientX25519Pk
 * @param {string} username
 * @param {Uint8Array} grant
 * @returns {Promise<{ sealed: Uint8Array, signature: Uint8Array }>}
 */
export async function grantSeal(inviter, recipientX25519Pk, username, grant) {
  const x = /** @type {CryptoKeyPair} */ (await webcrypto().generateKey({ name: 'X25519' }, true,
    ['deriveBits']));
  const eph = new Uint8Array(await webcrypto().exportKey('pkcs8', x.privateKey)).slice(-32);
  try {
    return await grantSealWithEph(inviter, recipientX25519Pk, username, grant, eph);
  } finally {
    wipe(eph);
  }
}

/**
 * Open a grant addressed to me (my identity, my username) from an inviter
 * whose pinned Ed25519 key is inviterEd25519Pk: the signature first, then
 * the length, X25519 (an all-zero result refused), the tag and the frame.
 * The grant's JSON bytes, or a DecryptError.
 * @param {Identity} me
 * @param {string} username
 * @param {Uint8Array} inviterEd25519Pk
 * @param {Uint8Array} sealed
 * @param {Uint8Array} signature 64 bytes
 * @returns {Promise<Uint8Array>}
 */
export async function grantOpen(me, username, inviterEd25519Pk, sealed, signature) {
  const s = webcrypto();
  let ok = false;
  try {
    const pk = await s.importKey('raw', bs(key32(inviterEd25519Pk, 'inviter key')), { name: 'Ed25519' },
      true, ['verify']);
    ok = signature instanceof Uint8Array && signature.length === 64 &&
      await s.verify('Ed25519', pk, bs(signature), bs(signedMessage(username, sealed)));
  } catch {
    ok = false;
  }
  if (!ok || sealed.length < 32 + 16)
    throw new DecryptError();
  const ephPk = sealed.subarray(0, 32);
  const shared = await x25519(key32(me.x25519Sk, 'x25519 secret key'), ephPk);
  if (!shared)
    throw new DecryptError();
  let wrap = null, f = null;
  try {
    wrap = await hkdf(shared, concat(utf8(GRANT_LABEL), ephPk, key32(me.x25519Pk, 'x25519 public key')));
    f = await aeadOpen(await aesKey(wrap), new Uint8Array(12), sealed.subarray(32),
      concat(utf8('BS1grant'), lp(asciiLower(username))));
    return unframe(f);
  } finally {
    wipe(shared, wrap, f);
  }
}

/**
 * A grant's members (section 9): the collection's server name, the
 * application's name A, the key version, ck(collection, kv), cid_key and
 * the role; and the team's one extension (docs/CLIENT.md, "Sharing"):
 * "previous", the older key versions the sealer held, so that a member
 * who joins after a rotation reads records sealed before it (absent: none).
 * @typedef {{ collection: string, name: string, kv: number, key: Uint8Array,
 *             idKey: Uint8Array, role: 'read' | 'write' | 'admin',
 *             previous?: { kv: number, key: Uint8Array }[] }} Grant
 */

/** @param {unknown} kv */
function kvOk(kv) {
  return Number.isInteger(kv) && /** @type {number} */ (kv) >= 1 && /** @type {number} */ (kv) <= 0xffffffff;
}

/** @param {unknown} s */
function serverName(s) {
  return typeof s === 'string' && s.length === NAME_LEN && /^[A-Za-z0-9_-]+$/.test(s);
}

/**
 * The grant's JSON bytes, members in client.md's order (collection, name,
 * kv, key, id_key, role): the vectors' bytes. An InputError for a grant
 * that is not one.
 * @param {Grant} g
 * @returns {Uint8Array}
 */
export function grantJson(g) {
  if (!serverName(g.collection) || typeof g.name !== 'string' || g.name.includes('\0') ||
      !Number.isInteger(g.kv) || g.kv < 1 || g.kv > 0xffffffff || !ROLES.includes(g.role))
    throw new InputError('a grant needs a server collection name, a name, kv >= 1 and a role');
  /** @type {Record<string, unknown>} */
  const o = { collection: g.collection, name: g.name, kv: g.kv,
    key: b64(key32(g.key, 'grant key')), id_key: b64(key32(g.idKey, 'grant id_key')), role: g.role };
  if (g.previous && g.previous.length > 0) {
    if (!g.previous.every((p) => kvOk(p.kv) && p.kv < g.kv))
      throw new InputError('a grant\'s previous keys have versions below its kv');
    o.previous = g.previous.map((p) => ({ kv: p.kv, key: b64(key32(p.key, 'previous key')) }));
  }
  return utf8(JSON.stringify(o));
}

/**
 * Parse an opened grant's JSON: every member required with its type,
 * collection a 22-character server name, kv an integer 1..2^32-1, role one
 * of read, write, admin, key and id_key 32 bytes of strict b64, and
 * "previous", when present, an array of {kv below the grant's, key 32
 * bytes}; other members are ignored. A DecryptError otherwise (the tag
 * verified, so only a buggy writer makes one).
 * @param {Uint8Array} json
 * @returns {Grant}
 */
export function grantParse(json) {
  const text = utf8Decode(json);
  let o;
  try {
    o = text === null ? null : JSON.parse(text);
  } catch {
    o = null;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o) || !serverName(o.collection) ||
      typeof o.name !== 'string' || o.name.includes('\0') ||
      !Number.isInteger(o.kv) || o.kv < 1 || o.kv > 0xffffffff || !ROLES.includes(o.role))
    throw new DecryptError();
  const key = b64DecodeStrict(o.key);
  const idKey = b64DecodeStrict(o.id_key);
  if (!key || key.length !== 32 || !idKey || idKey.length !== 32)
    throw new DecryptError();
  /** @type {Grant} */
  const g = { collection: o.collection, name: o.name, kv: o.kv, key, idKey, role: o.role };
  if (o.previous !== undefined) {
    if (!Array.isArray(o.previous))
      throw new DecryptError();
    g.previous = o.previous.map((/** @type {any} */ p) => {
      const k = p !== null && typeof p === 'object' ? b64DecodeStrict(p.key) : null;
      if (!k || k.length !== 32 || !kvOk(p.kv) || p.kv >= o.kv)
        throw new DecryptError();
      return { kv: p.kv, key: k };
    });
  }
  return g;
}
