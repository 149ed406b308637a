// @ts-check
// "Aktivera notiser på den här enheten": registers the workspace's service worker, asks for
// the notification permission only after the button is pressed (browsers ignore or punish
// a prompt on page load), subscribes with the server's VAPID key and saves the
// subscription. iOS delivers web push only to a web app added to the home screen (16.4+):
// in Safari's ordinary tab the page explains that instead of offering a button that fails.

const root = /** @type {HTMLElement} */ (document.getElementById("notify"));
const enable = /** @type {HTMLButtonElement} */ (document.getElementById("notify-enable"));
const disable = /** @type {HTMLButtonElement} */ (document.getElementById("notify-disable"));

/** Show the one status paragraph `id` and hide the others.
 * @param {string} id */
function show(id) {
  for (const el of root.querySelectorAll("[data-state]")) {
    /** @type {HTMLElement} */ (el).hidden = el.id !== id;
  }
}

/** @returns {boolean} whether this is an iPhone or iPad (iPadOS says it is a Mac). */
function isIos() {
  return (
    /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1)
  );
}

/** @returns {boolean} whether the page runs as an installed (home-screen) app. */
function isStandalone() {
  const nav = /** @type {Navigator & {standalone?: boolean}} */ (navigator);
  return window.matchMedia("(display-mode: standalone)").matches || nav.standalone === true;
}

/** The VAPID public key (base64url) as the bytes PushManager wants.
 * @param {string} text @returns {Uint8Array} */
function keyBytes(text) {
  const b64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** POST JSON with the page's CSRF token.
 * @param {string} url @param {unknown} body @returns {Promise<Response>} */
function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf || "" },
    body: JSON.stringify(body),
  });
}

/** @returns {Promise<ServiceWorkerRegistration>} */
async function registration() {
  await navigator.serviceWorker.register(root.dataset.sw || "/workspace/sw.js", {
    scope: "/workspace/",
    type: "classic",
  });
  return navigator.serviceWorker.ready;
}

/** Show on/off from the browser's own subscription. */
async function refresh() {
  const reg = await registration();
  const sub = await reg.pushManager.getSubscription();
  const on = sub !== null && Notification.permission === "granted";
  show(Notification.permission === "denied" ? "notify-denied" : on ? "notify-on" : "notify-off");
  enable.hidden = on || Notification.permission === "denied";
  disable.hidden = !on;
}

async function turnOn() {
  enable.disabled = true;
  try {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      show(permission === "denied" ? "notify-denied" : "notify-off");
      return;
    }
    const reg = await registration();
    const sub =
      (await reg.pushManager.getSubscription()) ||
      (await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(root.dataset.vapidKey || ""),
      }));
    const resp = await post(root.dataset.subscribe || "", sub.toJSON());
    if (!resp.ok) throw new Error(`save failed: ${resp.status}`);
    await refresh();
  } catch (err) {
    console.error(err);
    show("notify-failed");
  } finally {
    enable.disabled = false;
  }
}

async function turnOff() {
  disable.disabled = true;
  try {
    const reg = await registration();
    const sub = await reg.pushManager.getSubscription();
    if (sub) {
      await post(root.dataset.unsubscribe || "", { endpoint: sub.endpoint });
      await sub.unsubscribe();
    }
    await refresh();
  } catch (err) {
    console.error(err);
    show("notify-failed");
  } finally {
    disable.disabled = false;
  }
}

function start() {
  if (!root.dataset.vapidKey) {
    show("notify-server-off");
  } else if (isIos() && !isStandalone()) {
    show("notify-ios");
  } else if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    show("notify-unsupported");
  } else {
    enable.addEventListener("click", turnOn);
    disable.addEventListener("click", turnOff);
    refresh().catch((err) => {
      console.error(err);
      show("notify-failed");
    });
  }
}

start();
