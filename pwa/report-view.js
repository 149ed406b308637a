// The "new report" screen: big category tiles, then optional extras on the same screen and a
// big Spara. Tile → Spara is a saved report in two taps; "Lugnt pass" is one. The report is
// written to the outbox (report-save.js) before the toast says "Sparad", with Ångra for a few
// seconds. The same form edits a stored report (edit()): its values filled in,
// the category in a list, the position kept. While the form is open it is a draft in
// IndexedDB (draft-keeper.js), restored after a reload or restart (restoreDraft()). A second
// tap of a double tap never acts on the screen the first one opened (tap-guard.js). This
// module never imports store.js.
import { categoryLabel } from "./categories.js";
import { categoryTiles } from "./category-tiles.js";
import { createDraftKeeper } from "./draft-keeper.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { createLocationWatch, quickFix } from "./location.js";
import { createPhotoPicker } from "./photos.js";
import { watchPersonnummer } from "./pnr-warning.js";
import { reviewPhoto } from "./redact.js";
import { createReportAt } from "./report-at.js";
import { createSaver } from "./report-save.js";
import { createTapGuard } from "./tap-guard.js";
import { localIsoWithOffset } from "./time.js";
import { createToast } from "./toast.js";

/**
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./store.js").ReportPayload} ReportPayload
 * @typedef {import("./drafts.js").Draft} Draft
 * @typedef {{
 *   saveReport: (report: Partial<ReportPayload>) => Promise<StoredReport>,
 *   getReport: (id: string) => Promise<StoredReport | undefined>,
 *   withdrawReport: (id: string) => Promise<boolean>,
 *   savePhoto: import("./photos.js").SavePhoto,
 *   loadPhoto: import("./photos.js").LoadPhoto,
 *   loadDraft: () => Promise<Draft | undefined>,
 *   saveDraft: (draft: Draft) => Promise<void>,
 *   clearDraft: () => Promise<void>,
 * }} ReportStorage the outbox functions the form writes and reads through; withdrawReport
 *   takes a report just saved back out (Ångra), false when it has already been sent
 */

const CALM = "lugnt";
/** A restored draft older than this does not take the phone's position now. */
const FRESH_DRAFT_MS = 10 * 60 * 1000;

/**
 * Wire the new-report screen.
 * @param {{onSaved: (record: StoredReport) => void, onWithdrawn: () => void,
 *   storage: ReportStorage}} options onWithdrawn: Ångra took a saved report back out
 * @returns {{setCategories: (categories: Category[]) => void, hasDraft: () => boolean,
 *   edit: (record: StoredReport) => void, restoreDraft: () => Promise<void>, dismiss: () => void,
 *   reportAt: (at: import("./report-at.js").ReportPlace) => void}}
 */
