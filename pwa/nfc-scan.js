// Reading a checkpoint's NFC tag with Web NFC (NDEFReader), only where the browser has it
// (Chrome on Android): elsewhere the button stays hidden. A tag carries the same URL as the
// QR code (or the bare token); the first URL or text record is the answer.

/**
 * Whether this browser can read NFC tags.
 * @returns {boolean}
 */
export function nfcAvailable() {
  return typeof (/** @type {any} */ (globalThis).NDEFReader) === "function";
}

/**
 * Wait for one tag and resolve with its first URL or text record; `signal` stops the reader.
 * @param {AbortSignal} signal
 * @returns {Promise<string>}
 */
export async function readTag(signal) {
  /** @type {any} */
  const reader = new (/** @type {any} */ (globalThis).NDEFReader)();
  await reader.scan({ signal });
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason));
    reader.addEventListener("readingerror", () => reject(new Error("unreadable tag")));
    reader.addEventListener("reading", (/** @type {any} */ event) => {
      for (const record of event.message.records) {
        if (record.recordType === "url" || record.recordType === "text") {
          resolve(new TextDecoder(record.encoding || "utf-8").decode(record.data));
          return;
        }
      }
      reject(new Error("no URL on the tag"));
    });
  });
}
