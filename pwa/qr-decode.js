// Reading a QR code from an image: the browser's BarcodeDetector where it exists and knows
// qr_code, else jsQR from npm (served from this origin under /vendor/ and precached by the
// service worker, so it works offline). One job: pixels in, text out.

/** Where the server serves jsQR (server/pwa.py VENDOR_FILES; precached, pwa_manifest.py). */
export const JSQR_URL = "/vendor/jsqr/dist/jsQR.js";

/**
 * @typedef {(source: HTMLCanvasElement) => Promise<string | null>} Decode
 *   the text of the first QR code in the canvas, or null
 */

/** @type {Promise<Decode> | null} */
let chosen = null;

/**
 * The browser's detector when it reads QR codes, else null.
 * @returns {Promise<Decode | null>}
 */
async function nativeDecoder() {
  /** @type {any} */
  const Detector = /** @type {any} */ (globalThis).BarcodeDetector;
  if (typeof Detector !== "function") return null;
  try {
    const formats = await Detector.getSupportedFormats();
    if (!formats.includes("qr_code")) return null;
    const detector = new Detector({ formats: ["qr_code"] });
    return async (source) => {
      const found = await detector.detect(source);
      return found.length ? String(found[0].rawValue) : null;
    };
  } catch (error) {
    console.warn("BarcodeDetector", error); // e.g. no detection service: jsQR does it then
    return null;
  }
}

/**
 * jsQR's function, loaded once (its UMD build sets `self.jsQR` when imported as a module).
 * @returns {Promise<(data: Uint8ClampedArray, width: number, height: number) => {data: string} | null>}
 */
async function loadJsQr() {
  /** @type {any} */
  const scope = globalThis;
  if (typeof scope.jsQR !== "function") await import(JSQR_URL);
  return scope.jsQR;
}

/**
 * Decode the canvas's pixels with jsQR.
 * @param {HTMLCanvasElement} canvas
 * @returns {Promise<string | null>}
 */
export async function decodeWithJsQr(canvas) {
  const jsQR = await loadJsQr();
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context || !canvas.width || !canvas.height) return null;
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = jsQR(image.data, image.width, image.height);
  return found ? found.data : null;
}

/**
 * The decoder for this browser, chosen once.
 * @returns {Promise<Decode>}
 */
export function decoder() {
  if (!chosen) chosen = nativeDecoder().then((native) => native ?? decodeWithJsQr);
  return chosen;
}

/**
 * The text of the first QR code in the canvas, or null.
 * @param {HTMLCanvasElement} canvas
 * @returns {Promise<string | null>}
 */
export async function decodeCanvas(canvas) {
  return (await decoder())(canvas);
}
