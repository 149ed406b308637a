// Background Sync, the page's side: after a save, ask the browser to wake the service worker
// with the "outbox" tag once the phone is online (sw.js runs one sync pass then), and hear
// when the worker has synced so "Mina rapporter" can be refreshed.

/** The Background Sync tag sw.js answers with a sync pass. */
export const OUTBOX_TAG = "outbox";
/** The type of the message the worker posts to open pages after its pass. */
export const SYNCED_MESSAGE = "lagesbild-synced";

/**
 * Register the "outbox" sync tag where Background Sync exists.
 * @returns {Promise<boolean>} whether the tag was registered
 */
export async function requestBackgroundSync() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    const registration = await navigator.serviceWorker.getRegistration();
    /** @type {{register: (tag: string) => Promise<void>} | undefined} */
    // @ts-ignore -- SyncManager is not in every lib.dom
    const sync = registration?.sync;
    if (!sync || !registration?.active) return false;
    await sync.register(OUTBOX_TAG);
    return true;
  } catch (error) {
    console.warn("background sync", error);
    return false;
  }
}

/**
 * Call `listener` with the summary of each pass the service worker ran.
 * @param {(summary: import("./sync.js").SyncSummary) => void} listener
 */
export function onWorkerSync(listener) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === SYNCED_MESSAGE) listener(event.data.summary);
  });
}
