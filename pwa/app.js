// The wiring: enrols the phone from the link printed by `lagesbild device enrol`, then shows
// the new-report screen and "Mina rapporter", keeps the outbox syncing (in the page, and from
// the service worker through Background Sync), warns about the clock and storage, and turns
// into the revoked screen when the server no longer accepts the phone.
import { onWorkerSync, requestBackgroundSync } from "./background-sync.js";
import { loadCategories } from "./categories.js";
import { createRevokedView } from "./device-state.js";
import { enrol, savedEnrolment, shareToken } from "./enrolment.js";
import { wireExportButton } from "./export.js";
import { loadCatalog, t, translatePage } from "./i18n.js";
import { checkStorage, requestPersistence, showClockSkew } from "./notices.js";
import { createReportView } from "./report-view.js";
import { renderReports } from "./reports-view.js";
import * as store from "./store.js";
import { registerServiceWorker } from "./sw-register.js";
import { CLOCK_SKEW_KEY, startSync } from "./sync.js";
import { applyTheme, storedTheme, wireThemeSwitch } from "./theme.js";

/**
 * @typedef {import("./enrolment.js").Enrolment} Enrolment
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./sync.js").SyncSummary} SyncSummary
 */

/** @param {string} text */
function setStatus(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

/**
 * @param {string[]} ids
 * @param {boolean} visible
 */
function showSections(ids, visible) {
  for (const id of ids) {
    const el = document.getElementById(id);
    if (el) el.hidden = !visible;
  }
}

/** Back to the first screen: the phone is not enrolled (any more). */
function showEnrolScreen() {
  showSections(["new-report", "my-reports", "revoked", "clock-warning"], false);
  showSections(["placeholder"], true);
  setStatus(t("enrol.needed"));
  reportView = null;
}

/** @type {{hasDraft: () => boolean} | null} */
let reportView = null;

/**
 * Show the enrolled device, the report screen and the list; start syncing.
 * @param {Enrolment} enrolment
 */
async function startApp(enrolment) {
  const { device, token } = enrolment;
  setStatus(t("enrol.done", { device: device.name, org: device.organisation.name }));
  showSections(["new-report", "my-reports"], true);
  showSections(["placeholder"], false);
  // For the service worker's background passes; without it the page still syncs by itself.
  await shareToken(token).catch((error) => console.warn("token for the worker", error));
  void requestPersistence();
  void checkStorage();
  showClockSkew(await store.getMeta(CLOCK_SKEW_KEY));

  /** @type {Category[]} */
  let categories = [];
  /** @type {{trigger: () => void, stop: () => void} | null} */
  let sync = null;
  let revoked = false;

  const refresh = async () => {
    const reports = await store.listReports();
    if (!revoked) {
      renderReports(reports, categories, { onEdit: (report) => void openEdit(report.id) });
      return 0;
    }
    // Revoked: only what never reached the server, read only (it can still be exported).
    const unsent = reports.filter((r) => r.state !== "sent");
    renderReports(unsent, categories, { emptyKey: "revoked.noneUnsent" });
    return unsent.length;
  };

  const view = createReportView({
    announce: setStatus,
    onSaved: () => {
      void refresh();
      sync?.trigger();
      void requestBackgroundSync();
      void checkStorage();
    },
  });
  reportView = view;

  /** @param {string} id */
  const openEdit = async (id) => {
    const record = await store.getReport(id); // as it is now, not as the list drew it
    if (record && !revoked) view.edit(record);
  };

  const revokedView = createRevokedView({ announce: setStatus, onWiped: showEnrolScreen });
  const enterRevoked = async () => {
    if (revoked) return;
    revoked = true;
    sync?.stop();
    setStatus(t("enrol.revoked"));
    showSections(["new-report"], false);
    reportView = null;
    revokedView.show(await refresh());
  };

  const exportButton = document.getElementById("export");
  if (exportButton) wireExportButton(/** @type {HTMLButtonElement} */ (exportButton), setStatus);

  categories = await loadCategories(token);
  view.setCategories(categories);
  if (await store.getMeta(store.REVOKED_KEY)) {
    await enterRevoked(); // stays revoked across restarts, offline too
    return;
  }
  await refresh();

  /** @param {SyncSummary} summary */
  const afterPass = async (summary) => {
    if (summary.clockSkewMs !== null) showClockSkew(summary.clockSkewMs);
    const next = await loadCategories(token); // a pull may have added or retired some
    if (JSON.stringify(next) !== JSON.stringify(categories)) {
      categories = next;
      view.setCategories(categories);
    }
    if (summary.revoked) await enterRevoked();
    else if (!revoked) await refresh();
  };

  onWorkerSync((summary) => void afterPass(summary));
  sync = startSync({ onSummary: (summary) => void afterPass(summary) });
}

async function main() {
  // What this page load is decided before anything is awaited: enrolled or not, once.
  const match = location.hash.match(/enrol=([A-Za-z0-9-]+)/);
  const saved = savedEnrolment();
  applyTheme(storedTheme());
  await loadCatalog();
  translatePage();
  const themeSwitch = document.getElementById("theme-switch");
  if (themeSwitch instanceof HTMLButtonElement) wireThemeSwitch(themeSwitch);
  // An update reloads the page: never while a report is half-written.
  registerServiceWorker({ isBusy: () => Boolean(reportView?.hasDraft()) }).catch((error) =>
    console.warn("service worker", error),
  );
  // An enrolment link opened on this very page (e.g. after a wipe) is a new page load.
  window.addEventListener("hashchange", () => {
    if (/enrol=/.test(location.hash) && !savedEnrolment()) location.reload();
  });
  const enrolment = match ? await enrol(match[1]) : saved;
  if (enrolment) {
    await startApp(enrolment);
  } else if (match) {
    setStatus(t("enrol.failed"));
  } else {
    setStatus(t("enrol.needed"));
  }
}

main();
