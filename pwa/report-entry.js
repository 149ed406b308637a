// One entry of "Mina rapporter": category and time, the state as a badge (an icon, a border
// and words: "Sparad på telefonen" must not look like "På servern"), where it was (the place
// typed, else the coordinates) and the first words of the text, so that two reports of the
// same category and minute can be told apart; then the coordinator's comments and, while the
// report can still change, a button to edit it.
import { categoryLabel } from "./categories.js";
import { currentLang, t } from "./i18n.js";

/** @typedef {import("./categories.js").Category} Category */
/** @typedef {import("./store.js").StoredReport} StoredReport */

/** Coordinator statuses that have words in the catalogs (server REPORT_STATUSES and "gone"). */
const STATUSES = new Set(["ny", "bedomd", "atgard_pagar", "atgardad", "avslutad", "dubblett", "gone"]);

/** Statuses after which the device can no longer change a report (closed, or deleted). */
export const CLOSED = new Set(["atgardad", "avslutad", "dubblett", "gone"]);

/** The first words of the text: enough to recognise it, short enough for one line. */
const SNIPPET_WORDS = 8;
const SNIPPET_CHARS = 60;

/** An icon per state, beside the words (never instead of them); aria-hidden. */
const ICONS = { saved: "○", sending: "↻", sent: "✓", rejected: "!" };

/**
 * Whether the user may still edit a report from the list.
 * @param {StoredReport} report
 * @returns {boolean}
 */
export function isEditable(report) {
  // A pruned report has lost its text here: an edit would overwrite the server's copy.
  return !CLOSED.has(report.serverStatus ?? "") && !report.prunedAt;
}

/**
 * A report's state in words.
 * @param {StoredReport} report
 * @returns {string}
 */
export function stateText(report) {
  switch (report.state) {
    case "sending":
      return t("reports.state.sending");
    case "sent":
      return report.serverStatus && STATUSES.has(report.serverStatus)
        ? t("reports.state.sentWithStatus", { status: t(`reports.status.${report.serverStatus}`) })
        : t("reports.state.sent");
    case "rejected": {
      const reasons = Object.values(report.errors ?? {}).flat();
      return t("reports.state.rejected", { reason: reasons.join(" ") || t("reports.rejectedUnknown") });
    }
    default:
      return t("reports.state.saved");
  }
}

/**
 * Where the report was: the place typed, else "Nära 55.600, 13.181", else "".
 * @param {StoredReport} report
 * @returns {string}
 */
export function whereText(report) {
  const place = (report.place ?? "").trim();
  if (place) return place;
  const at = report.location;
  if (!at || !Number.isFinite(at.lat) || !Number.isFinite(at.lon)) return "";
  // Three decimals is about 100 m: enough to tell two places apart, no more.
  return t("reports.near", { lat: at.lat.toFixed(3), lon: at.lon.toFixed(3) });
}

/**
 * The first words of the description, with " …" when there is more.
 * @param {string | null | undefined} text
 * @returns {string}
 */
export function snippet(text) {
  const words = (text ?? "").trim().split(/\s+/).filter(Boolean);
  let short = words.slice(0, SNIPPET_WORDS).join(" ");
  if (short.length > SNIPPET_CHARS) short = short.slice(0, SNIPPET_CHARS).replace(/\s+\S*$/, "");
  return short.length < words.join(" ").length ? `${short} …` : short;
}

/**
 * What the entry shows; a redraw leaves an entry alone while this stays the same.
 * @param {StoredReport} report
 * @param {boolean} editable
 * @returns {string}
 */
export function entryKey(report, editable) {
  return JSON.stringify([
    currentLang(),
    report.category,
    report.created_at,
    stateText(report),
    whereText(report),
    report.description ?? "",
    Boolean(report.prunedAt),
    (report.comments ?? []).map((c) => c.body),
    editable,
    report.state === "rejected",
    Boolean(report.onCallSeenAt),
  ]);
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 * @returns {HTMLElement}
 */
function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Build one entry.
 * @param {StoredReport} report
 * @param {{categories: Category[], time: Intl.DateTimeFormat,
 *   onEdit: ((report: StoredReport) => void) | null}} options
 * @returns {HTMLLIElement}
 */
export function buildEntry(report, { categories, time, onEdit }) {
  const item = document.createElement("li");
  item.className = `report state-${report.state}`;
  item.dataset.id = report.id;
  item.tabIndex = -1; // "Visa äldre" moves focus to the first entry it reveals
  const category = categories.find((c) => c.code === report.category);
  const title = element("span", "report-title", categoryLabel(category, report.category));
  title.id = `report-title-${report.id}`;
  const when = /** @type {HTMLTimeElement} */ (element("time", "", ""));
  when.dateTime = report.created_at;
  when.textContent = time.format(new Date(report.created_at));
  const badge = element("span", "report-badge", "");
  const icon = element("span", "state-icon", ICONS[report.state] ?? ICONS.saved);
  icon.setAttribute("aria-hidden", "true");
  badge.append(icon, element("span", "report-state", stateText(report)));
  item.append(title, " ", when, " ", badge);
  const where = whereText(report);
  if (where) item.append(element("span", "report-where", where));
  const text = snippet(report.description);
  if (text) item.append(element("span", "report-text", text));
  if (report.prunedAt) item.append(element("p", "hint report-pruned", t("reports.pruned")));
  // The on-call person acknowledged the alert of this urgent report (the pull's `acknowledged`).
  if (report.onCallSeenAt) item.append(element("p", "report-oncall-seen", t("reports.onCallSeen")));
  for (const comment of report.comments ?? []) item.append(element("p", "report-comment", comment.body));
  if (onEdit && isEditable(report)) {
    const button = /** @type {HTMLButtonElement} */ (
      element("button", "big report-edit", t(report.state === "rejected" ? "reports.fix" : "reports.edit"))
    );
    button.type = "button";
    button.setAttribute("aria-describedby", title.id);
    button.addEventListener("click", () => onEdit(report));
    item.append(button);
  }
  return item;
}
