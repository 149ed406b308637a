// The report's position: while the form is open, watch the position and keep the best fix
// (smallest accuracy radius) among those taken since the form opened; a cached fix from
// before (possibly the last report's place) only stands in until a fresh one arrives. No fix
// (indoors, permission denied) is fine: the report is saved with `location: null` and the
// form says so. "Lugnt pass" has no form: it takes one quick fix (quickFix) or none.
import { t } from "./i18n.js";

/** @typedef {import("./store.js").Location} Location */

/** How long "Lugnt pass" waits for a position before it saves without one. */
export const QUICK_FIX_MS = 2000;
/** A fix this recent is good enough for a calm round (the guard has not moved far). */
const QUICK_FIX_MAX_AGE_MS = 60000;

/**
 * A position fix as the outbox stores it.
 * @param {GeolocationPosition} position
 * @returns {Location}
 */
function toLocation(position) {
  const { latitude, longitude, accuracy } = position.coords;
  return {
    lat: latitude,
    lon: longitude,
    accuracy_m: Number.isFinite(accuracy) ? Math.min(Math.max(accuracy, 0), 100000) : null,
  };
}

/**
 * One position if the phone has or gets one within `waitMs`, else null; never rejects.
 * Our own timer, not only the API's timeout: that one does not run while a permission
 * prompt is open, and a calm round must not wait for it.
 * @param {number} [waitMs]
 * @returns {Promise<Location | null>}
 */
export function quickFix(waitMs = QUICK_FIX_MS) {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    const done = (/** @type {Location | null} */ fix) => {
      clearTimeout(timer);
      resolve(fix);
    };
    navigator.geolocation.getCurrentPosition(
      (position) => done(toLocation(position)),
      () => done(null), // denied or unavailable: saved without a position
      { enableHighAccuracy: true, maximumAge: QUICK_FIX_MAX_AGE_MS, timeout: waitMs },
    );
  });
}

/**
 * Whether `next` is a better fix than `best`.
 * @param {Location | null} best
 * @param {Location} next
 * @returns {boolean}
 */
export function isBetter(best, next) {
  return best === null || (next.accuracy_m ?? Infinity) < (best.accuracy_m ?? Infinity);
}

/**
 * Wire the position line of the report form.
 * @param {{output: HTMLElement, onChange?: () => void}} elements onChange: the kept fix
 *   changed (the draft keeps it)
 * @returns {{start: () => void, stop: () => void, show: (stored: Location | null) => void,
 *   location: () => Location | null}}
 */
export function createLocationWatch({ output, onChange = () => {} }) {
  /** @type {Location | null} */
  let best = null;
  /** @type {number | null} */
  let watchId = null;
  let bestIsStale = false;
  let openedAt = 0;

  function render() {
    output.textContent =
      best === null ? t("location.none") : t("location.fix", { m: String(Math.round(best.accuracy_m ?? 0)) });
  }

  // Each start() is a new watch; a fix already queued for an older one when it was stopped
  // (the browser may deliver it after clearWatch) must not land in the form.
  let generation = 0;

  function stop() {
    generation += 1;
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }

  function start() {
    stop();
    best = null;
    bestIsStale = false;
    openedAt = Date.now();
    render();
    if (!("geolocation" in navigator)) return;
    const mine = generation;
    watchId = navigator.geolocation.watchPosition(
      (position) => {
        if (mine !== generation) return; // stopped since: this fix is for an old watch
        const next = toLocation(position);
        const stale = position.timestamp < openedAt;
        if (stale && best !== null && !bestIsStale) return;
        if (!(bestIsStale && !stale) && !isBetter(best, next)) return;
        best = next;
        bestIsStale = stale;
        render();
        onChange();
      },
      () => render(), // denied or unavailable: "Utan position" stays
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 60000 },
    );
  }

  /**
   * Show a stored report's position without watching (editing keeps the original one).
   * @param {Location | null} stored
   */
  function show(stored) {
    stop();
    best = stored;
    render();
  }

  return { start, stop, show, location: () => best };
}
