// The redaction editor: after a photo is chosen and before anything is stored, the reporter
// blacks out faces, names and number plates by dragging rectangles with a finger (pointer
// events: touch, pen and mouse alike). It only collects boxes in the photo's own pixels;
// photos.js burns them into the JPEG it stores, so the original is never written anywhere.
// One editor at a time: photos chosen together are reviewed one after another. On request,
// a face detector (faces.js) adds boxes over the faces it finds; each can be tapped away.
import { findFaces } from "./faces.js";
import { t } from "./i18n.js";

/**
 * @typedef {{x: number, y: number, w: number, h: number}} Box a rectangle in image pixels
 * @typedef {{boxes: Box[]}} Review what the reporter decided: the boxes to black out
 * @typedef {(image: CanvasImageSource, width: number, height: number, signal: AbortSignal)
 *   => Promise<Review | null>} ReviewPhoto null: the reporter dropped the photo (Avbryt)
 */

/** Below this many CSS pixels of movement a touch is a tap (on a box: remove it). */
const TAP_PX = 10;
/** A drawn box is at least this many CSS pixels on each side (a stroke over a name). */
const MIN_SIDE_PX = 16;

/** @type {Promise<unknown>} the editor before this one; the next waits for it */
let queue = Promise.resolve();

/**
 * Show the editor for one photo (after any editor already open) and resolve with the boxes,
 * or null when the reporter drops the photo or `signal` aborts (the form was emptied).
 * @type {ReviewPhoto}
 */
export function reviewPhoto(image, width, height, signal) {
  const turn = queue.then(() => (signal.aborted ? null : openEditor(image, width, height, signal)));
  queue = turn.catch(() => null);
  return turn;
}

/**
 * Grow a box to at least `min` on each side around its centre, within width x height.
 * @param {Box} box
 * @param {number} min
 * @param {number} width
 * @param {number} height
 * @returns {Box}
 */
