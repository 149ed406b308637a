// Double taps do nothing twice. A gloved thumb often taps twice; when the first tap changes the
// screen (Spara brings back the tiles, a tile opens the form), the second lands on whatever is
// now under the finger. After such a change, the next tap, if it comes within a short interval
// at the same spot, is swallowed before any handler sees it. Taps elsewhere, and keyboard
// presses, are untouched.

/** How long after a screen change a second tap at the same spot is ignored. */
export const GUARD_MS = 700;
/** How near the first tap a second one counts as "the same spot" (a fingertip), in CSS px. */
export const GUARD_RADIUS_PX = 48;
/** A tap older than this did not cause the change (e.g. a save that waited for a photo). */
const CAUSE_MS = 10000;

/**
 * Listen to every click on the page (capturing, before the app's handlers).
 * @param {{intervalMs?: number, radiusPx?: number}} [options]
 * @returns {{arm: () => void}} arm: the screen just changed under the last tap
 */
export function createTapGuard({ intervalMs = GUARD_MS, radiusPx = GUARD_RADIUS_PX } = {}) {
  /** @type {{x: number, y: number, at: number} | null} */
  let last = null;
  /** @type {{x: number, y: number, until: number} | null} */
  let armed = null;

  document.addEventListener(
    "click",
    (event) => {
      // detail 0: a click from the keyboard (Enter, Space), not a finger.
      if (event.detail === 0) return;
      const now = performance.now();
      if (armed && now < armed.until && Math.hypot(event.clientX - armed.x, event.clientY - armed.y) <= radiusPx) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      last = { x: event.clientX, y: event.clientY, at: now };
      armed = null; // a tap elsewhere: the finger has moved on, this is no double tap
    },
    { capture: true },
  );

  return {
    arm: () => {
      const now = performance.now();
      armed = last && now - last.at < CAUSE_MS ? { x: last.x, y: last.y, until: now + intervalMs } : null;
    },
  };
}
