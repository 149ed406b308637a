// The guard rounds' plain rules on the phone, with no screen and no storage: what a scanned
// text or a typed code means, which checkpoint it names, and where a running round stands.
// The server decides everything that counts (flags, status); these only guide the guard.

/**
 * @typedef {import("./store-rounds.js").Checkpoint} Checkpoint
 * @typedef {import("./store-rounds.js").Round} Round
 * @typedef {import("./store-rounds.js").Scan} Scan
 * @typedef {{checkpoint: Checkpoint | null, id: number, required: boolean,
 *   number: number | null, scan: Scan | null}} RoundRow
 *   one checkpoint of a round: number only in an ordered round; scan: its first stored scan
 */

/** A checkpoint token: URL-safe characters only (what the QR's `#scan=` carries). */
const TOKEN = /^[A-Za-z0-9_-]{6,128}$/;

/**
 * The token a QR code or an NFC tag carries: `{origin}/#scan=TOKEN`, or a bare token.
 * @param {string} text
 * @returns {string | null}
 */
export function tokenFrom(text) {
  const trimmed = text.trim();
  const match = trimmed.match(/#(?:.*&)?scan=([^&]+)/);
  const token = match ? decodeURIComponent(match[1]) : trimmed;
  return TOKEN.test(token) ? token : null;
}

/**
 * A typed short code as the server prints it: upper case, without spaces.
 * @param {string} text
 * @returns {string}
 */
export function normalCode(text) {
  return text.replace(/\s+/g, "").toUpperCase();
}

/**
 * Compare codes forgivingly: case, spaces and dashes do not count.
 * @param {string} code
 * @returns {string}
 */
function loose(code) {
  return normalCode(code).replace(/-/g, "");
}

/**
 * The hex SHA-256 of a text (how the pull names a checkpoint's token).
 * @param {string} text
 * @returns {Promise<string>}
 */
export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The pulled checkpoint a token or a typed code names, or null. The pull gives only each
 * token's hash, so a scan proves the phone read the label.
 * @param {Checkpoint[]} checkpoints
 * @param {{token?: string, short_code?: string}} key
 * @returns {Promise<Checkpoint | null>}
 */
export async function findCheckpoint(checkpoints, { token, short_code }) {
  if (token) {
    const hash = await sha256Hex(token);
    return checkpoints.find((c) => c.token_sha256 === hash) ?? null;
  }
  if (!short_code) return null;
  const wanted = loose(short_code);
  return checkpoints.find((c) => loose(c.short_code ?? "") === wanted) ?? null;
}

/**
 * The window as the guard reads it: "22:00–02:00".
 * @param {Round} round
 * @returns {string}
 */
export function windowText(round) {
  return (round.window ?? "").replace("-", "–");
}

/**
 * The rounds a checkpoint belongs to (to start one from a scan).
 * @param {Round[]} rounds
 * @param {number} checkpointId
 * @returns {Round[]}
 */
export function roundsWith(rounds, checkpointId) {
  return rounds.filter((r) => r.checkpoints.some((c) => c.id === checkpointId));
}

/**
 * A round's checkpoints in its order, each with its first stored (not rejected) scan of the run.
 * @param {Round} round
 * @param {Checkpoint[]} checkpoints
 * @param {Scan[]} scans the run's scans
 * @returns {RoundRow[]}
 */
export function roundRows(round, checkpoints, scans) {
  return round.checkpoints.map((entry, index) => ({
    id: entry.id,
    checkpoint: checkpoints.find((c) => c.id === entry.id) ?? null,
    required: entry.required === true,
    number: round.ordered ? index + 1 : null,
    scan: scans.find((s) => s.state !== "rejected" && scannedId(s) === entry.id) ?? null,
  }));
}

/**
 * Which checkpoint a scan counts for: the server's answer, else the phone's own match.
 * @param {Scan} scan
 * @returns {number | null}
 */
export function scannedId(scan) {
  return scan.serverCheckpoint?.id ?? scan.checkpoint_id;
}

/**
 * The required checkpoints of a round not yet scanned in the run.
 * @param {RoundRow[]} rows
 * @returns {RoundRow[]}
 */
export function missingRequired(rows) {
  return rows.filter((row) => row.required && !row.scan);
}
