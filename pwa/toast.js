// The confirmation where the user is looking: a bar at the bottom of the screen (a live
// region) that says what just happened ("Sparad: Brand."), with "Ångra" for a few seconds
// when the step can be taken back. A status line at the top of a scrolled page is not seen.
import { byId } from "./dom.js";
import { t } from "./i18n.js";

/** How long a confirmation (and its Ångra) stays. */
export const TOAST_MS = 5000;

/**
 * @typedef {() => Promise<string>} Undo takes the step back; resolves with what to say then
 *   (empty: nothing)
 * @typedef {{show: (text: string, undo?: Undo) => void, hide: () => void}} Toast
 */

/**
 * Wire the toast of the page (#toast with #toast-text and #toast-undo).
 * @param {{durationMs?: number}} [options]
 * @returns {Toast}
 */
export function createToast({ durationMs = TOAST_MS } = {}) {
  const box = byId("toast");
  const text = byId("toast-text");
  const button = /** @type {HTMLButtonElement} */ (byId("toast-undo"));
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {Undo | null} */
  let undo = null;

  function hide() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    undo = null;
    box.hidden = true;
    text.textContent = ""; // an old "Sparad" must not linger in the page
  }

  /**
   * @param {string} message
   * @param {Undo} [step]
   */
  function show(message, step) {
    if (timer !== null) clearTimeout(timer);
    undo = step ?? null;
    box.hidden = false;
    text.textContent = message;
    button.hidden = undo === null;
    button.disabled = false;
    timer = setTimeout(hide, durationMs);
  }

  button.textContent = t("toast.undo");
  button.addEventListener("click", async () => {
    const step = undo;
    if (!step) return;
    undo = null;
    button.disabled = true; // one undo per confirmation, however often it is tapped
    const said = await step();
    if (said) show(said);
    else hide(); // the step speaks for itself (the form is back)
  });

  return { show, hide };
}
