/*
 * client-example.js: the Client of docs/CLIENT.md against a running server:
 * two devices of one account, a record written on one and read on the
 * other, a conflict settled by a merge callback, a record's history.
 * Run: BLINDSYNC_URL=http://127.0.0.1:8080 node examples/client-example.js [username]
 * (make run starts a server there; test/client.test.js runs this against
 * its own stack).
 */
import { Client, MemoryStorage, ServerError } from '@blindsync/sdk';

const url = process.env.BLINDSYNC_URL ?? 'http://127.0.0.1:8080';
const username = process.argv[2] ?? `example${Date.now()}`;
const password = 'correct horse battery staple';
const text = (/** @type {Uint8Array | null} */ b) => (b ? new TextDecoder().decode(b) : null);

/* merge: both sides' lines, sorted (return null to delete, undefined to keep the server's) */
const merge = ({ local, remote }) =>
  [...new Set([...(text(local) ?? '').split('\n'), ...(text(remote) ?? '').split('\n')])]
    .filter(Boolean).sort().join('\n');

/* one Client per device, each with its own local copy */
const laptop = new Client({ url, storage: new MemoryStorage(), merge });
const phone = new Client({ url, storage: new MemoryStorage(), merge });

await laptop.register(username, password);
await laptop.login(username, password, { name: 'laptop', type: 'example' });
await phone.login(username, password, { name: 'phone', type: 'example' });

/* put queues a sealed change; sync pushes it and pulls the others' */
await laptop.put('groceries', 'list', 'bread');
await laptop.sync();
await phone.sync();
console.log(`phone reads: ${text(await phone.get('groceries', 'list'))}`);

/* both edit offline; the second to sync meets a conflict and merges */
await laptop.put('groceries', 'list', 'bread\nmilk');
await phone.put('groceries', 'list', 'bread\neggs');
await laptop.sync();
const r = await phone.sync();
await laptop.sync();
console.log(`conflicts: ${r.conflicts.map((c) => `${c.collection}/${c.id} ${c.kept}`).join(', ')}`);
console.log(`laptop reads: ${JSON.stringify(text(await laptop.get('groceries', 'list')))}`);
console.log(`collections: ${(await phone.collections()).map((c) => c.name).join(', ')}`);
console.log(`history: ${(await phone.history('groceries', 'list')).length} versions`);
console.log(`devices: ${(await phone.devices()).map((d) => d.name).sort().join(', ')}`);

/* a wrong password is the server's invalid_credentials */
try {
  await new Client({ url }).login(username, 'not it');
} catch (e) {
  if (!(e instanceof ServerError))
    throw e;
  console.log(`wrong password: ${e.code}`);
}
await phone.logout();
await laptop.logout();
