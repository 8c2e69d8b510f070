// Small progressive enhancements; the app works without them. No inline script (CSP).
(function () {
  "use strict";
  // Long enough for a screen reader to have noticed an emptied live region before words
  // are written into it.
  var ANNOUNCE_DELAY = 150;
  // Recent-employer chips fill the employer field.
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-fill]");
    if (chip) {
      var input = document.getElementById(chip.getAttribute("data-fill"));
      if (input) { input.value = chip.getAttribute("data-value"); input.focus(); }
    }
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // An htmx request that fails: say so in words, keep what was typed. The alert is shown
  // empty first and filled a moment later, so a screen reader hears the words.
  function showError(message) {
    var box = document.getElementById("live-error");
    if (!box) { return; }
    box.textContent = "";
    box.hidden = false;
    setTimeout(function () { box.textContent = message; }, ANNOUNCE_DELAY);
  }
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.getAttribute("data-network-error"));
  });
  document.addEventListener("htmx:responseError", function () {
    showError(document.body.getAttribute("data-server-error"));
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("live-error");
    if (box) { box.hidden = true; }
  });
  // --- Errors: focus the first field that needs a look (also a radio group) ---------------
  // The error summary links to every field; its first link says where to start.
  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) { return false; }
    field.focus({ preventScroll: true });
    // Show the field's label or question too, not only the box.
    var wrapper = field.closest(".field") || field;
    wrapper.scrollIntoView({ block: "start" });
    return true;
  }
  function focusFirstError(root) {
    if (!root || !root.querySelector) { return; }
    var link = root.querySelector(".error-summary a[data-focus]");
    if (link && focusField(link.getAttribute("data-focus"))) { return; }
    var invalid = root.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); return; }
    var summary = root.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[data-focus]");
    if (link && focusField(link.getAttribute("data-focus"))) { event.preventDefault(); }
  });
  // event.target is the swapped-in element (detail.target is the old one after outerHTML).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target !== document.body) { focusFirstError(event.target); }
  });

  // --- After a save, delete or conversion: the citizen sees and hears what happened -------
  // htmx then replaces the whole <body> (HX-Location). #messages is kept across that swap
  // (hx-preserve), so the status region exists before its words change; the new words are
  // taken from the answer and written in a moment later. Focus and scroll go to the message,
  // or, without one, to the new page's heading.
  var pendingFlash = null;
  function flashesIn(html) {
    var box = new DOMParser().parseFromString(html, "text/html").getElementById("messages");
    return box ? Array.prototype.slice.call(box.children) : [];
  }
  function announce(nodes, focus) {
    var box = document.getElementById("messages");
    if (!box) { return; }
    box.textContent = "";
    if (!nodes.length) { return; }
    setTimeout(function () {
      nodes.forEach(function (node) { box.appendChild(document.importNode(node, true)); });
      var first = box.querySelector(".flash");
      if (focus && first) {
        first.setAttribute("tabindex", "-1");
        window.scrollTo(0, 0);
        first.focus({ preventScroll: true });
      }
    }, ANNOUNCE_DELAY);
  }
  window.JoblogAnnounce = announce;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail;
    pendingFlash = d.target === document.body && d.serverResponse ? flashesIn(d.serverResponse) : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target !== document.body || pendingFlash === null) { return; }
    var nodes = pendingFlash;
    pendingFlash = null;
    if (document.querySelector(".error-summary")) { focusFirstError(document); return; }
    if (nodes.length) { announce(nodes, true); return; }
    announce([], false);
    var heading = document.querySelector("main h1:not(.visually-hidden)") || document.getElementById("main");
    window.scrollTo(0, 0);
    if (heading) {
      if (!heading.hasAttribute("tabindex")) { heading.setAttribute("tabindex", "-1"); }
      heading.focus({ preventScroll: true });
    }
  });
  // A full page load that brings a message (no htmx, or a reload): the same, once.
  (function () {
    var box = document.getElementById("messages");
    if (box && box.children.length) {
      var nodes = Array.prototype.slice.call(box.children);
      box.textContent = "";
      announce(nodes, true);
    } else {
      focusFirstError(document);
    }
  })();

  // --- My list: say how many entries the filters found --------------------------------------
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "history-list") { return; }
    var status = document.getElementById("history-status");
    var words = event.target.querySelector("[data-announce]");
    if (!status || !words) { return; }
    status.textContent = "";
    setTimeout(function () { status.textContent = words.textContent.trim(); }, ANNOUNCE_DELAY);
  });
})();

