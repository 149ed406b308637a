// The outbox: reports and photos in IndexedDB, written durably before the app says "Sparad".
// A report leaves the queue only through markResult() with the server's acknowledgement.
// The one wholesale clear, wipe(), refuses to run unless the server has revoked this device;
// prune() and wipeAcknowledged() only ever touch what the server has (keep.js).
import { done, ROUND_STORES, transact } from "./idb.js";
import { REVOKED_KEY } from "./meta-keys.js";
import { forget, prune, removeReports, wipeAcknowledged, withdraw } from "./store-keep.js";
import { localIsoWithOffset } from "./time.js";

export { openDb } from "./idb.js";
export { forget, prune, wipeAcknowledged, withdraw };

/** Push answers that acknowledge a report: the server has it (or deleted it for good). */
const ACKNOWLEDGED = new Set(["created", "duplicate", "updated", "gone"]);

/**
 * @typedef {import("./report-fields.js").Location} Location
 * @typedef {import("./report-fields.js").ReportPayload} ReportPayload
 * @typedef {"saved" | "sending" | "sent" | "rejected"} ReportState
 * @typedef {{id: number, body: string, created_at: string}} Comment
 * @typedef {ReportPayload & {
 *   state: ReportState,
 *   errors: Record<string, string[]> | null,
 *   serverStatus: string | null,
 *   pushStatus: string | null,
 *   version: number | null,
 *   missingPhotos: string[],
 *   comments: Comment[],
 *   updatedAt: string,
 *   ackedAt?: string,
 *   onCallSeenAt?: string,
 *   prunedAt?: string,
 * }} StoredReport
 *   ackedAt: when the server acknowledged the pushed revision; prunedAt: when the phone
 *   dropped its text, place, position and photos (keep.js)
 * @typedef {{sha256: string, type: string, bytes: ArrayBuffer, redacted?: boolean}} StoredPhoto
 * @typedef {{id: string, status: string, version?: number, missing_photos?: string[],
 *   errors?: Record<string, string[]>}} PushResult
 * @typedef {{id: string, status: string, version: number, missing_photos: string[],
 *   comments: Comment[]}} PulledReport
 */

/**
 * Save a new report or an edit of one (same id). A new report gets an id and created_at;
 * an edit gets `updated_at = max(now, previous + 1 ms)` and `revision = previous + 1`.
 * Either way it is queued ("saved") again. Resolves once the write is durable.
 * @param {Partial<ReportPayload>} report
 * @returns {Promise<StoredReport>}
 */
export async function saveReport(report) {
  const now = new Date();
  const id = report.id ?? crypto.randomUUID();
  return transact(["reports"], "readwrite", async (tx) => {
    const reports = tx.objectStore("reports");
    /** @type {StoredReport | undefined} */
    const previous = await done(reports.get(id));
    /** @type {StoredReport} */
    let record;
    if (previous) {
      const prevMs = Date.parse(previous.updated_at ?? previous.created_at);
      const stamp = new Date(Math.max(now.getTime(), prevMs + 1));
      record = {
        ...previous,
        ...report,
        id,
        created_at: previous.created_at,
        updated_at: localIsoWithOffset(stamp),
        revision: (previous.revision ?? 0) + 1,
        state: "saved",
        errors: null,
        updatedAt: now.toISOString(),
      };
    } else {
      const created = report.created_at ?? localIsoWithOffset(now);
      record = {
        severity: null,
        description: "",
        location: null,
        place: "",
        people_count: null,
        photos: [],
        ...report,
        category: report.category ?? "",
        id,
        created_at: created,
        updated_at: report.updated_at ?? created,
        revision: report.revision ?? 0,
        state: "saved",
        errors: null,
        serverStatus: null,
        pushStatus: null,
        version: null,
        missingPhotos: [],
        comments: [],
        updatedAt: now.toISOString(),
      };
    }
    await done(reports.put(record));
    return record;
  });
}

/**
 * Store a photo's bytes (an ArrayBuffer, never a Blob) under their SHA-256.
 * @param {ArrayBuffer} bytes
 * @param {string} type e.g. "image/jpeg"
 * @param {{redacted?: boolean}} [options] redacted: areas were blacked out (redact.js)
 * @returns {Promise<string>} the lowercase hex SHA-256
 */
