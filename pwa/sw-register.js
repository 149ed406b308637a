// Registers the service worker and offers a waiting new version to the user. The worker
// never takes over by itself: the user says when (never in the middle of a report).
import { t } from "./i18n.js";

/** @type {() => boolean} */
let busy = () => false;

/**
 * Register /sw.js for the whole site and announce new versions as they arrive.
 * @param {{isBusy?: () => boolean}} [options] isBusy: true while an update must wait
 *   (a half-written report would be lost by the reload)
 * @returns {Promise<ServiceWorkerRegistration | null>} null where service workers are missing
 */
export async function registerServiceWorker({ isBusy = () => false } = {}) {
  busy = isBusy;
  if (!("serviceWorker" in navigator)) return null;
  // A module worker: sw.js imports store.js and sync.js for Background Sync.
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" });
  if (registration.waiting && navigator.serviceWorker.controller) {
    showUpdateBanner(registration.waiting);
  }
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      // With no controller this is the first install, not an update.
      if (worker.state === "installed" && navigator.serviceWorker.controller) {
        showUpdateBanner(worker);
      }
    });
  });
  return registration;
}

/**
 * Show a non-blocking banner offering the waiting worker; applying it reloads the page once
 * the new worker has taken control.
 * @param {ServiceWorker} worker
 */
function showUpdateBanner(worker) {
  if (document.getElementById("update-banner")) return;
  const banner = document.createElement("aside");
  banner.id = "update-banner";
  banner.className = "update-banner";
  banner.setAttribute("aria-live", "polite");
  const text = document.createElement("span");
  text.textContent = t("update.available");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = t("update.apply");
  button.addEventListener("click", () => {
    if (busy()) {
      text.textContent = t("update.finish_first");
      return;
    }
    button.disabled = true;
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (reloading) return;
      reloading = true;
      location.reload();
    });
    worker.postMessage({ type: "SKIP_WAITING" });
  });
  banner.append(text, button);
  document.body.append(banner);
}
