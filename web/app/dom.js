/*
 * dom.js: the small DOM builders the page's views share (records.js,
 * share.js, devices.js): an element with a class and text, and a button
 * whose accessible name says what it does. Text goes in as textContent,
 * never as HTML: what it must never do is parse a string (a record, a
 * username) as markup.
 */

/**
 * An element with a class and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [cls]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls)
    e.className = cls;
  if (text !== undefined)
    e.textContent = text;
  return e;
}

/**
 * A button with an accessible name that says what it does (and to which
 * record, member or device): label, set as aria-label where it differs
 * from the text shown.
 * @param {string} text
 * @param {string} label
 * @param {() => void} onClick
 * @returns {HTMLButtonElement}
 */
export function button(text, label, onClick) {
  const b = el('button', '', text);
  b.type = 'button';
  if (label !== text)
    b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}
