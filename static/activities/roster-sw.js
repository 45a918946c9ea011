// The roster's service worker, served from /activities/workbench/sw.js (its scope: the workbench). The
// view puts self.ROSTER_ASSETS (the static files' URLs) and self.ROSTER_VERSION above this file.
// Pages: from the network when there is one (and kept), from the cache when not. Static files: from the
// cache, refreshed behind. Posts (the roster's sync) pass through untouched: roster.js keeps its queue itself.
"use strict";
var CACHE = "roster-" + (self.ROSTER_VERSION || "1");
var ASSETS = self.ROSTER_ASSETS || [];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(
        names.filter(function (name) { return name.indexOf("roster-") === 0 && name !== CACHE; })
          .map(function (name) { return caches.delete(name); })
      );
    }).then(function () { return self.clients.claim(); })
  );
});

// Only the roster pages are kept: not the QR screen (its code is useless offline) nor the JSON.
var KEPT = /\/workbench\/(\d+\/)?$/;

function keep(request, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return response;
}

self.addEventListener("message", function (event) {
  var path = event.data && event.data.keep;
  if (typeof path === "string" && KEPT.test(path)) {
    event.waitUntil(fetch(path, { credentials: "same-origin" }).then(function (response) { keep(path, response); }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.indexOf(url.pathname) !== -1) {
    // From the cache at once, refreshed behind it for the next load.
    var fresh = fetch(request).then(function (response) { return keep(url.pathname, response); });
    event.respondWith(
      caches.match(url.pathname).then(function (hit) {
        if (hit) { fresh.catch(function () {}); return hit; }
        return fresh;
      })
    );
    return;
  }
  if (request.mode === "navigate" && KEPT.test(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then(function (response) { return keep(url.pathname, response); })
        .catch(function () {
          return caches.match(url.pathname).then(function (hit) {
            return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
          });
        })
    );
  }
});
