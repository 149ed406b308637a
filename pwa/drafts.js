// The half-written report: one draft on the phone, kept in IndexedDB until Spara or Avbryt, so
// that a reload, a tab the phone discarded behind the camera or a restart loses nothing. Its
// photos are already in the outbox's photo store (photos.js saves them as they are chosen);
// the draft names them by SHA-256.
import { done, transact } from "./idb.js";

/** The one key of the drafts store: the form holds one report at a time. */
const KEY = "current";

/**
 * @typedef {{
 *   id: string,
 *   editId: string | null,
 *   category: string,
 *   severity: number | null,
 *   description: string,
 *   place: string,
 *   people: string,
 *   photos: string[],
 *   location: import("./report-fields.js").Location | null,
 *   startedAt?: string,
 *   savedAt: string,
 * }} Draft
 *   id: the id the new report will be saved under (so a draft restored after its report was
 *   saved is recognised as stale); editId: the stored report being changed, null for a new
 *   one; people: the field's text as typed; startedAt: when the new report's form opened
 *   (the report's time, also when it is saved after a restart)
 */

/** @returns {Promise<Draft | undefined>} */
export function loadDraft() {
  return transact(["drafts"], "readonly", (tx) => done(tx.objectStore("drafts").get(KEY)));
}

/**
 * @param {Draft} draft
 * @returns {Promise<void>}
 */
export async function saveDraft(draft) {
  await transact(["drafts"], "readwrite", async (tx) => {
    await done(tx.objectStore("drafts").put(draft, KEY));
  });
}

/** @returns {Promise<void>} */
export async function clearDraft() {
  await transact(["drafts"], "readwrite", async (tx) => {
    await done(tx.objectStore("drafts").delete(KEY));
  });
}
