// One sync pass against the server and the scheduler that runs passes with exponential
// backoff and full jitter. A pass runs three steps in order: photos (sync-photos.js), push
// (sync-push.js) and pull (sync-pull.js). Nothing is marked sent without the server's
// acknowledgement; a network error or 5xx leaves everything queued. Passes run one at a time
// per phone (a Web Lock), whether the page or the service worker starts them. After the pull
// the phone carries out a wipe the server ordered and prunes what it keeps (prune.js); a
// revoked phone deletes what the server has at once.
import { savedEnrolment } from "./enrolment.js";
import { REVOKED_KEY } from "./meta-keys.js";
import { carryOutWipe, pruneOutbox, wipeRevoked } from "./prune.js";
import * as store from "./store.js";
import { Abort } from "./sync-http.js";
import { uploadPhotos } from "./sync-photos.js";
import { pullChanges } from "./sync-pull.js";
import { pushReports } from "./sync-push.js";

/** The Web Lock that keeps the page's and the service worker's passes from overlapping. */
const LOCK_NAME = "lagesbild-sync";

/**
 * @typedef {{
 *   ok: boolean,
 *   revoked: boolean,
 *   code: string | null,
 *   error: {kind: "network" | "server" | "http", status: number | null, message: string} | null,
 *   photosUploaded: number,
 *   photoErrors: Array<{sha256: string, status: number, code: string | null}>,
 *   photoQuotaUntil: string | null,
 *   pushed: number,
 *   results: Record<string, number>,
 *   pulled: number,
 *   clockSkewMs: number | null,
 *   wipeOrdered: boolean,
 *   wiped: import("./prune.js").Dropped | null,
 *   pruned: number,
 *   rounds: {stored: number, rejected: number},
 * }} SyncSummary
 *   wipeOrdered: the pull carried an admin's wipe order; wiped: what a wipe deleted (ordered,
 *   or because the phone is revoked); pruned: reports that lost their details this pass;
 *   rounds: the guard rounds' scans and runs the server answered this pass
 */

/**
 * Run `body` holding the sync lock where Web Locks exist (pages and workers of one origin).
 * @template T
 * @param {() => Promise<T>} body
 * @returns {Promise<T>}
 */
export function exclusively(body) {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(LOCK_NAME, body) : body();
}

/**
 * One sync pass: upload photos, push pending reports in batches, then pull. A 401 marks the
 * device revoked in the store (meta REVOKED_KEY).
 * @param {{baseUrl?: string, token: string, fetchImpl?: typeof fetch}} options
 * @returns {Promise<SyncSummary>}
 */
export function syncOnce(options) {
  return exclusively(() => pass(options));
}

/**
 * @param {{baseUrl?: string, token: string, fetchImpl?: typeof fetch}} options
 * @returns {Promise<SyncSummary>}
 */
async function pass({ baseUrl = "", token, fetchImpl = fetch }) {
  const context = {
    root: baseUrl.replace(/\/+$/, ""),
    auth: { Authorization: `Bearer ${token}` },
    fetchImpl,
  };
  /** @type {SyncSummary} */
  const summary = {
    ok: true,
    revoked: false,
    code: null,
    error: null,
    photosUploaded: 0,
    photoErrors: [],
    photoQuotaUntil: null,
    pushed: 0,
    results: {},
    pulled: 0,
    clockSkewMs: null,
    wipeOrdered: false,
    wiped: null,
    pruned: 0,
    rounds: { stored: 0, rejected: 0 },
  };
  try {
    const queue = await store.pending();
    await uploadPhotos(context, queue, summary);
    await pushReports(context, queue, summary);
    await pullChanges(context, summary);
    if (summary.wipeOrdered) await carryOutWipe(context, summary);
    summary.pruned = (await pruneOutbox()).reports;
  } catch (error) {
    if (!(error instanceof Abort)) throw error;
    summary.ok = false;
    if (error.kind === "revoked") {
      summary.revoked = true;
      summary.code = error.code;
      await store.setMeta(REVOKED_KEY, { code: error.code, at: new Date().toISOString() });
      // At once, before any screen: only what the server does not have stays. If this fails,
      // the revoked screen tries again (session.js) and does not claim it was done.
      summary.wiped = await wipeRevoked().catch((wipeError) => {
        console.error("wipe acknowledged", wipeError);
        return null;
      });
    } else {
      summary.error = { kind: error.kind, status: error.status, message: error.message };
    }
  }
  return summary;
}

