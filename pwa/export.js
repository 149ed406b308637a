// "Exportera osända rapporter": the unsent queue (outbox-export.js, handed in by app.js) as a
// JSON file the user can keep or hand over. Exporting never changes the queue. With nothing
// unsent there is no file: the button says so instead (it stays on screen, so that it does
// not come and go around every save).
import { t } from "./i18n.js";
import { localIsoWithOffset } from "./time.js";

/** @typedef {import("./outbox-export.js").OutboxExport} OutboxExport */

/** How long the download's object URL stays valid (the browser reads it at once). */
const URL_LIFETIME_MS = 60000;

/**
 * A file name with the device's local time, e.g. "lagesbild-osanda-2026-11-21-2310.json".
 * @param {Date} date
 * @returns {string}
 */
export function exportFileName(date) {
  const stamp = localIsoWithOffset(date).slice(0, 16).replace("T", "-").replace(":", "");
  return t("export.fileName", { time: stamp });
}

/**
 * Download every unsent report and its photos as one JSON file (none when nothing is unsent).
 * @param {() => Promise<OutboxExport>} exportQueue reads the unsent queue
 * @returns {Promise<number>} how many reports the file holds
 */
export async function downloadQueue(exportQueue) {
  const data = await exportQueue();
  if (data.reports.length === 0) return 0;
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = exportFileName(new Date());
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), URL_LIFETIME_MS);
  return data.reports.length;
}

/**
 * Wire an export button: it downloads the queue and says how many reports went into the file.
 * @param {HTMLButtonElement} button
 * @param {(text: string) => void} announce
 * @param {() => Promise<OutboxExport>} exportQueue reads the unsent queue
 */
export function wireExportButton(button, announce, exportQueue) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const count = await downloadQueue(exportQueue);
      announce(count === 0 ? t("export.nothing") : t("export.done", { count: String(count) }));
    } catch (error) {
      console.error("export", error);
      announce(t("export.failed"));
    } finally {
      button.disabled = false;
    }
  });
}
