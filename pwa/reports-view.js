// "Mina rapporter": this device's reports from the outbox, newest first (each entry is built
// by report-entry.js). The latest ten show; "Visa äldre (N)" reveals ten more at a time and
// stays open across redraws. A redraw (after every save and sync pass) keeps the entries
// that did not change, so nothing flickers and focus stays where it was. The export button
// sits after the list and shows whenever the list has a report: it does not come and go
// around every save (it says so when there is nothing unsent).
import { buildEntry, entryKey, isEditable } from "./report-entry.js";
import { currentLang, t } from "./i18n.js";

/** @typedef {import("./categories.js").Category} Category */
/** @typedef {import("./store.js").StoredReport} StoredReport */

/** Entries shown at first, and revealed by each tap on "Visa äldre". */
export const PAGE_SIZE = 10;

/** How many entries show now (grows with "Visa äldre", for as long as the page lives). */
let shown = PAGE_SIZE;
/** The entries on screen by report id, with the key of what each shows. */
const drawn = new Map();
/**
 * @typedef {{onEdit?: ((report: StoredReport) => void) | null, emptyKey?: string}} RenderOptions
 *   no onEdit: read only (a revoked phone can no longer send anything); emptyKey: the message
 *   shown when the list is empty
 */

/** @type {{reports: StoredReport[], categories: Category[], options: RenderOptions} | null} */
let last = null; // the latest list, for "Visa äldre" to draw more of

/**
 * @param {HTMLElement} el
 * @param {boolean} hidden
 */
function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}

/**
 * Render the list.
 * @param {StoredReport[]} reports oldest first, as store.listReports() gives them
 * @param {Category[]} categories
 * @param {RenderOptions} [options]
 */
export function renderReports(reports, categories, options = {}) {
  const { onEdit = null, emptyKey = "reports.empty" } = options;
  const list = document.getElementById("reports");
  const empty = document.getElementById("reports-empty");
  const more = document.getElementById("reports-more");
  const exportButton = document.getElementById("export");
  if (!list || !empty) return;
  last = { reports, categories, options };
  if (exportButton) setHidden(exportButton, reports.length === 0);
  const time = new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "sv-SE", {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const newest = [...reports].reverse();
  const visible = newest.slice(0, shown);
  /** @type {HTMLElement[]} */
  const items = visible.map((report) => {
    const key = entryKey(report, Boolean(onEdit) && isEditable(report));
    const old = drawn.get(report.id);
    if (old && old.key === key) return old.item;
    const item = buildEntry(report, { categories, time, onEdit });
    drawn.set(report.id, { key, item });
    return item;
  });
  const keep = new Set(visible.map((r) => r.id));
  for (const id of [...drawn.keys()]) if (!keep.has(id)) drawn.delete(id);
  place(list, items);
  if (more) {
    const hiddenCount = newest.length - visible.length;
    if (hiddenCount > 0) more.textContent = t("reports.more", { count: String(hiddenCount) });
    setHidden(more, hiddenCount === 0);
  }
  empty.textContent = t(emptyKey);
  setHidden(empty, items.length > 0);
}

/**
 * Put `items` in `list` in order, moving only what is out of place (a moved or removed node
 * loses focus; one left in place keeps it).
 * @param {HTMLElement} list
 * @param {HTMLElement[]} items
 */
function place(list, items) {
  items.forEach((item, index) => {
    const at = list.children[index] ?? null;
    if (at !== item) list.insertBefore(item, at);
  });
  while (list.children.length > items.length) list.lastElementChild?.remove();
}

/** Wire "Visa äldre": ten more each tap; focus on the first one revealed once all show. */
export function wireShowOlder() {
  const more = document.getElementById("reports-more");
  const list = document.getElementById("reports");
  if (!more || !list) return;
  more.addEventListener("click", () => {
    if (!last) return;
    const firstNew = shown;
    shown += PAGE_SIZE;
    renderReports(last.reports, last.categories, last.options);
    // The button stays focused while there is more; when it goes, focus must not fall to
    // the top of the page.
    if (more.hidden) /** @type {HTMLElement | undefined} */ (list.children[firstNew])?.focus();
  });
}
