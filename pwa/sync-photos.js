// Step 1 of a sync pass: upload every photo a pending report names, and those the server
// said it misses. A photo the server refuses is counted in the summary; the pass goes on.
import * as store from "./store.js";
import { call, errorCode } from "./sync-http.js";

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
  const all = await store.listReports();
  const shas = new Set(queue.flatMap((r) => r.photos ?? []));
  for (const r of all) for (const sha of r.missingPhotos ?? []) shas.add(sha);
  for (const sha of shas) {
    const stored = await store.photo(sha);
    if (!stored) continue; // not on this phone (e.g. taken on another one): nothing to send
    // A redacted photo says so, and the workspace labels it (the bytes are already masked).
    const query = stored.redacted ? "?redacted=1" : "";
    const resp = await call(context, `/api/v1/photos/${sha}${query}`, {
      method: "PUT",
      headers: { ...context.auth, "Content-Type": stored.type },
      body: stored.bytes,
    });
    if (resp.status === 200 || resp.status === 201) {
      summary.photosUploaded += 1;
    } else {
      summary.photoErrors.push({ sha256: sha, status: resp.status, code: await errorCode(resp) });
    }
  }
}
