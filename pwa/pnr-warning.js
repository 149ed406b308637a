// A warning under a free-text field when what is typed looks like a Swedish personal identity
// number (personnummer.js), with a one-tap "Maskera" that replaces the digits. It never
// blocks saving: a rare false alarm must not stop a report at 02:00.
import { t } from "./i18n.js";
import { findPersonnummer, maskPersonnummer } from "./personnummer.js";

/**
 * Watch one text field; call check() after setting its value from code (input events only
 * come from typing).
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 * @returns {{check: () => void}}
 */
export function watchPersonnummer(field) {
  const box = document.createElement("div");
  box.className = "pnr-warning";
  box.id = `${field.id}-pnr`;
  box.setAttribute("role", "alert");
  box.hidden = true;
  const text = document.createElement("p");
  const mask = document.createElement("button");
  mask.type = "button";
  mask.className = "big pnr-mask";
  box.append(text, mask);
  field.after(box);
  const described = field.getAttribute("aria-describedby");
  field.setAttribute("aria-describedby", described ? `${described} ${box.id}` : box.id);

  function check() {
    const found = findPersonnummer(field.value);
    if (found.length === 0) {
      box.hidden = true;
      text.textContent = "";
      return;
    }
    const numbers = found.map((f) => f.text).join(", ");
    const message = t(found.length === 1 ? "pnr.warning" : "pnr.warningMany", { number: numbers });
    if (text.textContent !== message) text.textContent = message;
    mask.textContent = t("pnr.mask");
    if (box.hidden) {
      box.hidden = false;
      // In view above the sticky Spara bar (scroll-margin in redact.css), without a jump.
      box.scrollIntoView({ block: "nearest" });
    }
  }

  field.addEventListener("input", check);
  mask.addEventListener("click", () => {
    field.value = maskPersonnummer(field.value, { short: t("pnr.short"), long: t("pnr.long") });
    check();
    field.focus();
  });
  return { check };
}
