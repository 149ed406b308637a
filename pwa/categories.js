// The category taxonomy for the tiles: from the last pull (store meta "categories"), or, before
// any pull has run, fetched once from the server with the device token and cached the same way.
import { currentLang } from "./i18n.js";
import { CATEGORIES_KEY } from "./meta-keys.js";

/**
 * @typedef {{code: string, label_sv: string, label_en: string, urgent: boolean,
 *   order: number, active?: boolean, walk?: boolean}} Category
 *   walk: a safety walk's category, offered in walk mode only
 * @typedef {import("./meta-keys.js").MetaStore} MetaStore
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
 * @param {MetaStore} meta the outbox's meta store, the cache
 * @param {{fetchImpl?: typeof fetch}} [options]
 * @returns {Promise<Category[]>}
 */
export async function loadCategories(token, meta, { fetchImpl = fetch } = {}) {
  /** @type {Category[] | undefined} */
  const cached = await meta.get(CATEGORIES_KEY);
  if (Array.isArray(cached) && cached.length) return usable(cached);
  if (!token) return [];
  try {
    const resp = await fetchImpl("api/v1/categories", { headers: { Authorization: `Bearer ${token}` } });
    if (!resp.ok) return [];
    const { categories } = await resp.json();
    if (!Array.isArray(categories)) return [];
    await meta.set(CATEGORIES_KEY, categories);
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
