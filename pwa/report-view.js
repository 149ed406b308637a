// The "new report" screen: big category tiles, then optional extras on the same screen and a
// big Spara. Tile → Spara is a saved report in two taps; "Lugnt pass" is one. The report is
// written to the outbox (store.saveReport) before anything says "Sparad".
import { categoryLabel } from "./categories.js";
import { t } from "./i18n.js";
import { createLocationWatch } from "./location.js";
import { createPhotoPicker } from "./photos.js";
import * as store from "./store.js";

/** @typedef {import("./categories.js").Category} Category */

const CALM = "lugnt";

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/**
 * Wire the new-report screen.
 * @param {{onSaved: (record: store.StoredReport) => void, announce: (text: string) => void}} options
 * @returns {{setCategories: (categories: Category[]) => void, hasDraft: () => boolean}}
 */
export function createReportView({ onSaved, announce }) {
  const pick = byId("pick");
  const tiles = byId("tiles");
  const missing = byId("tiles-missing");
  const calm = /** @type {HTMLButtonElement} */ (byId("lugnt"));
  const form = /** @type {HTMLFormElement} */ (byId("report-form"));
  const heading = byId("form-category");
  const urgent = byId("urgent");
  const description = /** @type {HTMLTextAreaElement} */ (byId("description"));
  const place = /** @type {HTMLInputElement} */ (byId("place"));
  const people = /** @type {HTMLInputElement} */ (byId("people"));
  const save = /** @type {HTMLButtonElement} */ (byId("save"));
  const cancel = byId("cancel");
  const photoPicker = createPhotoPicker({
    input: /** @type {HTMLInputElement} */ (byId("photo-input")),
    list: byId("photo-list"),
    error: byId("photo-error"),
  });
  const position = createLocationWatch({ output: byId("location") });
  const severityButtons = /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll("[data-severity]")]);

  /** @type {Category[]} */
  let categories = [];
  /** @type {Category | null} */
  let selected = null;
  /** @type {number | null} */
  let severity = null;
  let saving = false;

  /** @param {Category[]} next */
  function setCategories(next) {
    // Retired categories stay known (old reports) but are never offered for a new one.
    next = next.filter((category) => category.active !== false);
    categories = next;
    tiles.replaceChildren(
      ...next.map((category) => {
        const tile = document.createElement("button");
        tile.type = "button";
        tile.className = category.urgent ? "tile urgent-tile" : "tile";
        tile.dataset.code = category.code;
        tile.textContent = categoryLabel(category, category.code);
        tile.addEventListener("click", () => open(category));
        return tile;
      }),
    );
    missing.hidden = next.length > 0;
  }

  /** @param {Category} category */
  function open(category) {
    selected = category;
    heading.textContent = categoryLabel(category, category.code);
    urgent.hidden = !category.urgent;
    pick.hidden = true;
    form.hidden = false;
    position.start();
    heading.focus();
  }

  /** @param {number | null} value */
  function setSeverity(value) {
    severity = value;
    for (const button of severityButtons) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.severity) === value));
    }
  }

  function reset() {
    const code = selected?.code;
    selected = null;
    setSeverity(null);
    form.reset();
    photoPicker.reset();
    position.stop();
    urgent.hidden = true;
    form.hidden = true;
    pick.hidden = false;
    const tile = code ? tiles.querySelector(`[data-code="${CSS.escape(code)}"]`) : null;
    const target = /** @type {HTMLElement} */ (tile ?? tiles.querySelector("button") ?? calm);
    target.focus();
  }

  /**
   * Write one report to the outbox, then say so.
   * @param {Partial<store.ReportPayload>} report
   * @returns {Promise<boolean>}
   */
  async function write(report) {
    if (saving) return false;
    saving = true;
    save.disabled = true;
    calm.disabled = true;
    try {
      const record = await store.saveReport(report);
      const category = categories.find((c) => c.code === record.category);
      announce(t("report.saved", { category: categoryLabel(category, record.category) }));
      onSaved(record);
      return true;
    } catch (error) {
      console.error("save", error);
      announce(t("report.saveFailed"));
      return false;
    } finally {
      saving = false;
      save.disabled = false;
      calm.disabled = false;
    }
  }

  for (const button of severityButtons) {
    button.addEventListener("click", () => {
      const value = Number(button.dataset.severity);
      setSeverity(severity === value ? null : value);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!selected || saving) return;
    // A photo still being processed belongs to this report: wait for it.
    save.disabled = true;
    await photoPicker.settle();
    save.disabled = false;
    if (!selected) return;
    const count = people.value.trim() === "" ? null : Number.parseInt(people.value, 10);
    const ok = await write({
      category: selected.code,
      severity,
      description: description.value.trim(),
      place: place.value.trim(),
      people_count: count !== null && Number.isFinite(count) && count >= 0 ? Math.min(count, 10000) : null,
      photos: photoPicker.photos(),
      location: position.location(),
    });
    if (ok) reset();
  });

  cancel.addEventListener("click", reset);
  calm.addEventListener("click", () => void write({ category: CALM }));

  return {
    setCategories,
    /** Whether a report is half-written (an update must not reload now). */
    hasDraft: () => selected !== null,
  };
}
