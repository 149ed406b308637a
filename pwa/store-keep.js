// Letting go of what the server has: reports it deleted, acknowledged reports past the
// phone's keep days (keep.js), and a wipe. Unsent reports and their photos are never touched.
import { done, transact } from "./idb.js";
import { isAcknowledged, isDue, pruned } from "./keep.js";

/** @typedef {import("./store.js").StoredReport} StoredReport */

/**
 * Delete reports and every photo of theirs that no remaining report names, in `tx` (which
 * must cover "reports" and "photos").
 * @param {IDBTransaction} tx
 * @param {Iterable<string>} ids
 * @returns {Promise<{reports: number, photos: number}>}
 */
export async function removeReports(tx, ids) {
  const reports = tx.objectStore("reports");
  /** @type {Set<string>} */
  const shas = new Set();
  /** @type {Set<string>} */
  const removedIds = new Set();
  for (const id of ids) {
    /** @type {StoredReport | undefined} */
    const record = await done(reports.get(id));
    if (!record) continue;
    for (const sha of record.photos ?? []) shas.add(sha);
    await done(reports.delete(id));
    removedIds.add(id);
  }
  for (const sha of await dropDrafts(tx, (d) => d.editId !== null && removedIds.has(d.editId))) shas.add(sha);
  return { reports: removedIds.size, photos: await dropUnusedPhotos(tx, shas) };
}

/**
 * Delete the drafts (when `tx` covers "drafts") that `doomed` picks: a half-written change
 * to a report that is deleted or pruned must not keep its text and photos on the phone.
 * @param {IDBTransaction} tx
 * @param {(draft: import("./drafts.js").Draft) => boolean} doomed
 * @returns {Promise<Set<string>>} the photos the deleted drafts named
 */
async function dropDrafts(tx, doomed) {
  /** @type {Set<string>} */
  const shas = new Set();
  if (!tx.objectStoreNames.contains("drafts")) return shas;
  const drafts = tx.objectStore("drafts");
  const keys = await done(drafts.getAllKeys());
  for (const key of keys) {
    /** @type {import("./drafts.js").Draft | undefined} */
    const draft = await done(drafts.get(key));
    if (!draft || !doomed(draft)) continue;
    for (const sha of draft.photos ?? []) shas.add(sha);
    await done(drafts.delete(key));
  }
  return shas;
}

/**
 * Delete those of `shas` that no stored report names any more (content-addressed photos may
 * be shared by two reports), nor a draft (when `tx` covers "drafts").
 * @param {IDBTransaction} tx
 * @param {Set<string>} shas
 * @returns {Promise<number>} how many photos were deleted
 */
async function dropUnusedPhotos(tx, shas) {
  if (!shas.size) return 0;
  /** @type {StoredReport[]} */
  const left = await done(tx.objectStore("reports").getAll());
  for (const r of left) for (const sha of r.photos ?? []) shas.delete(sha);
  // The half-written report may show the same photo (e.g. an edit of a report being pruned).
  if (tx.objectStoreNames.contains("drafts")) {
    /** @type {import("./drafts.js").Draft[]} */
    const drafts = await done(tx.objectStore("drafts").getAll());
    for (const d of drafts) for (const sha of d.photos ?? []) shas.delete(sha);
  }
  const photos = tx.objectStore("photos");
  let dropped = 0;
  for (const sha of shas) {
    if ((await done(photos.count(sha))) === 0) continue;
    await done(photos.delete(sha));
    dropped += 1;
  }
  return dropped;
}

/**
 * Delete reports (and their photos no other report names) at once: the server deleted them.
 * @param {string[]} ids
 * @returns {Promise<{reports: number, photos: number}>}
 */
export function forget(ids) {
  return transact(["reports", "photos", "drafts"], "readwrite", (tx) => removeReports(tx, ids));
}

/**
 * Prune every acknowledged report acknowledged at or before `cutoffMs`: it keeps what
 * "Mina rapporter" shows and loses its text, place, position and photos (keep.js). Photo
 * blobs no unpruned report names are deleted. Unsent reports are never touched. A report an
 * older version of the app kept after the server deleted it ("gone") is deleted now.
 * @param {number} cutoffMs
 * @returns {Promise<{reports: number, photos: number}>} reports pruned, photo blobs deleted
 */
export function prune(cutoffMs) {
  return transact(["reports", "photos", "drafts"], "readwrite", async (tx) => {
    const reports = tx.objectStore("reports");
    const now = new Date();
    /** @type {StoredReport[]} */
    const all = await done(reports.getAll());
    const gone = all.filter((r) => r.serverStatus === "gone");
    const removed = await removeReports(tx, gone.map((r) => r.id));
    /** @type {Set<string>} */
    const shas = new Set();
    /** @type {Set<string>} */
    const prunedIds = new Set();
    for (const record of all) {
      if (record.serverStatus === "gone" || !isDue(record, cutoffMs)) continue;
      for (const sha of record.photos ?? []) shas.add(sha);
      await done(reports.put(pruned(record, now)));
      prunedIds.add(record.id);
    }
    for (const sha of await dropDrafts(tx, (d) => d.editId !== null && prunedIds.has(d.editId))) {
      shas.add(sha);
    }
    const count = prunedIds.size;
    return { reports: count, photos: removed.photos + (await dropUnusedPhotos(tx, shas)) };
  });
}

/**
 * Delete every acknowledged report (pruned or not) and its photos at once; keep every report
 * the server does not have in full (saved, sending, rejected, or a photo still missing), with
 * its photos. For a wipe ordered by an admin and for a revoked phone; a draft changing a
 * deleted report goes too, and with `drafts` (a revoked phone) every draft.
 * @param {{drafts?: boolean}} [options]
 * @returns {Promise<{reports: number, photos: number}>}
 */
export function wipeAcknowledged({ drafts = false } = {}) {
  return transact(["reports", "photos", "drafts"], "readwrite", async (tx) => {
    /** @type {StoredReport[]} */
    const all = await done(tx.objectStore("reports").getAll());
    // A revoked phone also drops the half-written report: it can never be sent or exported.
    const shas = drafts ? await dropDrafts(tx, () => true) : new Set();
    const removed = await removeReports(tx, all.filter(isAcknowledged).map((r) => r.id));
    return { reports: removed.reports, photos: removed.photos + (await dropUnusedPhotos(tx, shas)) };
  });
}

/**
 * Take a report just saved back out of the outbox (Ångra), with its photos no other report
 * names, as long as it has not been sent. The caller holds the sync lock, so no pass is
 * pushing it right now.
 * @param {string} id
 * @returns {Promise<boolean>} false: it is on its way to, or already on, the server
 */
export function withdraw(id) {
  return transact(["reports", "photos", "drafts"], "readwrite", async (tx) => {
    /** @type {StoredReport | undefined} */
    const record = await done(tx.objectStore("reports").get(id));
    if (!record) return true; // already gone
    if (record.state !== "saved" || record.revision !== 0 || record.ackedAt) return false;
    await removeReports(tx, [id]);
    return true;
  });
}
