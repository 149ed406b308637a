// The report's position: while the form is open, watch the position and keep the best fix
// (smallest accuracy radius) among those taken since the form opened; a cached fix from
// before (possibly the last report's place) only stands in until a fresh one arrives. No fix (indoors, permission denied) is fine: the report is
// saved with `location: null` and the form says so.
import { t } from "./i18n.js";

/** @typedef {import("./store.js").Location} Location */

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

  function stop() {
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
    watchId = navigator.geolocation.watchPosition(
      (position) => {
        const { latitude, longitude, accuracy } = position.coords;
        /** @type {Location} */
        const next = {
          lat: latitude,
          lon: longitude,
          accuracy_m: Number.isFinite(accuracy) ? Math.min(Math.max(accuracy, 0), 100000) : null,
        };
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
