// The enrolled phone: shows the new-report screen and "Mina rapporter", keeps the outbox
// syncing (in the page, and from the service worker through Background Sync), warns about
// the clock and storage, and turns into the revoked screen when the server no longer accepts
// the phone. Every outbox read and write goes through the storage functions app.js hands in.
import { onWorkerSync, requestBackgroundSync } from "./background-sync.js";
import { categoryLabel, loadCategories } from "./categories.js";
import { createRevokedView, showWipeNotice } from "./device-state.js";
import { forgetEnrolment, shareToken } from "./enrolment.js";
import { wireExportButton } from "./export.js";
import { t } from "./i18n.js";
import { isAcknowledged } from "./keep.js";
import { CLOCK_SKEW_KEY, REVOKED_KEY } from "./meta-keys.js";
import { createNetStatus } from "./net-status.js";
import { checkStorage, requestPersistence, showClockSkew, showPhotoQuota } from "./notices.js";
import { createReportView } from "./report-view.js";
import { renderReports, wireShowOlder } from "./reports-view.js";
import { createRoundsView } from "./rounds-view.js";
import { setStatus, showEnrolScreen, showSections } from "./screens.js";
import { startSync } from "./sync.js";
import { createUrgentFallback } from "./urgent-fallback.js";
import { createWalkView } from "./walk-view.js";

/**
 * @typedef {import("./enrolment.js").Enrolment} Enrolment
 * @typedef {import("./categories.js").Category} Category
 * @typedef {import("./sync.js").SyncSummary} SyncSummary
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./walk-view.js").WalkStorage & {
 *   listReports: () => Promise<StoredReport[]>,
 *   getReport: (id: string) => Promise<StoredReport | undefined>,
 *   wipeData: () => Promise<void>,
 *   pruneOutbox: () => Promise<import("./prune.js").Dropped>,
 *   wipeRevoked: () => Promise<import("./prune.js").Dropped>,
 *   exportQueue: () => Promise<import("./outbox-export.js").OutboxExport>,
 *   meta: import("./meta-keys.js").MetaStore,
 *   rounds: import("./rounds-view.js").RoundStorage,
 * }} FieldStorage the outbox functions app.js hands to the screens
 */

/**
 * Show the enrolled device, the report screen and the list; start syncing.
 * @param {Enrolment} enrolment
 * @param {FieldStorage} storage
 * @returns {{hasDraft: () => boolean, ready: Promise<void>}} hasDraft: whether a report is
 *   half-written (an update must not reload now); ready: resolves once the screens are up
 */
export function startSession(enrolment, storage) {
  /** @type {{hasDraft: () => boolean} | null} */
  let reportView = null;
  const ready = run(enrolment, storage, (view) => {
    reportView = view;
  });
  return { hasDraft: () => Boolean(reportView?.hasDraft()), ready };
}

/**
 * @param {Enrolment} enrolment
 * @param {FieldStorage} storage
 * @param {(view: {hasDraft: () => boolean} | null) => void} setReportView
 * @returns {Promise<void>}
 */
