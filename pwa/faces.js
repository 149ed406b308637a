// Face suggestions for the redaction editor, on request: a small face detector (the tiny
// face detector of the npm package @vladmandic/face-api, code and weights, about 1.5 MB)
// served from the app's own origin under /vendor/face-api/ (server/pwa.py). Loaded only
// when a reporter asks for it, then kept by the service worker (sw-vendor.js), so it works
// offline after the first use. It runs on WebGL or the CPU, never WebAssembly, so the app's
// Content-Security-Policy stays as it is. Manual boxes remain the baseline: a face it misses
// is still the reporter's to cover.

/** Where server/pwa.py serves the package's files. */
export const VENDOR = "/vendor/face-api";
/** The detector's input size (a multiple of 32): larger finds smaller faces, slower. */
const INPUT_SIZE = 416;
/** The least confidence a suggestion needs. */
const MIN_SCORE = 0.4;
/** A suggested box is grown by this share of its size on each side (hair, ears, chin). */
const MARGIN = 0.2;
/** Longest side of the copy the detector looks at. */
const DETECT_SIDE = 960;

/**
 * @typedef {import("./redact.js").Box} Box
 * @typedef {{
 *   nets: {tinyFaceDetector: {loadFromUri: (uri: string) => Promise<void>}},
 *   TinyFaceDetectorOptions: new (options: {inputSize: number, scoreThreshold: number}) => object,
 *   detectAllFaces: (input: HTMLCanvasElement, options: object) =>
 *     Promise<Array<{box: {x: number, y: number, width: number, height: number}}>>,
 *   tf: {setBackend: (name: string) => Promise<boolean>, ready: () => Promise<void>},
 * }} FaceApi the part of face-api this module uses
 */

/** @type {Promise<FaceApi> | null} */
let loading = null;

/**
 * Load the detector once (a failed load is tried again next time).
 * @returns {Promise<FaceApi>}
 */
function detector() {
  if (!loading) {
    loading = (async () => {
      /** @type {FaceApi} */
      const api = await import(`${VENDOR}/dist/face-api.esm.js`);
      // WebGL where the phone has it, else the CPU; never the WebAssembly backend.
      const gl = await api.tf.setBackend("webgl").catch(() => false);
      if (!gl) await api.tf.setBackend("cpu");
      await api.tf.ready();
      await api.nets.tinyFaceDetector.loadFromUri(`${VENDOR}/model`);
      return api;
    })();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * Find faces in the photo and return boxes that cover them, in the photo's pixels.
 * @param {CanvasImageSource} image
 * @param {number} width
 * @param {number} height
 * @returns {Promise<Box[]>}
 * @throws when the detector cannot be loaded (e.g. offline before its first use)
 */
export async function findFaces(image, width, height) {
  const api = await detector();
  const scale = Math.min(1, DETECT_SIDE / Math.max(width, height));
  const copy = document.createElement("canvas");
  copy.width = Math.max(1, Math.round(width * scale));
  copy.height = Math.max(1, Math.round(height * scale));
  /** @type {CanvasRenderingContext2D} */ (copy.getContext("2d")).drawImage(image, 0, 0, copy.width, copy.height);
  const found = await api.detectAllFaces(
    copy,
    new api.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: MIN_SCORE }),
  );
  return found.map(({ box }) => {
    const x0 = Math.max(0, (box.x - box.width * MARGIN) / scale);
    const y0 = Math.max(0, (box.y - box.height * MARGIN) / scale);
    const x1 = Math.min(width, (box.x + box.width * (1 + MARGIN)) / scale);
    const y1 = Math.min(height, (box.y + box.height * (1 + MARGIN)) / scale);
    return { x: Math.round(x0), y: Math.round(y0), w: Math.round(x1 - x0), h: Math.round(y1 - y0) };
  });
}
