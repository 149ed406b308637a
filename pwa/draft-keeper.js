// Keeps the open form's draft in IndexedDB: shortly after a change, and at once when
// the page is hidden (the camera opens, the user switches app, the phone locks), because a
// hidden tab may be discarded without another chance to run. Writes run one after another,
// so a clear after Spara or Avbryt is never overtaken by an older save.
// A write begun while the page unloads (a reload right after typing) does not complete, so
// the page also leaves a synchronous copy in localStorage; the next start moves it into
// IndexedDB at once (before anything else, revoked or not: a wipe then clears it there).

/**
 * @typedef {import("./drafts.js").Draft} Draft
 * @typedef {{saveDraft: (draft: Draft) => Promise<void>, clearDraft: () => Promise<void>}} DraftStorage
 */

/** How soon after a change the draft is written (typing stays cheap: one write per pause). */
export const DRAFT_DELAY_MS = 300;
/** The localStorage key of the copy left while the page unloads. */
const UNLOAD_KEY = "lagesbild.draftAtUnload";

/**
 * Take the copy an unloading page left behind (and remove it).
 * @returns {Draft | null}
 */
function takeUnloadCopy() {
  try {
    const text = localStorage.getItem(UNLOAD_KEY);
    localStorage.removeItem(UNLOAD_KEY);
    return text ? JSON.parse(text) : null;
  } catch (error) {
    console.warn("draft copy", error); // unreadable or no localStorage: IndexedDB still has one
    return null;
  }
}

/**
 * @param {{storage: DraftStorage & {loadDraft: () => Promise<Draft | undefined>},
 *   snapshot: () => Draft, delayMs?: number}} options snapshot: the form as it is now
 * @returns {{begin: () => void, changed: () => void, flush: () => Promise<void>,
 *   end: () => Promise<void>, stop: () => void, ready: () => Promise<void>}}
 */
export function createDraftKeeper({ storage, snapshot, delayMs = DRAFT_DELAY_MS }) {
  let active = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {Promise<void>} */
  let writes = Promise.resolve();

  /** @param {() => Promise<void>} write */
  function queue(write) {
    writes = writes.then(write).catch((error) => console.warn("draft", error));
    return writes;
  }

  function cancel() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  /** Write the draft now (when a form is open). */
  function flush() {
    cancel();
    if (!active) return writes;
    const draft = snapshot();
    return queue(() => storage.saveDraft(draft));
  }

  /** Leave a synchronous copy (an IndexedDB write may not finish before the page is gone). */
  function leaveCopy() {
    if (!active) return;
    try {
      localStorage.setItem(UNLOAD_KEY, JSON.stringify(snapshot()));
    } catch (error) {
      console.warn("draft copy", error); // full or missing: the IndexedDB write still runs
    }
  }

  const hidden = () => {
    if (document.visibilityState !== "hidden") return;
    leaveCopy();
    void flush();
  };
  document.addEventListener("visibilitychange", hidden);
  window.addEventListener("pagehide", () => {
    leaveCopy();
    void flush();
  });
  document.addEventListener("freeze", () => void flush());

  // The copy of the last page, into IndexedDB unless that already holds something newer.
  const copy = takeUnloadCopy();
  if (copy) {
    void queue(async () => {
      const stored = await storage.loadDraft();
      if (!stored || Date.parse(stored.savedAt) <= Date.parse(copy.savedAt)) await storage.saveDraft(copy);
    });
  }

  return {
    /** A form opened (new, edited or restored): keep it from now on. */
    begin: () => {
      active = true;
      void flush();
    },
    /** Something in the form changed: write it shortly (at most `delayMs` later, however
     * long the typing goes on: a timer already set is not pushed back). */
    changed: () => {
      if (!active || timer !== null) return;
      timer = setTimeout(() => void flush(), delayMs);
    },
    flush,
    /** The form closed (saved or discarded): the draft goes. */
    end: () => {
      cancel();
      active = false;
      takeUnloadCopy();
      return queue(() => storage.clearDraft());
    },
    /** Stop keeping without clearing (a revoked phone: its wipe clears the draft). */
    stop: () => {
      cancel();
      active = false;
      takeUnloadCopy(); // never left behind in localStorage, outside what a wipe clears
    },
    /** Resolves once the writes so far (the last page's copy among them) are done. */
    ready: () => writes,
  };
}
