// Pure helpers for the urgent report's way out when it cannot get through: the SMS body
// (at most 160 characters: one SMS) and the `sms:`/`tel:` links. iOS reads the body after
// "&" (sms:NUMBER&body=…), Android after "?" (sms:NUMBER?body=…); each ignores the other.

/** One SMS: longer bodies are split (or refused) by some phones. */
export const SMS_MAX = 160;

/**
 * @typedef {{category: string, id: string, lat?: number | null, lon?: number | null,
 *   at: Date}} SmsFacts what the body says: category label, report id, position, time
 * @typedef {{urgent: string, report: string, noPosition: string}} SmsWords the words around
 *   the facts, from the catalog ("BRÅDSKANDE", "Rapport", "position saknas")
 */

/** @param {number} n @returns {string} */
const pad = (n) => String(n).padStart(2, "0");

/**
 * The SMS body: category, short id, coordinates with 5 decimals (about 1 m), local time.
 * The category label is shortened first when the whole would not fit in one SMS.
 * @param {SmsFacts} facts
 * @param {SmsWords} words
 * @returns {string}
 */
export function smsBody(facts, words) {
  const time = `${pad(facts.at.getHours())}:${pad(facts.at.getMinutes())}`;
  const { lat, lon } = facts;
  const where =
    typeof lat === "number" && typeof lon === "number" && Number.isFinite(lat) && Number.isFinite(lon)
      ? `${lat.toFixed(5)},${lon.toFixed(5)}`
      : words.noPosition;
  const shortId = facts.id.replace(/-/g, "").slice(0, 8);
  const tail = ` ${words.report} ${shortId}, ${where}, ${time}`;
  let head = `${words.urgent}: ${facts.category}.`;
  const room = SMS_MAX - tail.length;
  if (head.length > room) head = `${head.slice(0, Math.max(0, room - 1))}…`;
  return `${head}${tail}`.slice(0, SMS_MAX);
}

/**
 * An `sms:` link that opens the messages app with the body filled in.
 * @param {string} phone E.164, e.g. "+46701234567"
 * @param {string} body
 * @param {boolean} ios
 * @returns {string}
 */
export function smsHref(phone, body, ios) {
  return `sms:${encodeURIComponent(phone).replace(/^%2B/, "+")}${ios ? "&" : "?"}body=${encodeURIComponent(body)}`;
}

/**
 * A `tel:` link.
 * @param {string} phone
 * @returns {string}
 */
export function telHref(phone) {
  return `tel:${encodeURIComponent(phone).replace(/^%2B/, "+")}`;
}

/**
 * Whether the phone is an iPhone or iPad (iPadOS calls itself a Mac with a touch screen).
 * @param {{userAgent: string, platform?: string, maxTouchPoints?: number}} nav
 * @returns {boolean}
 */
export function isIos(nav) {
  return /iPad|iPhone|iPod/.test(nav.userAgent) || (nav.platform === "MacIntel" && (nav.maxTouchPoints ?? 0) > 1);
}
