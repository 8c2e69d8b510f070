// Service worker, served as /sw.js with `self.JOBLOG = {version, shell, offlineUrls}` in
// front (joblog_app/offline/views.py). The shell is precached per version; pages are
// network-first with the last good copy as fallback; POSTs are never touched.
/* global JOBLOG, JoblogQueue */
"use strict";
var SHELL_CACHE = "joblog-shell-" + JOBLOG.version;
var PAGES_CACHE = "joblog-pages";
var SETTINGS_CACHE = "joblog-settings";
var LANG_KEY = "/__joblog-language";
// The citizen's own screens, kept for offline use. Nothing else (not the login page).
var KEEP = /^\/(activities\/(history|new\/[a-z_]+))?$/;

importScripts(JOBLOG.shell.filter(function (url) { return url.indexOf("/static/js/queue.js") === 0; })[0]);

function precache() {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return Promise.all(JOBLOG.shell.map(function (url) {
      return cache.match(url).then(function (hit) {
        // credentials omitted: the shell holds nothing personal.
        return hit || cache.add(new Request(url, { credentials: "omit", cache: "reload" }));
      });
    }));
  });
}

self.addEventListener("install", function (event) {
  // A new version takes over at once: pages are network-first, so nobody stays on old files.
  event.waitUntil(precache().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("joblog-shell-") === 0 && key !== SHELL_CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }).then(function () {
    return JoblogQueue.flush();
  }));
});

function rememberLanguage(response) {
  var lang = response.headers.get("Content-Language");
  if (!lang || !JOBLOG.offlineUrls[lang]) { return Promise.resolve(); }
  return caches.open(SETTINGS_CACHE).then(function (cache) {
    return cache.put(LANG_KEY, new Response(lang));
  });
}

function offlinePage() {
  return caches.open(SETTINGS_CACHE).then(function (cache) {
    return cache.match(LANG_KEY);
  }).then(function (hit) {
    return hit ? hit.text() : JOBLOG.defaultLanguage;
  }).then(function (lang) {
    return caches.match(JOBLOG.offlineUrls[lang] || JOBLOG.offlineUrls[JOBLOG.defaultLanguage]);
  });
}

function cacheable(response) {
  // Only the page asked for: not a redirect to the login page, not an error page.
  return response.ok && !response.redirected && response.type === "basic" &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

function pageKey(url) {
  return url.origin + url.pathname;  // ?queued=… and the like open the same cached page
}

function networkFirst(request, url) {
  return fetch(request).then(function (response) {
    rememberLanguage(response);
    if (cacheable(response) && KEEP.test(url.pathname)) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) { cache.put(pageKey(url), copy); });
    } else if (response.redirected && response.url.indexOf("/login") !== -1) {
      // Logged out or the session ended: personal pages must not be shown from the cache.
      caches.delete(PAGES_CACHE);
    }
    return response;
  }, function () {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(pageKey(url));
    }).then(function (hit) { return hit || offlinePage(); });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) { return hit; }
    return fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }, function (error) {
      // Offline, a page cached before an update still names the old ?v= of a file whose old
      // version was dropped with the old shell: give it the current version of that file.
      return caches.open(SHELL_CACHE).then(function (cache) {
        return cache.match(request, { ignoreSearch: true });
      }).then(function (current) {
        if (current) { return current; }
        throw error;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.indexOf("/offline/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, url));
  }
  // Everything else (htmx fragments, /sync/…, the manifest) goes to the network as usual.
});

// Pages ask for their own screens to be kept (so a form opens offline), for the shell to be
// checked after a logout emptied the caches, and for the queue to be sent.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (path) {
        var url = new URL(path, self.location.origin);
        if (url.origin !== self.location.origin || !KEEP.test(url.pathname)) { return null; }
        return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
          if (cacheable(response)) { return cache.put(pageKey(url), response); }
          return null;
        }).catch(function () { return null; });
      }));
    }));
  } else if (data.type === "shell") {
    event.waitUntil(precache());
  } else if (data.type === "flush") {
    event.waitUntil(JoblogQueue.flush({ force: true }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "joblog-send") {
    event.waitUntil(JoblogQueue.flush({ force: true }).then(function (summary) {
      if (summary.offline || summary.failed) { throw new Error("not sent yet"); }  // retried
    }));
  }
});

// Each time the browser starts this worker (a page opens, a push or sync arrives), entries
// that are due are sent: a phone that was offline when the app was closed catches up
// without the citizen opening a form. Best effort: pages and Background Sync also flush.
JoblogQueue.flush().catch(function () {});

// Reminders (joblog_app/reminders): every push shows a notification, also one that cannot be
// read (browsers revoke the subscription of a site whose pushes show nothing). The tag is the
// reminder's Topic, so a newer reminder of a kind replaces the older one, and a copy sent
// again after a worker crash replaces the first instead of showing twice.
function pushNotice(data) {
  var fallback = JOBLOG.pushFallback[data && data.lang] || JOBLOG.pushFallback[JOBLOG.defaultLanguage];
  var lang = (data && JOBLOG.pushFallback[data.lang]) ? data.lang : JOBLOG.defaultLanguage;
  var url = (data && typeof data.url === "string" && data.url.charAt(0) === "/" &&
             data.url.charAt(1) !== "/") ? data.url : "/";
  return {
    title: (data && data.title) || fallback.title,
    options: {
      body: (data && data.body) || fallback.body,
      lang: lang,
      dir: lang === "ar" ? "rtl" : "ltr",
      tag: (data && data.tag) || "reminder",
      renotify: false,
      icon: "/static/icons/maskable-192.png",
      data: { url: url, id: data && data.id }
    }
  };
}

self.addEventListener("push", function (event) {
  var data = null;
  try { data = event.data ? event.data.json() : null; } catch (e) { data = null; }
  var notice = pushNotice(data);
  event.waitUntil(self.registration.showNotification(notice.title, notice.options));
});

// Tapping opens the screen the reminder is about: in an open window of the app when there is
// one, otherwise in a new one (also when the app was closed).
function openFromNotification(notification) {
  var target = new URL((notification.data && notification.data.url) || "/", self.location.origin).href;
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    var mine = windows.filter(function (w) { return new URL(w.url).origin === self.location.origin; });
    if (mine.length) {
      return mine[0].navigate(target).then(function (client) {
        return client && client.focus ? client.focus().catch(function () { return client; }) : client;
      });
    }
    return self.clients.openWindow(target);
  });
}
self.joblogOpenFromNotification = openFromNotification;  // the browser test calls it

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});
