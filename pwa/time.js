// Times as the phone writes them: RFC 3339 in the device's local time with its UTC offset.

/**
 * Format a date as RFC 3339 with milliseconds and the device's local UTC offset,
 * e.g. "2026-11-21T23:10:00.000+01:00".
 * @param {Date} date
 * @returns {string}
 */
export function localIsoWithOffset(date) {
  const pad = (/** @type {number} */ n, width = 2) => String(n).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