export function createReportView({ onSaved, onWithdrawn, storage }) {
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
  const draftNote = byId("draft-note");
  const toast = createToast();
  const saver = createSaver({
    storage,
    toast,
    buttons: [save, calm],
    label: (code) => categoryLabel(categories.find((c) => c.code === code), code),
    onSaved,
    onWithdrawn,
  });
  const guard = createTapGuard();
  const keeper = createDraftKeeper({ storage, snapshot });
  const photoPicker = createPhotoPicker({
    input: /** @type {HTMLInputElement} */ (byId("photo-input")),
    list: byId("photo-list"),
    error: byId("photo-error"),
    savePhoto: storage.savePhoto,
    loadPhoto: storage.loadPhoto,
    review: reviewPhoto,
    onChange: () => keeper.changed(),
  });
  // Free text that looks like a personnummer is flagged, with a one-tap mask.
  const pnrChecks = [watchPersonnummer(description), watchPersonnummer(place)];
  const position = createLocationWatch({ output: byId("location"), onChange: () => keeper.changed() });
  const at = createReportAt({ note: byId("report-at"), place, position }); // "Rapport här"
  const severityButtons = /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll("[data-severity]")]);

  /** @type {Category[]} */
  let categories = [];
  /** @type {Category | null} */
  let selected = null;
  /** @type {number | null} */
  let severity = null;
  /** @type {StoredReport | null} the report being edited, null for a new one */
  let editing = null;
  /** The id a new report will be saved under, made when its form opens (kept in the draft). */
  let draftId = "";
  /** When the new report's form opened: the report's time, also after a restore. */
  let draftStartedAt = "";

  /** @param {Category[]} next */
  function setCategories(next) {
    // Retired categories stay known (old reports) but are never offered for a new one.
    next = next.filter((category) => category.active !== false);
    categories = next; // a walk's observation keeps its walk category when edited
    const offered = categoryTiles(next, (category) => {
      open(category);
      guard.arm();
      keeper.begin();
    });
    tiles.replaceChildren(...offered);
    missing.hidden = offered.length > 0;
  }

  /**
   * @param {Category} category
   * @param {string} [id] the id of a restored draft
   * @param {string} [startedAt] when that draft began (RFC 3339 with the phone's offset)
   */
  function open(category, id = crypto.randomUUID(), startedAt = localIsoWithOffset(new Date())) {
    toast.hide(); // an old "Sparad" does not stay above a new form
    draftId = id;
    draftStartedAt = startedAt;
    selected = category;
    heading.textContent = categoryLabel(category, category.code);
    urgent.hidden = !category.urgent;
    pick.hidden = true;
    form.hidden = false;
    if (!at.apply()) position.start();
    heading.focus();
  }

  /** @param {number | null} value */
  function setSeverity(value) {
    severity = value;
    for (const button of severityButtons) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.severity) === value));
    }
    keeper.changed();
  }

  /**
   * Open a stored report in the form with its values, to change it and send it again.
   * @param {StoredReport} record
   * @returns {Promise<void>} resolves once its photos are in the form
   */
  function edit(record) {
    if (saver.busy()) return Promise.resolve();
    toast.hide();
    discard(); // a half-written report in the form can still be brought back (Ångra)
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
    position.show(record.location ?? null);
    pick.hidden = true;
    form.hidden = false;
    heading.focus();
    // The draft starts once the photos are in the form, so it never names fewer.
    return photoPicker.load(record.photos ?? []);
  }

  /** @returns {Draft} the form as it is now */
  function snapshot() {
    return {
      id: draftId,
      editId: editing?.id ?? null,
      category: editing ? categorySelect.value : (selected?.code ?? ""),
      severity,
      description: description.value,
      place: place.value,
      people: people.value,
      photos: photoPicker.photos(),
      location: editing ? null : position.location(),
      startedAt: draftStartedAt,
      savedAt: new Date().toISOString(),
    };
  }

  /** Whether anything beyond the category has been given (Avbryt then offers Ångra). */
  function hasContent() {
    const values = snapshot();
    return Boolean(
      values.severity !== null || values.description.trim() || values.place.trim() || values.people.trim() ||
        values.photos.length,
    );
  }

  /**
   * Open the form again with a draft's values (after a restart, or Ångra after Avbryt).
   * @param {Draft} draft
   * @returns {Promise<boolean>} false: the draft is stale (its report is saved, or gone)
   */
  async function restore(draft) {
    // Ångra may come while another form is open (Ändra on another report discarded this
    // one): close that first, or Spara would save these values over the report it edits.
    if (selected || editing) reset();
    if (draft.editId) {
      const record = await storage.getReport(draft.editId);
      // Deleted or pruned meanwhile: its text and photos are no longer the phone's to show.
      if (!record || record.prunedAt) return false;
      await edit(record);
      if ([...categorySelect.options].some((o) => o.value === draft.category && !o.disabled)) {
        categorySelect.value = draft.category;
      }
    } else {
      // Saved already (the app stopped between the save and clearing the draft): nothing to do.
      if (await storage.getReport(draft.id)) return false;
      const category = categories.find((c) => c.code === draft.category);
      // A category retired since the draft began is still the one the reporter chose.
      const chosen = category ?? { code: draft.category, label_sv: "", label_en: "", urgent: false, order: 0 };
      open(chosen, draft.id, draft.startedAt);
      // A draft begun a while ago (a flat battery at 02:00, the app opened again at 07:00)
      // keeps the position it had, or none: where the phone is now may be somewhere else.
      // Its start counts, not its last write (every reload or hidden tab writes it again).
      const old = Date.now() - Date.parse(draft.startedAt ?? draft.savedAt) > FRESH_DRAFT_MS;
      if (draft.location || old) position.show(draft.location ?? null);
    }
    setSeverity(draft.severity);
    description.value = draft.description;
    place.value = draft.place;
    people.value = draft.people;
    for (const pnr of pnrChecks) pnr.check();
    photoPicker.reset();
    await photoPicker.load(draft.photos);
    return true;
  }

  /** Close the form and drop its draft; with content, Ångra brings it back for a while. */
  function discard() {
    if (!selected && !editing) return; // no form open
    const kept = hasContent() ? snapshot() : null;
    reset();
    void keeper.end();
    if (!kept) return;
    toast.show(t("report.discarded"), async () => {
      if (await restore(kept)) keeper.begin();
      return "";
    });
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
    draftNote.hidden = true;
    form.hidden = true;
    pick.hidden = false;
    const tile = code ? tiles.querySelector(`[data-code="${CSS.escape(code)}"]`) : null;
    const target = /** @type {HTMLElement} */ (tile ?? tiles.querySelector("button") ?? calm);
    target.focus();
  }

  for (const button of severityButtons) {
    button.addEventListener("click", () => {
      const value = Number(button.dataset.severity);
      setSeverity(severity === value ? null : value);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if ((!selected && !editing) || saver.busy()) return;
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
    // An edit keeps the id (a new revision of the same report) and the original position; a
    // new report gets the draft's id, so a draft left behind by a crash is known as saved.
    const ok = await saver.write(
      target
        ? { ...fields, id: target.id }
        : { ...fields, id: draftId, created_at: draftStartedAt, location: position.location() },
      !target,
    );
    if (ok) {
      reset();
      void keeper.end();
      guard.arm(); // the tiles now lie under the thumb that tapped Spara
    }
  });

  form.addEventListener("input", () => keeper.changed());
  form.addEventListener("change", () => keeper.changed());
  // The camera may take the screen long enough for the phone to discard the tab: keep it now.
  byId("photo-input").addEventListener("click", () => void keeper.flush());
  cancel.addEventListener("click", () => {
    discard();
    guard.arm();
  });
  // The calm round's position: a quick fix if there is one, else none (location.js); the
  // wait runs inside the saver's guard, so a second tap meanwhile does nothing.
  calm.addEventListener("click", async () => {
    if (await saver.write({ category: CALM }, true, () => quickFix())) guard.arm();
  });

  return {
    setCategories,
    edit: (record) => {
      void edit(record).then(() => {
        if (editing === record) keeper.begin();
      });
    },
    /** Open the form with the draft a reload, a discarded tab or a restart left behind. */
    restoreDraft: async () => {
      await keeper.ready();
      const draft = await storage.loadDraft().catch((error) => {
        console.warn("draft", error);
        return undefined;
      });
      if (!draft || selected || editing) return;
      if (!(await restore(draft))) {
        await storage.clearDraft();
        return;
      }
      draftNote.hidden = false;
      keeper.begin();
    },
    /**
     * Say something where the user is looking (the toast), e.g. after Exportera.
     * @param {string} message
     */
    notify: (message) => toast.show(message),
    /** The screen is going away (the phone was revoked): no toast, no more draft writes. */
    dismiss: () => {
      toast.hide();
      keeper.stop();
    },
    /** Whether a report is half-written (an update must not reload now). */
    hasDraft: () => selected !== null || editing !== null,
    /** The next new report is at this checkpoint of a round (its name and position). */
    reportAt: at.set,
  };
}
