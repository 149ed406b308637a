// The service worker's cache of the files the app loads only on demand from /vendor/ (the
// face detector of the redaction editor, faces.js): too big for the precache (about 1.5 MB,
// and many phones never use it), so kept from the first use on, which makes it work offline
// afterwards. A cached file is answered at once and refreshed in the background.
/// <reference lib="webworker" />

const VENDOR_CACHE = "lagesbild-vendor";

/**
 * Whether the worker keeps this same-origin GET in the vendor cache.
 * @param {URL} url
 * @returns {boolean}
 */
export function isVendor(url) {
  return url.pathname.startsWith("/vendor/");
}

/**
 * Answer from the vendor cache if there, else the network; store what the network gives.
 * @param {Request} request
 * @returns {{response: Promise<Response>, refreshed: Promise<unknown>}} refreshed settles
 *   once the cache holds the network's copy (for the fetch event's waitUntil)
 */
export function vendorFile(request) {
  const fresh = (async () => {
    const resp = await fetch(request);
    if (resp.ok) await (await caches.open(VENDOR_CACHE)).put(request, resp.clone());
    return resp;
  })();
  const response = (async () => {
    const cached = await (await caches.open(VENDOR_CACHE)).match(request);
    return cached || fresh;
  })();
  return { response, refreshed: fresh.catch(() => undefined) };
}
