// What the phone keeps of a report, as pure rules (store.js applies them, prune.js decides
// when). A report is acknowledged once the server has it and every photo it names; only an
// acknowledged report is ever pruned or wiped. Pruned after the server's number of days
// (pull answer `retention.phone_days`), it keeps what "Mina rapporter" shows (category,
// time, state, the coordinator's status and comments) and loses its text, place, position,
// severity, number of people and photos. Unsent reports keep everything.

/** Days the phone keeps an acknowledged report in full when the server has not said. */
export const DEFAULT_PHONE_DAYS = 7;
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * @typedef {import("./store.js").StoredReport} StoredReport
 */

/**
 * Whether the server has the report and all its photos (so the phone may let go of them).
 * @param {StoredReport} report
 * @returns {boolean}
 */
export function isAcknowledged(report) {
  return report.state === "sent" && !(report.missingPhotos?.length);
}

/**
 * The days from the pull answer's `retention`, or the default for a missing or odd value.
 * @param {{phone_days?: unknown} | null | undefined} retention
 * @returns {number}
 */
export function phoneDays(retention) {
  const days = retention?.phone_days;
  return typeof days === "number" && Number.isInteger(days) && days >= 0 ? days : DEFAULT_PHONE_DAYS;
}

/**
 * When the server acknowledged the report (ms). A report stored before the phone noted the
 * acknowledgement counts from its last local change, which is never earlier.
 * @param {StoredReport} report
 * @returns {number}
 */
export function acknowledgedAt(report) {
  return Date.parse(report.ackedAt ?? report.updatedAt);
}

/**
 * Whether an acknowledged report is due for pruning: acknowledged at or before `cutoffMs`.
 * @param {StoredReport} report
 * @param {number} cutoffMs
 * @returns {boolean}
 */
export function isDue(report, cutoffMs) {
  return isAcknowledged(report) && !report.prunedAt && acknowledgedAt(report) <= cutoffMs;
}

/**
 * The pruned record: what "Mina rapporter" shows, nothing typed or photographed.
 * @param {StoredReport} report
 * @param {Date} now
 * @returns {StoredReport}
 */
export function pruned(report, now) {
  return {
    ...report,
    description: "",
    place: "",
    location: null,
    severity: null,
    people_count: null,
    photos: [],
    prunedAt: now.toISOString(),
  };
}
