// Photos for a report: decode (EXIF orientation honoured), downscale to at most 1600 px on the
// long side, re-encode as JPEG (which drops all metadata, GPS included), and store the bytes
// in the outbox as an ArrayBuffer under their SHA-256. The picker keeps the list for the form.
// With a review step (redact.js) the reporter first blacks out areas: the boxes are burned
// into the one JPEG that is stored, and the decoded original is never written anywhere.
// The outbox's photo functions come from app.js (this module never imports store.js).
import { t } from "./i18n.js";

/** Longest side of a stored photo, in pixels. */
export const MAX_SIDE = 1600;
/** JPEG quality of the re-encoded photo. */
export const QUALITY = 0.8;

/**
 * @typedef {{sha256: string, blob: Blob, width: number, height: number, redacted: boolean}} ProcessedPhoto
 * @typedef {import("./redact.js").Box} Box
 * @typedef {import("./redact.js").ReviewPhoto} ReviewPhoto
 * @typedef {(bytes: ArrayBuffer, type: string, options?: {redacted?: boolean}) => Promise<string>} SavePhoto
 *   stores the bytes in the outbox and resolves with their SHA-256
 * @typedef {(sha256: string) => Promise<import("./store.js").StoredPhoto | undefined>} LoadPhoto
 *   reads a stored photo from the outbox
 */

/** The file could not be decoded as an image (e.g. HEIC on Chromium, or not an image). */
export class UnreadablePhoto extends Error {}

/**
 * Size that fits `width` x `height` within `max` on the long side (never upscales).
 * @param {number} width
 * @param {number} height
 * @param {number} [max]
 * @returns {{width: number, height: number}}
 */
