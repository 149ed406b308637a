// The revoked phone: the server answered 401, so nothing more can be sent from here. The
// screen says so, "Mina rapporter" lists what never reached the server (exportable), and
// only then, after a confirm step, "Radera data på telefonen" wipes the outbox and the
// enrolment (docs/sync-protocol.md, section 1). This is the only way to store.wipe(), which
// app.js hands in with forgetEnrolment (this module never imports store.js).
import { byId } from "./dom.js";
import { t } from "./i18n.js";

/**
 * Wire the revoked screen.
 * @param {{onWiped: () => void, announce: (text: string) => void,
 *   wipeData: () => Promise<void>, forgetEnrolment: () => void}} options
 *   wipeData: deletes the outbox (refused unless revoked); forgetEnrolment: drops the token
 * @returns {{show: (unsent: number) => void, hide: () => void}}
 */
export function createRevokedView({ onWiped, announce, wipeData, forgetEnrolment }) {
  const section = byId("revoked");
  const unsentLine = byId("revoked-unsent");
  const wipe = /** @type {HTMLButtonElement} */ (byId("wipe"));
  const confirm = byId("wipe-confirm");
  const question = byId("wipe-question");
  const yes = /** @type {HTMLButtonElement} */ (byId("wipe-yes"));
  const no = /** @type {HTMLButtonElement} */ (byId("wipe-no"));

  function closeConfirm() {
    confirm.hidden = true;
    wipe.hidden = false;
  }

  wipe.addEventListener("click", () => {
    wipe.hidden = true;
    confirm.hidden = false;
    question.focus();
  });

  no.addEventListener("click", () => {
    closeConfirm();
    wipe.focus();
  });

  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await wipeData();
      forgetEnrolment();
      closeConfirm();
      section.hidden = true;
      onWiped();
    } catch (error) {
      console.error("wipe", error);
      announce(t("revoked.wipeFailed"));
    } finally {
      yes.disabled = false;
    }
  });

  return {
    /** @param {number} unsent how many reports never reached the server */
    show(unsent) {
      unsentLine.textContent =
        unsent > 0 ? t("revoked.unsent", { count: String(unsent) }) : t("revoked.noneUnsent");
      closeConfirm();
      section.hidden = false;
    },
    hide() {
      closeConfirm();
      section.hidden = true;
    },
  };
}
