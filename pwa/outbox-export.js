// The escape hatch's content: every unsent report of the outbox and its photos as one
// JSON-serialisable object ("lagesbild-outbox", version 1), photos as base64. Unsent means
// not on the server in full (keep.js): a sent report whose photo never arrived is in it too.
// Reading only: exporting never changes the queue. export.js turns it into a download.
import { isAcknowledged } from "./keep.js";
import { toPayload } from "./report-fields.js";
import * as store from "./store.js";
import { localIsoWithOffset } from "./time.js";

/**
 * @typedef {import("./store.js").ReportPayload} ReportPayload
 * @typedef {import("./store.js").ReportState} ReportState
 * @typedef {{format: string, version: number, exported_at: string,
 *   reports: Array<ReportPayload & {state: ReportState, errors: Record<string, string[]> | null}>,
 *   photos: Array<{sha256: string, type: string, base64: string}>}} OutboxExport
 */

/**
 * @param {ArrayBuffer} bytes
 * @returns {string}
 */
function toBase64(bytes) {
  const view = new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Every unsent report (saved, sending, rejected, or sent with a photo still missing) and its
 * photos.
 * @returns {Promise<OutboxExport>}
 */
export async function exportQueue() {
  const unsent = (await store.listReports()).filter((r) => !isAcknowledged(r));
  const shas = [...new Set(unsent.flatMap((r) => r.photos ?? []))];
  const photos = [];
  for (const sha of shas) {
    const stored = await store.photo(sha);
    if (stored) photos.push({ sha256: sha, type: stored.type, base64: toBase64(stored.bytes) });
  }
  return {
    format: "lagesbild-outbox",
    version: 1,
    exported_at: localIsoWithOffset(new Date()),
    reports: unsent.map((r) => ({ ...toPayload(r), state: r.state, errors: r.errors })),
    photos,
  };
}
