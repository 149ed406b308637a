// The keys of the outbox's "meta" object store (store.js getMeta/setMeta), in one place.

/** Set by a sync pass that got 401: the device's token no longer works. */
export const REVOKED_KEY = "revoked";
/** The device token, for the service worker (which has no localStorage). */
export const TOKEN_META_KEY = "token";
/** Server time minus device time (ms), measured when the last pull answer arrived. */
export const CLOCK_SKEW_KEY = "clockSkewMs";
/** The pull cursor. */
export const CURSOR_KEY = "cursor";
/** The category taxonomy, from the last pull or the categories endpoint. */
export const CATEGORIES_KEY = "categories";
/** The server's time in the last pull answer. */
export const SERVER_TIME_KEY = "serverTime";
/** Records that persistent storage has been asked for (and the answer). */
export const PERSIST_KEY = "persistRequested";
/** The server's `retention` from the last pull: how many days acknowledged reports stay whole. */
export const RETENTION_KEY = "retention";
/** The pull's `on_call` ({phone} or null): the urgent report's fallback calls or texts it. */
export const ON_CALL_KEY = "onCall";
/** Until when (ISO time) the server refuses this phone's photos: its quota for the day is used. */
export const PHOTO_QUOTA_KEY = "photoQuotaUntil";

/**
 * The meta store as the screens get it from app.js (they never import store.js).
 * @typedef {{get: (key: string) => Promise<any>, set: (key: string, value: any) => Promise<void>}} MetaStore
 */
