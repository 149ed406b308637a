// The walk form's route map: a tap or click adds a route point, "Ångra punkt" takes the
// last one back, "Rensa" clears the route, and "Lägg till stopp" turns taps into numbered
// stops (named, removable, renumbered in the list under the map). Every change is written
// into the form's own route and stops fields (walk-draw-fields.js), so the server parses
// one thing whether the route was drawn, pasted or imported, and the form works without
// this module (no JavaScript, no Leaflet): it then stays hidden and the fields are all.
// Texts come from the page (the workspace catalogs) as data attributes; text from the
// fields goes into the page with textContent or as input values, never as HTML.

import { cleanName, readRoute, readStops, writeRoute, writeStops } from "./walk-draw-fields.js";

/** @typedef {import("./walk-draw-fields.js").Point} Point */
/** @typedef {import("./walk-draw-fields.js").Stop} Stop */

// Sweden, until there is a route, a stop or an area to show.
const SWEDEN = { center: [62.0, 15.0], zoom: 4 };
// Each route point gets a handle to drag; a long imported route is shown as a line only.
const MAX_HANDLES = 500;

/**
 * Fill "{name}" placeholders of a text from the page.
 * @param {string} text
 * @param {Record<string, string|number>} values
 * @returns {string}
 */
function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

/**
 * Escape text for the one Leaflet option that takes HTML (the tiles' credit).
 * @param {string} text
 * @returns {string}
 */
function escaped(text) {
  const holder = document.createElement("span");
  holder.textContent = text;
  return holder.innerHTML;
}

/**
 * Return an area option's box as Leaflet bounds, or null.
 * @param {any} L
 * @param {HTMLSelectElement|null} select
 * @returns {any}
 */
function areaBounds(L, select) {
  const option = select && select.selectedOptions[0];
  const parts = ((option && option.dataset.bounds) || "").split(",").map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) return null;
  return L.latLngBounds([parts[1], parts[0]], [parts[3], parts[2]]);
}

/**
 * Set up the route map of a walk form.
 * @param {HTMLElement} box the hidden #walk-draw block
 * @param {any} L Leaflet
 */
