// Message catalogs: Swedish first, English second. No user-visible strings live in code.

/** @type {Record<string, string>} */
let messages = {};

/**
 * Load the catalog for the browser's language (Swedish unless English is preferred).
 * @returns {Promise<void>}
 */
export async function loadCatalog() {
  const lang = (navigator.language || "sv").toLowerCase().startsWith("en") ? "en" : "sv";
  const resp = await fetch(`i18n/${lang}.json`);
  messages = await resp.json();
  document.documentElement.lang = lang;
}

/**
 * Translate a key, filling {name} placeholders.
 * @param {string} key
 * @param {Record<string, string>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

/** Fill every element that names a message key. */
export function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.getAttribute("data-i18n") || "");
  }
}

/**
 * The language of the loaded catalog ("sv" or "en").
 * @returns {"sv" | "en"}
 */
export function currentLang() {
  return document.documentElement.lang === "en" ? "en" : "sv";
}
