// Round mode (väktarrond): the organisation's rounds from the last pull (name and window) with
// "Starta rond"; the running round with its checkpoints (required ones marked, an ordered
// round numbered, scanned ones ticked with the time), scanning (scan-flow.js), "Rapport här"
// at a checkpoint and "Avsluta rond", which asks for a reason while required checkpoints are
// unscanned. Everything is in IndexedDB first, so it works offline and survives a reload;
// the sync sends runs and scans with the reports. This module never imports store.js.
import { byId } from "./dom.js";
import { currentLang, t } from "./i18n.js";
import { missingRequired, roundRows, windowText } from "./rounds.js";
import { createScanFlow } from "./scan-flow.js";
import { localIsoWithOffset } from "./time.js";

/**
 * @typedef {import("./store-rounds.js").Checkpoint} Checkpoint
 * @typedef {import("./store-rounds.js").Round} Round
 * @typedef {import("./store-rounds.js").RoundRun} RoundRun
 * @typedef {import("./store-rounds.js").Scan} Scan
 * @typedef {{
 *   listRounds: () => Promise<Round[]>, listCheckpoints: () => Promise<Checkpoint[]>,
 *   listRuns: () => Promise<RoundRun[]>, listScans: () => Promise<Scan[]>,
 *   startRun: (run: {id: string, round_id: number, round_name?: string, started_at: string}) => Promise<RoundRun>,
 *   endRun: (id: string, endedAt: string, reason: string) => Promise<RoundRun | undefined>,
 *   saveScan: typeof import("./store-rounds.js").saveScan,
 *   unsentCount: () => Promise<number>,
 * }} RoundStorage the round functions app.js hands in
 */

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 * @returns {HTMLElement}
 */
function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Wire the round screens.
 * @param {{storage: RoundStorage, onQueued: () => void, onReportHere: (checkpoint: Checkpoint) => void,
 *   announce: (text: string) => void}} options onQueued: a run or scan was saved (sync now)
 * @returns {{refresh: () => Promise<void>, openScanLink: (token: string) => Promise<void>,
 *   hide: () => void}}
 */
