// Step 1 of a sync pass: upload every photo a pending report names, and those the server
// said it misses. A photo the server refuses is counted in the summary; the pass goes on.
// When the phone's photo quota for the day is used up (429 photo_quota), the photos stay on
// the phone and no upload is tried again until the time the server gave (Retry-After).
// When the server's disk is full (507 storage_full), the photos stay on the phone too and
// the pass goes on: the reports still reach the server, the photos follow on a later pass.
import { PHOTO_QUOTA_KEY } from "./meta-keys.js";
import * as store from "./store.js";
import { Abort, call, errorCode } from "./sync-http.js";

/** The error code of the answer that says the day's photo quota is used up. */
export const PHOTO_QUOTA = "photo_quota";
/** The status of an upload the server has no room for (it stored nothing). */
export const STORAGE_FULL = 507;
/** How long to wait when a quota answer names no time (seconds). */
const QUOTA_FALLBACK_S = 3600;

/**
 * @typedef {import("./sync-http.js").SyncContext} SyncContext
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./sync.js").SyncSummary} SyncSummary
 */

/**
 * Upload the photos of `queue` and the still-missing photos of every stored report.
 * @param {SyncContext} context
 * @param {StoredReport[]} queue the pending reports of this pass
 * @param {SyncSummary} summary counts photosUploaded and photoErrors
 * @returns {Promise<void>}
 */
export async function uploadPhotos(context, queue, summary) {
  const until = await store.getMeta(PHOTO_QUOTA_KEY);
  if (typeof until === "string" && Date.parse(until) > Date.now()) {
    summary.photoQuotaUntil = until; // the photos wait on the phone until then
    return;
  }
  const all = await store.listReports();
  const shas = new Set(queue.flatMap((r) => r.photos ?? []));
  for (const r of all) for (const sha of r.missingPhotos ?? []) shas.add(sha);
  for (const sha of shas) {
    const stored = await store.photo(sha);
    if (!stored) continue; // not on this phone (e.g. taken on another one): nothing to send
    // A redacted photo says so, and the workspace labels it (the bytes are already masked).
    const query = stored.redacted ? "?redacted=1" : "";
    /** @type {Response} */
    let resp;
    try {
      resp = await call(context, `/api/v1/photos/${sha}${query}`, {
        method: "PUT",
        headers: { ...context.auth, "Content-Type": stored.type },
        body: stored.bytes,
      });
    } catch (error) {
      if (!(error instanceof Abort) || error.status !== STORAGE_FULL) throw error;
      // The other photos would not fit either; the reports must not wait for room.
      summary.photoErrors.push({ sha256: sha, status: STORAGE_FULL, code: "storage_full" });
      return;
    }
    if (resp.status === 200 || resp.status === 201) {
      summary.photosUploaded += 1;
      continue;
    }
    const code = await errorCode(resp);
    summary.photoErrors.push({ sha256: sha, status: resp.status, code });
    if (resp.status === 429 && code === PHOTO_QUOTA) {
      // The server would refuse the rest alike: keep them all for when the quota renews.
      const wait = Number(resp.headers.get("Retry-After"));
      const seconds = Number.isFinite(wait) && wait > 0 ? wait : QUOTA_FALLBACK_S;
      summary.photoQuotaUntil = new Date(Date.now() + seconds * 1000).toISOString();
      await store.setMeta(PHOTO_QUOTA_KEY, summary.photoQuotaUntil);
      return;
    }
  }
}
