// A follow-up walk's list "Från förra vandringen": the open observations of the earlier walk
// (from the last pull, so offline too), each with two big buttons Åtgärdat / Kvarstår. A tap
// saves a mark: a walk observation with follows (the observation's id) and follow_up, through
// the same outbox as every report. A later tap saves a new mark; the latest one counts, as on
// the server (server/walks/followup.py). Counts of the marks this phone holds stand on top.
import { t } from "./i18n.js";

/**
 * @typedef {import("./store.js").PlannedWalk} PlannedWalk
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./store.js").OpenObservation} OpenObservation
 * @typedef {"atgardat" | "kvarstar"} Mark
 */

/** @type {Mark[]} */
export const MARKS = ["atgardat", "kvarstar"];

/**
 * The latest mark of each observation among the reports of one walk: the latest created_at
 * wins, on equal times the larger id (the server's tie-break).
 * @param {StoredReport[]} reports every report on the phone
 * @param {number} walkId
 * @returns {Map<string, Mark>} observation id → its mark
 */
export function latestMarks(reports, walkId) {
  /** @type {Map<string, StoredReport>} */
  const best = new Map();
  for (const r of reports) {
    if (r.walk_id !== walkId || !r.follows || !r.follow_up) continue;
    const held = best.get(r.follows);
    const later =
      !held ||
      Date.parse(r.created_at) > Date.parse(held.created_at) ||
      (Date.parse(r.created_at) === Date.parse(held.created_at) && r.id > held.id);
    if (later) best.set(r.follows, r);
  }
  return new Map([...best].map(([id, r]) => [id, /** @type {Mark} */ (r.follow_up)]));
}

/**
 * Count the open observations by mark.
 * @param {OpenObservation[]} open
 * @param {Map<string, Mark>} marks
 * @returns {{done: number, remains: number, unchecked: number}}
 */
export function markCounts(open, marks) {
  const counts = { done: 0, remains: 0, unchecked: 0 };
  for (const o of open) {
    const mark = marks.get(o.id);
    if (mark === "atgardat") counts.done += 1;
    else if (mark === "kvarstar") counts.remains += 1;
    else counts.unchecked += 1;
  }
  return counts;
}

/**
 * Wire the list of one joined follow-up walk.
 * @param {{section: HTMLElement, list: HTMLElement, counts: HTMLElement,
 *   listReports: () => Promise<StoredReport[]>,
 *   loadPhoto: import("./photos.js").LoadPhoto,
 *   label: (code: string) => string,
 *   onMark: (observation: OpenObservation, mark: Mark) => Promise<boolean>}} options onMark
 *   saves the mark (false: not saved)
 * @returns {{show: (walk: PlannedWalk) => Promise<void>, redraw: () => Promise<void>,
 *   close: () => void}}
 */
export function createFollowUpList({ section, list, counts, listReports, loadPhoto, label, onMark }) {
  /** @type {PlannedWalk | null} */
  let walk = null;
  /** @type {Map<string, Mark>} */
  let marks = new Map();
  /** @type {string[]} object URLs of the thumbnails shown, freed when the list goes */
  let urls = [];

  /** @param {PlannedWalk} w */
  async function show(w) {
    walk = w;
    section.hidden = w.follows == null;
    if (section.hidden) return;
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    const open = w.open_observations ?? [];
    list.replaceChildren(...(await Promise.all(open.map(item))));
    if (!open.length) {
      const none = document.createElement("li");
      none.className = "hint";
      none.textContent = t("walk.followUp.none");
      list.append(none);
    }
    await redraw();
  }

  /**
   * One open observation with its two buttons.
   * @param {OpenObservation} o
   */
  async function item(o) {
    const li = document.createElement("li");
    li.className = "follow-up-item";
    li.dataset.id = o.id;
    const what = document.createElement("p");
    what.className = "follow-up-what";
    const name = document.createElement("strong");
    name.textContent = label(o.category);
    what.append(name);
    if (o.stop != null) what.append(` · ${t("walk.followUp.stop", { number: String(o.stop) })}`);
    li.append(what);
    const thumb = o.photo ? await loadPhoto(o.photo).catch(() => undefined) : undefined;
    if (thumb) {
      const img = document.createElement("img");
      const url = URL.createObjectURL(new Blob([thumb.bytes], { type: thumb.type }));
      urls.push(url);
      img.src = url;
      img.alt = t("walk.followUp.photoAlt", { category: label(o.category) });
      img.className = "follow-up-thumb";
      li.append(img);
    }
    if (o.text) {
      const text = document.createElement("p");
      text.className = "follow-up-text";
      text.textContent = o.text;
      li.append(text);
    }
    const state = document.createElement("p");
    state.className = "follow-up-state";
    li.append(state);
    const buttons = document.createElement("div");
    buttons.className = "follow-up-buttons";
    buttons.setAttribute("role", "group");
    buttons.setAttribute("aria-label", name.textContent);
    for (const mark of MARKS) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `big mark-${mark}`;
      button.dataset.mark = mark;
      button.setAttribute("aria-pressed", "false");
      button.textContent = t(`walk.followUp.${mark}`);
      button.addEventListener("click", () => void tap(o, mark));
      buttons.append(button);
    }
    li.append(buttons);
    return li;
  }

  /**
   * @param {OpenObservation} o
   * @param {Mark} mark
   */
  async function tap(o, mark) {
    if (marks.get(o.id) === mark) return; // already so: a second tap adds nothing
    if (await onMark(o, mark)) await redraw();
  }

  /** Read the marks this phone holds and show them with the counts. */
  async function redraw() {
    if (!walk || walk.follows == null) return;
    const w = walk;
    marks = latestMarks(await listReports().catch(() => []), w.id);
    if (walk !== w) return; // left or joined another walk meanwhile
    const c = markCounts(w.open_observations ?? [], marks);
    counts.textContent = t("walk.followUp.counts", {
      done: String(c.done),
      remains: String(c.remains),
      unchecked: String(c.unchecked),
    });
    for (const li of list.querySelectorAll(".follow-up-item")) {
      const el = /** @type {HTMLElement} */ (li);
      const mark = marks.get(el.dataset.id ?? "");
      el.dataset.mark = mark ?? "";
      const state = /** @type {HTMLElement} */ (el.querySelector(".follow-up-state"));
      state.textContent = mark ? t("walk.followUp.marked", { mark: t(`walk.followUp.${mark}`) }) : "";
      for (const b of el.querySelectorAll("[data-mark]")) {
        b.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (b).dataset.mark === mark));
      }
    }
  }

  function close() {
    walk = null;
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    list.replaceChildren();
    section.hidden = true;
  }

  return { show, redraw, close };
}
