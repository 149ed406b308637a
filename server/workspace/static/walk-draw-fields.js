// The walk form's two text fields as the route map reads and writes them: the route as a
// GeoJSON LineString ([lon, lat] points) and the stops as "name; lat; lon" lines, exactly
// what server/workspace/walk_form.py parses. The server stays the one judge: what this
// module cannot read it leaves alone, and the server says what is wrong with it.

/** @typedef {{lat: number, lon: number}} Point */
/** @typedef {{name: string, lat: (number|null), lon: (number|null)}} Stop */
/** @typedef {{points: Point[], ok: boolean}} RouteRead */
/** @typedef {{stops: Stop[], ok: boolean}} StopsRead */

// About 10 cm: enough for a walk, short enough to read in the text field.
const DECIMALS = 6;

/**
 * Round a coordinate to DECIMALS places.
 * @param {number} value
 * @returns {number}
 */
function rounded(value) {
  return Number(value.toFixed(DECIMALS));
}

/**
 * Tell whether a value is a finite number.
 * @param {unknown} value
 * @returns {value is number}
 */
function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * Find the one LineString in a geometry, a Feature or a FeatureCollection.
 * @param {any} doc
 * @returns {any} the LineString geometry, or null
 */
function lineString(doc) {
  if (!doc || typeof doc !== "object") return null;
  if (doc.type === "FeatureCollection") {
    const lines = (Array.isArray(doc.features) ? doc.features : [])
      .map((f) => (f && f.geometry) || null)
      .filter((g) => g && g.type === "LineString");
    return lines.length === 1 ? lines[0] : null;
  }
  if (doc.type === "Feature") return lineString(doc.geometry);
  return doc.type === "LineString" ? doc : null;
}

/**
 * Read the route field: empty is no route; anything but one LineString is not readable.
 * @param {string} text
 * @returns {RouteRead}
 */
export function readRoute(text) {
  if (!text.trim()) return { points: [], ok: true };
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { points: [], ok: false };
  }
  const line = lineString(doc);
  if (!line || !Array.isArray(line.coordinates)) return { points: [], ok: false };
  /** @type {Point[]} */
  const points = [];
  for (const c of line.coordinates) {
    if (!Array.isArray(c) || !isNumber(c[0]) || !isNumber(c[1])) return { points: [], ok: false };
    points.push({ lon: c[0], lat: c[1] });
  }
  return { points, ok: true };
}

/**
 * Write the route field: a GeoJSON LineString, or "" for no points.
 * @param {Point[]} points
 * @returns {string}
 */
export function writeRoute(points) {
  if (!points.length) return "";
  return JSON.stringify({
    type: "LineString",
    coordinates: points.map((p) => [rounded(p.lon), rounded(p.lat)]),
  });
}

/**
 * Read a number as typed in a stop line (a decimal comma is allowed, as the server allows).
 * @param {string} text
 * @returns {number}
 */
function parsed(text) {
  return text.trim() === "" ? NaN : Number(text.replace(",", "."));
}

/**
 * Read the stops field: one stop a line, "name" or "name; lat; lon".
 * @param {string} text
 * @returns {StopsRead}
 */
export function readStops(text) {
  /** @type {Stop[]} */
  const stops = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const parts = line.split(";").map((p) => p.trim());
    if (parts.length === 1) {
      stops.push({ name: parts[0], lat: null, lon: null });
      continue;
    }
    const lat = parsed(parts[1] || "");
    const lon = parsed(parts[2] || "");
    if (parts.length !== 3 || !isNumber(lat) || !isNumber(lon)) return { stops: [], ok: false };
    stops.push({ name: parts[0], lat, lon });
  }
  return { stops, ok: true };
}

/**
 * Make a stop's name fit on its line: no field separator, no line break.
 * @param {string} name
 * @returns {string}
 */
export function cleanName(name) {
  return name.replace(/[;\r\n]+/g, ",").trim();
}

/**
 * Write the stops field, one stop a line in their order (their numbers).
 * @param {Stop[]} stops
 * @returns {string}
 */
export function writeStops(stops) {
  return stops
    .map((s) => {
      const name = cleanName(s.name);
      if (s.lat === null || s.lon === null) return name;
      return `${name}; ${rounded(s.lat)}; ${rounded(s.lon)}`;
    })
    .join("\n");
}
