// The phone's enrolment: the code from the link printed by `lagesbild device enrol` is exchanged
// for a device token, kept in localStorage for the page and in the store's meta for the
// service worker (which has no localStorage) so it can sync in the background. The outbox's
// meta store comes from app.js (this module never imports store.js).
import { REVOKED_KEY, TOKEN_META_KEY } from "./meta-keys.js";

const TOKEN_KEY = "lagesbild.device";

/**
 * @typedef {{token: string, device: {name: string, organisation: {name: string}}}} Enrolment
 * @typedef {import("./meta-keys.js").MetaStore} MetaStore
 */

/**
 * Exchange an enrolment code for a device token and save it. Resolves null when the server
 * refuses the code or cannot be reached.
 * @param {string} code
 * @param {MetaStore} meta the outbox's meta store
 * @returns {Promise<Enrolment | null>}
 */
export async function enrol(code, meta) {
  /** @type {Response} */
  let resp;
  try {
    resp = await fetch("api/v1/enrol", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
  } catch {
    return null;
  }
  if (!resp.ok) return null;
  /** @type {Enrolment} */
  const body = await resp.json();
  localStorage.setItem(TOKEN_KEY, JSON.stringify(body));
  history.replaceState(null, "", location.pathname); // the one-time code leaves the address bar
  // A new enrolment starts afresh: a revoked mark belonged to the old token.
  await meta.set(REVOKED_KEY, null);
  await shareToken(body.token, meta);
  return body;
}

/**
 * The saved enrolment, or null (also where there is no localStorage, as in a worker).
 * @returns {Enrolment | null}
 */
export function savedEnrolment() {
  try {
    return JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Put the token where the service worker finds it, unless it is already there.
 * @param {string} token
 * @param {MetaStore} meta the outbox's meta store
 * @returns {Promise<void>}
 */
export async function shareToken(token, meta) {
  if ((await meta.get(TOKEN_META_KEY)) !== token) await meta.set(TOKEN_META_KEY, token);
}

/** Forget the enrolment on this phone (after a revoked device's data was wiped). */
export function forgetEnrolment() {
  localStorage.removeItem(TOKEN_KEY);
}
