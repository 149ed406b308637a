// The in-app camera scanner: a full-screen preview of the rear camera with a big Avbryt, frames
// drawn onto a canvas and decoded (qr-decode.js) a few times a second. The camera stops on a
// result, on Avbryt, and when the page is hidden or left: it never runs unseen.
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { decodeCanvas } from "./qr-decode.js";

/** Milliseconds between two decoded frames: quick to find, kind to the battery. */
const FRAME_MS = 150;
/** Frames are scaled down to this width: enough for a label at arm's length. */
const MAX_WIDTH = 800;

/**
 * Wire the scanner overlay.
 * @param {{onResult: (text: string) => void, onClose?: () => void}} options onResult: the
 *   decoded text (the camera is already off); onClose: the scanner closed for any reason
 * @returns {{open: () => Promise<void>, close: () => void}}
 */
export function createScanner({ onResult, onClose = () => {} }) {
  const overlay = byId("scanner");
  const video = /** @type {HTMLVideoElement} */ (byId("scanner-video"));
  const status = byId("scanner-status");
  const cancel = /** @type {HTMLButtonElement} */ (byId("scanner-cancel"));
  const canvas = document.createElement("canvas");
  /** @type {MediaStream | null} */
  let stream = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** Each open() is a session; a frame of an older one never reports. */
  let session = 0;

  function close() {
    if (overlay.hidden) return;
    session += 1;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = null;
    video.srcObject = null;
    overlay.hidden = true;
    onClose();
  }

  async function open() {
    const mine = ++session;
    status.textContent = t("scan.starting");
    overlay.hidden = false;
    cancel.focus();
    if (!navigator.mediaDevices?.getUserMedia) {
      status.textContent = t("scan.noCamera");
      return;
    }
    try {
      const media = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
      if (mine !== session) {
        for (const track of media.getTracks()) track.stop(); // closed while it started
        return;
      }
      stream = media;
      video.srcObject = media;
      await video.play();
      status.textContent = t("scan.aim");
      frame(mine);
    } catch (error) {
      console.warn("camera", error);
      if (mine === session) status.textContent = t("scan.noCamera");
    }
  }

  /** @param {number} mine */
  async function frame(mine) {
    if (mine !== session) return;
    const width = Math.min(video.videoWidth, MAX_WIDTH);
    if (width > 0) {
      canvas.width = width;
      canvas.height = Math.round((video.videoHeight * width) / video.videoWidth);
      canvas.getContext("2d", { willReadFrequently: true })?.drawImage(video, 0, 0, canvas.width, canvas.height);
      const text = await decodeCanvas(canvas).catch((error) => {
        console.warn("decode", error);
        return null;
      });
      if (mine !== session) return;
      if (text) {
        close();
        onResult(text);
        return;
      }
    }
    timer = setTimeout(() => void frame(mine), FRAME_MS);
  }

  cancel.addEventListener("click", close);
  overlay.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") close();
  });
  window.addEventListener("pagehide", close);
  return { open, close };
}