export async function savePhoto(bytes, type, options = {}) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  /** @type {StoredPhoto} */
  const record = options.redacted ? { sha256, type, bytes, redacted: true } : { sha256, type, bytes };
  await transact(["photos"], "readwrite", async (tx) => {
    await done(tx.objectStore("photos").put(record));
  });
  return sha256;
}

/**
 * @param {string} sha256
 * @returns {Promise<StoredPhoto | undefined>}
 */
export function photo(sha256) {
  return transact(["photos"], "readonly", (tx) => done(tx.objectStore("photos").get(sha256)));
}

/**
 * @param {string} id
 * @returns {Promise<StoredReport | undefined>}
 */
export function getReport(id) {
  return transact(["reports"], "readonly", (tx) => done(tx.objectStore("reports").get(id)));
}

/**
 * All reports on this device, oldest first.
 * @returns {Promise<StoredReport[]>}
 */
export async function listReports() {
  /** @type {StoredReport[]} */
  const all = await transact(["reports"], "readonly", (tx) => done(tx.objectStore("reports").getAll()));
  return all.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}

/**
 * Reports still to be pushed: saved or sending. A rejected report is queued again when the
 * user edits it (saveReport puts it back to "saved").
 * @returns {Promise<StoredReport[]>}
 */
export async function pending() {
  return (await listReports()).filter((r) => r.state === "saved" || r.state === "sending");
}

/**
 * Apply a change to one stored report in its own transaction.
 * @param {string} id
 * @param {(record: StoredReport) => StoredReport | null} change null leaves it untouched
 * @returns {Promise<StoredReport | undefined>}
 */
function update(id, change) {
  return transact(["reports"], "readwrite", async (tx) => {
    const reports = tx.objectStore("reports");
    /** @type {StoredReport | undefined} */
    const record = await done(reports.get(id));
    if (!record) return undefined;
    const next = change(record);
    if (!next) return record;
    await done(reports.put(next));
    return next;
  });
}

/**
 * Mark reports as being sent (still pending: nothing is acknowledged yet).
 * @param {string[]} ids
 * @returns {Promise<void>}
 */
export async function markSending(ids) {
  for (const id of ids) {
    await update(id, (r) => (r.state === "saved" ? { ...r, state: "sending" } : null));
  }
}

/**
 * After an aborted pass: put every report still "sending" back to "saved".
 * @returns {Promise<void>}
 */
export async function unmarkSending() {
  for (const r of await listReports()) {
    if (r.state === "sending") await update(r.id, (x) => (x.state === "sending" ? { ...x, state: "saved" } : null));
  }
}

/**
 * Apply one push result. created/duplicate/updated → "sent" (the record stays for
 * "Mina rapporter"); gone → deleted from the phone with its photos (the server deleted it for
 * good); rejected → "rejected" with the server's errors. If the report was edited while the
 * push was under way (`sentRevision` differs), the edit stays queued.
 * @param {string} id
 * @param {PushResult} result
 * @param {number} [sentRevision] the revision that was pushed
 * @returns {Promise<StoredReport | undefined>}
 */
export async function markResult(id, result, sentRevision) {
  if (result.status === "gone") {
    await forget([id]);
    return undefined;
  }
  return update(id, (r) => {
    const edited = sentRevision !== undefined && r.revision !== sentRevision;
    const base = { ...r, pushStatus: result.status, updatedAt: new Date().toISOString() };
    if (ACKNOWLEDGED.has(result.status)) {
      return {
        ...base,
        state: edited ? "saved" : "sent",
        errors: null,
        ackedAt: edited ? r.ackedAt : base.updatedAt,
        serverStatus: r.serverStatus ?? result.status,
        version: result.version ?? r.version,
        missingPhotos: result.missing_photos ?? [],
      };
    }
    if (result.status === "rejected") {
      if (edited) return { ...base, state: "saved" };
      return { ...base, state: "rejected", errors: result.errors ?? {} };
    }
    return null;
  });
}

