// "Mina rapporter": this device's reports from the outbox, newest first, each with its state
// in words (saved on the phone, sending, on the server with the coordinator's status, or
// rejected with the server's reason).
import { categoryLabel } from "./categories.js";
import { currentLang, t } from "./i18n.js";

/** @typedef {import("./categories.js").Category} Category */
/** @typedef {import("./store.js").StoredReport} StoredReport */

/** Coordinator statuses that have words in the catalogs (server REPORT_STATUSES and "gone"). */
const STATUSES = new Set(["ny", "bedomd", "atgard_pagar", "atgardad", "avslutad", "dubblett", "gone"]);

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
 */
export function renderReports(reports, categories) {
  const list = document.getElementById("reports");
  const empty = document.getElementById("reports-empty");
  if (!list || !empty) return;
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
    const category = categories.find((c) => c.code === report.category);
    title.textContent = categoryLabel(category, report.category);
    const when = document.createElement("time");
    when.dateTime = report.created_at;
    when.textContent = time.format(new Date(report.created_at));
    const state = document.createElement("span");
    state.className = "report-state";
    state.textContent = stateText(report);
    item.append(title, " ", when, " ", state);
    for (const comment of report.comments ?? []) {
      const note = document.createElement("p");
      note.className = "report-comment";
      note.textContent = comment.body;
      item.append(note);
    }
    return item;
  });
  list.replaceChildren(...items);
  empty.hidden = items.length > 0;
}
