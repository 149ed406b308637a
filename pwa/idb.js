// The IndexedDB database of the field app and the two primitives every store module uses:
// one request as a promise, and one durable transaction.
//
// Versions: 1 reports, photos, meta; 2 adds drafts (the half-written report, drafts.js); 3
// adds walks (the planned safety walks of the last pull, walks.js); 4 adds the guard rounds
// (store-rounds.js): checkpoints and rounds of the last pull, round runs and scans (queued
// like reports). An upgrade only ever adds stores: the outbox of an older version is kept.

const DB_NAME = "lagesbild";
const DB_VERSION = 4;

/** The stores of the guard rounds (version 4), all keyed by `id`. */
export const ROUND_STORES = ["checkpoints", "rounds", "round_runs", "scans"];

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/**
 * Open (and on first use create) the database.
 * @returns {Promise<IDBDatabase>}
 */
export function openDb() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("reports")) db.createObjectStore("reports", { keyPath: "id" });
      if (!db.objectStoreNames.contains("photos")) db.createObjectStore("photos", { keyPath: "sha256" });
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
      if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts");
      if (!db.objectStoreNames.contains("walks")) db.createObjectStore("walks", { keyPath: "id" });
      for (const name of ROUND_STORES) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: "id" });
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/**
 * Wrap one IndexedDB request in a promise (awaiting it keeps its transaction active).
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
export function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run `body` in one transaction and resolve with its value only once the transaction has
 * completed, i.e. the data is durable. `body` may await IndexedDB requests, nothing else.
 * @template T
 * @param {string[]} names
 * @param {IDBTransactionMode} mode
 * @param {(tx: IDBTransaction) => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function transact(names, mode, body) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode, { durability: "strict" });
    /** @type {T} */
    let value;
    tx.oncomplete = () => resolve(value);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException("Transaction aborted", "AbortError"));
    body(tx).then(
      (result) => {
        value = result;
      },
      (error) => {
        try {
          tx.abort();
        } catch {
          // already finished
        }
        reject(error);
      },
    );
  });
}