function start(box, L) {
  const d = box.dataset;
  const form = /** @type {HTMLFormElement} */ (box.closest("form"));
  const routeField = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("route"));
  const stopsField = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("stops"));
  const fileField = /** @type {HTMLInputElement|null} */ (form.elements.namedItem("route_file"));
  const areaField = /** @type {HTMLSelectElement|null} */ (form.elements.namedItem("area"));
  const mapEl = /** @type {HTMLElement} */ (box.querySelector("#walk-draw-map"));
  const modeButton = /** @type {HTMLButtonElement} */ (box.querySelector("#walk-draw-stop-mode"));
  const undoButton = /** @type {HTMLButtonElement} */ (box.querySelector("#walk-draw-undo"));
  const clearButton = /** @type {HTMLButtonElement} */ (box.querySelector("#walk-draw-clear"));
  const modeText = /** @type {HTMLElement} */ (box.querySelector("#walk-draw-mode"));
  const note = /** @type {HTMLElement} */ (box.querySelector("#walk-draw-note"));
  const status = /** @type {HTMLElement} */ (box.querySelector("#walk-draw-status"));
  const list = /** @type {HTMLOListElement} */ (box.querySelector("#walk-draw-stops"));

  /** @type {Point[]} */
  let points = [];
  /** @type {Stop[]} */
  let stops = [];
  let stopMode = false;
  /** @type {string[]} */
  const notes = [];

  /** @param {string} text */
  function say(text) {
    if (!text || notes.includes(text)) return;
    notes.push(text);
    note.textContent = notes.join(" ");
    note.hidden = false;
  }

  /** @param {string} text */
  function unsay(text) {
    const at = notes.indexOf(text);
    if (at === -1) return;
    notes.splice(at, 1);
    note.textContent = notes.join(" ");
    note.hidden = notes.length === 0;
  }

  box.hidden = false;
  // Quick taps add points: a double tap must not zoom as well.
  // Half zoom steps: a short route fills more of a phone-sized map.
  const map = L.map(mapEl, {
    scrollWheelZoom: false,
    doubleClickZoom: false,
    keyboard: true,
    zoomSnap: 0.5,
  });
  map.attributionControl.setPrefix(false);
  const tiles = L.tileLayer(d.tiles, { maxZoom: 19, attribution: escaped(d.attribution || "") });
  let tilesFailed = false;
  tiles.on("tileerror", () => {
    if (tilesFailed) return;
    tilesFailed = true;
    mapEl.classList.add("map-no-tiles");
    say(d.msgNoTiles || "");
  });
  tiles.addTo(map);
  if (navigator.onLine === false) say(d.msgOffline || "");

  const line = L.polyline([], { className: "walk-route-line", weight: 4, interactive: false });
  line.addTo(map);
  const handles = L.layerGroup().addTo(map);
  const stopMarkers = L.layerGroup().addTo(map);

  /** @param {number} n @returns {string} */
  const stopLabel = (n) => fill(d.labelStop || "{n}", { n });

  /** Show the route, its handles, the stops and the list; then the counts. */
  function render() {
    line.setLatLngs(points.map((p) => [p.lat, p.lon]));
    handles.clearLayers();
    if (points.length <= MAX_HANDLES) {
      points.forEach((p, i) => {
        const label = fill(d.labelPoint || "{n}", { n: i + 1 });
        const icon = L.divIcon({ className: "walk-vertex", iconSize: [22, 22] });
        const handle = L.marker([p.lat, p.lon], { icon, draggable: true, keyboard: false, title: label });
        handle.on("dragend", () => {
          const at = handle.getLatLng();
          points[i] = { lat: at.lat, lon: at.lng };
          save();
        });
        handles.addLayer(handle);
      });
    }
    stopMarkers.clearLayers();
    stops.forEach((s, i) => {
      if (s.lat === null || s.lon === null) return;
      const number = document.createElement("span");
      number.textContent = String(i + 1);
      const icon = L.divIcon({ className: "walk-stop", html: number, iconSize: [30, 30] });
      const marker = L.marker([s.lat, s.lon], {
        icon,
        draggable: true,
        keyboard: false,
        title: `${stopLabel(i + 1)}: ${s.name}`,
        zIndexOffset: 1000,
      });
      marker.on("dragend", () => {
        const at = marker.getLatLng();
        stops[i] = { ...stops[i], lat: at.lat, lon: at.lng };
        save();
      });
      stopMarkers.addLayer(marker);
    });
    renderList();
    showMode();
    undoButton.disabled = points.length === 0;
    clearButton.disabled = points.length === 0;
    status.textContent = fill(d.msgStatus || "", { points: points.length, stops: stops.length });
    box.dataset.points = String(points.length);
    box.dataset.stops = String(stops.length);
  }

  /** The stops under the map: a name field and a remove button each, in number order. */
  function renderList() {
    list.replaceChildren();
    stops.forEach((s, i) => {
      const item = document.createElement("li");
      item.className = "walk-draw-stop";
      const id = `walk-draw-stop-${i + 1}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = fill(d.labelStopName || "{n}", { n: i + 1 });
      const input = document.createElement("input");
      input.id = id;
      input.type = "text";
      input.maxLength = 120;
      input.value = s.name;
      // No name attribute: the stops field is what the form sends.
      input.addEventListener("input", () => {
        stops[i] = { ...stops[i], name: cleanName(input.value) };
        stopsField.value = writeStops(stops);
      });
      input.addEventListener("change", () => {
        // An emptied name would drop the stop from its line: it gets its number back.
        if (!cleanName(input.value)) input.value = stopLabel(i + 1);
        stops[i] = { ...stops[i], name: cleanName(input.value) };
        save();
      });
      const where = document.createElement("span");
      where.className = "hint";
      if (s.lat === null || s.lon === null) where.textContent = d.labelNoPosition || "";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = d.labelRemove || "";
      remove.setAttribute("aria-label", fill(d.labelRemoveStop || "", { n: i + 1 }));
      remove.addEventListener("click", () => removeStop(i));
      item.append(label, input, where, remove);
      list.append(item);
    });
    list.hidden = stops.length === 0;
  }

  /**
   * Remove a stop and renumber the rest; a stop still named by its number keeps that
   * name in step ("Stopp 3" becomes "Stopp 2").
   * @param {number} index
   */
  function removeStop(index) {
    const numbered = stops.map((s, i) => s.name === stopLabel(i + 1));
    stops.splice(index, 1);
    numbered.splice(index, 1);
    stops = stops.map((s, i) => (numbered[i] ? { ...s, name: stopLabel(i + 1) } : s));
    save();
    const next = list.querySelector("button") || modeButton;
    /** @type {HTMLElement} */ (next).focus();
  }

  /** Write both fields from the drawing and show it. */
  function save() {
    routeField.value = writeRoute(points);
    stopsField.value = writeStops(stops);
    unsay(d.msgBadRoute || "");
    unsay(d.msgBadStops || "");
    render();
  }

  /** Read both fields into the drawing (they may have been typed or pasted). */
  function load() {
    const route = readRoute(routeField.value);
    if (route.ok) {
      points = route.points;
      unsay(d.msgBadRoute || "");
    } else {
      say(d.msgBadRoute || "");
    }
    const read = readStops(stopsField.value);
    if (read.ok) {
      stops = read.stops;
      unsay(d.msgBadStops || "");
    } else {
      say(d.msgBadStops || "");
    }
    render();
  }

  /** Show the whole drawing, else the chosen area, else Sweden. */
  function fit() {
    const bounds = L.latLngBounds([]);
    points.forEach((p) => bounds.extend([p.lat, p.lon]));
    stops.forEach((s) => {
      if (s.lat !== null && s.lon !== null) bounds.extend([s.lat, s.lon]);
    });
    const area = areaBounds(L, areaField);
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
    else if (area) map.fitBounds(area, { padding: [10, 10] });
    else map.setView(SWEDEN.center, SWEDEN.zoom);
  }

  /** Say what a tap does now (the next stop's number in stop mode). */
  function showMode() {
    modeButton.setAttribute("aria-pressed", String(stopMode));
    mapEl.classList.toggle("walk-draw-stop-mode", stopMode);
    modeText.textContent = stopMode
      ? fill(d.msgModeStop || "", { n: stops.length + 1 })
      : d.msgModeRoute || "";
  }

  /** @param {boolean} on */
  function setMode(on) {
    stopMode = on;
    showMode();
  }

  map.on("click", (/** @type {any} */ event) => {
    const at = { lat: event.latlng.lat, lon: event.latlng.lng };
    if (stopMode) {
      stops.push({ name: stopLabel(stops.length + 1), ...at });
    } else {
      points.push(at);
    }
    save();
  });
  modeButton.addEventListener("click", () => setMode(!stopMode));
  undoButton.addEventListener("click", () => {
    points.pop();
    save();
  });
  clearButton.addEventListener("click", () => {
    points = [];
    save();
  });
  routeField.addEventListener("change", () => {
    load();
    fit();
  });
  stopsField.addEventListener("change", () => {
    load();
    fit();
  });
  if (areaField) {
    areaField.addEventListener("change", () => {
      if (!points.length && !stops.some((s) => s.lat !== null)) fit();
    });
  }
  if (fileField) {
    // A chosen file is shown at once and put into the route field (the file itself is then
    // not sent); a file this cannot read stays chosen, and the server says what is wrong.
    fileField.addEventListener("change", async () => {
      const file = fileField.files && fileField.files[0];
      if (!file || file.size > 256 * 1024) return;
      const read = readRoute(await file.text());
      if (!read.ok || read.points.length < 2) return;
      points = read.points;
      fileField.value = "";
      save();
      fit();
      say(d.msgFile || "");
    });
  }

  load();
  setMode(false);
  fit();
  box.dataset.ready = "true";
}

const box = document.getElementById("walk-draw");
// Without Leaflet (blocked, failed to load) the block stays hidden: the fields are the form.
if (box && typeof (/** @type {any} */ (window).L) !== "undefined") {
  start(box, /** @type {any} */ (window).L);
}
