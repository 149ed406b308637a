// Step 3 of a sync pass: pull with the stored cursor while the server has more. Applies the
// coordinator's status and comments to this phone's reports (and drops those deleted on the
// server), keeps the categories, the planned walks, the guard rounds' checkpoints and rounds
// (absent keys leave them as they are), the cursor, the server's time and its retention (how long
// acknowledged reports stay whole, prune.js), notes a wipe order in the summary, and measures
// the clock skew. The outbox count (read once) goes with the first page only, so the morning
// digest can name phones still holding reports.
import {
  CATEGORIES_KEY,
  CLOCK_SKEW_KEY,
  CURSOR_KEY,
  ON_CALL_KEY,
  RETENTION_KEY,
  SERVER_TIME_KEY,
} from "./meta-keys.js";
import * as store from "./store.js";
import { keepPlan } from "./store-rounds.js";
import { markSeenByOnCall } from "./store-alerts.js";
import { call, expectOk } from "./sync-http.js";

/** At most this many pages a pass (a phone far behind catches up over several passes). */
export const MAX_PULL_PAGES = 100;

/**
 * @typedef {import("./sync-http.js").SyncContext} SyncContext
 * @typedef {import("./sync.js").SyncSummary} SyncSummary
 */

/**
 * Pull every page the server has; counts changed reports and sets clockSkewMs in `summary`.
 * @param {SyncContext} context
 * @param {SyncSummary} summary
 * @returns {Promise<void>}
 */
export async function pullChanges(context, summary) {
  const unsent = (await store.listReports()).filter((r) => r.state !== "sent").length;
  for (let page = 0; page < MAX_PULL_PAGES; page += 1) {
    const cursor = await store.getMeta(CURSOR_KEY);
    const params = new URLSearchParams();
    if (page === 0) params.set("pending", String(unsent)); // once a pass: one write on the server
    if (cursor) params.set("cursor", cursor);
    const search = params.toString();
    const query = search ? `?${search}` : "";
    const resp = await call(context, `/api/v1/sync/pull${query}`, { headers: context.auth });
    const receivedAt = Date.now();
    await expectOk(resp, "pull");
    const body = await resp.json();
    summary.pulled += await store.applyPull(body.reports ?? [], body.deleted ?? []);
    if (body.categories) await store.setMeta(CATEGORIES_KEY, body.categories);
    if (body.retention) await store.setMeta(RETENTION_KEY, body.retention);
    if (Array.isArray(body.walks)) await store.keepWalks(body.walks);
    if (Array.isArray(body.checkpoints)) await keepPlan("checkpoints", body.checkpoints);
    if (Array.isArray(body.rounds)) await keepPlan("rounds", body.rounds);
    if (body.wipe === true) summary.wipeOrdered = true;
    // Urgent alerts: the on-call number for the offline fallback, and what the rota has seen.
    if ("on_call" in body) await store.setMeta(ON_CALL_KEY, body.on_call ?? null);
    if (Array.isArray(body.acknowledged)) summary.pulled += await markSeenByOnCall(body.acknowledged);
    await store.setMeta(CURSOR_KEY, body.cursor);
    if (body.server_time) await keepServerTime(body.server_time, receivedAt, summary);
    if (!body.more) break;
  }
}

/**
 * Store the server's time and the skew against the phone's clock when the answer arrived.
 * @param {string} serverTime
 * @param {number} receivedAt the phone's time (ms) when the answer arrived
 * @param {SyncSummary} summary
 * @returns {Promise<void>}
 */
async function keepServerTime(serverTime, receivedAt, summary) {
  await store.setMeta(SERVER_TIME_KEY, serverTime);
  const serverMs = Date.parse(serverTime);
  if (Number.isFinite(serverMs)) {
    summary.clockSkewMs = serverMs - receivedAt;
    await store.setMeta(CLOCK_SKEW_KEY, summary.clockSkewMs);
  }
}
