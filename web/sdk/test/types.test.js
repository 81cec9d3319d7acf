/*
 * types.test.js: the committed declarations (types/) are what tsc makes
 * from the JSDoc of src/ today, and src/ type-checks (tsc --checkJs,
 * strict). Run `npm run types` after changing src/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every file under dir, as paths relative to it. */
function files(dir, sub = '') {
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(sub, e.name)) : [join(sub, e.name)]).sort();
}

test('types: src type-checks and types/ is current', () => {
  const out = mkdtempSync(join(tmpdir(), 'bs-sdk-types-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p',
      join(root, 'tsconfig.json'), '--outDir', out], { cwd: root, stdio: 'pipe' });
    const want = files(out);
    assert.deepEqual(files(join(root, 'types')), want);
    for (const f of want)
      assert.equal(readFileSync(join(root, 'types', f), 'utf8'), readFileSync(join(out, f), 'utf8'),
        `types/${f} is stale: run npm run types`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
