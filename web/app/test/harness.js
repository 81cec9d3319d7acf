/*
 * harness.js: what every page test shares. Debian's chromium headless
 * through playwright-core (web/sdk's devDependency), the reason a test file
 * is skipped when a part is missing, one way to launch the browser, and one
 * way to run the C CLI as the other device (its home and password file
 * under the test's temporary directory), the page's script errors
 * collected, and one end for a file (browser, stack, temporary
 * directory). The stack itself is web/sdk/test/stack.js.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BIN, built, root, stopStack } from '../../sdk/test/stack.js';

/** The browser (CHROMIUM overrides Debian's). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The C CLI of the build under test. */
export const CLI = join(BIN, 'blindsync');
/** Where the tests write their screenshots. */
export const ART = join(root, 'build/test-artifacts');
/** The bound of every wait for an outcome in a page, in ms: generous, for a busy machine. */
export const BOUND = 120000;

const require = createRequire(join(root, 'web/sdk/package.json'));
/** playwright-core's chromium, or null when the package is missing. */
export let chromium = null;
try {
  ({ chromium } = require('playwright-core'));
} catch { /* skipReason says so */ }

/**
 * Why a page test file cannot run here, or false. The browser,
 * playwright-core and the C build are always needed; `cli` adds the C CLI,
 * `live` the live program.
 * @param {{ cli?: boolean, live?: boolean }} [needs]
 * @returns {string | false}
 */
export function skipReason({ cli = true, live = false } = {}) {
  if (!existsSync(CHROMIUM))
    return `no browser: ${CHROMIUM} is missing (scripts/deps.sh browser)`;
  if (!chromium)
    return 'no playwright-core in web/sdk/node_modules (scripts/deps.sh node)';
  if (!built)
    return `no C build in ${BIN}: run make first`;
  if (cli && !existsSync(CLI))
    return `no C CLI: ${CLI} is missing (run make)`;
  if (live && !existsSync(join(BIN, 'blindsync-live')))
    return `no ${BIN}/blindsync-live (libwebsockets-dev missing at make?)`;
  return false;
}

/**
 * Launch headless chromium with a profile of its own (IndexedDB and the
 * like survive a reload, nothing leaks between files).
 * @param {string} profile directory
 * @param {object} [options] more launch options (e.g. acceptDownloads)
 */
export function launch(profile, options = {}) {
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'], ...options });
}

/**
 * The C CLI as a device: `run` answers its exit code and output, `cli` its
 * stdout or a rejection carrying its stderr. The server's URL and the
 * temporary directory (home under `home`, the password in `pw`) are read
 * at each call, since a file sets them in its before().
 * @param {() => { url: string, tmp: string }} where
 */
export function cliRunner(where) {
  /** @param {string[]} args @returns {Promise<{ code: number, stdout: string, stderr: string }>} */
  const run = (args) => {
    const { url, tmp } = where();
    return new Promise((resolve) => execFile(CLI, ['--server', url, '--home', join(tmp, 'home'),
      '--password-file', join(tmp, 'pw'), ...args], { encoding: 'utf8', timeout: 120000 },
    (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr })));
  };
  /** @param {string[]} args @returns {Promise<string>} */
  const cli = async (args) => {
    const r = await run(args);
    if (r.code !== 0)
      throw new Error(`blindsync ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { run, cli };
}

/**
 * Collect the page's script errors into errors (a new array by default,
 * returned): every uncaught exception, and every console error but those
 * whose text matches allowed (the 404s and 401s a test causes on purpose,
 * and the browser's own /favicon.ico; each file says which). A test ends
 * by asserting the array empty.
 * @param {any} page a playwright Page
 * @param {RegExp} allowed
 * @param {string[]} [errors]
 * @returns {string[]}
 */
export function watchErrors(page, allowed, errors = []) {
  page.on('pageerror', (/** @type {Error} */ e) => errors.push(String(e)));
  page.on('console', (/** @type {any} */ m) => {
    if (m.type() === 'error' && !allowed.test(m.text()))
      errors.push(m.text());
  });
  return errors;
}

/**
 * The end of a page test file: close its browser, stop its stack (which
 * fails on a sanitizer report in the handlers' log) and remove its
 * temporary directory; each may be missing (a skipped file).
 * @param {any} browser
 * @param {import('../../sdk/test/stack.js').Stack | null} stack
 * @param {string} tmp
 */
export async function closeAll(browser, stack, tmp) {
  await browser?.close();
  await stopStack(stack);
  if (tmp)
    rmSync(tmp, { recursive: true, force: true });
}
