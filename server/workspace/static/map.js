// The workspace map: incidents (clustered), recurring places, named places and area outlines
// from /workspace/map/data.json, over the configured tiles when they load. Without tiles the
// markers still show on a blank background and a note says why; the same incidents and
// places are listed under the map by the server, so nothing depends on this script.
// Every text from the data is put in with textContent, never as HTML: tooltips and popups
// get DOM nodes (Leaflet would put a string in as HTML), the layer control escaped text.
(function () {
  "use strict";

  var el = document.getElementById("map");
  var note = document.getElementById("map-note");
  if (!el || !note) return;
  var d = el.dataset;
  var notes = [];

  function say(text) {
    if (!text || notes.indexOf(text) !== -1) return;
    notes.push(text);
    note.textContent = notes.join(" ");
    note.hidden = false;
  }

  if (typeof window.L === "undefined") {
    el.classList.add("map-unavailable");
    say(d.msgNoLibrary);
    return;
  }
  var L = window.L;

  function node(tag, text, className) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  // The default marker images live beside leaflet.css (served from the vendor route).
  var map = L.map(el, { scrollWheelZoom: false, keyboard: true, zoomControl: true });
  map.setView([59.3, 15.0], 5); // Sweden, until the data's bounds are known
  map.attributionControl.setPrefix(false);

  var tilesFailed = false;
  var tiles = L.tileLayer(d.tiles, {
    maxZoom: 19,
    // The configured credit (OpenStreetMap's by default, which its tile policy requires),
    // shown even when tiles fail; plain text, so it goes in escaped (Leaflet takes HTML).
    attribution: escaped(d.attribution || ""),
    crossOrigin: false,
  });
  tiles.on("tileerror", function () {
    if (tilesFailed) return;
    tilesFailed = true;
    el.classList.add("map-no-tiles");
    say(d.msgNoTiles);
  });
  tiles.addTo(map);
  if (navigator.onLine === false) say(d.msgOffline);

  function incidentPopup(p) {
    var box = node("div", null, "map-popup");
    var title = node("strong", p.category_label);
    box.appendChild(title);
    if (p.urgent) {
      box.appendChild(document.createTextNode(" "));
      box.appendChild(node("span", d.labelUrgent, "badge badge-urgent"));
    }
    // A shared incident names its owner (server-built text); its free text is left out
    // by the server unless the agreement is `full`.
    if (p.shared_label) box.appendChild(node("div", p.shared_label, "shared-note"));
    box.appendChild(node("div", p.time + (p.place ? " · " + p.place : "")));
    if (p.area) box.appendChild(node("div", p.area));
    box.appendChild(node("div", d.labelReports + ": " + p.report_count + " · " + p.status_label));
    if (p.summary) box.appendChild(node("div", p.summary, "summary"));
    if (p.url) { // none for an analyst, who may not open incident pages
      var link = node("a", d.labelOpen);
      link.href = p.url; // a server-built /workspace/incidents/<uuid> path
      box.appendChild(link);
    }
    return box;
  }

  function recurringPopup(p) {
    var box = node("div", null, "map-popup");
    box.appendChild(node("strong", p.label));
    box.appendChild(node("div", p.categories));
    box.appendChild(node("div", d.labelTrend + ": " + p.trend_label + " (" + p.recent + " / " + p.previous + ")"));
    box.appendChild(node("div", p.first_seen + " – " + p.last_seen));
    if (p.shared) box.appendChild(node("div", p.shared, "shared-note"));
    return box;
  }

  function escaped(text) {
    // L.control.layers only takes its labels as HTML strings: give it the text escaped.
    var holder = document.createElement("span");
    holder.textContent = String(text);
    return holder.innerHTML;
  }

  function recurringIcon(p) {
    // The count as text in a square on the place's centre: told apart from the incidents'
    // pins by shape and number, not colour (the two are never on the map at once).
    var html = document.createElement("span");
    html.textContent = String(Number(p.count) || 0);
    return L.divIcon({ className: "recurring-icon", html: html, iconSize: [32, 32], iconAnchor: [16, 16] });
  }

  // Incidents or recurring places, one at a time (the radio buttons above the map).
  function showOne(incidents, recurring) {
    var toggle = document.getElementById("map-toggle");
    if (!toggle) {
      incidents.addTo(map);
      return;
    }
    function apply() {
      var picked = toggle.querySelector("input[name='map-layer']:checked");
      var wanted = picked && picked.value === "recurring" ? recurring : incidents;
      var other = wanted === recurring ? incidents : recurring;
      if (map.hasLayer(other)) map.removeLayer(other);
      if (!map.hasLayer(wanted)) wanted.addTo(map);
      el.setAttribute("data-layer", wanted === recurring ? "recurring" : "incidents");
    }
    toggle.addEventListener("change", apply);
    toggle.hidden = false;
    apply();
  }

  function render(doc) {
    var features = (doc && doc.features) || [];
    var bounds = L.latLngBounds([]); // what happened: incidents and recurring places
    var areaBounds = L.latLngBounds([]);
    var incidents = typeof L.markerClusterGroup === "function"
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 })
      : L.featureGroup();
    var recurring = L.featureGroup();
    var places = L.featureGroup();
    var areas = L.featureGroup();
    var shown = 0;

    features.forEach(function (f) {
      var p = f.properties || {};
      var g = f.geometry;
      if (!g) return; // no position: listed under the map only
      if (p.kind === "area") {
        var outline = L.geoJSON(g, {
          style: { color: "#1f4e79", weight: 2, dashArray: "6 4", fill: false },
          interactive: true,
        });
        outline.bindTooltip(node("span", p.name), { sticky: true });
        outline.addTo(areas);
        areaBounds.extend(outline.getBounds());
        return;
      }
      if (g.type !== "Point") return;
      var latlng = L.latLng(g.coordinates[1], g.coordinates[0]);
      if (p.kind === "incident") {
        var label = p.category_label + " " + p.time + (p.place ? ", " + p.place : "") +
          (p.owner ? " (" + p.owner + ")" : "");
        var m = L.marker(latlng, { title: label, alt: label, keyboard: true });
        m.bindPopup(incidentPopup(p));
        incidents.addLayer(m);
        bounds.extend(latlng);
        shown += 1;
      } else if (p.kind === "recurring") {
        var r = L.marker(latlng, { icon: recurringIcon(p), title: p.label, alt: p.label, keyboard: true, zIndexOffset: 500 });
        r.bindPopup(recurringPopup(p));
        r.addTo(recurring);
        bounds.extend(latlng);
      } else if (p.kind === "place") {
        var c = L.circle(latlng, {
          radius: Number(p.radius_m) || 100,
          color: "#3d5c1f",
          weight: 2,
          dashArray: "2 4",
          fill: false,
        });
        c.bindTooltip(node("span", p.name + " (" + d.labelRadius + " " + Math.round(p.radius_m) + " m)"));
        c.addTo(places);
      }
    });

    areas.addTo(map);
    places.addTo(map);
    showOne(incidents, recurring);
    var overlays = {};
    overlays[escaped(d.labelPlaces)] = places;
    overlays[escaped(d.labelAreas)] = areas;
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);

    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 16 });
    } else if (areaBounds.isValid()) {
      map.fitBounds(areaBounds, { padding: [24, 24] });
    }
    if (shown === 0) say(d.msgEmpty);
    el.setAttribute("data-ready", String(shown));
  }

  fetch(d.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.json();
    })
    .then(render)
    .catch(function () {
      el.setAttribute("data-ready", "error");
      say(d.msgNoData);
    });
})();
