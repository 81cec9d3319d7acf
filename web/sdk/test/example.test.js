/*
 * example.test.js: the example of docs/CLIENT.md (examples/bs1-example.js)
 * runs and prints what the page says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('example: examples/bs1-example.js runs', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('../examples/bs1-example.js',
    import.meta.url))], { encoding: 'utf8' });
  assert.match(out, /^[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{22}: note-1 = hello, world$/m);
  assert.match(out, /^tampered: cannot decrypt$/m);
  assert.match(out, /^backup: 204800 bytes back \(stream of 204884 bytes\)$/m);
});
