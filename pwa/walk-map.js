// A small drawing of a walk's route and numbered stops (SVG built with the DOM, no map tiles:
// it works offline and under the app's CSP). North is up; distances are to scale.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 200;
const PAD = 16;

/**
 * @typedef {import("./store.js").PlannedWalk} PlannedWalk
 */

/**
 * @param {string} tag
 * @param {Record<string, string>} attributes
 * @returns {SVGElement}
 */
function svg(tag, attributes) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  return el;
}

/**
 * Project [lon, lat] points into the drawing (equirectangular, scaled to fit).
 * @param {number[][]} points
 * @returns {(point: number[]) => [number, number]}
 */
export function projection(points) {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const mid = Math.cos((((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI) / 180);
  const spanX = Math.max((Math.max(...lons) - Math.min(...lons)) * mid, 1e-6);
  const spanY = Math.max(Math.max(...lats) - Math.min(...lats), 1e-6);
  const scale = Math.min((WIDTH - 2 * PAD) / spanX, (HEIGHT - 2 * PAD) / spanY);
  const left = Math.min(...lons);
  const top = Math.max(...lats);
  // Centred in the drawing along the side that has room to spare.
  const x0 = (WIDTH - spanX * scale) / 2;
  const y0 = (HEIGHT - spanY * scale) / 2;
  return ([lon, lat]) => [x0 + (lon - left) * mid * scale, y0 + (top - lat) * scale];
}

/**
 * The route and the stops with a position, or null when there is too little to draw.
 * @param {PlannedWalk} walk
 * @param {string} label the drawing's accessible name
 * @returns {SVGElement | null}
 */
export function walkMap(walk, label) {
  const route = walk.route?.coordinates ?? [];
  const stops = walk.stops.filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon));
  const points = [...route, ...stops.map((s) => [Number(s.lon), Number(s.lat)])];
  if (points.length < 2) return null;
  const project = projection(points);
  const root = svg("svg", {
    class: "walk-map",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": label,
  });
  if (route.length >= 2) {
    const line = route.map((p) => project(p).map((v) => v.toFixed(1)).join(",")).join(" ");
    root.append(svg("polyline", { class: "walk-line", points: line }));
  }
  for (const stop of stops) {
    const [x, y] = project([Number(stop.lon), Number(stop.lat)]);
    root.append(svg("circle", { class: "walk-stop-dot", cx: x.toFixed(1), cy: y.toFixed(1), r: "10" }));
    const n = svg("text", { class: "walk-stop-n", x: x.toFixed(1), y: y.toFixed(1) });
    n.textContent = String(stop.number);
    root.append(n);
  }
  return root;
}