async function run({ device, token }, storage, setReportView) {
  const { meta } = storage;
  setStatus(t("enrol.done", { device: device.name, org: device.organisation.name }));
  showSections(["walks", "new-report", "my-reports"], true);
  showSections(["placeholder"], false);
  // For the service worker's background passes; without it the page still syncs by itself.
  await shareToken(token, meta).catch((error) => console.warn("token for the worker", error));
  void requestPersistence(meta);
  void checkStorage();
  showClockSkew(await meta.get(CLOCK_SKEW_KEY));

  /** @type {Category[]} */
  let categories = [];
  /** @type {{trigger: () => void, stop: () => void} | null} */
  let sync = null;
  let revoked = false;
  const net = createNetStatus();
  net.show();

  const refresh = async () => {
    const reports = await storage.listReports();
    if (!revoked) {
      renderReports(reports, categories, { onEdit: (report) => void openEdit(report.id) });
      // A guard's scans and round runs wait in the same outbox: "ej skickade" counts them too.
      const rounds = await storage.rounds.unsentCount();
      net.setUnsent(reports.filter((r) => !isAcknowledged(r)).length + rounds);
      return 0;
    }
    // Revoked: only what never reached the server, read only (it can still be exported).
    const unsent = reports.filter((r) => !isAcknowledged(r));
    renderReports(unsent, categories, { emptyKey: "revoked.noneUnsent" });
    return unsent.length;
  };

  // An urgent report that does not get through: "Ring jouren" and "SMS till jouren".
  const fallback = createUrgentFallback({ meta, getReport: storage.getReport });
  const view = createReportView({
    storage,
    onWithdrawn: () => void refresh(),
    onSaved: (record) => {
      void refresh();
      sync?.trigger();
      void requestBackgroundSync();
      void checkStorage();
      const category = categories.find((c) => c.code === record.category);
      void fallback.afterSave(record, category, categoryLabel(category, record.category));
    },
  });
  // Walk mode: an observation is saved into the same outbox and synced the same way.
  const walkView = createWalkView({
    storage,
    onSaved: () => {
      void refresh();
      sync?.trigger();
      void requestBackgroundSync();
    },
    onWithdrawn: () => void refresh(),
    onEnter: () => showSections(["new-report"], false),
    onLeave: () => showSections(["new-report"], !revoked),
  });
  setReportView({ hasDraft: () => view.hasDraft() || walkView.hasDraft() });
  // Guard rounds: runs and scans are queued beside the reports and synced the same way.
  const roundsView = createRoundsView({
    storage: storage.rounds,
    onQueued: () => {
      void refresh();
      sync?.trigger();
      void requestBackgroundSync();
    },
    onReportHere: (checkpoint) => {
      if (checkpoint.lat === null || checkpoint.lon === null) return;
      view.reportAt({ name: checkpoint.name, lat: checkpoint.lat, lon: checkpoint.lon });
      const heading = document.getElementById("new-report-heading");
      heading?.scrollIntoView({ block: "start" });
      /** @type {HTMLElement | null} */ (document.querySelector("#tiles .tile"))?.focus();
    },
    announce: setStatus,
  });
  // A checkpoint's QR link (`#scan=TOKEN`) opened from the camera app or a link: once only,
  // so a reload does not record it again.
  const openScanLink = async () => {
    const match = location.hash.match(/[#&]scan=([^&]+)/);
    if (!match || revoked) return;
    history.replaceState(null, "", location.pathname + location.search);
    await roundsView.openScanLink(decodeURIComponent(match[1]));
  };
  window.addEventListener("hashchange", () => void openScanLink());

  /** @param {string} id */
  const openEdit = async (id) => {
    const record = await storage.getReport(id); // as it is now, not as the list drew it
    if (record && !revoked) view.edit(record);
  };

  const revokedView = createRevokedView({
    announce: setStatus,
    wipeData: storage.wipeData,
    forgetEnrolment,
    onWiped: () => {
      showEnrolScreen();
      setReportView(null);
    },
  });
  const enterRevoked = async () => {
    if (revoked) return;
    revoked = true;
    sync?.stop();
    net.hide(); // the revoked screen says what is left; nothing will be sent any more
    setStatus(t("enrol.revoked"));
    showSections(["new-report", "walks"], false);
    roundsView.hide();
    view.dismiss(); // no "Sparad" with Ångra over the revoked screen
    setReportView(null);
    // The pass that got the 401 has already deleted what the server has; again here for a
    // phone revoked before this version (or if that failed): nothing acknowledged stays.
    const wiped = await storage.wipeRevoked().then(
      () => true,
      (error) => {
        console.error("wipe acknowledged", error);
        return false;
      },
    );
    revokedView.show(await refresh(), wiped);
  };

  wireShowOlder();
  const exportButton = document.getElementById("export");
  if (exportButton) {
    // Said in the toast: the button sits after the list, far below the status line.
    const announceExport = (/** @type {string} */ text) => (revoked ? setStatus(text) : view.notify(text));
    wireExportButton(/** @type {HTMLButtonElement} */ (exportButton), announceExport, storage.exportQueue);
  }

  categories = await loadCategories(token, meta);
  view.setCategories(categories);
  walkView.setCategories(categories);
  if (await meta.get(REVOKED_KEY)) {
    await enterRevoked(); // stays revoked across restarts, offline too
    return;
  }
  // At start-up too: a phone opened after a week without coverage lets go of old details,
  // before a draft is restored (a draft changing a report pruned now goes with it).
  await storage.pruneOutbox().catch((error) => console.warn("prune", error));
  // A report half-written before a reload or restart, before the user starts another one.
  await view.restoreDraft();
  await refresh();
  await walkView.refresh(); // the walks of the last pull: walk mode works offline
  await roundsView.refresh(); // the rounds of the last pull and a round running: offline too
  await openScanLink();

  /** @param {SyncSummary} summary */
  const afterPass = async (summary) => {
    if (!revoked) net.afterPass(summary);
    if (summary.clockSkewMs !== null) showClockSkew(summary.clockSkewMs);
    showPhotoQuota(summary.photoQuotaUntil);
    const next = await loadCategories(token, meta); // a pull may have added or retired some
    if (JSON.stringify(next) !== JSON.stringify(categories)) {
      categories = next;
      view.setCategories(categories);
      walkView.setCategories(categories);
    }
    if (summary.revoked) await enterRevoked();
    else if (!revoked) {
      if (summary.wiped) showWipeNotice(summary.wiped.reports);
      await refresh();
      await walkView.refresh(); // the pull may have brought walks planned for today
      await roundsView.refresh(); // rounds pulled, scans answered (a rejection is shown)
    }
  };

  onWorkerSync((summary) => void afterPass(summary));
  sync = startSync({ onSummary: (summary) => void afterPass(summary) });
}
