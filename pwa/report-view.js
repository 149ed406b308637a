// The "new report" screen: big category tiles, then optional extras on the same screen and a
// big Spara. Tile → Spara is a saved report in two taps; "Lugnt pass" is one. The report is
// written to the outbox (saveReport, handed in by app.js) before anything says "Sparad". The
// same form edits a stored report (edit()): its values filled in, the category in a list, the
// position kept. This module never imports store.js.
import { categoryLabel } from "./categories.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { createLocationWatch, quickFix } from "./location.js";
import { createPhotoPicker } from "./photos.js";
import { watchPersonnummer } from "./pnr-warning.js";
import { reviewPhoto } from "./redact.js";

/**
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./store.js").ReportPayload} ReportPayload
 * @typedef {{
 *   saveReport: (report: Partial<ReportPayload>) => Promise<StoredReport>,
 *   savePhoto: import("./photos.js").SavePhoto,
 *   loadPhoto: import("./photos.js").LoadPhoto,
 * }} ReportStorage the outbox functions the form writes and reads through
 */

const CALM = "lugnt";

/**
 * Wire the new-report screen.
 * @param {{onSaved: (record: StoredReport) => void, announce: (text: string) => void,
 *   storage: ReportStorage}} options
 * @returns {{setCategories: (categories: Category[]) => void, hasDraft: () => boolean,
 *   edit: (record: StoredReport) => void}}
 */
export function createReportView({ onSaved, announce, storage }) {
  const pick = byId("pick");
  const tiles = byId("tiles");
  const missing = byId("tiles-missing");
  const calm = /** @type {HTMLButtonElement} */ (byId("lugnt"));
  const form = /** @type {HTMLFormElement} */ (byId("report-form"));
  const heading = byId("form-category");
  // The section's own heading says what the form does: a new report, or a change to one.
  const sectionHeading = byId("new-report-heading");
  const urgent = byId("urgent");
  const description = /** @type {HTMLTextAreaElement} */ (byId("description"));
  const place = /** @type {HTMLInputElement} */ (byId("place"));
  const people = /** @type {HTMLInputElement} */ (byId("people"));
  const save = /** @type {HTMLButtonElement} */ (byId("save"));
  const cancel = byId("cancel");
  const categoryField = byId("category-field");
  const categorySelect = /** @type {HTMLSelectElement} */ (byId("category-select"));
  const categoryError = byId("category-error");
  const photoPicker = createPhotoPicker({
    input: /** @type {HTMLInputElement} */ (byId("photo-input")),
    list: byId("photo-list"),
    error: byId("photo-error"),
    savePhoto: storage.savePhoto,
    loadPhoto: storage.loadPhoto,
    review: reviewPhoto,
  });
  // Free text that looks like a personnummer is flagged, with a one-tap mask.
  const pnrChecks = [watchPersonnummer(description), watchPersonnummer(place)];
  const position = createLocationWatch({ output: byId("location") });
  const severityButtons = /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll("[data-severity]")]);

  /** @type {Category[]} */
  let categories = [];
  /** @type {Category | null} */
  let selected = null;
  /** @type {number | null} */
  let severity = null;
  let saving = false;
  /** @type {StoredReport | null} the report being edited, null for a new one */
  let editing = null;

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

  /**
   * Open a stored report in the form with its values, to change it and send it again.
   * @param {StoredReport} record
   */
  function edit(record) {
    if (saving) return;
    reset();
    editing = record;
    const known = categories.some((c) => c.code === record.category);
    /** @type {HTMLOptionElement[]} */
    const options = [];
    if (!known) {
      // A retired or unknown category (often the reason for a rejection): choose another.
      const choose = new Option(t("report.chooseCategory"), "", true, true);
      choose.disabled = true;
      options.push(choose);
    }
    for (const category of categories) {
      const current = category.code === record.category;
      options.push(new Option(categoryLabel(category, category.code), category.code, current, current));
    }
    categorySelect.replaceChildren(...options);
    categoryField.hidden = false;
    sectionHeading.textContent = t("report.editHeading");
    const current = categories.find((c) => c.code === record.category);
    heading.textContent = known ? categoryLabel(current, record.category) : t("report.chooseCategory");
    setSeverity(record.severity ?? null);
    description.value = record.description ?? "";
    place.value = record.place ?? "";
    people.value = typeof record.people_count === "number" ? String(record.people_count) : "";
    for (const pnr of pnrChecks) pnr.check();
    void photoPicker.load(record.photos ?? []);
    position.show(record.location ?? null);
    pick.hidden = true;
    form.hidden = false;
    heading.focus();
  }

  function reset() {
    const code = editing ? null : selected?.code;
    editing = null;
    sectionHeading.textContent = t("report.heading");
    categoryField.hidden = true;
    categoryError.hidden = true;
    categorySelect.replaceChildren();
    selected = null;
    setSeverity(null);
    form.reset();
    for (const pnr of pnrChecks) pnr.check();
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
   * @param {Partial<ReportPayload>} report
   * @param {(() => Promise<ReportPayload["location"]>) | null} [locate] finds the position
   *   first, inside the guard (a second tap while it looks is ignored)
   * @returns {Promise<boolean>}
   */
  async function write(report, locate = null) {
    if (saving) return false;
    saving = true;
    save.disabled = true;
    calm.disabled = true;
    try {
      const record = await storage.saveReport(locate ? { ...report, location: await locate() } : report);
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
    if ((!selected && !editing) || saving) return;
    if (editing && !categorySelect.value) {
      categoryError.hidden = false;
      categorySelect.focus();
      return;
    }
    categoryError.hidden = true;
    // A photo still being processed belongs to this report: wait for it.
    save.disabled = true;
    await photoPicker.settle();
    save.disabled = false;
    const target = editing;
    const code = target ? categorySelect.value : selected?.code;
    if (!code) return;
    const count = people.value.trim() === "" ? null : Number.parseInt(people.value, 10);
    /** @type {Partial<ReportPayload>} */
    const fields = {
      category: code,
      severity,
      description: description.value.trim(),
      place: place.value.trim(),
      people_count: count !== null && Number.isFinite(count) && count >= 0 ? Math.min(count, 10000) : null,
      photos: photoPicker.photos(),
    };
    // An edit keeps the id (a new revision of the same report) and the original position.
    const ok = await write(
      target ? { ...fields, id: target.id } : { ...fields, location: position.location() },
    );
    if (ok) reset();
  });

  cancel.addEventListener("click", reset);
  // The calm round's position: a quick fix if there is one, else none (location.js).
  calm.addEventListener("click", () => void write({ category: CALM }, () => quickFix()));

  return {
    setCategories,
    edit,
    /** Whether a report is half-written (an update must not reload now). */
    hasDraft: () => selected !== null || editing !== null,
  };
}
