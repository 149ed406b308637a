// The on-call person acknowledged an urgent report (the pull's `acknowledged`): the report
// shows "Jouren har sett din rapport". Marking twice changes nothing.
import { done, transact } from "./idb.js";

/** @typedef {import("./store.js").StoredReport} StoredReport */

/**
 * Mark the reports the on-call person has seen; returns how many changed.
 * @param {{report_id: string, at: string}[]} acknowledged
 * @returns {Promise<number>}
 */
export function markSeenByOnCall(acknowledged) {
  return transact(["reports"], "readwrite", async (tx) => {
    const reports = tx.objectStore("reports");
    let changed = 0;
    for (const item of acknowledged) {
      /** @type {StoredReport | undefined} */
      const record = await done(reports.get(item.report_id));
      if (!record || record.onCallSeenAt) continue;
      await done(reports.put({ ...record, onCallSeenAt: item.at }));
      changed += 1;
    }
    return changed;
  });
}
