// The service worker: the app shell from the cache, so the app opens with no network at all,
// and one sync pass when Background Sync wakes it with the "outbox" tag. A module worker
// (sw-register.js): it imports the outbox and sync modules the page uses.
// The server prepends `const PRECACHE = {version, files}` computed from the files' content
// hashes (server/pwa_manifest.py); this file never lists them by hand.
/// <reference lib="webworker" />
import { OUTBOX_TAG, SYNCED_MESSAGE } from "./background-sync.js";
import { REVOKED_KEY, TOKEN_META_KEY } from "./meta-keys.js";
import * as store from "./store.js";
import { syncOnce } from "./sync.js";
import { isVendor, vendorFile } from "./sw-vendor.js";

/** @type {ServiceWorkerGlobalScope} */
// @ts-ignore -- the worker's global scope
const sw = self;

/** @type {{version: string, files: string[]}} */
// @ts-ignore -- defined by the line the server prepends
const SHELL = PRECACHE;

const CACHE_PREFIX = "lagesbild-shell-";
const CACHE_NAME = CACHE_PREFIX + SHELL.version;
const SHELL_URL = "/";

sw.addEventListener("install", (event) => {
  // Revalidate with the server (a 304 costs no body): the files must be exactly the ones
  // this version was hashed from, but what the page has just loaded need not travel twice.
  event.waitUntil(
    caches
      .open(CACHE_NAME)
      .then((cache) => cache.addAll(SHELL.files.map((url) => new Request(url, { cache: "no-cache" })))),
  );
  // No skipWaiting here: the page asks the user first (never in the middle of a report).
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME)
          .map((name) => caches.delete(name)),
      );
      // The first install takes the open page at once, so it works offline after one visit.
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") {
    sw.skipWaiting();
  }
});

/**
 * Whether the worker should answer this request at all: same-origin GETs outside the API.
 * @param {Request} request
 * @returns {boolean}
 */
function handles(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return false;
  return !(url.pathname === "/api" || url.pathname.startsWith("/api/"));
}

/**
 * Serve a navigation: the cached shell for the app's own address, the network for anything
 * else with the shell as the offline fallback.
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function navigate(request) {
  const cache = await caches.open(CACHE_NAME);
  const shell = await cache.match(SHELL_URL);
  const path = new URL(request.url).pathname;
  if (shell && (path === "/" || path === "/index.html")) return shell;
  try {
    return await fetch(request);
  } catch (error) {
    if (shell) return shell;
    throw error;
  }
}

/**
 * Serve a precached file from the cache, falling back to the network if it went missing.
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function cacheFirst(request) {
  const cache = await caches.open(CACHE_NAME);
  return (await cache.match(request, { ignoreSearch: true })) || fetch(request);
}

const PRECACHED = new Set(SHELL.files);

sw.addEventListener("fetch", (event) => {
  const { request } = event;
  if (!handles(request)) return; // the network, untouched
  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
    return;
  }
  // First: a precached npm file (the QR decoder) is served from the shell's cache, offline too.
  if (PRECACHED.has(new URL(request.url).pathname)) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (isVendor(new URL(request.url))) {
    const { response, refreshed } = vendorFile(request);
    event.respondWith(response);
    event.waitUntil(refreshed);
  }
});

/**
 * One sync pass with the token the page left in the store; tells open pages how it went.
 * A pass that failed for the network or the server rejects, so the browser retries later.
 * @returns {Promise<void>}
 */
async function backgroundPass() {
  const token = await store.getMeta(TOKEN_META_KEY);
  if (!token || (await store.getMeta(REVOKED_KEY))) return;
  const summary = await syncOnce({ token });
  const windows = await sw.clients.matchAll({ type: "window" });
  for (const client of windows) client.postMessage({ type: SYNCED_MESSAGE, summary });
  if (!summary.ok && !summary.revoked) throw new Error(summary.error?.message ?? "sync failed");
}

sw.addEventListener("sync", (event) => {
  const sync = /** @type {ExtendableEvent & {tag: string}} */ (event);
  if (sync.tag === OUTBOX_TAG) sync.waitUntil(backgroundPass());
});