export function fitSize(width, height, max = MAX_SIDE) {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Draw a bitmap at the given size, black out the boxes, and encode it as JPEG.
 * @param {CanvasImageSource} bitmap
 * @param {number} width
 * @param {number} height
 * @param {Box[]} [boxes] areas to black out, in pixels of the output
 * @returns {Promise<Blob>}
 */
async function encodeJpeg(bitmap, width, height, boxes = []) {
  /** @param {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D} ctx */
  const paint = (ctx) => {
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, width, height);
    ctx.fillStyle = "#000";
    for (const b of boxes) ctx.fillRect(b.x, b.y, b.w, b.h);
  };
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    paint(/** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d")));
    return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  paint(/** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d")));
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("toBlob failed"))), "image/jpeg", QUALITY);
  });
}

/**
 * Decode, downscale, (review,) re-encode and store one chosen file.
 * @param {Blob} file
 * @param {SavePhoto} savePhoto
 * @param {ReviewPhoto} [review] lets the reporter black out areas before anything is stored
 * @param {AbortSignal} [signal] ends the review (the form was emptied)
 * @returns {Promise<ProcessedPhoto | null>} null: the reporter dropped the photo in the review
 * @throws {UnreadablePhoto} when the browser cannot decode the file
 */
export async function processPhoto(file, savePhoto, review, signal = new AbortController().signal) {
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    throw new UnreadablePhoto(String(error));
  }
  try {
    const { width, height } = fitSize(bitmap.width, bitmap.height);
    const decision = review ? await review(bitmap, width, height, signal) : { boxes: [] };
    if (!decision) return null;
    const blob = await encodeJpeg(bitmap, width, height, decision.boxes);
    const redacted = decision.boxes.length > 0;
    const sha256 = await savePhoto(await blob.arrayBuffer(), "image/jpeg", redacted ? { redacted } : undefined);
    return { sha256, blob, width, height, redacted };
  } finally {
    bitmap.close();
  }
}

/**
 * A placeholder in the photo list while a chosen photo is decoded, reviewed and stored: a
 * spinner and "Bearbetar foto…", so a slow phone does not look stuck.
 * @returns {HTMLLIElement}
 */
function busyItem() {
  const item = document.createElement("li");
  item.className = "photo photo-busy";
  const progress = document.createElement("progress"); // no value: indeterminate
  const label = document.createElement("span");
  label.id = `photo-busy-${crypto.randomUUID()}`;
  label.textContent = t("photo.processing");
  progress.setAttribute("aria-labelledby", label.id);
  item.append(progress, label);
  return item;
}

/**
 * Wire the photo field of the report form.
 * @param {{input: HTMLInputElement, list: HTMLElement, error: HTMLElement,
 *   savePhoto: SavePhoto, loadPhoto: LoadPhoto, review?: ReviewPhoto, onChange?: () => void}}
 *   options the field's elements, the outbox, the review step (redact.js) before a photo is
 *   stored, and who to tell when the list of photos changes (the draft)
 * @returns {{photos: () => string[], settle: () => Promise<void>, reset: () => void,
 *   load: (shas: string[]) => Promise<void>}}
 */
export function createPhotoPicker({ input, list, error, savePhoto, loadPhoto, review, onChange = () => {} }) {
  /** @type {Array<{sha256: string, url: string | null, item: HTMLElement}>} */
  let chosen = [];
  /** @type {Set<Promise<void>>} */
  const busy = new Set();
  let generation = 0;
  /** Aborted when the form is emptied: an open review closes without storing anything. */
  let reviews = new AbortController();

  /** @param {string} sha256 */
  function remove(sha256) {
    const entry = chosen.find((c) => c.sha256 === sha256);
    if (!entry) return;
    chosen = chosen.filter((c) => c !== entry);
    if (entry.url) URL.revokeObjectURL(entry.url);
    entry.item.remove();
    input.focus();
    onChange();
  }

  /** @param {{sha256: string, blob: Blob | null, redacted?: boolean}} photo null: the bytes are not on this phone */
  function show(photo) {
    if (chosen.some((c) => c.sha256 === photo.sha256)) return; // the same photo twice
    const url = photo.blob ? URL.createObjectURL(photo.blob) : null;
    const item = document.createElement("li");
    item.className = "photo";
    const label = t("photo.thumbnail", { n: String(chosen.length + 1) });
    /** @type {HTMLElement} */
    let img;
    if (url) {
      img = document.createElement("img");
      /** @type {HTMLImageElement} */ (img).src = url;
      /** @type {HTMLImageElement} */ (img).alt = label;
    } else {
      img = document.createElement("span");
      img.className = "photo-missing";
      img.textContent = label;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "big photo-remove";
    button.textContent = t("photo.remove");
    button.addEventListener("click", () => remove(photo.sha256));
    item.append(img);
    if (photo.redacted) {
      const note = document.createElement("span");
      note.className = "photo-redacted";
      note.textContent = t("photo.redacted");
      item.append(note);
    }
    item.append(button);
    list.append(item);
    chosen.push({ sha256: photo.sha256, url, item });
    onChange();
  }

  /** @param {File} file */
  function add(file) {
    const mine = generation;
    const busyNote = busyItem();
    list.append(busyNote);
    const job = processPhoto(file, savePhoto, review, reviews.signal)
      .then((photo) => {
        busyNote.remove(); // before the photo itself takes its place
        if (photo && mine === generation) show(photo);
      })
      .catch((err) => {
        console.error("photo", err);
        if (mine !== generation) return;
        error.textContent = t(err instanceof UnreadablePhoto ? "photo.unreadable" : "photo.failed");
        error.hidden = false;
      })
      .finally(() => {
        busyNote.remove();
        busy.delete(job);
      });
    busy.add(job);
  }

  input.addEventListener("change", () => {
    error.hidden = true;
    error.textContent = "";
    for (const file of input.files ?? []) add(file);
    input.value = ""; // the same file can be chosen again after a remove
  });

  return {
    /** The SHA-256s of the photos now in the form, in the order chosen. */
    photos: () => chosen.map((c) => c.sha256),
    /** Resolves once every chosen file has been processed (or has failed). */
    settle: async () => {
      while (busy.size > 0) await Promise.allSettled([...busy]);
    },
    /**
     * Show the photos a stored report already names (editing it), from the outbox.
     * @param {string[]} shas
     * @returns {Promise<void>}
     */
    load: (shas) => {
      const mine = generation;
      // Spara waits for this (settle), so an edit never drops a photo still being loaded.
      const job = (async () => {
        for (const sha256 of shas) {
          const stored = await loadPhoto(sha256).catch(() => undefined);
          if (mine !== generation) return;
          const blob = stored ? new Blob([stored.bytes], { type: stored.type }) : null;
          show({ sha256, blob, redacted: Boolean(stored?.redacted) });
        }
      })().finally(() => busy.delete(job));
      busy.add(job);
      return job;
    },
    /** Empty the field (after Spara or Avbryt). */
    reset: () => {
      generation += 1;
      reviews.abort();
      reviews = new AbortController();
      for (const c of chosen) if (c.url) URL.revokeObjectURL(c.url);
      chosen = [];
      list.replaceChildren();
      error.hidden = true;
      error.textContent = "";
    },
  };
}
