// Keeps the open form's draft in IndexedDB: a short pause after each change, and at once when
// the page is hidden (the camera opens, the user switches app, the phone locks), because a
// hidden tab may be discarded without another chance to run. Writes run one after another,
// so a clear after Spara or Avbryt is never overtaken by an older save.

/**
 * @typedef {import("./drafts.js").Draft} Draft
 * @typedef {{saveDraft: (draft: Draft) => Promise<void>, clearDraft: () => Promise<void>}} DraftStorage
 */

/** Pause after the last change before the draft is written (typing stays cheap). */
export const DRAFT_DELAY_MS = 300;

/**
 * @param {{storage: DraftStorage, snapshot: () => Draft, delayMs?: number}} options
 *   snapshot: the form as it is now
 * @returns {{begin: () => void, changed: () => void, flush: () => Promise<void>,
 *   end: () => Promise<void>}}
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

  const hidden = () => {
    if (document.visibilityState === "hidden") void flush();
  };
  document.addEventListener("visibilitychange", hidden);
  window.addEventListener("pagehide", () => void flush());
  document.addEventListener("freeze", () => void flush());

  return {
    /** A form opened (new, edited or restored): keep it from now on. */
    begin: () => {
      active = true;
      void flush();
    },
    /** Something in the form changed: write it after a short pause. */
    changed: () => {
      if (!active) return;
      cancel();
      timer = setTimeout(() => void flush(), delayMs);
    },
    flush,
    /** The form closed (saved or discarded): the draft goes. */
    end: () => {
      cancel();
      active = false;
      return queue(() => storage.clearDraft());
    },
  };
}
