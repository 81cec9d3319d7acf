/**
 * The text of a recovery key: upper case, 8 groups of 4 joined by "-".
 * @param {Uint8Array} rk 20 bytes
 * @returns {string}
 */
export function recoveryText(rk: Uint8Array): string;
/**
 * A fresh recovery key and its text.
 * @returns {{ rk: Uint8Array, text: string }}
 */
export function recoveryNew(): {
    rk: Uint8Array;
    text: string;
};
/**
 * Read a recovery key text: ASCII spaces and "-" dropped, a-z folded to
 * A-Z, and exactly 32 base32 symbols must remain; anything else is a
 * RecoveryKeyError.
 * @param {string} text
 * @returns {Uint8Array} the 20 bytes
 */
export function recoveryParse(text: string): Uint8Array;
/**
 * recovery_auth (sent, b64) and recovery_wrap (kept) of a recovery key.
 * @param {Uint8Array} rk 20 bytes
 * @returns {Promise<{ auth: Uint8Array, wrap: Uint8Array }>}
 */
export function recoveryKeys(rk: Uint8Array): Promise<{
    auth: Uint8Array;
    wrap: Uint8Array;
}>;
