// The HTTP side shared by the steps of a sync pass: one fetch that turns the network, a 5xx
// or a 401 into an Abort (the pass cannot go on), and the error envelope's code.

/**
 * What every step of a pass needs to talk to the server.
 * @typedef {{root: string, auth: {Authorization: string}, fetchImpl: typeof fetch}} SyncContext
 */

/** A pass that cannot go on: the network, a 5xx, a 401, or an unexpected answer. */
export class Abort extends Error {
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
export async function errorCode(resp) {
  try {
    const body = await resp.json();
    return body?.error?.code ?? null;
  } catch {
    return null;
  }
}

/**
 * Fetch, turning network errors, 401 and 5xx into an Abort.
 * @param {SyncContext} context
 * @param {string} path e.g. "/api/v1/sync/push", appended to the context's root
 * @param {RequestInit} init
 * @returns {Promise<Response>}
 */
export async function call({ root, fetchImpl }, path, init) {
  /** @type {Response} */
  let resp;
  try {
    resp = await fetchImpl(`${root}${path}`, init);
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
 * Throw an Abort for an answer other than 200 (after call() has handled 401 and 5xx).
 * @param {Response} resp
 * @param {string} what "push" or "pull", for the message when the answer has no code
 * @returns {Promise<void>}
 */
export async function expectOk(resp, what) {
  if (resp.status !== 200) {
    throw new Abort("http", resp.status, (await errorCode(resp)) ?? `${what} failed: ${resp.status}`);
  }
}
