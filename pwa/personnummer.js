// Swedish personal identity numbers (personnummer, and samordningsnummer: day + 60) in free
// text: found before a report is sent, so the reporter can mask them with one tap. Pure: no
// DOM, no storage. A digit run counts only with a real date and a correct Luhn check digit,
// so most other numbers (times, counts, street numbers) are never flagged.

/**
 * @typedef {{start: number, end: number, text: string, digits: string, long: boolean}} Finding
 *   a number at text.slice(start, end); `digits` its ten digits YYMMDDNNNC; `long` when it
 *   was written with the century (YYYYMMDD-NNNC)
 */

// Ten digits (YYMMDD, optional -, + or space, NNNC) or twelve (YYYYMMDD, optional - or
// space, NNNC), never part of a longer digit run. The en dash is what some keyboards make of "-".
const PATTERN = /(?<!\d)(?:(18|19|20)?(\d{6})[-–+ ]?(\d{4}))(?!\d)/g;

/**
 * Whether the ten digits end in the right Luhn check digit.
 * @param {string} digits ten digits
 * @returns {boolean}
 */
export function luhnValid(digits) {
  if (!/^\d{10}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    let d = Number(digits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Whether YYMMDD (or YYYYMMDD) is a calendar date; a day of 61..91 is a samordningsnummer.
 * Without the century a 29 February is accepted for any year divisible by four.
 * @param {string} date six or eight digits
 * @returns {boolean}
 */
export function dateValid(date) {
  const year = Number(date.slice(0, -4));
  const month = Number(date.slice(-4, -2));
  let day = Number(date.slice(-2));
  if (day > 60) day -= 60;
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = date.length === 8 ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 : year % 4 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/**
 * Find what looks like a personnummer or samordningsnummer in `text`.
 * @param {string} text
 * @returns {Finding[]}
 */
export function findPersonnummer(text) {
  /** @type {Finding[]} */
  const found = [];
  for (const match of text.matchAll(PATTERN)) {
    const [whole, century = "", date, tail] = match;
    const separator = whole.slice(century.length + 6, whole.length - 4);
    if (century && separator === "+") continue; // "+" (100 years or older) only with YYMMDD
    if (!dateValid(century + date) || !luhnValid(date + tail)) continue;
    const start = /** @type {number} */ (match.index);
    found.push({ start, end: start + whole.length, text: whole, digits: date + tail, long: Boolean(century) });
  }
  return found;
}

/**
 * Replace every number `findPersonnummer` finds with a placeholder.
 * @param {string} text
 * @param {{short: string, long: string}} placeholder e.g. "ÅÅMMDD-XXXX" and "ÅÅÅÅMMDD-XXXX"
 * @returns {string}
 */
export function maskPersonnummer(text, placeholder) {
  let out = "";
  let at = 0;
  for (const finding of findPersonnummer(text)) {
    out += text.slice(at, finding.start) + (finding.long ? placeholder.long : placeholder.short);
    at = finding.end;
  }
  return out + text.slice(at);
}
