/*
 * stack.js: the real-stack harness of the SDK's node tests: the stack of
 * scripts/run.sh (handlers from $BIN, default ../../build, behind nginx,
 * or the Apache front end $FRONT names: apache, apache-fcgid, cgi)
 * on a free port with a temporary config (no rate limits, plus what the
 * test file adds) and data directory; started once per test file and
 * stopped with SIGTERM at the end, failing on a sanitizer report.
 *
 * Waits are for outcomes, never for a time: the start is bounded at 120 s
 * only so that a hung stack fails instead of hanging.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = fileURLToPath(new URL('../../..', import.meta.url));
/** Where the C build is. */
export const BIN = process.env.BIN ?? join(root, 'build');
/** The C build is there (else the stack tests skip). */
export const built = existsSync(join(BIN, 'blindsync-status'));
/** The front end: nginx, or one of Apache's (scripts/run.sh's FRONT). */
export const FRONT = process.env.FRONT || 'nginx';

/**
 * A running stack: its URL, run.sh's pid, its directory and run.sh's RUN_DIR
 * (live.pid is there: blindsync-live's pid).
 * @typedef {{ url: string, pid: number, dir: string, run: string }} Stack
 */

/** A free TCP port on 127.0.0.1 (the kernel's pick). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = /** @type {import('node:net').AddressInfo} */ (s.address()).port;
      s.close(() => resolve(port));
    });
  });
}

/** The process pid has not exited. @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Poll fn every 100 ms until it returns true; false after boundMs.
 * @param {() => boolean | Promise<boolean>} fn
 * @param {number} boundMs
 */
export async function waitFor(fn, boundMs) {
  const end = Date.now() + boundMs;
  for (;;) {
    if (await fn())
      return true;
    if (Date.now() > end)
      return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stop run.sh's process group: SIGTERM, wait, then SIGKILL if still there. @param {number} pid */
async function stop(pid) {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  if (!(await waitFor(() => !alive(pid), 60000)))
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

/**
 * Start a stack with these extra Lua config lines; up when /v1/health
 * answers. Tries three ports.
 * @param {string[]} [extra]
 * @returns {Promise<Stack>}
 */
export async function startStack(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'bs-sdk-stack-'));
  const config = join(dir, 'blindsync.lua');
  writeFileSync(config, [`database = "${dir}/blindsync.db"`, `secret_file = "${dir}/secret"`,
    'password_hash = { iterations = 1000 }', 'rate_limits = {}', ...extra, ''].join('\n'));
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const run = join(dir, `run-${port}`);
    const child = spawn(join(root, 'scripts/run.sh'), [], { detached: true, stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, BIN, PORT: String(port), BLINDSYNC_CONFIG: config, RUN_DIR: run,
        HANDLER_LOG: join(dir, 'handlers.log'), FRONT } });
    child.unref();
    const url = `http://127.0.0.1:${port}`;
    const pid = /** @type {number} */ (child.pid);
    /* ours and up: run.sh lives, the front end wrote its pid file, health answers */
    const pidFile = join(run, FRONT === 'nginx' ? 'nginx.pid' : 'httpd.pid');
    const up = async () => alive(pid) && existsSync(pidFile) &&
      (await fetch(`${url}/v1/health`).then((r) => r.ok, () => false));
    await waitFor(async () => (await up()) || !alive(pid), 120000);
    if (await up())
      return { url, pid, dir, run };
    await stop(pid);
  }
  throw new Error(`could not start the stack (see ${dir})`);
}

/**
 * Stop a stack; its directory is removed unless the handlers' log holds a
 * sanitizer report, which fails the caller.
 * @param {Stack | null} stack
 */
export async function stopStack(stack) {
  if (!stack)
    return;
  await stop(stack.pid);
  const log = join(stack.dir, 'handlers.log');
  const san = existsSync(log) && /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.test(readFileSync(log, 'utf8'));
  if (!san)
    rmSync(stack.dir, { recursive: true, force: true });
  assert.ok(!san, `sanitizer report in ${log}`);
}
