// The report form's category tiles: one big button per category a new report may take.
import { categoryLabel } from "./categories.js";

/**
 * @typedef {import("./categories.js").Category} Category
 */

/**
 * One tile per category offered for a new report (active, and not a safety walk's).
 * @param {Category[]} categories the active categories
 * @param {(category: Category) => void} onPick
 * @returns {HTMLButtonElement[]}
 */
export function categoryTiles(categories, onPick) {
  // The safety walk's categories are offered in walk mode only (walk-view.js).
  return categories
    .filter((category) => category.walk !== true)
    .map((category) => {
      const tile = document.createElement("button");
      tile.type = "button";
      tile.className = category.urgent ? "tile urgent-tile" : "tile";
      tile.dataset.code = category.code;
      tile.textContent = categoryLabel(category, category.code);
      tile.addEventListener("click", () => onPick(category));
      return tile;
    });
}
