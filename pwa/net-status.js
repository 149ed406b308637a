// The line pinned to the top of the enrolled phone: whether it reaches the server, and how
// many reports are still only on the phone ("Offline · 3 ej skickade"). The browser's own
// online flag says too little (it is true on a Wi-Fi without internet, or with the server
// down), so the last sync pass decides; the flag only says "offline" sooner.
import { byId } from "./dom.js";
import { t } from "./i18n.js";

/** @typedef {import("./sync.js").SyncSummary} SyncSummary */

/**
 * Wire the indicator (hidden until show()).
 * @returns {{show: () => void, hide: () => void, setUnsent: (count: number) => void,
 *   afterPass: (summary: SyncSummary) => void}}
 */
export function createNetStatus() {
  const bar = byId("net");
  const text = byId("net-text");
  const icon = /** @type {HTMLElement} */ (bar.querySelector(".net-icon"));
  let online = navigator.onLine; // until the first pass says better
  let unsent = 0;

  function render() {
    const unsentText =
      unsent === 0
        ? t("net.allSent")
        : unsent === 1
          ? t("net.unsentOne")
          : t("net.unsentMany", { count: String(unsent) });
    const line = t("net.line", { reach: t(online ? "net.online" : "net.offline"), unsent: unsentText });
    // Only real changes touch the page: every pass ends here, and most change nothing.
    if (text.textContent !== line) text.textContent = line;
    // Shape, not only colour: a filled dot when in touch, a ring when not.
    icon.textContent = online ? "●" : "○";
    bar.classList.toggle("net-offline", !online);
    bar.classList.toggle("net-unsent", unsent > 0);
  }

  window.addEventListener("offline", () => {
    online = false;
    render();
  });

  return {
    show() {
      render();
      bar.hidden = false;
    },
    hide() {
      bar.hidden = true;
    },
    /** @param {number} count reports not on the server in full */
    setUnsent(count) {
      unsent = count;
      render();
    },
    /** @param {SyncSummary} summary */
    afterPass(summary) {
      // A server that answered (even with an error) was reached; only a network error is offline.
      online = summary.ok || summary.error?.kind !== "network";
      if (!navigator.onLine) online = false;
      render();
    },
  };
}
