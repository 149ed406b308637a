// The category taxonomy for the tiles: from the last pull (store meta "categories"), or, before
// any pull has run, fetched once from the server with the device token and cached the same way.
import { currentLang } from "./i18n.js";
import * as store from "./store.js";

/**
 * @typedef {{code: string, label_sv: string, label_en: string, urgent: boolean,
 *   order: number, active?: boolean}} Category
 */

/**
 * Active categories in display order.
 * @param {Category[]} categories
 * @returns {Category[]}
 */
function usable(categories) {
  return categories.filter((c) => c.active !== false).sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
}

/**
 * The cached categories, or fetched ones when nothing is cached yet. Never throws: with no
 * cache and no network the list is empty.
 * @param {string | null} token
 * @param {{fetchImpl?: typeof fetch}} [options]
 * @returns {Promise<Category[]>}
 */
export async function loadCategories(token, { fetchImpl = fetch } = {}) {
  /** @type {Category[] | undefined} */
  const cached = await store.getMeta("categories");
  if (Array.isArray(cached) && cached.length) return usable(cached);
  if (!token) return [];
  try {
    const resp = await fetchImpl("api/v1/categories", { headers: { Authorization: `Bearer ${token}` } });
    if (!resp.ok) return [];
    const { categories } = await resp.json();
    if (!Array.isArray(categories)) return [];
    await store.setMeta("categories", categories);
    return usable(categories);
  } catch {
    return []; // offline before the first pull: the tiles come with the next sync
  }
}

/**
 * The category's label in the catalog's language.
 * @param {Category | undefined} category
 * @param {string} code fallback when the category is unknown
 * @returns {string}
 */
export function categoryLabel(category, code) {
  if (!category) return code;
  return (currentLang() === "en" ? category.label_en : category.label_sv) || code;
}
