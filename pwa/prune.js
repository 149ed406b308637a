// Letting go of what the server has: pruning after the server's number of days (after each
// sync pass and at start-up), the wipe an admin orders through the pull (then confirmed to
// the server), and the wipe of a revoked phone. The rules of what is kept are in keep.js;
// unsent reports and their photos are never touched here.
import { DAY_MS, phoneDays } from "./keep.js";
import { RETENTION_KEY } from "./meta-keys.js";
import * as store from "./store.js";
import { call, expectOk } from "./sync-http.js";

/** @typedef {{reports: number, photos: number}} Dropped how many reports and photo blobs */

/**
 * Prune the reports acknowledged more than the server's number of days ago (default 7).
 * @param {number} [now] the phone's time in ms
 * @returns {Promise<Dropped>}
 */
export async function pruneOutbox(now = Date.now()) {
  const days = phoneDays(await store.getMeta(RETENTION_KEY));
  return store.prune(now - days * DAY_MS);
}

/**
 * Carry out a wipe ordered by an admin (pull answer `wipe: true`): delete every acknowledged
 * report and its photos, keep the unsent ones and the enrolment, then tell the server. If the
 * confirmation does not arrive, the next pull orders the wipe again (it is idempotent).
 * @param {import("./sync-http.js").SyncContext} context
 * @param {{wiped: Dropped | null}} summary gets what was deleted, before the confirmation
 * @returns {Promise<void>}
 */
export async function carryOutWipe(context, summary) {
  summary.wiped = await store.wipeAcknowledged();
  const resp = await call(context, "/api/v1/device/wiped", { method: "POST", headers: context.auth });
  await expectOk(resp, "wipe confirmation");
}

/**
 * A revoked phone: delete every acknowledged report and its photos at once; keep the unsent
 * reports (to export) and the categories (to name them). The user's "Radera data på
 * telefonen" then clears the rest, enrolment included (store.wipe).
 * @returns {Promise<Dropped>}
 */
export function wipeRevoked() {
  return store.wipeAcknowledged({ drafts: true });
}
