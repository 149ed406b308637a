// Looking up the elements of index.html that a screen cannot work without.

/**
 * The element with this id; a missing one is a bug in index.html, so it throws.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}
