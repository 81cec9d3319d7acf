/**
 * The identity of the given secrets (the keyring's "identity" member:
 * X25519 secret key, Ed25519 seed); the public keys are computed.
 * @param {Uint8Array} x25519Sk
 * @param {Uint8Array} ed25519Seed
 * @returns {Promise<Identity>}
 */
export function identityFromSecrets(x25519Sk: Uint8Array, ed25519Seed: Uint8Array): Promise<Identity>;
/**
 * A fresh identity (X25519 and Ed25519 key pairs from the platform's CSPRNG).
 * @returns {Promise<Identity>}
 */
export function identityNew(): Promise<Identity>;
/**
 * The keyring's "identity" member of an identity: {"x25519": b64(sk),
 * "ed25519": b64(seed)}.
 * @param {Identity} id
 * @returns {{ x25519: string, ed25519: string }}
 */
export function identityKeyring(id: Identity): {
    x25519: string;
    ed25519: string;
};
/**
 * fingerprint = b64url(SHA-256(x25519_pk || ed25519_pk))[0:16].
 * @param {Uint8Array} x25519Pk
 * @param {Uint8Array} ed25519Pk
 * @returns {Promise<string>}
 */
export function fingerprint(x25519Pk: Uint8Array, ed25519Pk: Uint8Array): Promise<string>;
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
export function grantSealWithEph(inviter: Identity, recipientX25519Pk: Uint8Array, username: string, grant: Uint8Array, ephSk: Uint8Array): Promise<{
    sealed: Uint8Array;
    signature: Uint8Array;
}>;
/**
 * Seal a grant to a recipient (a fresh ephemeral key) and sign it with the
 * inviter's Ed25519 key. Sealing to a low-order X25519 key is an InputError.
 * @param {Identity} inviter
 * @param {Uint8Array} recipientX25519Pk
 * @param {string} username
 * @param {Uint8Array} grant
 * @returns {Promise<{ sealed: Uint8Array, signature: Uint8Array }>}
 */
export function grantSeal(inviter: Identity, recipientX25519Pk: Uint8Array, username: string, grant: Uint8Array): Promise<{
    sealed: Uint8Array;
    signature: Uint8Array;
}>;
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
export function grantOpen(me: Identity, username: string, inviterEd25519Pk: Uint8Array, sealed: Uint8Array, signature: Uint8Array): Promise<Uint8Array>;
/**
 * The grant's JSON bytes, members in client.md's order (collection, name,
 * kv, key, id_key, role): the vectors' bytes. An InputError for a grant
 * that is not one.
 * @param {Grant} g
 * @returns {Uint8Array}
 */
export function grantJson(g: Grant): Uint8Array;
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
export function grantParse(json: Uint8Array): Grant;
export const ROLES: readonly string[];
/**
 * An account's identity: secret halves (kept in the keyring) and public
 * halves (published with PUT /v1/account/keys). All 32 bytes.
 */
export type Identity = {
    x25519Sk: Uint8Array;
    x25519Pk: Uint8Array;
    ed25519Seed: Uint8Array;
    ed25519Pk: Uint8Array;
};
/**
 * A grant's members (section 9): the collection's server name, the
 * application's name A, the key version, ck(collection, kv), cid_key and
 * the role; and the team's one extension (docs/CLIENT.md, "Sharing"):
 * "previous", the older key versions the sealer held, so that a member
 * who joins after a rotation reads records sealed before it (absent: none).
 */
export type Grant = {
    collection: string;
    name: string;
    kv: number;
    key: Uint8Array;
    idKey: Uint8Array;
    role: "read" | "write" | "admin";
    previous?: {
        kv: number;
        key: Uint8Array;
    }[];
};