/**
 * Apply a pull page: coordinator status, comments, version and still-missing photos of this
 * device's reports; reports deleted on the server leave the phone at once, with their photos.
 * @param {PulledReport[]} pulled
 * @param {string[]} deleted
 * @returns {Promise<number>} how many stored reports changed
 */
export function applyPull(pulled, deleted) {
  return transact(["reports", "photos", "drafts"], "readwrite", async (tx) => {
    const reports = tx.objectStore("reports");
    let changed = 0;
    for (const item of pulled) {
      /** @type {StoredReport | undefined} */
      const record = await done(reports.get(item.id));
      if (!record) continue;
      await done(
        reports.put({
          ...record,
          serverStatus: item.status,
          version: item.version,
          comments: item.comments ?? [],
          missingPhotos: item.missing_photos ?? [],
          updatedAt: new Date().toISOString(),
        }),
      );
      changed += 1;
    }
    changed += (await removeReports(tx, deleted)).reports;
    return changed;
  });
}

/**
 * @typedef {{number: number, name: string, lat: number | null, lon: number | null}} WalkStop
 * @typedef {{id: string, category: string, stop: number | null, feeling: string | null,
 *   text: string, lat: number | null, lon: number | null, photo: string | null}} OpenObservation
 *   an observation of an earlier walk that a follow-up walk marks åtgärdat or kvarstår
 * @typedef {{id: number, area: string | null, date: string, dark: boolean,
 *   route: {type: "LineString", coordinates: number[][]} | null, stops: WalkStop[],
 *   follows?: number | null, open_observations?: OpenObservation[]}} PlannedWalk
 *   a safety walk the organisation planned, as the last pull listed it (follows: the earlier
 *   walk a follow-up walk follows up)
 */

/**
 * Keep the planned walks of a pull in place of the earlier ones (walk mode works offline).
 * @param {PlannedWalk[]} walks
 * @returns {Promise<void>}
 */
export async function keepWalks(walks) {
  await transact(["walks"], "readwrite", async (tx) => {
    const store = tx.objectStore("walks");
    await done(store.clear());
    for (const walk of walks) await done(store.put(walk));
  });
}

/**
 * The planned walks of the last pull, by date.
 * @returns {Promise<PlannedWalk[]>}
 */
export async function listWalks() {
  /** @type {PlannedWalk[]} */
  const walks = await transact(["walks"], "readonly", (tx) => done(tx.objectStore("walks").getAll()));
  return walks.sort((a, b) => a.date.localeCompare(b.date) || a.id - b.id);
}

/**
 * @param {string} key
 * @returns {Promise<any>}
 */
export function getMeta(key) {
  return transact(["meta"], "readonly", (tx) => done(tx.objectStore("meta").get(key)));
}

/**
 * @param {string} key
 * @param {any} value
 * @returns {Promise<void>}
 */
export async function setMeta(key, value) {
  await transact(["meta"], "readwrite", async (tx) => {
    await done(tx.objectStore("meta").put(value, key));
  });
}

/** Thrown by wipe() on a device that has not been revoked. */
export class NotRevoked extends Error {}

/**
 * Delete everything on this phone (reports, photos, meta, a draft, walks, rounds and scans) in one transaction. Only for a
 * revoked device, after the user has seen the unsent reports (docs/sync-protocol.md,
 * section 1): without the "revoked" mark the transaction is aborted and nothing is deleted.
 * @returns {Promise<void>}
 * @throws {NotRevoked} when the device is not marked revoked
 */
export async function wipe() {
  await transact(["reports", "photos", "meta", "drafts", "walks", ...ROUND_STORES], "readwrite", async (tx) => {
    const meta = tx.objectStore("meta");
    if (!(await done(meta.get(REVOKED_KEY)))) throw new NotRevoked("the device is not revoked");
    await done(tx.objectStore("reports").clear());
    await done(tx.objectStore("photos").clear());
    await done(tx.objectStore("drafts").clear());
    await done(tx.objectStore("walks").clear());
    for (const name of ROUND_STORES) await done(tx.objectStore(name).clear());
    await done(meta.clear());
  });
}