/**
 * The delay before retry number `failures` (1, 2, …): full jitter over an exponential cap.
 * @param {number} failures
 * @param {{baseDelayMs: number, maxDelayMs: number, random: () => number}} options
 * @returns {number}
 */
export function backoffDelay(failures, { baseDelayMs, maxDelayMs, random }) {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * cap);
}

/**
 * Run `run()` now and on every trigger(), never two at once: a trigger during a pass
 * schedules exactly one more. A failed (rejected) pass is retried after a backoff delay;
 * a trigger during the wait runs at once.
 * @param {{run: () => Promise<unknown>, baseDelayMs?: number, maxDelayMs?: number,
 *   random?: () => number, setTimer?: (fn: () => void, ms: number) => unknown,
 *   clearTimer?: (handle: any) => void}} options
 * @returns {{trigger: () => void, stop: () => void, idle: () => Promise<void>,
 *   readonly failures: number, readonly running: boolean, readonly lastError: unknown}}
 */
export function createScheduler({
  run,
  baseDelayMs = 2000,
  maxDelayMs = 300000,
  random = Math.random,
  setTimer = (fn, ms) => setTimeout(fn, ms),
  clearTimer = (handle) => clearTimeout(handle),
}) {
  let running = false;
  let again = false;
  let stopped = false;
  let failures = 0;
  /** @type {unknown} */
  let lastError = null;
  /** @type {unknown} */
  let timer = null;
  /** @type {Array<() => void>} */
  let waiters = [];

  async function pass() {
    running = true;
    again = false;
    let ok = false;
    try {
      await run();
      ok = true;
      failures = 0;
      lastError = null;
    } catch (error) {
      failures += 1;
      lastError = error;
    }
    running = false;
    if (stopped) return settle();
    if (again) return void pass();
    if (!ok) {
      timer = setTimer(() => {
        timer = null;
        trigger();
      }, backoffDelay(failures, { baseDelayMs, maxDelayMs, random }));
    }
    settle();
  }

  function settle() {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  }

  function trigger() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer !== null) {
      clearTimer(timer);
      timer = null;
    }
    void pass();
  }

  trigger();
  return {
    trigger,
    stop() {
      stopped = true;
      if (timer !== null) clearTimer(timer);
      timer = null;
    },
    /** Resolves when no pass is running (a retry may still be waiting for its timer). */
    idle() {
      return running ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve();
    },
    get failures() {
      return failures;
    },
    get running() {
      return running;
    },
    get lastError() {
      return lastError;
    },
  };
}

/**
 * The enrolment token saved by app.js, or null.
 * @returns {string | null}
 */
export function readToken() {
  return savedEnrolment()?.token ?? null;
}

/**
 * Start syncing: now, on the `online` event, when the app becomes visible, and every
 * `periodMs` while open. Stops itself when the server says the device is revoked.
 * @param {{baseUrl?: string, periodMs?: number, onSummary?: (s: SyncSummary) => void,
 *   onRevoked?: (code: string | null) => void}} [options]
 * @returns {{trigger: () => void, stop: () => void}}
 */
export function startSync({ baseUrl = "", periodMs = 60000, onSummary, onRevoked } = {}) {
  const scheduler = createScheduler({
    run: async () => {
      const token = readToken();
      if (!token) return;
      const summary = await syncOnce({ baseUrl, token });
      onSummary?.(summary);
      if (summary.revoked) {
        stop();
        onRevoked?.(summary.code);
        return;
      }
      if (!summary.ok) throw new Error(summary.error?.message ?? "sync failed");
    },
  });
  const onOnline = () => scheduler.trigger();
  const onVisible = () => {
    if (document.visibilityState === "visible") scheduler.trigger();
  };
  window.addEventListener("online", onOnline);
  document.addEventListener("visibilitychange", onVisible);
  const interval = setInterval(() => scheduler.trigger(), periodMs);

  function stop() {
    scheduler.stop();
    clearInterval(interval);
    window.removeEventListener("online", onOnline);
    document.removeEventListener("visibilitychange", onVisible);
  }

  return { trigger: scheduler.trigger, stop };
}
