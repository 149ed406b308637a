// The guard rounds in IndexedDB: the checkpoints and rounds of the last pull (round mode works
// offline), and the phone's own round runs and scans, queued like reports. A run or a scan
// leaves the queue only through the server's answer (markScanResult, markRunResult): created
// or duplicate means stored; rejected keeps it, with the server's message, and never sends
// it again by itself. A run ended while its start was on its way is sent again (revision).
import { done, transact } from "./idb.js";

/**
 * @typedef {{id: number, name: string, short_code: string, token_sha256: string, lat: number | null,
 *   lon: number | null, radius_m: number | null, instructions: string | null}} Checkpoint
 * @typedef {{id: number, name: string, ordered: boolean, window: string,
 *   every_minutes: number | null, grace_minutes: number, weekdays: number[] (0 is Monday),
 *   checkpoints: Array<{id: number, required: boolean}>}} Round
 * @typedef {{code: string, message: string}} ItemError
 * @typedef {"saved" | "sent" | "rejected"} ItemState
 * @typedef {{id: string, round_id: number, round_name?: string, started_at: string,
 *   ended_at?: string, end_reason?: string, revision: number, state: ItemState,
 *   error: ItemError | null}} RoundRun
 * @typedef {{lat: number, lon: number, accuracy: number | null}} ScanLocation
 * @typedef {{id: string, token?: string, short_code?: string, scanned_at: string,
 *   location?: ScanLocation, round_run?: string, method: "qr" | "code" | "nfc",
 *   checkpoint_id: number | null, state: ItemState, flags: string[],
 *   error: ItemError | null, serverCheckpoint: {id: number, name: string} | null}} Scan
 *   checkpoint_id: the pulled checkpoint the phone matched (null: unknown here)
 * @typedef {{id: string, status: string, flags?: string[],
 *   checkpoint?: {id: number, name: string}, error?: ItemError}} ScanResult
 * @typedef {{id: string, status: string, error?: ItemError}} RunResult
 */

/** Answers that mean the server has stored the item. */
const STORED = new Set(["created", "duplicate", "updated"]);

/**
 * Keep a pull's checkpoints or rounds in place of the earlier ones.
 * @param {"checkpoints" | "rounds"} name
 * @param {Array<{id: number}>} items
 * @returns {Promise<void>}
 */
export async function keepPlan(name, items) {
  await transact([name], "readwrite", async (tx) => {
    const store = tx.objectStore(name);
    await done(store.clear());
    for (const item of items) await done(store.put(item));
  });
}

/**
 * Every record of one store.
 * @param {string} name
 * @returns {Promise<any[]>}
 */
function all(name) {
  return transact([name], "readonly", (tx) => done(tx.objectStore(name).getAll()));
}

/** @returns {Promise<Checkpoint[]>} */
export function listCheckpoints() {
  return all("checkpoints");
}

/** @returns {Promise<Round[]>} by name */
export async function listRounds() {
  /** @type {Round[]} */
  const rounds = await all("rounds");
  return rounds.sort((a, b) => a.name.localeCompare(b.name, "sv") || a.id - b.id);
}

/** @returns {Promise<RoundRun[]>} oldest first */
export async function listRuns() {
  /** @type {RoundRun[]} */
  const runs = await all("round_runs");
  return runs.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
}

/** @returns {Promise<Scan[]>} oldest first */
export async function listScans() {
  /** @type {Scan[]} */
  const scans = await all("scans");
  return scans.sort((a, b) => Date.parse(a.scanned_at) - Date.parse(b.scanned_at));
}

/**
 * Store a new round run, queued.
 * @param {{id: string, round_id: number, round_name?: string, started_at: string}} run
 * @returns {Promise<RoundRun>}
 */
export async function startRun(run) {
  /** @type {RoundRun} */
  const record = { ...run, revision: 0, state: "saved", error: null };
  await transact(["round_runs"], "readwrite", async (tx) => {
    await done(tx.objectStore("round_runs").add(record));
  });
  return record;
}

/**
 * End a run (once): queued again with its end.
 * @param {string} id
 * @param {string} endedAt
 * @param {string} reason "" when every required checkpoint was scanned
 * @returns {Promise<RoundRun | undefined>}
 */
export function endRun(id, endedAt, reason) {
  return transact(["round_runs"], "readwrite", async (tx) => {
    const store = tx.objectStore("round_runs");
    /** @type {RoundRun | undefined} */
    const run = await done(store.get(id));
    if (!run || run.ended_at) return run;
    /** @type {RoundRun} */
    const next = { ...run, ended_at: endedAt, revision: run.revision + 1, state: "saved" };
    if (reason) next.end_reason = reason;
    await done(store.put(next));
    return next;
  });
}

/**
 * Store a new scan, queued.
 * @param {Omit<Scan, "state" | "flags" | "error" | "serverCheckpoint">} scan
 * @returns {Promise<Scan>}
 */
export async function saveScan(scan) {
  /** @type {Scan} */
  const record = { ...scan, state: "saved", flags: [], error: null, serverCheckpoint: null };
  await transact(["scans"], "readwrite", async (tx) => {
    await done(tx.objectStore("scans").add(record));
  });
  return record;
}

/**
 * The runs and scans still to be sent.
 * @returns {Promise<{runs: RoundRun[], scans: Scan[]}>}
 */
export async function pendingRoundItems() {
  const runs = (await listRuns()).filter((r) => r.state === "saved");
  const scans = (await listScans()).filter((s) => s.state === "saved");
  return { runs, scans };
}

/**
 * How many runs and scans still wait to be sent (the network line counts them).
 * @returns {Promise<number>}
 */
export async function unsentCount() {
  const { runs, scans } = await pendingRoundItems();
  return runs.length + scans.length;
}

/**
 * Apply the server's answer to one scan; anything but stored or rejected leaves it queued.
 * @param {string} id
 * @param {ScanResult} result
 * @returns {Promise<void>}
 */
export async function markScanResult(id, result) {
  await transact(["scans"], "readwrite", async (tx) => {
    const store = tx.objectStore("scans");
    /** @type {Scan | undefined} */
    const scan = await done(store.get(id));
    if (!scan || scan.state !== "saved") return;
    const stored = STORED.has(result.status);
    if (!stored && result.status !== "rejected") return;
    await done(
      store.put({
        ...scan,
        state: stored ? "sent" : "rejected",
        flags: Array.isArray(result.flags) ? result.flags : [],
        error: stored ? null : (result.error ?? { code: "rejected", message: "" }),
        serverCheckpoint: result.checkpoint ?? scan.serverCheckpoint,
      }),
    );
  });
}

/**
 * Apply the server's answer to one run; an end saved meanwhile (another revision) stays queued.
 * @param {string} id
 * @param {RunResult} result
 * @param {number} sentRevision
 * @returns {Promise<void>}
 */
export async function markRunResult(id, result, sentRevision) {
  await transact(["round_runs"], "readwrite", async (tx) => {
    const store = tx.objectStore("round_runs");
    /** @type {RoundRun | undefined} */
    const run = await done(store.get(id));
    if (!run || run.revision !== sentRevision || run.state !== "saved") return;
    if (STORED.has(result.status)) await done(store.put({ ...run, state: "sent", error: null }));
    else if (result.status === "rejected") {
      await done(store.put({ ...run, state: "rejected", error: result.error ?? { code: "rejected", message: "" } }));
    }
  });
}
