// After an urgent report is saved: if the phone is offline, or the report has not reached
// the server a few seconds later (its push failed), show the way out besides Ring 112:
// "Ring jouren" and "SMS till jouren" with a prefilled body, to the on-call number the last
// pull brought. The report itself stays in the outbox and keeps retrying like any other.
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { ON_CALL_KEY } from "./meta-keys.js";
import { isIos, smsBody, smsHref, telHref } from "./sms-link.js";

/** How long a saved urgent report may take to reach the server before the panel shows. */
export const FALLBACK_WAIT_MS = 6000;
const EVERY_MS = 300;

/**
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./meta-keys.js").MetaStore} MetaStore
 */

/**
 * @param {{meta: MetaStore, getReport: (id: string) => Promise<StoredReport | undefined>}} storage
 * @returns {{afterSave: (record: StoredReport, category: Category | undefined, label: string) =>
 *   Promise<boolean>, hide: () => void}}
 */
export function createUrgentFallback({ meta, getReport }) {
  const panel = byId("urgent-fallback");
  const call = /** @type {HTMLAnchorElement} */ (byId("call-oncall"));
  const sms = /** @type {HTMLAnchorElement} */ (byId("sms-oncall"));
  byId("fallback-close").addEventListener("click", () => hide());

  function hide() {
    panel.hidden = true;
  }

  /**
   * @param {StoredReport} record
   * @param {string} label the category's name
   */
  async function show(record, label) {
    /** @type {{phone?: string} | null | undefined} */
    const onCall = await meta.get(ON_CALL_KEY);
    const phone = onCall?.phone ?? "";
    call.hidden = sms.hidden = !phone;
    if (phone) {
      call.href = telHref(phone);
      const body = smsBody(
        {
          category: label,
          id: record.id,
          lat: record.location?.lat,
          lon: record.location?.lon,
          at: new Date(record.created_at),
        },
        { urgent: t("fallback.sms.urgent"), report: t("fallback.sms.report"), noPosition: t("fallback.sms.noPosition") },
      );
      sms.href = smsHref(phone, body, isIos(navigator));
    }
    panel.hidden = false;
    panel.focus();
  }

  /**
   * Whether the report reached the server within the wait.
   * @param {string} id
   * @returns {Promise<boolean>}
   */
  async function arrives(id) {
    const end = Date.now() + FALLBACK_WAIT_MS;
    while (Date.now() < end) {
      const now = await getReport(id);
      if (!now || now.state === "sent") return true;
      if (now.state === "rejected") return false;
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
    }
    return false;
  }

  /**
   * Watch a just-saved report; show the panel when it is urgent and does not get through.
   * @param {StoredReport} record
   * @param {Category | undefined} category
   * @param {string} label
   * @returns {Promise<boolean>} whether the panel was shown
   */
  async function afterSave(record, category, label) {
    if (!category?.urgent) return false;
    hide();
    if (navigator.onLine !== false && (await arrives(record.id))) return false;
    await show(record, label);
    return true;
  }

  return { afterSave, hide };
}
