/*
 * bs1-example.js: the bs1 suite end to end, as docs/CLIENT.md shows it:
 * register-time keys, a keyring, a record under opaque names, a backup
 * stream, a tampered record. No server: what is sealed here is what an SDK
 * would send. Run: node examples/bs1-example.js (test/example.test.js does).
 */
import { bs1 } from '@blindsync/sdk';

const enc = new TextEncoder(), dec = new TextDecoder();

/* Registration: a kdf object, the password's keys, a data key, the keyring. */
const kdf = bs1.kdfNew();
const master = await bs1.masterKey('correct horse battery staple', kdf);
const { authKey, keyringKey } = await bs1.accountKeys(master);
const dataKey = bs1.dataKeyNew();
const keyring = await bs1.keyringSeal(keyringKey, 'alice', 1, bs1.keyringNew(dataKey));
const register = { username: 'alice', kdf: JSON.parse(bs1.kdfJson(kdf)),
  auth_key: bs1.b64(authKey), keyring: bs1.b64(keyring) };
bs1.wipe(master);

/* Login: prelogin's kdf text through the floor, the same keys, the keyring. */
const checked = bs1.kdfParse(JSON.stringify(register.kdf));
const again = await bs1.accountKeys(await bs1.masterKey('correct horse battery staple', checked));
const ring = await bs1.keyringOpen(again.keyringKey, 'alice', 1, keyring);
const dk = bs1.keyringDataKey(ring);

/* A record: the server sees only the opaque names and the envelope. */
const collection = await bs1.collectionName(await bs1.idKey(dk), 'notes');
const recordId = await bs1.recordId(await bs1.cidKey(dk, collection), 'note-1');
const ck = await bs1.ck(dk, collection, 1);
const env = await bs1.recordSeal(ck, 1, collection, recordId, 'note-1', enc.encode('hello, world'));
const { a, data } = bs1.recordSplit(await bs1.recordOpen(dk, collection, recordId, env));
console.log(`${collection}/${recordId}: ${a} = ${dec.decode(data)}`);

/* A tampered record: one error, no plaintext. */
env[env.length - 1] ^= 1;
try {
  await bs1.recordOpen(dk, collection, recordId, env);
} catch (e) {
  if (!(e instanceof bs1.DecryptError))
    throw e;
  console.log(`tampered: ${e.message}`);
}

/* A backup: 200 KiB through the stream, piece by piece. */
const backupKey = await bs1.backupKey(dk, 'main');
const file = new Blob([bs1.randomBytes(200 * 1024)]);
const sealed = file.stream().pipeThrough(bs1.sealStream(bs1.KIND.BACKUP, backupKey));
const opened = sealed.pipeThrough(bs1.openStream(bs1.KIND.BACKUP, backupKey));
let n = 0;
for await (const piece of opened)
  n += piece.length;
console.log(`backup: ${n} bytes back (stream of ${bs1.streamLen(file.size)} bytes)`);
