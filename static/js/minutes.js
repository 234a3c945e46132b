// The minutes page keeps what is typed (issue 17). Notes under an agenda item save themselves a moment after typing
// stops and say so (saved / saving / not saved); a copy is kept in the browser until the server has it, so a reload
// or a crash loses nothing; leaving with unsaved text warns. Each save says which version the box started from: if
// someone else saved in between, the server refuses and both texts are shown (nothing is overwritten silently).
(function () {
  "use strict";
  var DELAY = 800;
  var timers = new WeakMap(), dirty = new Set(), saving = new Set();

  function draftKey(form) { return "opsteam-notes-" + form.getAttribute("data-autosave"); }
  function status(form, name) {
    var node = form.querySelector("[data-save-status]");
    if (!node) return;
    node.textContent = node.getAttribute("data-label-" + name) || name;
    node.setAttribute("data-state", name);
  }
  function keepDraft(form) {
    var box = form.querySelector("textarea[name=notes]");
    try { localStorage.setItem(draftKey(form), JSON.stringify({ text: box.value, base: form.elements.base.value })); } catch (e) { /* private mode */ }
  }
  function dropDraft(form) { try { localStorage.removeItem(draftKey(form)); } catch (e) { /* private mode */ } }
  function showConflict(form, theirs) {
    var panel = form.querySelector("[data-conflict]");
    panel.querySelector("[data-theirs]").textContent = theirs;
    panel.hidden = false;
    var details = form.closest("details");
    if (details) details.open = true;
  }
  function csrf(form) { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }

  function save(form) {
    var box = form.querySelector("textarea[name=notes]");
    var sent = box.value;
    var body = new FormData();
    body.append("notes", sent);
    body.append("base", form.elements.base.value);
    saving.add(form);
    status(form, "saving");
    return fetch(form.getAttribute("action"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(form), "X-Autosave": "1", "HX-Request": "true", "HX-Current-URL": location.href },
    }).then(function (response) {
      if (response.status === 401) { keepDraft(form); location.href = response.headers.get("X-Login-URL"); return; }
      return response.json().then(function (answer) {
        if (answer.status === "saved") {
          form.elements.base.value = answer.version;
          if (box.value === sent) { dirty.delete(form); dropDraft(form); status(form, "saved"); form.querySelector("[data-conflict]").hidden = true; }
          else { keepDraft(form); schedule(form); }
        } else if (answer.status === "conflict") {
          // Their text is shown; the next save starts from their version, with what this writer merged in the box.
          form.elements.base.value = answer.version;
          keepDraft(form);
          showConflict(form, answer.theirs);
          status(form, "conflict");
        } else {
          status(form, "unsaved");
        }
      });
    }).catch(function () {
      status(form, "unsaved");
      schedule(form, 5000);
    }).then(function () { saving.delete(form); });
  }
  function schedule(form, delay) {
    clearTimeout(timers.get(form));
    timers.set(form, setTimeout(function () { save(form); }, delay || DELAY));
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosave]");
    if (!form || event.target.name !== "notes") return;
    dirty.add(form);
    keepDraft(form);
    status(form, "unsaved");
    if (form.querySelector("[data-save-status]").getAttribute("data-state") !== "conflict") schedule(form);
  });
  // A conflict is saved only when the writer says so (Save notes): their merge, from the other's version.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosave]");
    if (!form) return;
    event.preventDefault();
    event.stopPropagation();
    clearTimeout(timers.get(form));
    save(form);
  }, true);

  // Back after a reload or a crash: a box with a copy the server never got takes it again and saves it.
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var raw = null;
    try { raw = localStorage.getItem(draftKey(form)); } catch (e) { /* private mode */ }
    if (!raw) return;
    var draft = JSON.parse(raw), box = form.querySelector("textarea[name=notes]");
    if (draft.text === box.value) { dropDraft(form); return; }
    var details = form.closest("details");
    if (details) details.open = true;
    var stored = box.value;
    box.value = draft.text;
    dirty.add(form);
    if (draft.base === form.elements.base.value) { save(form); }
    else { showConflict(form, stored); status(form, "conflict"); }
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty.size || saving.size) { event.preventDefault(); event.returnValue = ""; }
  });
})();
