// OpsTeam's service worker (issue 17), served at /sw.js so that its scope is the whole site.
// It keeps the today page and the page's own assets (our static files: no third-party service) for when there is no
// network. Pages are fetched from the network first and the copy kept is used only offline; static files are served
// from the copy and refreshed behind it. It never touches a POST: ticks wait in the page's own queue (static/js/queue.js).
"use strict";
var CACHE = "opsteam-v1";
var OFFLINE_PAGES = ["/today/"];

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(["/static/manifest.webmanifest", "/static/img/icon-192.png", "/static/img/icon-512.png"]).catch(function () {});
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// The page tells what it was drawn with (its address, scripts, styles, icons): those are kept for offline use.
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.filter(Boolean).map(function (url) { return cache.add(url).catch(function () {}); }));
  }));
});

function isOfflinePage(url) {
  return OFFLINE_PAGES.some(function (path) { return url.pathname === path; });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
        return hit || fresh;
      });
    }));
    return;
  }
  if (request.mode === "navigate" && isOfflinePage(url)) {
    event.respondWith(fetch(request).then(function (response) {
      // Only a page drawn for a signed-in member is kept (a redirect to the login page is not).
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(request).then(function (hit) { return hit || cache.match("/today/"); });
      }).then(function (hit) { return hit || Response.error(); });
    }));
  }
});

// Logging out forgets the kept pages (another person may use the phone next).
self.addEventListener("message", function (event) {
  if (event.data && event.data.forget) event.waitUntil(caches.delete(CACHE));
});
