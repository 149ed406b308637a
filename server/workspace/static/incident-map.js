// The small map on an incident's page: every located report of the incident as a marker,
// over the configured tiles (default OpenStreetMap) when they load. The coordinates are
// printed under it, so nothing depends on this script; without tiles the markers show on
// a blank background.
(function () {
  "use strict";

  var el = document.getElementById("incident-map");
  if (!el || typeof window.L === "undefined") return;
  var L = window.L;
  var points;
  try {
    points = JSON.parse(el.dataset.points || "[]");
  } catch (e) {
    return;
  }
  if (!points.length) return;

  function escaped(text) {
    var holder = document.createElement("span");
    holder.textContent = String(text);
    return holder.innerHTML;
  }

  el.classList.add("incident-map-live");
  var map = L.map(el, { scrollWheelZoom: false, keyboard: true });
  map.attributionControl.setPrefix(false);
  // The zoom level as an attribute: the page's tests (and styles) can see it change.
  map.on("zoomend", function () {
    el.setAttribute("data-zoom", String(map.getZoom()));
  });
  L.tileLayer(el.dataset.tiles, {
    maxZoom: 19,
    // The configured credit is plain text: Leaflet takes HTML, so it goes in escaped.
    attribution: escaped(el.dataset.attribution || ""),
  }).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: 8, weight: 3 }).addTo(map);
    // A node, not a string: Leaflet puts a string in as HTML, and a label holds data (the
    // category's name), so it goes in as text only.
    var label = document.createElement("span");
    label.textContent = String(p.label);
    marker.bindTooltip(label);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) map.setView(bounds[0], 17);
  else map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18 });
})();
