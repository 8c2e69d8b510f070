// The phone's queue of entries saved while offline, shared by the pages and the service
// worker. An entry is written to IndexedDB before anyone says it is saved, and leaves the
// queue only when the server has it (or when its owner removes it). Nothing expires.
(function (global) {
  "use strict";
  var DB_NAME = "joblog";
  var STORE = "entries";
  var LOCK = "joblog-queue";
  var BACKOFF_BASE = 2000;
  var BACKOFF_CAP = 5 * 60 * 1000;
  var TIMEOUT = 20000;
  // 4xx answers that may pass on a later try: a refused (stale) CSRF token, timeouts, limits.
  var RETRY_4XX = [403, 408, 425, 429];
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("joblog-queue") : null;
  var dbPromise = null;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          var store = req.result.createObjectStore(STORE, { keyPath: "uuid" });
          store.createIndex("owner", "owner");
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  // Resolves only when the transaction has committed: then the entry is on the phone.
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
        result = work(t.objectStore(STORE));
      });
    });
  }

  function all() {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var req = db.transaction(STORE, "readonly").objectStore(STORE).getAll();
        req.onsuccess = function () {
          resolve(req.result.sort(function (a, b) { return a.createdAt - b.createdAt; }));
        };
        req.onerror = function () { reject(req.error); };
      });
    });
  }

  function get(uuid) {
    return all().then(function (entries) {
      return entries.filter(function (e) { return e.uuid === uuid; })[0] || null;
    });
  }

  function changed() {
    if (channel) { channel.postMessage("changed"); }
    if (global.dispatchEvent && typeof CustomEvent === "function" && global.document) {
      global.dispatchEvent(new CustomEvent("joblog-queue-changed"));
    }
  }

  // Add or replace (same UUID: an edit of a waiting entry stays one entry).
  function put(entry) {
    return get(entry.uuid).then(function (old) {
      var now = Date.now();
      var record = {
        uuid: entry.uuid, owner: entry.owner, kind: entry.kind, fields: entry.fields,
        createdAt: old ? old.createdAt : now, updatedAt: now,
        state: "waiting", attempts: 0, nextAttemptAt: 0, message: null, errors: {}
      };
      return tx("readwrite", function (store) { store.put(record); }).then(function () {
        changed();
        return record;
      });
    });
  }

  function update(record) {
    return tx("readwrite", function (store) { store.put(record); }).then(changed);
  }

  function remove(uuid) {
    return tx("readwrite", function (store) { store.delete(uuid); }).then(changed);
  }

  function removeOwner(owner) {
    return all().then(function (entries) {
      return tx("readwrite", function (store) {
        entries.forEach(function (e) { if (e.owner === owner) { store.delete(e.uuid); } });
      });
    }).then(changed);
  }

  function backoff(attempts, retryAfterSeconds) {
    var delay = Math.min(BACKOFF_CAP, BACKOFF_BASE * Math.pow(2, Math.min(attempts, 20)));
    delay = delay * (0.5 + Math.random() / 2);
    return Math.max(delay, (retryAfterSeconds || 0) * 1000);
  }

  function retryAfter(response) {
    var value = response.headers.get("Retry-After");
    var seconds = value ? parseInt(value, 10) : NaN;
    return isNaN(seconds) ? 0 : seconds;
  }

  function timedFetch(url, options) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT) : null;
    if (controller) { options.signal = controller.signal; }
    options.credentials = "same-origin";
    options.cache = "no-store";
    return fetch(url, options).finally(function () { if (timer) { clearTimeout(timer); } });
  }

  function jsonOf(response) {
    return response.json().catch(function () { return {}; });
  }

  // Later: the page and the worker may both try at once; the lock makes them take turns.
  function withLock(work) {
    var locks = global.navigator && global.navigator.locks;
    return locks ? locks.request(LOCK, work) : work();
  }

  // Send what is due for the logged-in user. Resolves to a summary; never throws.
  // {force: true} (back online, "Send now", Background Sync) does not wait for the backoff.
  function flush(options) {
    var force = Boolean(options && options.force);
    return withLock(function () {
      return all().then(function (entries) {
        var now = Date.now();
        var due = entries.filter(function (e) {
          return e.state === "waiting" && (force || (e.nextAttemptAt || 0) <= now);
        });
        if (!due.length) { return { sent: 0, due: 0 }; }
        return timedFetch("/sync/session", { method: "GET" }).then(function (response) {
          if (response.status === 401) { return { sent: 0, due: due.length, login: true }; }
          if (!response.ok) { return { sent: 0, due: due.length, failed: true }; }
          return response.json().then(function (session) {
            var mine = due.filter(function (e) { return e.owner === session.owner; });
            return sendAll(mine, session.csrf);
          });
        }, function () { return { sent: 0, due: due.length, offline: true }; });
      });
    }).catch(function () { return { sent: 0, failed: true }; });
  }

  function sendAll(entries, csrf) {
    var summary = { sent: 0, due: entries.length };
    var i = 0;
    function next() {
      if (i >= entries.length) { return summary; }
      var entry = entries[i++];
      return send(entry, csrf).then(function (outcome) {
        if (outcome === "sent") { summary.sent += 1; }
        if (outcome === "stop") { summary.failed = true; return summary; }
        if (outcome === "login") { summary.login = true; return summary; }
        return next();
      });
    }
    return next();
  }

  function send(entry, csrf) {
    var body = JSON.stringify({ kind: entry.kind, client_uuid: entry.uuid, fields: entry.fields });
    return timedFetch("/sync/entries", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        return remove(entry.uuid).then(function () { return "sent"; });
      }
      if (response.status === 401) { return "login"; }
      // Any other 4xx (400, 404, 413, 422, ...) will not change by sending again: the entry
      // waits for the citizen to look at it, and the queue moves on to the next one.
      if (response.status >= 400 && response.status < 500 && RETRY_4XX.indexOf(response.status) < 0) {
        return jsonOf(response).then(function (data) {
          entry.state = response.status === 409 ? "conflict" : "attention";
          entry.message = data.message || null;
          entry.errors = data.errors || {};
          return update(entry).then(function () { return "kept"; });
        });
      }
      // 429, 5xx, a refused token, anything unexpected: keep it and try again later.
      entry.attempts = (entry.attempts || 0) + 1;
      entry.nextAttemptAt = Date.now() + backoff(entry.attempts, retryAfter(response));
      return update(entry).then(function () { return "stop"; });
    }, function () {
      entry.attempts = (entry.attempts || 0) + 1;
      entry.nextAttemptAt = Date.now() + backoff(entry.attempts, 0);
      return update(entry).then(function () { return "stop"; });
    });
  }

  global.JoblogQueue = {
    all: all, get: get, put: put, update: update, remove: remove, removeOwner: removeOwner,
    flush: flush, backoff: backoff, channel: channel
  };
})(self);
