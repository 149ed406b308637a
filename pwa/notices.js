// Warnings about the phone itself: a clock that is far off (reports would carry wrong times)
// and storage that is running out (the outbox could not take more photos). Also asks once,
// after enrolment, that the browser keep the outbox when space gets short.
import { t } from "./i18n.js";
import { PERSIST_KEY } from "./meta-keys.js";

/** @typedef {import("./meta-keys.js").MetaStore} MetaStore */

/** Warn when the phone's clock differs from the server's by more than this. */
export const CLOCK_SKEW_LIMIT_MS = 2 * 60 * 1000;
/** Warn when less than this many bytes of storage are left... */
export const LOW_STORAGE_FREE_BYTES = 50 * 1024 * 1024;
/** ...or when more than this share of the quota is used. */
export const LOW_STORAGE_USED_RATIO = 0.9;

/**
 * @param {string} id
 * @returns {HTMLElement | null}
 */
function notice(id) {
  return document.getElementById(id);
}

/**
 * Show or hide the clock warning for a measured skew (server time minus phone time).
 * @param {number | null | undefined} skewMs
 */
export function showClockSkew(skewMs) {
  const el = notice("clock-warning");
  if (!el) return;
  const off = typeof skewMs === "number" && Math.abs(skewMs) > CLOCK_SKEW_LIMIT_MS;
  const minutes = off ? Math.round(Math.abs(/** @type {number} */ (skewMs)) / 60000) : 0;
  // Past two hours, hours read better than hundreds of minutes.
  el.textContent = !off
    ? ""
    : minutes < 120
      ? t("notice.clockSkew", { minutes: String(minutes) })
      : t("notice.clockSkewHours", { hours: String(Math.round(minutes / 60)) });
  el.hidden = !off;
}

/**
 * Show or hide the notice that the day's photo quota is used up and the photos wait on the
 * phone until `untilIso` (a pass that uploaded or tried photos says null).
 * @param {string | null | undefined} untilIso
 */
export function showPhotoQuota(untilIso) {
  const el = notice("photo-quota-warning");
  if (!el) return;
  const until = untilIso ? new Date(untilIso) : null;
  const waiting = until !== null && !Number.isNaN(until.getTime()) && until.getTime() > Date.now();
  el.textContent = waiting
    ? t("notice.photoQuota", {
        time: until.toLocaleTimeString(document.documentElement.lang || "sv", {
          hour: "2-digit",
          minute: "2-digit",
        }),
      })
    : "";
  el.hidden = !waiting;
}

/**
 * Whether an estimate means storage is running out.
 * @param {{quota?: number, usage?: number}} estimate
 * @returns {boolean}
 */
export function isLow({ quota, usage }) {
  if (typeof quota !== "number" || typeof usage !== "number" || quota <= 0) return false;
  return quota - usage < LOW_STORAGE_FREE_BYTES || usage / quota > LOW_STORAGE_USED_RATIO;
}

/**
 * Check the storage estimate and show or hide the low-storage warning.
 * @returns {Promise<boolean>} whether storage is low
 */
export async function checkStorage() {
  const el = notice("storage-warning");
  if (!el || !navigator.storage?.estimate) return false;
  let low = false;
  try {
    low = isLow(await navigator.storage.estimate());
  } catch {
    low = false; // no estimate: nothing to say
  }
  el.textContent = low ? t("notice.lowStorage") : "";
  el.hidden = !low;
  return low;
}

/**
 * Ask once (per enrolment of this phone) that the browser never evict the outbox.
 * @param {MetaStore} meta the outbox's meta store, where the answer is kept
 * @returns {Promise<void>}
 */
export async function requestPersistence(meta) {
  if (!navigator.storage?.persist || (await meta.get(PERSIST_KEY))) return;
  let granted = false;
  try {
    granted = await navigator.storage.persist();
  } catch {
    granted = false;
  }
  await meta.set(PERSIST_KEY, { granted, at: new Date().toISOString() });
}
