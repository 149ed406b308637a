// "Mina rapporter": this device's reports from the outbox, newest first, each with its state
// in words (saved on the phone, sending, on the server with the coordinator's status, or
// rejected with the server's reason) and, until the coordinator has closed it, a button to
// edit it ("Rätta och skicka igen" for a rejected one). A report the phone has pruned (keep.js)
// says that its details are only on the server, and can no longer be edited from here. The
// export button shows while any report is not on the server in full.
import { categoryLabel } from "./categories.js";
import { currentLang, t } from "./i18n.js";
import { isAcknowledged } from "./keep.js";

/** @typedef {import("./categories.js").Category} Category */
/** @typedef {import("./store.js").StoredReport} StoredReport */

/** Coordinator statuses that have words in the catalogs (server REPORT_STATUSES and "gone"). */
const STATUSES = new Set(["ny", "bedomd", "atgard_pagar", "atgardad", "avslutad", "dubblett", "gone"]);

/** Statuses after which the device can no longer change a report (closed, or deleted). */
export const CLOSED = new Set(["atgardad", "avslutad", "dubblett", "gone"]);

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
 * Render the list.
 * @param {StoredReport[]} reports oldest first, as store.listReports() gives them
 * @param {Category[]} categories
 * @param {{onEdit?: ((report: StoredReport) => void) | null, emptyKey?: string}} [options]
 *   no onEdit: read only (a revoked phone can no longer send anything); emptyKey: the message
 *   shown when the list is empty
 */
export function renderReports(reports, categories, { onEdit = null, emptyKey = "reports.empty" } = {}) {
  const list = document.getElementById("reports");
  const empty = document.getElementById("reports-empty");
  const exportButton = document.getElementById("export");
  if (!list || !empty) return;
  if (exportButton) exportButton.hidden = reports.every(isAcknowledged);
  const time = new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "sv-SE", {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const items = [...reports].reverse().map((report) => {
    const item = document.createElement("li");
    item.className = `report state-${report.state}`;
    item.dataset.id = report.id;
    const title = document.createElement("span");
    title.className = "report-title";
    title.id = `report-title-${report.id}`;
    const category = categories.find((c) => c.code === report.category);
    title.textContent = categoryLabel(category, report.category);
    const when = document.createElement("time");
    when.dateTime = report.created_at;
    when.textContent = time.format(new Date(report.created_at));
    const state = document.createElement("span");
    state.className = "report-state";
    state.textContent = stateText(report);
    item.append(title, " ", when, " ", state);
    if (report.prunedAt) {
      const pruned = document.createElement("p");
      pruned.className = "hint report-pruned";
      pruned.textContent = t("reports.pruned");
      item.append(pruned);
    }
    for (const comment of report.comments ?? []) {
      const note = document.createElement("p");
      note.className = "report-comment";
      note.textContent = comment.body;
      item.append(note);
    }
    if (onEdit && isEditable(report)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "big report-edit";
      button.textContent = t(report.state === "rejected" ? "reports.fix" : "reports.edit");
      button.setAttribute("aria-describedby", title.id);
      button.addEventListener("click", () => onEdit(report));
      item.append(button);
    }
    return item;
  });
  list.replaceChildren(...items);
  empty.textContent = t(emptyKey);
  empty.hidden = items.length > 0;
}
