// The one list of the report fields the field app sends to the server (the push API's
// report, docs/sync-protocol.md section 2), and the payload built from it. The server's
// input schema (server/reports/schemas.py: ReportIn) is checked against this list by
// tests/api/test_field_contract.py, which reads the array literal below: keep it a plain
// list of string literals.

/** Fields of a report that the push API reads. */
export const REPORT_FIELDS = [
  "id",
  "created_at",
  "updated_at",
  "revision",
  "category",
  "severity",
  "description",
  "location",
  "place",
  "people_count",
  "photos",
  "walk_id",
  "walk_stop",
  "feeling",
  "follows",
  "follow_up",
];

/**
 * @typedef {{lat: number, lon: number, accuracy_m: number | null}} Location
 * @typedef {{
 *   id: string, created_at: string, updated_at: string, revision: number,
 *   category: string, severity: number | null, description: string,
 *   location: Location | null, place: string, people_count: number | null,
 *   photos: string[], walk_id?: number | null, walk_stop?: number | null,
 *   feeling?: "unsafe" | "neutral" | "safe" | null, follows?: string | null,
 *   follow_up?: "atgardat" | "kvarstar" | null,
 * }} ReportPayload
 *   walk_id, walk_stop, feeling: a safety walk's observation only (left out of other reports);
 *   follows, follow_up: a follow-up walk's mark on an open observation of the earlier walk
 */

/**
 * The part of a stored report that the push API wants: REPORT_FIELDS and nothing else.
 * @param {ReportPayload} record a stored report (it has more keys)
 * @returns {ReportPayload}
 */
export function toPayload(record) {
  /** @type {Record<string, unknown>} */
  const payload = {};
  for (const key of REPORT_FIELDS) {
    const value = record[/** @type {keyof ReportPayload} */ (key)];
    // The walk fields exist only on a walk's observations; other reports never send them.
    if (value !== undefined) payload[key] = value;
  }
  return /** @type {ReportPayload} */ (payload);
}
