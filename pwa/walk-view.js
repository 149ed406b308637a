// Walk mode (trygghetsvandring): on the home screen, an entry per walk planned for today (from
// the last pull, kept in IndexedDB, so it works offline); joining one shows its stops and an
// observation form: stop (the next one preselected), the walk categories as tiles, how the
// place feels (otrygg / neutral / trygg), photos and a note. An observation is a report saved
// into the same outbox with walk_id, walk_stop and feeling; the sync sends it like any other.
// A follow-up walk also lists the earlier walk's open observations to mark (walk-follow-up.js).
// This module never imports store.js: the outbox functions come from app.js.
import { categoryLabel } from "./categories.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { createLocationWatch } from "./location.js";
import { createPhotoPicker } from "./photos.js";
import { watchPersonnummer } from "./pnr-warning.js";
import { reviewPhoto } from "./redact.js";
import { createSaver } from "./report-save.js";
import { createTapGuard } from "./tap-guard.js";
import { localIsoWithOffset } from "./time.js";
import { createToast } from "./toast.js";
import { createFollowUpList } from "./walk-follow-up.js";
import { walkMap } from "./walk-map.js";

/**
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./store.js").PlannedWalk} PlannedWalk
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./report-view.js").ReportStorage & {
 *   listWalks: () => Promise<PlannedWalk[]>,
 *   listReports: () => Promise<StoredReport[]>}} WalkStorage
 */

const FEELINGS = ["unsafe", "neutral", "safe"];

/**
 * The phone's calendar day as YYYY-MM-DD (a walk is planned on a local day).
 * @param {Date} date
 * @returns {string}
 */
export function localDay(date) {
  return localIsoWithOffset(date).slice(0, 10);
}

/**
 * The stop to preselect: the one after the last observation's, else the first (none: "").
 * @param {PlannedWalk} walk
 * @param {number | null} last the stop of the last observation saved on this walk
 * @returns {string}
 */
export function nextStop(walk, last) {
  if (!walk.stops.length) return "";
  if (last === null) return "1";
  return String(Math.min(last + 1, walk.stops.length));
}

/**
 * Wire the walk screens.
 * @param {{storage: WalkStorage, onSaved: (record: StoredReport) => void,
 *   onWithdrawn: () => void, onEnter: () => void, onLeave: () => void}} options onEnter,
 *   onLeave: the walk screen opens or closes (the new-report screen steps aside meanwhile)
 * @returns {{setCategories: (categories: Category[]) => void, refresh: () => Promise<void>,
 *   hasDraft: () => boolean}}
 */
