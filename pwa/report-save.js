// Writing a report to the outbox from the form or "Lugnt pass", one at a time, and saying so
// where the user is looking: the toast "Sparad: Brand." with Ångra for a few seconds. Ångra
// takes a new report back out while it is still only on the phone.
import { t } from "./i18n.js";

/**
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./store.js").ReportPayload} ReportPayload
 */

/**
 * @param {{
 *   storage: {saveReport: (report: Partial<ReportPayload>) => Promise<StoredReport>,
 *     withdrawReport: (id: string) => Promise<boolean>},
 *   toast: import("./toast.js").Toast,
 *   buttons: HTMLButtonElement[],
 *   label: (code: string) => string,
 *   onSaved: (record: StoredReport) => void,
 *   onWithdrawn: () => void,
 * }} options buttons: disabled while a save is in flight (a second tap does nothing);
 *   label: a category's name
 * @returns {{write: (report: Partial<ReportPayload>, undoable: boolean,
 *   locate?: (() => Promise<ReportPayload["location"]>) | null) => Promise<boolean>,
 *   busy: () => boolean}}
 */
export function createSaver({ storage, toast, buttons, label, onSaved, onWithdrawn }) {
  let saving = false;

  /**
   * Ångra after Spara: take the report back out of the outbox unless it has been sent.
   * @param {StoredReport} record
   * @returns {Promise<string>} what the toast says then
   */
  async function withdraw(record) {
    const taken = await storage.withdrawReport(record.id).catch((error) => {
      console.error("withdraw", error);
      return false;
    });
    if (taken) onWithdrawn();
    return t(taken ? "report.withdrawn" : "report.cannotUndo");
  }

  /**
   * Write one report to the outbox, then say so.
   * @param {Partial<ReportPayload>} report
   * @param {boolean} undoable a new report (an edit has an earlier revision to go back to)
   * @param {(() => Promise<ReportPayload["location"]>) | null} [locate] finds the position
   *   first, inside the guard (a second tap while it looks is ignored)
   * @returns {Promise<boolean>} false: not saved (already saving, or the write failed)
   */
  async function write(report, undoable, locate = null) {
    if (saving) return false;
    saving = true;
    for (const button of buttons) button.disabled = true;
    try {
      const record = await storage.saveReport(locate ? { ...report, location: await locate() } : report);
      const said = t("report.saved", { category: label(record.category) });
      toast.show(said, undoable ? () => withdraw(record) : undefined);
      onSaved(record);
      return true;
    } catch (error) {
      console.error("save", error);
      toast.show(t("report.saveFailed"));
      return false;
    } finally {
      saving = false;
      for (const button of buttons) button.disabled = false;
    }
  }

  return { write, busy: () => saving };
}
