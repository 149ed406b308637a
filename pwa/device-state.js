// The revoked phone: the server answered 401, so nothing more can be sent from here. What the
// server has was deleted at once (prune.js); the screen says so, "Mina rapporter" lists what
// never reached the server (exportable), and only then, after a confirm step, "Radera data på
// telefonen" wipes the rest and the enrolment (docs/sync-protocol.md, section 1). This is the
// only way to store.wipe(), which app.js hands in with forgetEnrolment (this module never
// imports store.js). Exporting is mentioned only while something is unsent: a phone whose
// reports all arrived has nothing to hand over. Also the notice after a wipe an admin ordered.
import { byId } from "./dom.js";
import { t } from "./i18n.js";

/**
 * Say that the phone carried out a wipe an admin ordered, and how many reports it deleted.
 * @param {number} count
 */
export function showWipeNotice(count) {
  const notice = byId("wipe-notice");
  notice.textContent = t("wipe.notice", { count: String(count) });
  notice.hidden = false;
}

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
  const exportLine = byId("revoked-export");
  const wipedLine = byId("revoked-wiped");
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
    /**
     * @param {number} unsent how many reports never reached the server
     * @param {boolean} [wiped] whether what the server has was deleted from the phone
     */
    show(unsent, wiped = false) {
      unsentLine.textContent =
        unsent > 0 ? t("revoked.unsent", { count: String(unsent) }) : t("revoked.noneUnsent");
      exportLine.hidden = unsent === 0;
      question.textContent = t(unsent > 0 ? "revoked.confirmUnsent" : "revoked.confirm");
      wipedLine.hidden = !wiped;
      closeConfirm();
      section.hidden = false;
    },
    hide() {
      closeConfirm();
      section.hidden = true;
    },
  };
}
