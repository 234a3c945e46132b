// The today page's changes, kept on the phone until the server has them (issue 17).
//
// Every tick, undo, note, value and photo made on the page is put in a queue in IndexedDB with a key made here,
// shown at once as waiting (待同步), and sent in order. The server records a key once
// (roles.services.devices.client_change_once), so a change sent again after a lost answer, a reload or a login is
// one change. What the server refuses (the item was closed by a lead, the day is over) stays listed with the reason
// until the member dismisses it; it is never dropped silently. A session that ended sends the member to log in and
// back to this page, where the queue goes on. Without JavaScript the forms post as before.
(function () {
  "use strict";
  var sync = document.getElementById("sync");
  if (!sync || !window.indexedDB) return;
  var viewer = sync.getAttribute("data-viewer");
  var label = function (name) { return sync.getAttribute("data-label-" + name) || name; };
  var DB = "opsteam-queue", STORE = "changes";
  var running = false, retryTimer = null, lastError = "";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), result;
        result = work(store);
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() {
    return tx("readonly", function (store) { return store.getAll(); }).then(function (rows) {
      return (rows || []).filter(function (r) { return r.viewer === viewer; }).sort(function (a, b) { return a.id - b.id; });
    });
  }
  function put(row) { return tx("readwrite", function (store) { return store.put(row); }); }
  function remove(id) { return tx("readwrite", function (store) { return store.delete(id); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // What the member sees at once: the item marked waiting, and the page's count of waiting changes.
  function markPending(row) {
    var li = document.getElementById("item-" + row.itemId);
    if (!li) return;
    li.classList.add("pending");
    li.setAttribute("data-pending", "1");
    if (!li.querySelector(".tag.pending")) {
      var tag = document.createElement("span");
      tag.className = "tag pending";
      tag.setAttribute("data-testid", "pending");
      tag.textContent = label("pending");
      var meta = li.querySelector(".meta") || li;
      meta.insertBefore(tag, meta.firstChild);
    }
    if (row.action === "done" && row.kind === "check") {
      var button = li.querySelector("button.tick");
      if (button) button.classList.add("done");
    }
  }
  function render() {
    return all().then(function (rows) {
      var pending = rows.filter(function (r) { return r.state === "pending"; });
      var refused = rows.filter(function (r) { return r.state === "refused"; });
      pending.forEach(markPending);
      var text = sync.querySelector("[data-sync-text]");
      var parts = [];
      if (pending.length) parts.push(label("waiting") + " " + pending.length);
      if (!navigator.onLine) parts.push(label("offline"));
      if (lastError && pending.length) parts.push(lastError);
      text.textContent = parts.join(" · ");
      sync.querySelector("[data-sync-retry]").hidden = !(pending.length && lastError);
      var list = sync.querySelector("[data-sync-refused]");
      list.textContent = "";
      refused.forEach(function (r) {
        var li = document.createElement("li");
        li.setAttribute("data-testid", "refused");
        var what = document.createElement("strong");
        what.textContent = r.text || "";
        var why = document.createElement("span");
        why.textContent = " " + label("refused") + ": " + (r.reason || "");
        var dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.className = "secondary";
        dismiss.textContent = label("dismiss");
        dismiss.setAttribute("data-sync-dismiss", r.id);
        li.appendChild(what); li.appendChild(why); li.appendChild(dismiss);
        list.appendChild(li);
      });
      sync.hidden = !(pending.length || refused.length || !navigator.onLine);
      document.documentElement.setAttribute("data-queue-pending", String(pending.length));
    });
  }

  // The server's answer: the card (and out of band the day's total) replace theirs on the page.
  function swap(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    // A copy of the list: each node moved into the page leaves the template's live list.
    Array.prototype.slice.call(template.content.children).forEach(function (node) {
      if (!node.id) return;
      var old = document.getElementById(node.id);
      if (old) old.replaceWith(node);
    });
  }

  function send(row) {
    var body = new FormData();
    row.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    if (row.file) body.append(row.fileField, row.file, row.fileName || "photo.jpg");
    return fetch(row.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "X-Client-Key": row.key, "HX-Request": "true", "HX-Current-URL": location.href },
    });
  }

  function flush() {
    if (running) return Promise.resolve();
    running = true;
    clearTimeout(retryTimer);
    var step = function () {
      return all().then(function (rows) {
        var row = rows.filter(function (r) { return r.state === "pending"; })[0];
        if (!row) { lastError = ""; return; }
        return send(row).then(function (response) {
          if (response.status === 401) {
            // The session ended: log in and come back here; the queue (this change first) is sent then.
            location.href = response.headers.get("X-Login-URL") || "/accounts/login/?next=" + encodeURIComponent(location.pathname + location.search);
            return "stop";
          }
          if (response.ok) {
            return response.text().then(function (html) { swap(html); return remove(row.id); }).then(step);
          }
          if (response.status === 422 || response.status === 403 || response.status === 404 || response.status === 400) {
            var reason = decodeURIComponent(response.headers.get("X-Refusal") || "") || label("refused-generic");
            return response.text().then(function (html) {
              if (response.status === 422) swap(html);
              row.state = "refused";
              row.reason = reason;
              return put(row);
            }).then(step);
          }
          throw new Error(label("server-error") + " (" + response.status + ")");
        });
      });
    };
    return step().catch(function (error) {
      // No network, or the server is away: the change stays, and is sent again on its own and on "retry".
      lastError = error && error.message && error.message.indexOf("(") > 0 ? error.message : label("not-sent");
      retryTimer = setTimeout(flush, 5000);
    }).then(function (result) {
      running = false;
      if (result !== "stop") return render();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-queue]")) return;
    event.preventDefault();
    var data = new FormData(form, event.submitter || undefined);
    var fields = [], file = null, fileField = "", fileName = "";
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      if (value instanceof Blob) {
        if (value.size) { file = value; fileField = name; fileName = value.name || "photo.jpg"; }
        return;
      }
      fields.push([name, value]);
    });
    var action = (data.get("action") || (form.action.indexOf("/untick/") > 0 ? "undo" : "done"));
    var row = {
      key: newKey(),
      viewer: viewer,
      url: form.getAttribute("action"),
      fields: fields,
      file: file,
      fileField: fileField,
      fileName: fileName,
      itemId: form.getAttribute("data-item"),
      kind: form.getAttribute("data-kind"),
      text: form.getAttribute("data-text"),
      action: action,
      state: "pending",
      at: Date.now(),
    };
    put(row).then(function () { markPending(row); return render(); }).then(flush);
  });
  document.addEventListener("click", function (event) {
    var retry = event.target.closest && event.target.closest("[data-sync-retry]");
    if (retry) { lastError = ""; flush(); return; }
    var dismiss = event.target.closest && event.target.closest("[data-sync-dismiss]");
    if (dismiss) remove(Number(dismiss.getAttribute("data-sync-dismiss"))).then(render);
  });
  window.addEventListener("online", function () { lastError = ""; flush(); });
  window.addEventListener("offline", render);
  render().then(function () { if (navigator.onLine) flush(); });

  // Installable, and the page and its assets served when there is no network (static/sw.js, served at /sw.js).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () { return navigator.serviceWorker.ready; }).then(function (registration) {
      var urls = [location.pathname + location.search];
      document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon], link[rel=manifest]").forEach(function (node) {
        urls.push(node.getAttribute("src") || node.getAttribute("href"));
      });
      if (registration.active) registration.active.postMessage({ cache: urls });
    }).catch(function () { /* no service worker (e.g. plain http on a LAN address): the queue still works online */ });
  }
})();