// Installable app and offline registration (with static/js/queue.js and /sw.js).
(function () {
  "use strict";
  var Q = window.JoblogQueue;
  var body = document.body;
  var owner = body.getAttribute("data-owner");
  var stringsNode = document.getElementById("queue-strings");
  var S = stringsNode ? JSON.parse(stringsNode.textContent) : null;
  var plural = S && typeof Intl === "object" && Intl.PluralRules ? new Intl.PluralRules(S.lang) : null;
  var retryTimer = null;

  function count(forms, n) {
    var text = forms[plural ? plural.select(n) : (n === 1 ? "one" : "other")] ||
      forms.other || forms.many || "";
    return text.replace("%(num)s", n.toLocaleString(S.lang));
  }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ``quiet``: announce without moving focus (the citizen may be typing elsewhere).
  function showFlash(text, quiet) {
    var box = document.getElementById("messages");
    if (!box || !text) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-success";
    p.textContent = text;
    if (window.JoblogAnnounce) { window.JoblogAnnounce([p], !quiet); } else { box.appendChild(p); }
  }

  // A citizen's phone keeps entries that are not sent yet: ask once per page that the
  // browser never clears this site's storage on its own (no prompt in Chromium).
  if (owner && navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (yes) {
      return yes || navigator.storage.persist();
    }).catch(function () {});
  }

  // --- Service worker ------------------------------------------------------------------
  function worker(message) {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) { reg.active.postMessage(message); }
    });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    worker({ type: "shell" });
    if (owner) {
      // Keep this citizen's screens on the phone once a day, so every form opens offline.
      var stamp = owner + ":" + new Date().toDateString();
      if (localStorage.getItem("joblog-kept") !== stamp) {
        localStorage.setItem("joblog-kept", stamp);
        var urls = ["/", "/activities/history"];
        ["application", "coffee_meeting", "network_lead", "planned_job", "other"].forEach(function (k) {
          urls.push("/activities/new/" + k);
        });
        worker({ type: "keep", urls: urls });
      }
    }
  }

  // --- Install help ----------------------------------------------------------------------
  var installEvent = null;
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    installEvent = event;
    document.querySelectorAll("[data-install]").forEach(function (b) { b.hidden = false; });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-install]") && installEvent) {
      installEvent.prompt();
      installEvent = null;
    }
  });

  if (!Q || !owner || !S) { return; }

  // --- Entry forms: a fresh UUID when a form opens, or the waiting entry being edited -----
  function fillForm(form, entry) {
    form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (i) { i.checked = false; });
    Object.keys(entry.fields).forEach(function (name) {
      var value = entry.fields[name];
      form.querySelectorAll("[name='" + name.replace(/[^\w-]/g, "") + "']").forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = el.value === value;
        } else if (el.type !== "hidden" || name === "source_id") {
          el.value = value;
        }
      });
    });
    var uuidInput = form.querySelector("input[name=client_uuid]");
    if (uuidInput) { uuidInput.value = entry.uuid; }
    form.setAttribute("data-queued", entry.uuid);
    var more = form.querySelector("details.more");
    if (more) { more.open = true; }
  }

  function prepareForms(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-fresh-uuid]") : [];
    var queued = new URLSearchParams(location.search).get("queued");
    forms.forEach(function (form) {
      form.removeAttribute("data-fresh-uuid");
      var input = form.querySelector("input[name=client_uuid]");
      if (!input) { return; }
      input.value = newUuid();  // a cached copy of the form must not reuse an old one
      if (queued) {
        Q.get(queued).then(function (entry) {
          if (entry && entry.owner === owner) { fillForm(form, entry); }
        });
      }
    });
  }
  prepareForms(document);
  document.addEventListener("htmx:load", function (event) {
    prepareForms(event.target);
    var t = event.target;
    if (t.id === "queue" || (t.querySelector && t.querySelector("#queue"))) { render(); }
  });

  function entryOf(form) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "client_uuid" && typeof value === "string") {
        fields[name] = value;
      }
    });
    return {
      uuid: form.querySelector("input[name=client_uuid]").value,
      owner: owner, kind: form.getAttribute("data-offline-kind"), fields: fields
    };
  }

  // Stored first; only then does the screen say it is saved.
  function keep(form, then) {
    return Q.put(entryOf(form)).then(function () {
      if (navigator.storage && navigator.storage.persist) { navigator.storage.persist(); }
      if ("serviceWorker" in navigator) {
        navigator.serviceWorker.ready.then(function (reg) {
          if (reg.sync) { return reg.sync.register("joblog-send"); }
        }).catch(function () {});
      }
      sessionStorage.setItem("joblog-flash", S.savedOffline);
      if (then) { then(); return; }
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        location.assign("/");
      } else {
        sessionStorage.removeItem("joblog-flash");
        showFlash(S.savedOffline);
        form.reset();
        form.removeAttribute("data-queued");
        form.querySelector("input[name=client_uuid]").value = newUuid();
        render();
      }
    }, function () {
      var box = document.getElementById("live-error");
      if (box) { box.textContent = body.getAttribute("data-network-error"); box.hidden = false; }
    });
  }

  function entryForm(elt) {
    return elt && elt.matches && elt.matches("form[data-offline-kind]") ? elt : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = entryForm(event.detail.elt);
    if (form && navigator.onLine === false) {
      event.preventDefault();
      keep(form);
    }
  });
  function keepOnFailure(event) {
    var form = entryForm(event.detail.elt);
    if (form) { event.stopImmediatePropagation(); keep(form); }
  }
  document.addEventListener("htmx:sendError", keepOnFailure, true);
  document.addEventListener("htmx:timeout", keepOnFailure, true);
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var form = entryForm(event.detail.elt);
    var status = event.detail.xhr.status;
    if (form && status >= 200 && status < 300 && form.getAttribute("data-queued")) {
      Q.remove(form.getAttribute("data-queued"));  // the server has the waiting entry now
      return;
    }
    if (!form || !(status === 401 || status === 429 || status >= 500)) { return; }
    event.preventDefault();
    var login = event.detail.xhr.getResponseHeader("HX-Redirect");
    keep(form, login ? function () { location.assign(login); } : null);
  });

  // --- The list of entries waiting on this phone ------------------------------------------
  // Looked up each time: an htmx navigation replaces the page's body.
  function byId(id) { return document.getElementById(id); }

  function summary(entry) {
    var f = entry.fields;
    return [f.title, f.organisation, f.person, f.description].filter(Boolean).join(" · ");
  }

  function itemFor(entry, template) {
    var li = template.content.firstElementChild.cloneNode(true);
    li.querySelector("[data-slot=kind]").textContent = S.kinds[entry.kind] || entry.kind;
    li.querySelector("[data-slot=text]").textContent = summary(entry);
    li.querySelector("[data-slot=state]").textContent =
      (entry.state === "waiting" ? S.state.waiting : S.state[entry.state]) +
      (entry.message ? " — " + entry.message : "");
    li.setAttribute("data-uuid", entry.uuid);
    li.setAttribute("data-state", entry.state);
    var errors = li.querySelector("[data-slot=errors]");
    Object.keys(entry.errors || {}).forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = entry.errors[name];
      errors.appendChild(item);
    });
    li.querySelector("[data-action=edit]").href =
      "/activities/new/" + encodeURIComponent(entry.kind) + "?queued=" + encodeURIComponent(entry.uuid);
    var problem = entry.state === "conflict" || entry.state === "attention";
    li.querySelector("[data-action=remove]").hidden = !problem;
    li.querySelector("[data-action=renew]").hidden = entry.state !== "conflict";
    return li;
  }

  function mine() {
    return Q.all().then(function (entries) {
      return entries.filter(function (e) { return e.owner === owner; });
    });
  }

  var renders = 0;

  function render() {
    if (!byId("queue")) { return Promise.resolve(); }
    // Reads of the queue finish in any order: only the newest render may draw, or an older
    // read (from before an entry was queued) would hide the entry it does not know yet.
    var mineNumber = ++renders;
    return mine().then(function (entries) {
      if (mineNumber !== renders) { return; }
      var section = byId("queue");
      var note = byId("queue-note");
      var list = byId("queue-list");
      var template = byId("queue-item");
      if (!section) { return; }
      list.textContent = "";
      entries.forEach(function (e) { list.appendChild(itemFor(e, template)); });
      // Written only when the words change: a status region repeats every rewrite aloud.
      var counted = document.getElementById("queue-count");
      var words = entries.length ? count(S.count, entries.length) : "";
      if (counted.textContent !== words) { counted.textContent = words; }
      section.hidden = entries.length === 0;
      Array.prototype.forEach.call(document.querySelectorAll("[data-all-in]"), function (el) {
        el.hidden = entries.length > 0;
      });
      if (!navigator.onLine && entries.length) { note.textContent = S.offline; note.hidden = false; }
    });
  }

  function schedule() {
    clearTimeout(retryTimer);
    mine().then(function (entries) {
      var next = entries.filter(function (e) { return e.state === "waiting"; })
        .map(function (e) { return e.nextAttemptAt || 0; });
      if (!next.length) { return; }
      var wait = Math.max(1000, Math.min.apply(null, next) - Date.now());
      retryTimer = setTimeout(function () { send(false); }, Math.min(wait, 10 * 60 * 1000));
    });
  }

  function send(force) {
    var waiting = 0;
    return mine().then(function (before) {
      waiting = before.length;
      return Q.flush({ force: force });
    }).then(function (result) {
      var note = byId("queue-note");
      if (note) {
        note.hidden = !(result.login || result.offline || result.failed);
        note.textContent = result.login ? S.loginToSend : result.offline ? S.offline : S.sendFailed;
      }
      return render().then(mine).then(function (after) {
        // The box disappears when the last entry is sent: say so in the status region.
        if (waiting && !after.length && byId("queue")) { showFlash(S.sent, true); }
        schedule();
        return result;
      });
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-queue-send]")) { send(true); return; }
    var action = event.target.closest("#queue-list [data-action]");
    if (!action || action.tagName !== "BUTTON") { return; }
    var uuid = action.closest("[data-uuid]").getAttribute("data-uuid");
    Q.get(uuid).then(function (entry) {
      if (!entry) { return null; }
      if (action.getAttribute("data-action") === "remove") { return Q.remove(uuid); }
      // Keep what the server has; send this one as a new entry with its own UUID. The new
      // one goes in before the old one goes out, so the queue never looks empty meanwhile.
      return Q.put({ uuid: newUuid(), owner: owner, kind: entry.kind, fields: entry.fields })
        .then(function () { return Q.remove(uuid); })
        .then(function () { return send(true); });
    }).then(render);
  });

  window.addEventListener("joblog-queue-changed", render);
  if (Q.channel) { Q.channel.addEventListener("message", render); }
  window.addEventListener("online", function () { send(true); });
  window.addEventListener("offline", render);

  var flash = sessionStorage.getItem("joblog-flash");
  if (flash) { sessionStorage.removeItem("joblog-flash"); showFlash(flash); }
  render().then(function () { return send(false); });

  // --- Logout: warn about unsent entries, then leave nothing personal behind ---------------
  function clearAndLeave(form) {
    var caches_ = window.caches ? caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("joblog-") === 0; })
        .map(function (k) { return caches.delete(k); }));
    }) : Promise.resolve();
    localStorage.removeItem("joblog-kept");
    Promise.all([Q.removeOwner(owner), caches_]).catch(function () {}).then(function () { form.submit(); });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-logout]");
    if (!form) { return; }
    event.preventDefault();
    mine().then(function (entries) {
      var dialog = byId("logout-dialog");
      if (!entries.length || !dialog || !dialog.showModal) { clearAndLeave(form); return; }
      document.getElementById("logout-dialog-text").textContent = count(S.logoutWarning, entries.length);
      dialog.onclick = function (e) {
        var choice = e.target.closest("[data-dialog]");
        if (!choice) { return; }
        var what = choice.getAttribute("data-dialog");
        dialog.close();
        if (what === "logout") { clearAndLeave(form); }
        if (what === "send") { send(true); }
      };
      dialog.showModal();
    });
  });
})();