export function createWalkView({ storage, onSaved, onWithdrawn, onEnter, onLeave }) {
  const entry = byId("walk-entry");
  const entryList = byId("walk-list");
  const screen = byId("walk-screen");
  const template = /** @type {HTMLTemplateElement} */ (byId("walk-screen-template"));
  const toast = createToast();
  const guard = createTapGuard();

  /** @type {Category[]} the walk categories */
  let categories = [];
  /** @type {PlannedWalk | null} the walk joined */
  let walk = null;
  /** @type {string | null} */
  let category = null;
  /** @type {string | null} */
  let feeling = null;
  /** @type {number | null} */
  let lastStop = null;
  /** @type {ReturnType<typeof mount> | null} the walk screen while a walk is joined */
  let ui = null;

  /** Put the walk screen on the page from its template and wire it. */
  function mount() {
    const content = /** @type {DocumentFragment} */ (template.content.cloneNode(true));
    // Only the new part: the page's other texts may have been changed since (an edit's heading).
    for (const el of content.querySelectorAll("[data-i18n]")) el.textContent = t(el.getAttribute("data-i18n") || "");
    screen.replaceChildren(content);
    const form = /** @type {HTMLFormElement} */ (byId("walk-form"));
    const save = /** @type {HTMLButtonElement} */ (byId("walk-save"));
    const parts = {
      heading: byId("walk-heading"),
      meta: byId("walk-meta"),
      stopsList: byId("walk-stops"),
      form,
      stopSelect: /** @type {HTMLSelectElement} */ (byId("walk-stop")),
      tiles: byId("walk-tiles"),
      note: /** @type {HTMLTextAreaElement} */ (byId("walk-note")),
      categoryError: byId("walk-category-error"),
      save,
      feelingButtons: /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll("[data-feeling]")]),
      saver: createSaver({
        storage,
        toast,
        buttons: [save],
        label: (code) => categoryLabel(categories.find((c) => c.code === code), code),
        onSaved,
        onWithdrawn: () => {
          onWithdrawn();
          void ui?.followUp.redraw(); // Ångra took a mark back: the counts follow
        },
      }),
      photoPicker: createPhotoPicker({
        input: /** @type {HTMLInputElement} */ (byId("walk-photo-input")),
        list: byId("walk-photo-list"),
        error: byId("walk-photo-error"),
        savePhoto: storage.savePhoto,
        loadPhoto: storage.loadPhoto,
        review: reviewPhoto,
      }),
      pnr: watchPersonnummer(/** @type {HTMLTextAreaElement} */ (byId("walk-note"))),
      position: createLocationWatch({ output: byId("walk-location") }),
      followUp: createFollowUpList({
        section: byId("walk-follow-up"),
        list: byId("walk-follow-up-list"),
        counts: byId("walk-follow-up-counts"),
        listReports: storage.listReports,
        loadPhoto: storage.loadPhoto,
        label: (code) => categoryLabel(categories.find((c) => c.code === code), code),
        onMark: (observation, mark) => saveMark(observation, mark),
      }),
    };
    for (const button of parts.feelingButtons) {
      button.addEventListener("click", () =>
        setFeeling(feeling === button.dataset.feeling ? null : (button.dataset.feeling ?? null)),
      );
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void submit();
    });
    byId("walk-leave").addEventListener("click", leave);
    return parts;
  }

  /** @param {Category[]} all every category of the last pull */
  function setCategories(all) {
    categories = all.filter((c) => c.walk === true && c.active !== false);
    drawTiles();
  }

  function drawTiles() {
    if (!ui) return;
    ui.tiles.replaceChildren(
      ...categories.map((c) => {
        const tile = document.createElement("button");
        tile.type = "button";
        tile.className = "tile";
        tile.dataset.code = c.code;
        tile.setAttribute("aria-pressed", String(c.code === category));
        tile.textContent = categoryLabel(c, c.code);
        tile.addEventListener("click", () => setCategory(category === c.code ? null : c.code));
        return tile;
      }),
    );
  }

  /** @param {string | null} code */
  function setCategory(code) {
    category = code;
    if (!ui) return;
    for (const tile of ui.tiles.querySelectorAll("[data-code]")) {
      tile.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (tile).dataset.code === code));
    }
    if (code) ui.categoryError.hidden = true;
  }

  /** @param {string | null} value */
  function setFeeling(value) {
    feeling = value;
    for (const button of ui?.feelingButtons ?? []) {
      button.setAttribute("aria-pressed", String(button.dataset.feeling === value));
    }
  }

  /** Show an entry per walk planned for today (none: the entry stays hidden). */
  async function refresh() {
    const today = localDay(new Date());
    const walks = (await storage.listWalks().catch(() => [])).filter((w) => w.date === today);
    entryList.replaceChildren(
      ...walks.map((w) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "big walk-join";
        button.textContent = t("walk.join", { area: w.area ?? t("walk.noArea"), light: lightText(w) });
        button.addEventListener("click", () => join(w));
        item.append(button);
        return item;
      }),
    );
    // A walk closed or moved meanwhile stays open here until the walker leaves it.
    entry.hidden = walks.length === 0 || walk !== null;
  }

  /** @param {PlannedWalk} w */
  function lightText(w) {
    return t(w.dark ? "walk.dark" : "walk.daylight");
  }

  /** @param {PlannedWalk} w */
  function join(w) {
    walk = w;
    lastStop = null;
    ui = mount();
    drawTiles();
    ui.heading.textContent = t("walk.heading", { area: w.area ?? t("walk.noArea") });
    ui.meta.textContent = t("walk.meta", { date: w.date, light: lightText(w), stops: String(w.stops.length) });
    const drawing = walkMap(w, t("walk.mapLabel"));
    byId("walk-drawing").replaceChildren(...(drawing ? [drawing] : []));
    ui.stopsList.replaceChildren(
      ...w.stops.map((s) => {
        const item = document.createElement("li");
        item.textContent = s.name;
        return item;
      }),
    );
    ui.stopSelect.replaceChildren(
      new Option(t("walk.noStop"), ""),
      ...w.stops.map((s) => new Option(t("walk.stopOption", { number: String(s.number), name: s.name }), String(s.number))),
    );
    clearForm();
    entry.hidden = true;
    screen.hidden = false;
    onEnter();
    ui.position.start();
    ui.heading.focus();
    void ui.followUp.show(w);
  }

  /**
   * Save a follow-up walk's mark on an open observation: a walk observation of its category
   * with follows and follow_up, through the outbox like any other (offline, sent once).
   * @param {import("./store.js").OpenObservation} observation
   * @param {"atgardat" | "kvarstar"} mark
   * @returns {Promise<boolean>} saved
   */
  async function saveMark(observation, mark) {
    if (!walk || !ui) return false;
    // Its stop when this walk has it (a follow-up copies the stops, yet may have fewer).
    const stop = observation.stop !== null && observation.stop <= walk.stops.length ? observation.stop : null;
    const ok = await ui.saver.write(
      {
        id: crypto.randomUUID(),
        category: observation.category,
        description: "",
        photos: [],
        location: ui.position.location(),
        walk_id: walk.id,
        walk_stop: stop,
        feeling: null,
        follows: observation.id,
        follow_up: mark,
      },
      true,
    );
    return ok;
  }

  function clearForm() {
    setCategory(null);
    setFeeling(null);
    if (!ui) return;
    ui.note.value = "";
    ui.pnr.check();
    ui.photoPicker.reset();
    ui.categoryError.hidden = true;
    ui.stopSelect.value = walk ? nextStop(walk, lastStop) : "";
  }

  function leave() {
    ui?.followUp.close();
    ui?.position.stop();
    ui?.photoPicker.reset();
    walk = null;
    ui = null;
    screen.hidden = true;
    screen.replaceChildren(); // its fields leave the page with it
    onLeave();
    void refresh();
  }

  async function submit() {
    if (!walk || !ui || ui.saver.busy()) return;
    const parts = ui;
    if (!category) {
      parts.categoryError.hidden = false;
      parts.tiles.querySelector("button")?.focus();
      return;
    }
    parts.save.disabled = true;
    await parts.photoPicker.settle(); // a photo still being processed belongs to this observation
    parts.save.disabled = false;
    const stop = parts.stopSelect.value ? Number.parseInt(parts.stopSelect.value, 10) : null;
    const ok = await parts.saver.write(
      {
        id: crypto.randomUUID(),
        category,
        description: parts.note.value.trim(),
        photos: parts.photoPicker.photos(),
        location: parts.position.location(),
        walk_id: walk.id,
        walk_stop: stop,
        feeling: feeling && FEELINGS.includes(feeling) ? /** @type {"unsafe"} */ (feeling) : null,
      },
      true,
    );
    if (ok) {
      if (stop !== null) lastStop = stop;
      clearForm();
      guard.arm(); // the tiles now lie under the thumb that tapped Spara
    }
  }

  return {
    setCategories,
    refresh,
    hasDraft: () =>
      ui !== null && Boolean(category || ui.note.value.trim() || ui.photoPicker.photos().length),
  };
}
