// The wiring: enrols the phone from the link printed by `lagesbild device enrol`, then shows
// the new-report screen and "Mina rapporter" and keeps the outbox syncing.
import { loadCategories } from "./categories.js";
import { loadCatalog, t, translatePage } from "./i18n.js";
import { createReportView } from "./report-view.js";
import { renderReports } from "./reports-view.js";
import * as store from "./store.js";
import { registerServiceWorker } from "./sw-register.js";
import { startSync } from "./sync.js";

const TOKEN_KEY = "lagesbild.device";

/**
 * @typedef {{token: string, device: {name: string, organisation: {name: string}}}} Enrolment
 * @typedef {import("./categories.js").Category} Category
 */

/** @param {string} text */
function setStatus(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

/**
 * Exchange the code in the URL fragment (#enrol=CODE) for a device token.
 * @param {string} code
 * @returns {Promise<Enrolment | null>}
 */
async function enrol(code) {
  /** @type {Response} */
  let resp;
  try {
    resp = await fetch("api/v1/enrol", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
  } catch {
    setStatus(t("enrol.failed"));
    return null;
  }
  if (!resp.ok) {
    setStatus(t("enrol.failed"));
    return null;
  }
  const body = await resp.json();
  localStorage.setItem(TOKEN_KEY, JSON.stringify(body));
  history.replaceState(null, "", location.pathname);
  return body;
}

/**
 * The saved enrolment, or null.
 * @returns {Enrolment | null}
 */
function savedEnrolment() {
  try {
    return JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Show the enrolled device, the report screen and the list; start syncing.
 * @param {Enrolment} enrolment
 */
/** @type {{hasDraft: () => boolean} | null} */
let reportView = null;

async function startApp(enrolment) {
  const { device, token } = enrolment;
  setStatus(t("enrol.done", { device: device.name, org: device.organisation.name }));
  for (const id of ["new-report", "my-reports"]) {
    const section = document.getElementById(id);
    if (section) section.hidden = false;
  }
  const placeholder = document.getElementById("placeholder");
  if (placeholder) placeholder.hidden = true;

  /** @type {Category[]} */
  let categories = [];
  /** @type {{trigger: () => void, stop: () => void} | null} */
  let sync = null;

  const refresh = async () => renderReports(await store.listReports(), categories);

  const view = createReportView({
    announce: setStatus,
    onSaved: () => {
      void refresh();
      sync?.trigger();
    },
  });

  reportView = view;
  categories = await loadCategories(token);
  view.setCategories(categories);
  await refresh();

  sync = startSync({
    onSummary: async () => {
      if (!categories.length) {
        categories = await loadCategories(token);
        view.setCategories(categories);
      }
      await refresh();
    },
    onRevoked: () => setStatus(t("enrol.revoked")),
  });
}

async function main() {
  // What this page load is decided before anything is awaited: enrolled or not, once.
  const match = location.hash.match(/enrol=([A-Za-z0-9-]+)/);
  const saved = savedEnrolment();
  await loadCatalog();
  translatePage();
  // An update reloads the page: never while a report is half-written.
  registerServiceWorker({ isBusy: () => Boolean(reportView?.hasDraft()) }).catch((error) =>
    console.warn("service worker", error),
  );
  const enrolment = match ? await enrol(match[1]) : saved;
  if (enrolment) {
    await startApp(enrolment);
  } else if (!match) {
    setStatus(t("enrol.needed"));
  }
}

main();
