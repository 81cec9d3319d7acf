/*
 * kdf.js: the page's view of Argon2id while it runs (the SDK derives in a
 * Web Worker, so the page keeps painting): a status line that counts the
 * seconds, and when it is done, where it ran and how long it took. The
 * status element also keeps the last derivation's figures as data-kdf-*
 * attributes (where, start and end on performance.now()'s clock, ms), which
 * the page's test reads to compare the page's longest pause with the
 * derivation's length. Never sees a password.
 */

/**
 * A kdfStatus callback for the SDK's Client that shows the derivation in
 * el: "what… 1.2 s" while it runs (updated ten times a second), then
 * "what: 812 ms in a Web Worker". The caller's next status replaces it.
 * @param {HTMLElement} el the status line
 * @param {string} what what is derived, e.g. "Deriving keys from the password"
 * @returns {(s: { phase: 'start' | 'done', where: 'worker' | 'inline', ms?: number }) => void}
 */
export function kdfProgress(el, what) {
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  let t0 = 0;
  const place = (/** @type {string} */ where) => (where === 'worker' ? 'in a Web Worker' : 'on the page\'s thread');
  return (s) => {
    if (s.phase === 'start') {
      t0 = performance.now();
      clearInterval(timer);
      el.className = '';
      el.dataset.kdfWhere = s.where;
      el.dataset.kdfStart = String(t0);
      delete el.dataset.kdfEnd;
      const tick = () => {
        el.textContent = `${what} (Argon2id, ${place(s.where)})… ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      };
      tick();
      timer = setInterval(tick, 100);
      return;
    }
    clearInterval(timer);
    el.dataset.kdfEnd = String(performance.now());
    el.dataset.kdfMs = String(Math.round(s.ms ?? 0));
    el.textContent = `${what}: ${Math.round(s.ms ?? 0)} ms ${place(s.where)}.`;
  };
}
