/**
 * Apply the floor of client.md section 2 to a kdf object already parsed
 * (what JSON.parse gave). Returns the checked Kdf (a fresh object, the
 * salt decoded); throws KdfFloorError with a reason for anything refused.
 * Unknown members are ignored.
 * @param {unknown} obj
 * @returns {Kdf}
 */
export function kdfCheck(obj: unknown): Kdf;
/**
 * Parse the kdf object text that prelogin returned (JSON.parse: one value,
 * nothing after it) and apply the floor. Text longer than 1 KiB (as UTF-8)
 * or that is not JSON is refused too. Nothing is derived.
 * @param {string} text
 * @returns {Kdf}
 */
export function kdfParse(text: string): Kdf;
/**
 * A fresh kdf object for a new account: default m, t, p, a random salt.
 * @returns {Kdf}
 */
export function kdfNew(): Kdf;
/**
 * The kdf object as the JSON text register sends:
 * {"alg":"argon2id","suite":"bs1","m":..,"t":..,"p":1,"salt":".."}.
 * @param {Kdf} kdf
 * @returns {string}
 */
export function kdfJson(kdf: Kdf): string;
/**
 * A password's or passphrase's NFC form as UTF-8 bytes (the caller may
 * wipe them). A lone surrogate or a NUL is an InputError, as in the C
 * library (which refuses invalid UTF-8 and NUL).
 * @param {string} pw
 * @returns {Uint8Array}
 */
export function nfc(pw: string): Uint8Array;
/**
 * master = Argon2id(NFC(password), salt, t, m, p = 1, 32 bytes) under a kdf
 * that passed the floor (the floor is applied again here, so it cannot be
 * skipped). About a second at the default parameters; in a page it runs
 * in a Web Worker (opts.status tells where and how long).
 * @param {string} password
 * @param {Kdf} kdf
 * @param {KdfOptions} [opts]
 * @returns {Promise<Uint8Array>}
 */
export function masterKey(password: string, kdf: Kdf, opts?: KdfOptions): Promise<Uint8Array>;
/**
 * auth_key (sent, b64) and keyring_key (never leaves the device) from master.
 * @param {Uint8Array} master
 * @returns {Promise<{ authKey: Uint8Array, keyringKey: Uint8Array }>}
 */
export function accountKeys(master: Uint8Array): Promise<{
    authKey: Uint8Array;
    keyringKey: Uint8Array;
}>;
/**
 * The passphrase rule of section 6: at least 12 code points after NFC,
 * else a PassphraseError.
 * @param {string} passphrase
 */
export function passphraseCheck(passphrase: string): void;
/**
 * slot_salt = SHA-256("blindsync bs1 slot salt" || lp(app))[0:16].
 * @param {string} app
 * @returns {Promise<Uint8Array>}
 */
export function slotSalt(app?: string): Promise<Uint8Array>;
/**
 * What a slot needs: id (64 lowercase hex, the URL), key (b64, the
 * X-Slot-Key header; secret) and enc (the kind-5 stream's base key; secret).
 * @typedef {{ id: string, key: string, enc: Uint8Array }} Slot
 */
/**
 * The slot of (app, passphrase) after the passphrase rule: Argon2id at
 * t = 3, m = 65536, then the three HKDF outputs. The seed is wiped.
 * @param {string} app the application id (default "blindsync")
 * @param {string} passphrase
 * @param {KdfOptions} [opts] status: as masterKey's
 * @returns {Promise<Slot>}
 */
export function slotDerive(app: string, passphrase: string, opts?: KdfOptions): Promise<Slot>;
/** What new accounts use (client.md section 2). */
export const KDF_M: 65536;
export const KDF_T: 3;
export const KDF_P: 1;
/** The kdf object is at most 1 KiB of JSON text. */
export const KDF_MAX_JSON: 1024;
/** A passphrase has at least this many code points after NFC. */
export const SLOT_MIN_CHARS: 12;
/** The application id of a slot when none is given. */
export const DEFAULT_APP: "blindsync";
/**
 * A kdf object that passed the floor.
 */
export type Kdf = {
    m: number;
    t: number;
    p: number;
    salt: Uint8Array;
};
/**
 * What a kdf status callback is told: a derivation starts (where it runs:
 * "worker", a module Web Worker, or "inline", this thread) and is done
 * (with its duration in ms, measured around the Argon2id alone).
 */
export type KdfStatus = {
    phase: "start" | "done";
    where: "worker" | "inline";
    ms?: number;
};
/**
 * Options of the derivations: status, called as a derivation starts and
 * ends (a page shows it: Argon2id takes about a second).
 */
export type KdfOptions = {
    status?: (s: KdfStatus) => void;
};
/**
 * What a slot needs: id (64 lowercase hex, the URL), key (b64, the
 * X-Slot-Key header; secret) and enc (the kind-5 stream's base key; secret).
 */
export type Slot = {
    id: string;
    key: string;
    enc: Uint8Array;
};
