// The wiring: theme, language and service worker; enrols the phone from the link printed by
// `lagesbild device enrol`, then starts the enrolled session (session.js). This is the one
// page module that imports the outbox (store.js, store-rounds.js): the screens get its
// functions from here.
import { clearDraft, loadDraft, saveDraft } from "./drafts.js";
import { enrol, savedEnrolment } from "./enrolment.js";
import { loadCatalog, t, translatePage } from "./i18n.js";
import { exportQueue } from "./outbox-export.js";
import { pruneOutbox, wipeRevoked } from "./prune.js";
import { setStatus } from "./screens.js";
import { startSession } from "./session.js";
import * as store from "./store.js";
import * as rounds from "./store-rounds.js";
import { registerServiceWorker } from "./sw-register.js";
import { exclusively } from "./sync.js";
import { applyTheme, storedTheme, wireThemeSwitch } from "./theme.js";

/** @type {import("./session.js").FieldStorage} */
const storage = {
  listReports: store.listReports,
  getReport: store.getReport,
  saveReport: store.saveReport,
  // Never while a pass may be pushing it: under the sync lock, "saved" means not on its way.
  withdrawReport: (id) => exclusively(() => store.withdraw(id)),
  loadDraft,
  saveDraft,
  clearDraft,
  savePhoto: store.savePhoto,
  loadPhoto: store.photo,
  wipeData: store.wipe,
  pruneOutbox: () => pruneOutbox(),
  wipeRevoked,
  exportQueue,
  listWalks: store.listWalks,
  meta: { get: store.getMeta, set: store.setMeta },
  rounds: {
    listRounds: rounds.listRounds,
    listCheckpoints: rounds.listCheckpoints,
    listRuns: rounds.listRuns,
    listScans: rounds.listScans,
    startRun: rounds.startRun,
    endRun: rounds.endRun,
    saveScan: rounds.saveScan,
    unsentCount: rounds.unsentCount,
  },
};

/** @type {{hasDraft: () => boolean} | null} */
let session = null;

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
  registerServiceWorker({ isBusy: () => Boolean(session?.hasDraft()) }).catch((error) =>
    console.warn("service worker", error),
  );
  // An enrolment link opened on this very page (e.g. after a wipe) is a new page load.
  window.addEventListener("hashchange", () => {
    if (/enrol=/.test(location.hash) && !savedEnrolment()) location.reload();
  });
  const enrolment = match ? await enrol(match[1], storage.meta) : saved;
  if (enrolment) {
    const started = startSession(enrolment, storage);
    session = started;
    await started.ready;
  } else if (match) {
    setStatus(t("enrol.failed"));
  } else {
    setStatus(t("enrol.needed"));
  }
}

main();
