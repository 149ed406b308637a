// Minimal shell until the field app lands: enrols the phone from the link printed by
// `lagesbild device enrol` and shows which organisation and device it belongs to.
import { loadCatalog, t, translatePage } from "./i18n.js";
import { registerServiceWorker } from "./sw-register.js";

const TOKEN_KEY = "lagesbild.device";

/**
 * Exchange the code in the URL fragment (#enrol=CODE) for a device token.
 * @param {string} code
 * @returns {Promise<void>}
 */
async function enrol(code) {
  const status = document.getElementById("status");
  const resp = await fetch("api/v1/enrol", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  if (!resp.ok) {
    status.textContent = t("enrol.failed");
    return;
  }
  const body = await resp.json();
  localStorage.setItem(TOKEN_KEY, JSON.stringify(body));
  history.replaceState(null, "", location.pathname);
  showDevice(body.device);
}

/**
 * Show the enrolled device.
 * @param {{name: string, organisation: {name: string}}} device
 */
function showDevice(device) {
  document.getElementById("status").textContent = t("enrol.done", {
    device: device.name,
    org: device.organisation.name,
  });
}

async function main() {
  await loadCatalog();
  translatePage();
  registerServiceWorker().catch((error) => console.warn("service worker", error));
  const match = location.hash.match(/enrol=([A-Za-z0-9-]+)/);
  if (match) {
    await enrol(match[1]);
    return;
  }
  const saved = localStorage.getItem(TOKEN_KEY);
  document.getElementById("status").textContent = saved
    ? t("enrol.done", { device: JSON.parse(saved).device.name, org: JSON.parse(saved).device.organisation.name })
    : t("enrol.needed");
}

main();