// Reminders (templates/reminders/_offer.html): permission is asked only from a tap, never on
// page load; on an iPhone outside the home-screen app the steps to add it come first. Where
// the offer is shown and this device is subscribed, the subscription is confirmed to the
// server (at most daily), so devices that went quiet are dropped after 60 days.
(function () {
  "use strict";
  var box = document.querySelector("[data-push-offer]");
  if (!box || !("serviceWorker" in navigator)) { return; }
  var supported = "PushManager" in window && "Notification" in window;
  var ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  var standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  var url = box.getAttribute("data-push-url");
  var CONFIRMED = "joblog-push-confirmed";

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function save(subscription) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(subscription.toJSON()) }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      try { localStorage.setItem(CONFIRMED, String(Date.now())); } catch (e) { /* private mode */ }
      return response;
    });
  }
  function keyBytes(b64) {
    var raw = atob((b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function fail(attr) {
    var p = box.querySelector("[data-push-error]");
    p.textContent = box.getAttribute(attr);
    p.hidden = false;
  }

  if (ios && !standalone) {
    box.querySelector("[data-push-ios]").hidden = false;
    box.querySelector("[data-push-subscribe]").hidden = true;
    box.hidden = false;
    return;
  }
  if (!supported || !box.getAttribute("data-push-key")) { return; }
  navigator.serviceWorker.ready.then(function (reg) {
    return reg.pushManager.getSubscription().then(function (existing) {
      if (existing && Notification.permission === "granted") {
        var last = 0;
        try { last = Number(localStorage.getItem(CONFIRMED)) || 0; } catch (e) { /* private mode */ }
        if (Date.now() - last > 86400000) { save(existing).catch(function () {}); }
        return;
      }
      if (Notification.permission === "denied") { return; }
      box.hidden = false;
      box.querySelector("[data-push-subscribe]").addEventListener("click", function (event) {
        var button = event.currentTarget;
        button.disabled = true;
        Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") { throw new Error("denied"); }
          return reg.pushManager.subscribe({ userVisibleOnly: true,
            applicationServerKey: keyBytes(box.getAttribute("data-push-key")) });
        }).then(save).then(function () {
          window.location.reload();
        }).catch(function (error) {
          button.disabled = false;
          fail(error && error.message === "denied" ? "data-push-denied" : "data-push-failed");
        });
      });
    });
  }).catch(function () {});
})();
