// The confirmation where the user is looking: a bar at the bottom of the screen (a live
// region) that says what just happened ("Sparad: Brand."), with "Ångra" for a few seconds
// when the step can be taken back. A status line at the top of a scrolled page is not seen.
import { byId } from "./dom.js";
import { t } from "./i18n.js";

/** How long a confirmation (and its Ångra) stays. */
export const TOAST_MS = 5000;
/** How long after the toast appears its message is set (so that screen readers say it). */
const SPEAK_DELAY_MS = 60;

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
  /** @type {ReturnType<typeof setTimeout> | null} */
  let speak = null;
  /** @type {Undo | null} */
  let undo = null;
  // While a finger, a pointer or the keyboard focus is on the toast, it stays (WCAG 2.2.1).
  let held = false;

  function clearTimers() {
    if (timer !== null) clearTimeout(timer);
    if (speak !== null) clearTimeout(speak);
    timer = speak = null;
  }

  function hide() {
    clearTimers();
    undo = null;
    // Focus on Ångra would be lost with the toast: put it where the screen starts again.
    if (box.contains(document.activeElement)) {
      const heading = byId("new-report-heading");
      heading.tabIndex = -1;
      heading.focus();
    }
    held = false;
    box.hidden = true;
    text.textContent = ""; // an old "Sparad" must not linger in the page
  }

  function countDown() {
    if (timer !== null) clearTimeout(timer);
    timer = held ? null : setTimeout(hide, durationMs);
  }

  /**
   * @param {string} message
   * @param {Undo} [step]
   */
  function show(message, step) {
    clearTimers();
    undo = step ?? null;
    button.hidden = undo === null;
    button.disabled = false;
    if (box.hidden) {
      // A live region shown and filled in the same task is often not read out: show it
      // empty first, then say the message a moment later.
      text.textContent = "";
      box.hidden = false;
      speak = setTimeout(() => {
        speak = null;
        text.textContent = message;
      }, SPEAK_DELAY_MS);
    } else {
      text.textContent = message;
    }
    countDown();
  }

  const hold = () => {
    held = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const release = () => {
    if (box.hidden || box.contains(document.activeElement) || box.matches(":hover")) return;
    held = false;
    countDown();
  };
  box.addEventListener("focusin", hold);
  box.addEventListener("pointerenter", hold);
  box.addEventListener("focusout", () => setTimeout(release, 0));
  box.addEventListener("pointerleave", release);

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
