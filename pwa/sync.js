// One sync pass against the server (photos, push, pull) and the scheduler that runs passes
// with exponential backoff and full jitter. Nothing is marked sent without the server's
// acknowledgement; a network error or 5xx leaves everything queued. Passes run one at a time
// per phone (a Web Lock), whether the page or the service worker starts them.
import { savedEnrolment } from "./enrolment.js";
import * as store from "./store.js";

const BATCH_SIZE = 50;
const MAX_PULL_PAGES = 100;
/** The Web Lock that keeps the page's and the service worker's passes from overlapping. */
const LOCK_NAME = "lagesbild-sync";
/** Meta key: server time minus device time (ms), measured when the last pull answer arrived. */
export const CLOCK_SKEW_KEY = "clockSkewMs";

/**
 * @typedef {{
 *   ok: boolean,
 *   revoked: boolean,
 *   code: string | null,
 *   error: {kind: "network" | "server" | "http", status: number | null, message: string} | null,
 *   photosUploaded: number,
 *   photoErrors: Array<{sha256: string, status: number, code: string | null}>,
 *   pushed: number,
 *   results: Record<string, number>,
 *   pulled: number,
 *   clockSkewMs: number | null,
 * }} SyncSummary
 */

/** A pass that cannot go on: the network, a 5xx, or a 401. */
class Abort extends Error {
  /**
   * @param {"network" | "server" | "http" | "revoked"} kind
   * @param {number | null} status
   * @param {string} message
   * @param {string | null} [code]
   */
  constructor(kind, status, message, code = null) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {Response} resp
 * @returns {Promise<string | null>} the error envelope's code, if any
 */
async function errorCode(resp) {
  try {
    const body = await resp.json();
    return body?.error?.code ?? null;
  } catch {
    return null;
  }
}

/**
 * Fetch, turning network errors, 401 and 5xx into an Abort.
 * @param {typeof fetch} fetchImpl
 * @param {string} url
 * @param {RequestInit} init
 * @returns {Promise<Response>}
 */
async function call(fetchImpl, url, init) {
  /** @type {Response} */
  let resp;
  try {
    resp = await fetchImpl(url, init);
  } catch (error) {
    throw new Abort("network", null, String(error));
  }
  if (resp.status === 401) {
    const code = await errorCode(resp);
    throw new Abort("revoked", 401, "unauthorised", code);
  }
  if (resp.status >= 500) throw new Abort("server", resp.status, `server error ${resp.status}`);
  return resp;
}

/**
 * Run `body` holding the sync lock where Web Locks exist (pages and workers of one origin).
 * @template T
 * @param {() => Promise<T>} body
 * @returns {Promise<T>}
 */
function exclusively(body) {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(LOCK_NAME, body) : body();
}

/**
 * One sync pass: upload photos, push pending reports in batches, then pull. A 401 marks the
 * device revoked in the store (store.REVOKED_KEY).
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
  const root = baseUrl.replace(/\/+$/, "");
  const auth = { Authorization: `Bearer ${token}` };
  /** @type {SyncSummary} */
  const summary = {
    ok: true,
    revoked: false,
    code: null,
    error: null,
    photosUploaded: 0,
    photoErrors: [],
    pushed: 0,
    results: {},
    pulled: 0,
    clockSkewMs: null,
  };
  let marked = false;
  try {
    const queue = await store.pending();

    // 1. Photos: every photo a pending report names, and those the server said it misses.
    const all = await store.listReports();
    const shas = new Set(queue.flatMap((r) => r.photos ?? []));
    for (const r of all) for (const sha of r.missingPhotos ?? []) shas.add(sha);
    for (const sha of shas) {
      const stored = await store.photo(sha);
      if (!stored) continue; // not on this phone (e.g. taken on another one): nothing to send
      const resp = await call(fetchImpl, `${root}/api/v1/photos/${sha}`, {
        method: "PUT",
        headers: { ...auth, "Content-Type": stored.type },
        body: stored.bytes,
      });
      if (resp.status === 200 || resp.status === 201) {
        summary.photosUploaded += 1;
      } else {
        summary.photoErrors.push({ sha256: sha, status: resp.status, code: await errorCode(resp) });
      }
    }

    // 2. Push, at most BATCH_SIZE reports a request; apply each result in order.
    if (queue.length) {
      await store.markSending(queue.map((r) => r.id));
      marked = true;
    }
    for (let i = 0; i < queue.length; i += BATCH_SIZE) {
      const batch = queue.slice(i, i + BATCH_SIZE);
      const resp = await call(fetchImpl, `${root}/api/v1/sync/push`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ reports: batch.map(store.toPayload) }),
      });
      if (resp.status !== 200) {
        throw new Abort("http", resp.status, (await errorCode(resp)) ?? `push failed: ${resp.status}`);
      }
      const { results } = await resp.json();
      for (const [index, result] of results.entries()) {
        const sent = batch[index];
        if (!sent || result.id !== sent.id) continue; // never acknowledge what was not sent
        await store.markResult(sent.id, result, sent.revision);
        summary.results[result.status] = (summary.results[result.status] ?? 0) + 1;
        summary.pushed += 1;
      }
    }
    if (marked) await store.unmarkSending(); // anything left without an answer stays queued
    marked = false;

    // 3. Pull with the stored cursor, while the server has more. The outbox count (read once)
    // lets the morning digest name phones still holding reports.
    const unsent = (await store.listReports()).filter((r) => r.state !== "sent").length;
    for (let page = 0; page < MAX_PULL_PAGES; page += 1) {
      const cursor = await store.getMeta("cursor");
      const params = new URLSearchParams();
      if (page === 0) params.set("pending", String(unsent)); // once a pass: one write on the server
      if (cursor) params.set("cursor", cursor);
      const search = params.toString();
      const query = search ? `?${search}` : "";
      const resp = await call(fetchImpl, `${root}/api/v1/sync/pull${query}`, { headers: auth });
      const receivedAt = Date.now();
      if (resp.status !== 200) {
        throw new Abort("http", resp.status, (await errorCode(resp)) ?? `pull failed: ${resp.status}`);
      }
      const body = await resp.json();
      summary.pulled += await store.applyPull(body.reports ?? [], body.deleted ?? []);
      if (body.categories) await store.setMeta("categories", body.categories);
      await store.setMeta("cursor", body.cursor);
      if (body.server_time) {
        await store.setMeta("serverTime", body.server_time);
        const serverMs = Date.parse(body.server_time);
        if (Number.isFinite(serverMs)) {
          summary.clockSkewMs = serverMs - receivedAt;
          await store.setMeta(CLOCK_SKEW_KEY, summary.clockSkewMs);
        }
      }
      if (!body.more) break;
    }
  } catch (error) {
    if (marked) await store.unmarkSending();
    if (!(error instanceof Abort)) throw error;
    summary.ok = false;
    if (error.kind === "revoked") {
      summary.revoked = true;
      summary.code = error.code;
      await store.setMeta(store.REVOKED_KEY, { code: error.code, at: new Date().toISOString() });
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