export function atLeast(box, min, width, height) {
  const w = Math.min(width, Math.max(box.w, min));
  const h = Math.min(height, Math.max(box.h, min));
  const x = Math.min(Math.max(0, box.x + box.w / 2 - w / 2), width - w);
  const y = Math.min(Math.max(0, box.y + box.h / 2 - h / 2), height - h);
  return { x: Math.round(x), y: Math.round(y), w: Math.round(w), h: Math.round(h) };
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 * @returns {HTMLElement}
 */
function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * @param {string} className
 * @param {string} text
 * @returns {HTMLButtonElement}
 */
function button(className, text) {
  const el = /** @type {HTMLButtonElement} */ (element("button", `big ${className}`, text));
  el.type = "button";
  return el;
}

/**
 * @param {CanvasImageSource} image
 * @param {number} width
 * @param {number} height
 * @param {AbortSignal} signal
 * @returns {Promise<Review | null>}
 */
function openEditor(image, width, height, signal) {
  return new Promise((resolve) => {
    const main = document.querySelector("main");
    const returnFocus = /** @type {HTMLElement | null} */ (document.activeElement);
    const dialog = element("div", "redact");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "redact-heading");
    dialog.setAttribute("aria-describedby", "redact-hint");
    const heading = element("h2", "redact-heading", t("redact.heading"));
    heading.id = "redact-heading";
    heading.tabIndex = -1;
    const hint = element("p", "hint redact-hint", t("redact.hint"));
    hint.id = "redact-hint";
    const faces = button("redact-faces", t("redact.faces"));
    const faceStatus = element("p", "redact-faces-status");
    faceStatus.setAttribute("aria-live", "polite");
    const tools = element("div", "redact-tools");
    tools.append(faces, faceStatus);
    const stage = element("div", "redact-stage");
    const canvas = document.createElement("canvas");
    canvas.className = "redact-canvas";
    canvas.width = width;
    canvas.height = height;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", t("redact.canvas"));
    stage.append(canvas);
    const count = element("p", "redact-count");
    count.id = "redact-count";
    count.setAttribute("aria-live", "polite");
    const undo = button("redact-undo", t("redact.undo"));
    const cancel = button("redact-cancel", t("redact.cancel"));
    const done = button("primary redact-done", t("redact.done"));
    const actions = element("div", "redact-actions");
    actions.append(undo, cancel, done);
    dialog.append(heading, hint, tools, stage, count, actions);

    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    /** @type {Box[]} */
    let boxes = [];
    /** @type {Box[][]} earlier states of `boxes`, for Ångra */
    const history = [];
    /** @type {{id: number, x: number, y: number, cx: number, cy: number, box: Box | null} | null} */
    let drag = null;
    let closed = false;

    function draw() {
      ctx.drawImage(image, 0, 0, width, height);
      ctx.fillStyle = "#000";
      for (const b of boxes) ctx.fillRect(b.x, b.y, b.w, b.h);
      if (drag?.box) {
        const b = drag.box;
        ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
        ctx.fillRect(b.x, b.y, b.w, b.h);
        ctx.strokeStyle = "#fdd663";
        ctx.lineWidth = Math.max(2, scale() * 3);
        ctx.strokeRect(b.x, b.y, b.w, b.h);
      }
      count.textContent =
        boxes.length === 0
          ? t("redact.none")
          : t(boxes.length === 1 ? "redact.one" : "redact.many", { n: String(boxes.length) });
      undo.disabled = history.length === 0;
    }

    /** Image pixels per CSS pixel of the canvas as shown. */
    function scale() {
      const shown = canvas.getBoundingClientRect().width;
      return shown > 0 ? width / shown : 1;
    }

    /** Fit the canvas in the stage, keeping the photo's proportions. */
    function fit() {
      const room = stage.getBoundingClientRect();
      const s = Math.min(room.width / width, room.height / height);
      if (!(s > 0)) return;
      canvas.style.width = `${Math.floor(width * s)}px`;
      canvas.style.height = `${Math.floor(height * s)}px`;
    }

    /**
     * @param {PointerEvent} event
     * @returns {{x: number, y: number}} the point in image pixels, inside the image
     */
    function point(event) {
      const rect = canvas.getBoundingClientRect();
      const x = ((event.clientX - rect.left) / rect.width) * width;
      const y = ((event.clientY - rect.top) / rect.height) * height;
      return { x: Math.min(Math.max(0, x), width), y: Math.min(Math.max(0, y), height) };
    }

    /** @param {Box[]} next */
    function change(next) {
      history.push(boxes);
      boxes = next;
      draw();
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (drag || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();
      try {
        canvas.setPointerCapture(event.pointerId); // the drag goes on outside the canvas
      } catch {
        // a pointer the browser no longer knows: the drag still works inside the canvas
      }
      const p = point(event);
      drag = { id: event.pointerId, x: p.x, y: p.y, cx: event.clientX, cy: event.clientY, box: null };
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const moved = Math.hypot(event.clientX - drag.cx, event.clientY - drag.cy);
      if (moved < TAP_PX && !drag.box) return;
      const p = point(event);
      drag.box = {
        x: Math.min(p.x, drag.x),
        y: Math.min(p.y, drag.y),
        w: Math.abs(p.x - drag.x),
        h: Math.abs(p.y - drag.y),
      };
      draw();
    });
    canvas.addEventListener("pointerup", (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const ended = drag;
      drag = null;
      if (ended.box) {
        change([...boxes, atLeast(ended.box, MIN_SIDE_PX * scale(), width, height)]);
        return;
      }
      // A tap on a box takes it away (the topmost one under the finger).
      const p = point(event);
      const hit = boxes.findLastIndex((b) => p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h);
      if (hit >= 0) change(boxes.filter((_, i) => i !== hit));
    });
    canvas.addEventListener("pointercancel", (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      drag = null;
      draw();
    });

    /** @param {Review | null} result */
    function close(result) {
      closed = true;
      window.removeEventListener("resize", fit);
      signal.removeEventListener("abort", abort);
      dialog.remove();
      if (main) main.inert = false;
      if (returnFocus?.isConnected) returnFocus.focus();
      resolve(result);
    }
    function abort() {
      close(null);
    }

    faces.addEventListener("click", async () => {
      faces.disabled = true;
      faceStatus.textContent = t("redact.facesLooking");
      try {
        const found = await findFaces(image, width, height);
        if (closed) return;
        if (found.length > 0) change([...boxes, ...found]);
        const n = found.length;
        const key = n === 0 ? "redact.facesNone" : n === 1 ? "redact.facesOne" : "redact.facesMany";
        faceStatus.textContent = t(key, { n: String(n) });
      } catch (error) {
        console.warn("faces", error);
        if (closed) return;
        faceStatus.textContent = t("redact.facesFailed");
        faces.disabled = false;
      }
    });
    undo.addEventListener("click", () => {
      const previous = history.pop();
      if (previous === undefined) return;
      boxes = previous;
      draw();
    });
    cancel.addEventListener("click", () => close(null));
    done.addEventListener("click", () => close({ boxes: boxes.map((b) => ({ ...b })) }));
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close(null);
    });
    signal.addEventListener("abort", abort);
    window.addEventListener("resize", fit);

    if (main) main.inert = true;
    document.body.append(dialog);
    fit();
    draw();
    heading.focus();
  });
}
