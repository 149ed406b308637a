// Step 2 of a sync pass: push the pending reports, at most BATCH_SIZE a request, and apply
// each result in order; the guard rounds' scans and round runs travel in the same requests
// (sync-rounds.js). Nothing is marked sent without the server's acknowledgement; when the
// step is cut short, every report still "sending" goes back to "saved".
import { CLOCK_SKEW_KEY } from "./meta-keys.js";
import { toPayload } from "./report-fields.js";
import * as store from "./store.js";
import { pendingRoundItems } from "./store-rounds.js";
import { call, expectOk } from "./sync-http.js";
import { applyRoundAnswer, requestsFor, roundBody, slice } from "./sync-rounds.js";

/** Reports per push request. */
export const BATCH_SIZE = 50;

/**
 * @typedef {import("./sync-http.js").SyncContext} SyncContext
 * @typedef {import("./store.js").StoredReport} StoredReport
 * @typedef {import("./store.js").PushResult} PushResult
 * @typedef {import("./sync.js").SyncSummary} SyncSummary
 */

/**
 * Push `queue` in batches; counts pushed reports and their results in `summary`.
 * @param {SyncContext} context
 * @param {StoredReport[]} queue the pending reports of this pass
 * @param {SyncSummary} summary
 * @returns {Promise<void>}
 */
export async function pushReports(context, queue, summary) {
  const items = await pendingRoundItems();
  const requests = Math.max(Math.ceil(queue.length / BATCH_SIZE), requestsFor(items));
  if (!requests) return;
  await store.markSending(queue.map((r) => r.id));
  try {
    for (let i = 0; i < requests; i += 1) {
      await pushBatch(context, queue.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE), slice(items, i), summary);
    }
  } finally {
    await store.unmarkSending(); // anything left without an answer stays queued
  }
}

/**
 * Push one batch and apply its results.
 * @param {SyncContext} context
 * @param {StoredReport[]} batch
 * @param {import("./sync-rounds.js").RoundItems} roundItems
 * @param {SyncSummary} summary
 * @returns {Promise<void>}
 */
async function pushBatch(context, batch, roundItems, summary) {
  const skewMs = roundItems.runs.length || roundItems.scans.length ? await store.getMeta(CLOCK_SKEW_KEY) : null;
  const resp = await call(context, "/api/v1/sync/push", {
    method: "POST",
    headers: { ...context.auth, "Content-Type": "application/json" },
    body: JSON.stringify({ reports: batch.map(toPayload), ...roundBody(roundItems, skewMs) }),
  });
  await expectOk(resp, "push");
  /** @type {{results: PushResult[], scan_results?: unknown, round_run_results?: unknown}} */
  const answer = await resp.json();
  await applyRoundAnswer(roundItems, answer, summary.rounds);
  const results = Array.isArray(answer.results) ? answer.results : [];
  for (const [index, result] of results.entries()) {
    const sent = batch[index];
    if (!sent || result.id !== sent.id) continue; // never acknowledge what was not sent
    await store.markResult(sent.id, result, sent.revision);
    summary.results[result.status] = (summary.results[result.status] ?? 0) + 1;
    summary.pushed += 1;
  }
}
