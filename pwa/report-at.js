// "Rapport här" at a checkpoint of a guard round: the next new report takes the checkpoint's
// name as its place and the checkpoint's position instead of the phone's (in a stairwell the
// phone's fix is poor, the checkpoint's is known). The usual taps: a tile, then Spara.
import { t } from "./i18n.js";

/**
 * @typedef {{name: string, lat: number, lon: number}} ReportPlace
 */

/**
 * Wire the preset place of the report form.
 * @param {{note: HTMLElement, place: HTMLInputElement,
 *   position: {show: (location: import("./report-fields.js").Location | null) => void}}} parts
 * @returns {{set: (at: ReportPlace) => void, apply: () => boolean, clear: () => void}}
 *   apply: fill the form that opens now; false when there is no preset (watch the position)
 */
export function createReportAt({ note, place, position }) {
  /** @type {ReportPlace | null} */
  let preset = null;

  function clear() {
    preset = null;
    note.hidden = true;
  }

  return {
    set(at) {
      preset = at;
      note.textContent = t("report.at", { name: at.name });
      note.hidden = false;
    },
    apply() {
      if (!preset) return false;
      place.value = preset.name;
      position.show({ lat: preset.lat, lon: preset.lon, accuracy_m: null });
      clear();
      return true;
    },
    clear,
  };
}
