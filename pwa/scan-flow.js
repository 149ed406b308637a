// What happens to a scan: the camera (qr-scan.js), a typed short code, an NFC tag (nfc-scan.js)
// or a checkpoint's QR link opened from the camera app all end here. A known checkpoint is
// recorded at once for the running round; with no round running the guard chooses to start
// one or to record it loose; a checkpoint the phone does not know (not in the last pull) is
// said at once and recorded only if the guard confirms: the server decides then.
import { byId } from "./dom.js";
import { currentLang, t } from "./i18n.js";
import { quickFix } from "./location.js";
import { nfcAvailable, readTag } from "./nfc-scan.js";
import { createScanner } from "./qr-scan.js";
import { findCheckpoint, normalCode, roundsWith, tokenFrom } from "./rounds.js";
import { localIsoWithOffset } from "./time.js";

/**
 * @typedef {import("./store-rounds.js").Checkpoint} Checkpoint
 * @typedef {import("./store-rounds.js").Round} Round
 * @typedef {import("./store-rounds.js").RoundRun} RoundRun
 * @typedef {{token?: string, short_code?: string}} ScanKey exactly one of the two
 * @typedef {"qr" | "code" | "nfc"} Method
 */

/** A scan waits at most this long for a position (a recent fix comes at once). */
const FIX_WAIT_MS = 1500;

/**
 * Wire the scan inputs and the panel that asks what to do with a scan.
 * @param {{storage: {saveScan: typeof import("./store-rounds.js").saveScan},
 *   state: () => {rounds: Round[], checkpoints: Checkpoint[], run: RoundRun | null},
 *   start: (round: Round) => Promise<RoundRun>, onRecorded: (message: string | null) => Promise<void>,
 *   onPanel: () => void}} options onPanel: the panel opened or closed
 * @returns {{handle: (key: ScanKey, method: Method) => Promise<void>, panelOpen: () => boolean,
 *   close: () => void}}
 */
