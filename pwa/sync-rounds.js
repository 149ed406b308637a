// The guard rounds' part of a push: the queued scans and round runs as the push body's `scans`
// and `round_runs` (docs/sync-protocol.md), and their answers (`scan_results`,
// `round_run_results`) applied by client id. An item the answer does not name stays queued
// and goes again in the next pass, under the same id: the server stores it once.
import * as rounds from "./store-rounds.js";

/** The largest clock skew the server takes in a push (a week, in ms). */
const MAX_SKEW_MS = 7 * 24 * 3600 * 1000;

/** Scans and round runs per push request (a night's round is a few dozen). */
export const SCAN_BATCH = 200;
export const RUN_BATCH = 50;

/**
 * @typedef {import("./store-rounds.js").Scan} Scan
 * @typedef {import("./store-rounds.js").RoundRun} RoundRun
 * @typedef {{runs: RoundRun[], scans: Scan[]}} RoundItems
 */

/**
 * One scan as the push API wants it: the token or the short code (exactly one), never both.
 * @param {Scan} scan
 * @returns {Record<string, unknown>}
 */
export function scanPayload(scan) {
  /** @type {Record<string, unknown>} */
  const body = { id: scan.id, scanned_at: scan.scanned_at, method: scan.method };
  if (scan.token) body.token = scan.token;
  else body.short_code = scan.short_code;
  if (scan.location) body.location = scan.location;
  if (scan.round_run) body.round_run = scan.round_run;
  return body;
}

/**
 * One round run as the push API wants it.
 * @param {RoundRun} run
 * @returns {Record<string, unknown>}
 */
export function runPayload(run) {
  /** @type {Record<string, unknown>} */
  const body = { id: run.id, round_id: run.round_id, started_at: run.started_at };
  if (run.ended_at) body.ended_at = run.ended_at;
  if (run.end_reason) body.end_reason = run.end_reason;
  return body;
}

/**
 * The slice of the queued items that request number `index` carries.
 * @param {RoundItems} items
 * @param {number} index
 * @returns {RoundItems}
 */
export function slice(items, index) {
  return {
    runs: items.runs.slice(index * RUN_BATCH, (index + 1) * RUN_BATCH),
    scans: items.scans.slice(index * SCAN_BATCH, (index + 1) * SCAN_BATCH),
  };
}

/**
 * How many requests the queued items need at least.
 * @param {RoundItems} items
 * @returns {number}
 */
export function requestsFor(items) {
  return Math.max(Math.ceil(items.runs.length / RUN_BATCH), Math.ceil(items.scans.length / SCAN_BATCH));
}

/**
 * The keys the push body gains; none at all when nothing is queued (an older server).
 * @param {RoundItems} items
 * @param {unknown} skewMs the last measured clock skew (server minus phone), if any
 * @returns {Record<string, unknown>}
 */
export function roundBody(items, skewMs) {
  /** @type {Record<string, unknown>} */
  const body = {};
  if (items.runs.length) body.round_runs = items.runs.map(runPayload);
  if (items.scans.length) body.scans = items.scans.map(scanPayload);
  // The server corrects scan and run times by the skew the last pull measured. A skew beyond
  // what the server takes (a week) is left out rather than have the whole push refused.
  const usable = typeof skewMs === "number" && Number.isFinite(skewMs) && Math.abs(skewMs) < MAX_SKEW_MS;
  if ((items.runs.length || items.scans.length) && usable) body.clock_skew_ms = Math.round(skewMs);
  return body;
}

/**
 * Apply the answer's per-item results to what this request sent; counts them in `counts`.
 * @param {RoundItems} sent
 * @param {{scan_results?: unknown, round_run_results?: unknown}} answer
 * @param {{stored: number, rejected: number}} counts
 * @returns {Promise<void>}
 */
export async function applyRoundAnswer(sent, answer, counts) {
  const runs = new Map(sent.runs.map((r) => [r.id, r]));
  const scans = new Set(sent.scans.map((s) => s.id));
  const runResults = Array.isArray(answer.round_run_results) ? answer.round_run_results : [];
  for (const result of runResults) {
    const run = runs.get(result?.id);
    if (!run) continue; // never acknowledge what was not sent
    await rounds.markRunResult(run.id, result, run.revision);
    count(result.status, counts);
  }
  const scanResults = Array.isArray(answer.scan_results) ? answer.scan_results : [];
  for (const result of scanResults) {
    if (!scans.has(result?.id)) continue;
    await rounds.markScanResult(result.id, result);
    count(result.status, counts);
  }
}

/**
 * @param {string} status
 * @param {{stored: number, rejected: number}} counts
 */
function count(status, counts) {
  if (status === "rejected") counts.rejected += 1;
  else if (["created", "duplicate", "updated"].includes(status)) counts.stored += 1;
}
