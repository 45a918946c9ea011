/* The map above the unit change list: the listed units that have coordinates, as circle markers coloured
   by kind, fitted to their bounds; a popup links each to its change page. The points come from the unit
   admin's own JSON endpoint with the list's query string, so the map holds what the list holds. */
(function () {
  "use strict";

  function show(box, selector, visible) {
    var element = box.querySelector(selector);
    if (element) element.hidden = !visible;
  }

  function legend(box, kinds, present) {
    var list = box.querySelector(".unit-map-legend");
    list.textContent = "";
    kinds.forEach(function (kind) {
      if (!present[kind.value]) return;
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "unit-map-swatch";
      swatch.style.background = kind.colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(kind.label));
      list.appendChild(item);
    });
  }

  function popup(unit) {
    var content = document.createElement("div");
    var link = document.createElement("a");
    link.href = unit.url;
    link.textContent = unit.name;  // text, never HTML: a unit's name is user input
    content.appendChild(link);
    content.appendChild(document.createElement("br"));
    content.appendChild(document.createTextNode(unit.kind_display));
    return content;
  }

  function draw(box, data) {
    var canvas = box.querySelector(".unit-map-canvas");
    var status = box.querySelector(".unit-map-status");
    status.textContent = "（" + data.units.length + (data.truncated ? "+" : "") + "）";
    show(box, ".unit-map-truncated", data.truncated);
    if (!data.units.length) {
      canvas.hidden = true;
      show(box, ".unit-map-empty", true);
      return null;
    }
    var tileUrl = box.dataset.tileUrl;
    var map = L.map(canvas, { attributionControl: Boolean(tileUrl), zoomSnap: 0.5 });
    if (tileUrl) {
      L.tileLayer(tileUrl, { attribution: box.dataset.tileAttribution || "", maxZoom: 18 }).addTo(map);
    }
    var colours = {};
    data.kinds.forEach(function (kind) { colours[kind.value] = kind.colour; });
    var present = {};
    var points = data.units.map(function (unit) {
      present[unit.kind] = true;
      L.circleMarker([unit.lat, unit.lon], {
        radius: unit.kind === "point" ? 6 : 8,
        weight: 2,
        color: "#ffffff",
        fillColor: colours[unit.kind] || "#555555",
        fillOpacity: 0.9,
        className: "unit-marker unit-marker-" + unit.kind
      }).bindPopup(popup(unit)).addTo(map);
      return [unit.lat, unit.lon];
    });
    map.fitBounds(points, { padding: [24, 24], maxZoom: 13 });
    legend(box, data.kinds, present);
    return map;
  }

  function start(box) {
    var map = null;
    var loaded = false;
    function load() {
      if (loaded) return;
      loaded = true;
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) { map = draw(box, data); box.dataset.state = "ready"; })
        .catch(function () { show(box, ".unit-map-error", true); box.dataset.state = "error"; });
    }
    // A map drawn inside a closed <details> has no size: draw it when first opened, resize on reopening.
    box.addEventListener("toggle", function () {
      if (!box.open) return;
      if (map) map.invalidateSize(); else load();
    });
    if (box.open) load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("unit-map");
    if (box && window.L) start(box);
  });
})();
