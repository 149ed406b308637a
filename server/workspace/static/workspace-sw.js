// The workspace's service worker (scope /workspace/), for urgent alerts by Web Push only; the
// field app has its own (pwa/sw.js). Every push shows a notification: browsers revoke the
// subscription of a site that receives pushes silently. The tag is per incident, so a
// repeat (a resend, the next rota level) replaces the earlier one; renotify makes it ring
// again. A tap opens (or focuses) the page the payload names, a workspace address only.

const VERSION = "ws-1";
const CACHE_PREFIX = "lagesbild-workspace-";
const CACHE = CACHE_PREFIX + VERSION;
const ICON = "/icons/icon-192.png";

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The notification's icon, so it shows even when the push arrives offline-ish.
      await cache.add(ICON).catch(() => undefined);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

/** Read the push payload; a missing or broken one still gives a notification. */
function payloadOf(event) {
  try {
    return event.data ? event.data.json() : {};
  } catch (_err) {
    return {};
  }
}

/** Keep a link inside the workspace (a payload cannot send the person elsewhere). */
function safeUrl(url) {
  const target = new URL(typeof url === "string" ? url : "/workspace/", self.location.origin);
  return target.origin === self.location.origin && target.pathname.startsWith("/workspace/")
    ? target.href
    : new URL("/workspace/", self.location.origin).href;
}

self.addEventListener("push", (event) => {
  const data = payloadOf(event);
  const title = typeof data.title === "string" && data.title ? data.title : "Lägesbild";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === "string" ? data.body : "",
      tag: typeof data.tag === "string" && data.tag ? data.tag : "lagesbild-alert",
      renotify: true,
      requireInteraction: true,
      icon: ICON,
      data: { url: safeUrl(data.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = safeUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of open) {
        if (client.url === url && "focus" in client) {
          await client.focus();
          return;
        }
      }
      await self.clients.openWindow(url);
    })(),
  );
});
