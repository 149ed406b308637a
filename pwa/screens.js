// Which of the page's screens shows, and the status line that says what just happened.
import { t } from "./i18n.js";

/** Every section that shows only while the phone is enrolled. */
const ENROLLED_SECTIONS = [
  "net",
  "rounds",
  "walks",
  "new-report",
  "my-reports",
  "revoked",
  "clock-warning",
  "wipe-notice",
];

/**
 * Put a message in the status line (a live region).
 * @param {string} text
 */
export function setStatus(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

/**
 * @param {string[]} ids
 * @param {boolean} visible
 */
export function showSections(ids, visible) {
  for (const id of ids) {
    const el = document.getElementById(id);
    if (el) el.hidden = !visible;
  }
}

/** Back to the first screen: the phone is not enrolled (any more). */
export function showEnrolScreen() {
  showSections(ENROLLED_SECTIONS, false);
  showSections(["placeholder"], true);
  setStatus(t("enrol.needed"));
}