export function createScanFlow({ storage, state, start, onRecorded, onPanel }) {
  const panel = byId("scan-panel");
  const panelText = byId("scan-panel-text");
  const panelHint = byId("scan-panel-hint");
  const panelActions = byId("scan-panel-actions");
  const feedback = byId("scan-feedback");
  const codeForm = /** @type {HTMLFormElement} */ (byId("scan-code-form"));
  const codeInput = /** @type {HTMLInputElement} */ (byId("scan-code"));
  const codeError = byId("scan-code-error");
  const nfcButton = /** @type {HTMLButtonElement} */ (byId("scan-nfc"));
  const cameraButton = /** @type {HTMLButtonElement} */ (byId("scan-camera"));
  const scanner = createScanner({
    onResult: (text) => void scanned(text, "qr"),
    onClose: () => cameraButton.focus(),
  });
  /** @type {AbortController | null} */
  let nfc = null;

  const clock = (/** @type {Date} */ at) =>
    new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "sv-SE", { timeStyle: "short" }).format(at);

  /**
   * A text from the camera or a tag: a checkpoint's link or token, else a clear no.
   * @param {string} text
   * @param {Method} method
   */
  async function scanned(text, method) {
    const token = tokenFrom(text);
    if (token) await handle({ token }, method);
    else say(t("scan.notCheckpoint"));
  }

  /** @param {string} text */
  function say(text) {
    feedback.textContent = text;
  }

  /**
   * Decide what a scan means now; its time is the moment of scanning, not of a later answer.
   * @param {ScanKey} key
   * @param {Method} method
   */
  async function handle(key, method) {
    const at = new Date();
    const fix = quickFix(FIX_WAIT_MS);
    const { rounds, checkpoints, run } = state();
    const checkpoint = await findCheckpoint(checkpoints, key);
    // A typed code that matches is sent as the server printed it.
    const sent = checkpoint && key.short_code ? { short_code: checkpoint.short_code } : key;
    const record = (/** @type {string | null} */ runId) => save(sent, method, at, fix, runId, checkpoint);
    if (!checkpoint) {
      ask(t("scan.unknown"), t("scan.unknownHint"), [
        [t("scan.saveAnyway"), "danger", () => record(run?.id ?? null)],
        [t("scan.dismiss"), "", async () => {}],
      ]);
      return;
    }
    if (run) {
      await record(run.id);
      return;
    }
    const starts = roundsWith(rounds, checkpoint.id).map(
      (round) =>
        /** @type {[string, string, () => Promise<void>]} */ ([
          t("scan.startWith", { name: round.name }),
          "primary",
          async () => record((await start(round)).id),
        ]),
    );
    ask(t("scan.landing", { name: checkpoint.name }), t("scan.landingHint"), [
      ...starts,
      [t("scan.loose"), "", () => record(null)],
      [t("scan.dismiss"), "", async () => {}],
    ]);
  }

  /**
   * Show the panel with a question and its answers; any answer closes it.
   * @param {string} text
   * @param {string} hint
   * @param {Array<[string, string, () => Promise<void>]>} answers
   */
  function ask(text, hint, answers) {
    panelText.textContent = text;
    panelHint.textContent = hint;
    panelActions.replaceChildren(
      ...answers.map(([label, kind, act]) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = `big ${kind}`.trim();
        button.textContent = label;
        button.addEventListener("click", async () => {
          close();
          await act();
        });
        return button;
      }),
    );
    panel.hidden = false;
    onPanel();
    panelText.focus();
  }

  function close() {
    panel.hidden = true;
    panelActions.replaceChildren();
    nfc?.abort();
    nfc = null;
    onPanel();
  }

  /**
   * Store the scan (queued) and say so.
   * @param {ScanKey} key
   * @param {Method} method
   * @param {Date} at
   * @param {Promise<import("./report-fields.js").Location | null>} fix
   * @param {string | null} runId
   * @param {Checkpoint | null} checkpoint
   */
  async function save(key, method, at, fix, runId, checkpoint) {
    const position = await fix;
    /** @type {Parameters<typeof storage.saveScan>[0]} */
    const scan = { id: crypto.randomUUID(), ...key, scanned_at: localIsoWithOffset(at), method, checkpoint_id: checkpoint?.id ?? null };
    if (position) scan.location = { lat: position.lat, lon: position.lon, accuracy: position.accuracy_m };
    if (runId) scan.round_run = runId;
    try {
      await storage.saveScan(scan);
    } catch (error) {
      console.error("scan", error);
      say(t("scan.saveFailed"));
      return;
    }
    const name = checkpoint?.name ?? key.short_code ?? t("rounds.unknownCheckpoint");
    const message = t(runId ? "scan.recorded" : "scan.recordedLoose", { name, time: clock(at) });
    say(message);
    // A loose scan has no round screen to show it: the status line says it then.
    await onRecorded(runId ? null : message);
  }

  cameraButton.addEventListener("click", () => void scanner.open());
  codeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = normalCode(codeInput.value);
    if (!code) {
      codeError.textContent = t("scan.codeEmpty");
      codeError.hidden = false;
      codeInput.focus();
      return;
    }
    codeError.hidden = true;
    codeInput.value = "";
    void handle({ short_code: code }, "code");
  });
  codeInput.addEventListener("input", () => {
    codeError.hidden = true;
  });
  nfcButton.hidden = !nfcAvailable();
  nfcButton.addEventListener("click", async () => {
    nfc?.abort();
    const controller = new AbortController();
    nfc = controller;
    say(t("scan.nfcWaiting"));
    try {
      const text = await readTag(controller.signal);
      if (nfc === controller) nfc = null;
      await scanned(text, "nfc");
    } catch (error) {
      if (!controller.signal.aborted) {
        console.warn("nfc", error);
        say(t("scan.nfcFailed"));
      }
    }
  });

  return { handle, panelOpen: () => !panel.hidden, close };
}
