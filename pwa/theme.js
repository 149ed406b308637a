// Dark by default (a white screen at 02:00 blinds and gives the user away); light on request,
// remembered on this phone.

const THEME_KEY = "lagesbild.theme";
/** Browser chrome colours per theme (the manifest's theme colour is the dark one). */
const CHROME = { dark: "#101418", light: "#eef0f3" };

/**
 * The stored theme.
 * @returns {"dark" | "light"}
 */
export function storedTheme() {
  return localStorage.getItem(THEME_KEY) === "light" ? "light" : "dark";
}

/**
 * Apply a theme to the page.
 * @param {"dark" | "light"} theme
 */
export function applyTheme(theme) {
  if (theme === "light") document.documentElement.dataset.theme = "light";
  else delete document.documentElement.dataset.theme;
  document.querySelector('meta[name="theme-color"]')?.setAttribute("content", CHROME[theme]);
}

/**
 * Wire the switch: a toggle button whose pressed state means "light".
 * @param {HTMLButtonElement} button
 */
export function wireThemeSwitch(button) {
  const sync = () => button.setAttribute("aria-pressed", String(storedTheme() === "light"));
  button.addEventListener("click", () => {
    const next = storedTheme() === "light" ? "dark" : "light";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
    sync();
  });
  sync();
}