export function createRoundsView({ storage, onQueued, onReportHere, announce }) {
  const section = byId("rounds");
  const list = byId("round-list");
  const runsRejected = byId("round-runs-rejected");
  const runView = byId("round-run");
  const heading = byId("round-run-heading");
  const meta = byId("round-run-meta");
  const rowsList = byId("round-checkpoints");
  const rejectedBox = byId("round-rejected");
  const rejectedList = byId("round-rejected-list");
  const endButton = /** @type {HTMLButtonElement} */ (byId("round-end"));
  const endForm = /** @type {HTMLFormElement} */ (byId("round-end-form"));
  const endMissing = byId("round-end-missing");
  const endReason = /** @type {HTMLTextAreaElement} */ (byId("round-end-reason"));
  const endError = byId("round-end-error");

  /** @type {Round[]} */
  let rounds = [];
  /** @type {Checkpoint[]} */
  let checkpoints = [];
  /** @type {RoundRun[]} */
  let runs = [];
  /** @type {Scan[]} */
  let scans = [];
  let hidden = false;

  const time = () => new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "sv-SE", { timeStyle: "short" });

  /** @returns {RoundRun | null} the run not yet ended (one at a time) */
  function running() {
    return runs.filter((r) => !r.ended_at && r.state !== "rejected").at(-1) ?? null;
  }

  const flow = createScanFlow({
    storage,
    state: () => ({ rounds, checkpoints, run: running() }),
    start,
    onRecorded: async (message) => {
      await refresh();
      onQueued();
      if (message) announce(message);
    },
    onPanel: () => show(),
  });

  async function refresh() {
    [rounds, checkpoints, runs, scans] = await Promise.all([
      storage.listRounds(),
      storage.listCheckpoints(),
      storage.listRuns(),
      storage.listScans(),
    ]);
    render();
  }

  function render() {
    const run = running();
    const round = run ? rounds.find((r) => r.id === run.round_id) : undefined;
    list.hidden = Boolean(run);
    runsRejected.hidden = Boolean(run);
    runView.hidden = !run;
    if (run) renderRun(run, round);
    else renderList();
    show();
  }

  /** The section shows while there are rounds, one runs, or a scanned link waits for an answer. */
  function show() {
    section.hidden = hidden || !(rounds.length || running() || flow.panelOpen());
  }

  function renderList() {
    endForm.hidden = true;
    // A run the server refused (e.g. a round removed since the pull): said, never resent.
    const refused = runs.filter((r) => r.state === "rejected").slice(-3);
    runsRejected.hidden = refused.length === 0;
    runsRejected.replaceChildren(
      ...refused.map((run) =>
        element(
          "li",
          "",
          t("rounds.runRejected", {
            // The run keeps its round's name: a round deleted on the server leaves the pull.
            name: rounds.find((r) => r.id === run.round_id)?.name ?? run.round_name ?? t("rounds.unknownRound"),
            time: time().format(new Date(run.started_at)),
            message: refusal(run.error),
          }),
        ),
      ),
    );
    list.replaceChildren(
      ...rounds.map((round) => {
        const item = element("li", "round-item", "");
        const name = element("span", "round-name", round.name);
        name.id = `round-name-${round.id}`;
        const when = element("span", "hint round-window", t("rounds.window", { window: windowText(round) }));
        const button = /** @type {HTMLButtonElement} */ (element("button", "big round-start", t("rounds.start")));
        button.type = "button";
        button.setAttribute("aria-describedby", name.id);
        button.addEventListener("click", () => void start(round).then(() => heading.focus()));
        item.append(name, when, button);
        return item;
      }),
    );
  }

  /**
   * @param {RoundRun} run
   * @param {Round | undefined} round
   */
  function renderRun(run, round) {
    const mine = scans.filter((s) => s.round_run === run.id);
    const rows = round ? roundRows(round, checkpoints, mine) : [];
    const format = time();
    heading.textContent = round?.name ?? t("rounds.unknownRound");
    meta.textContent = t(round?.ordered ? "rounds.metaOrdered" : "rounds.meta", {
      time: format.format(new Date(run.started_at)),
      done: String(rows.filter((r) => r.scan).length),
      total: String(rows.length),
    });
    rowsList.classList.toggle("ordered", Boolean(round?.ordered));
    rowsList.replaceChildren(...rows.map((row) => renderRow(row, format)));
    const rejected = mine.filter((s) => s.state === "rejected");
    rejectedBox.hidden = rejected.length === 0;
    rejectedList.replaceChildren(
      ...rejected.map((s) =>
        element(
          "li",
          "round-rejected-item",
          t("rounds.rejected", {
            time: format.format(new Date(s.scanned_at)),
            what: checkpoints.find((c) => c.id === s.checkpoint_id)?.name ?? s.short_code ?? t("rounds.unknownCheckpoint"),
            message: refusal(s.error),
          }),
        ),
      ),
    );
  }

  /**
   * @param {import("./rounds.js").RoundRow} row
   * @param {Intl.DateTimeFormat} format
   * @returns {HTMLLIElement}
   */
  function renderRow(row, format) {
    const item = /** @type {HTMLLIElement} */ (element("li", row.scan ? "checkpoint done" : "checkpoint", ""));
    const name = element("span", "checkpoint-name", row.checkpoint?.name ?? t("rounds.unknownCheckpoint"));
    name.id = `checkpoint-name-${row.id}`;
    if (row.number !== null) name.prepend(`${row.number}. `);
    item.append(name);
    if (row.required) item.append(" ", element("span", "checkpoint-required", t("rounds.required")));
    const mark = element("span", "checkpoint-state", "");
    const icon = element("span", "state-icon", row.scan ? "✓" : "○");
    icon.setAttribute("aria-hidden", "true");
    const text = row.scan ? t("rounds.scannedAt", { time: format.format(new Date(row.scan.scanned_at)) }) : t("rounds.notScanned");
    mark.append(icon, " ", text);
    item.append(mark);
    const cp = row.checkpoint;
    if (row.scan && cp && cp.lat !== null && cp.lon !== null) {
      const here = /** @type {HTMLButtonElement} */ (element("button", "secondary report-here", t("rounds.reportHere")));
      here.type = "button";
      here.setAttribute("aria-describedby", name.id);
      here.addEventListener("click", () => onReportHere(cp));
      item.append(here);
    }
    return item;
  }

  /**
   * Start a round now: a new run with the phone's time, queued.
   * @param {Round} round
   * @returns {Promise<RoundRun>}
   */
  async function start(round) {
    const run = await storage.startRun({
      id: crypto.randomUUID(),
      round_id: round.id,
      round_name: round.name,
      started_at: localIsoWithOffset(new Date()),
    });
    await refresh();
    onQueued();
    announce(t("rounds.started", { name: round.name }));
    return run;
  }

  endButton.addEventListener("click", () => {
    const run = running();
    const round = run ? rounds.find((r) => r.id === run.round_id) : undefined;
    if (!run) return;
    const missing = round ? missingRequired(roundRows(round, checkpoints, scans.filter((s) => s.round_run === run.id))) : [];
    if (!missing.length) {
      void finish(run, "");
      return;
    }
    endMissing.textContent = t(missing.length === 1 ? "rounds.endMissingOne" : "rounds.endMissing", {
      count: String(missing.length),
      names: missing.map((row) => row.checkpoint?.name ?? String(row.id)).join(", "),
    });
    endError.hidden = true;
    endReason.value = "";
    endForm.hidden = false;
    endButton.hidden = true;
    endMissing.focus();
  });

  endForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const run = running();
    const reason = endReason.value.trim();
    if (!run) return;
    if (!reason) {
      endError.hidden = false;
      endReason.focus();
      return;
    }
    void finish(run, reason.slice(0, 500));
  });

  byId("round-end-back").addEventListener("click", () => {
    endForm.hidden = true;
    endButton.hidden = false;
    endButton.focus();
  });

  /**
   * @param {RoundRun} run
   * @param {string} reason
   */
  async function finish(run, reason) {
    await storage.endRun(run.id, localIsoWithOffset(new Date()), reason);
    endForm.hidden = true;
    endButton.hidden = false;
    await refresh();
    onQueued();
    announce(t("rounds.ended"));
  }

  return {
    refresh,
    openScanLink: (token) => flow.handle({ token }, "qr"),
    /** The phone was revoked: round mode goes with the other screens. */
    hide: () => {
      hidden = true;
      flow.close();
      show();
    },
  };
}

/**
 * The refusal codes the phone says in its own language; others show the server's words.
 * Every code server/rounds refuses a scan or run with (tests/unit/test_rounds_refusals.py
 * checks this list and the catalogs against the server's code).
 */
const KNOWN_REFUSALS = new Set([
  "bad_time",
  "conflict",
  "foreign_checkpoint",
  "foreign_id",
  "invalid",
  "reason_required",
  "run_refused",
  "unknown_checkpoint",
  "unknown_round",
  "unknown_round_run",
]);

/**
 * The words for a scan's or run's refusal: the catalog's for a known code, else the server's.
 * @param {{code?: string, message?: string} | undefined} error
 * @returns {string}
 */
function refusal(error) {
  if (error?.code && KNOWN_REFUSALS.has(error.code)) return t(`rounds.refused.${error.code}`);
  return error?.message || error?.code || t("reports.rejectedUnknown");
}
