// Parrain admin console: small progressive enhancements. Every page works
// without this script; it only saves clicks (auto-submitting pickers,
// checking the program form as you type, selecting rows, copying links).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function on(root, type, selector, fn) {
    root.addEventListener(type, function (ev) {
      var el = ev.target.closest(selector);
      if (el && root.contains(el)) fn(ev, el);
    });
  }

  // Pickers that apply at once (program, period).
  on(document, "change", "select[data-autosubmit]", function (ev, el) {
    if (el.form) el.form.submit();
  });

  // Confirmation before destructive actions.
  on(document, "click", "[data-confirm]", function (ev, el) {
    if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
  });

  // Copy buttons.
  on(document, "click", "[data-copy]", function (ev, el) {
    var src = document.querySelector(el.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var old = el.textContent;
      el.textContent = "Copied";
      setTimeout(function () { el.textContent = old; }, 1500);
    });
  });

  // Bulk selection in lists.
  function bulkBoxes(form) {
    return Array.prototype.filter.call(form.elements, function (e) {
      return e.type === "checkbox" && e.name === "id";
    });
  }
  function bulkUpdate(form) {
    var boxes = bulkBoxes(form);
    var n = boxes.filter(function (b) { return b.checked; }).length;
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = n ? n + " selected" : "Select rows below";
    form.querySelectorAll("[data-bulk-action]").forEach(function (b) { b.disabled = n === 0; });
    Array.prototype.forEach.call(form.elements, function (e) {
      if (e.hasAttribute && e.hasAttribute("data-select-all")) {
        e.checked = n > 0 && n === boxes.length;
        e.indeterminate = n > 0 && n < boxes.length;
      }
    });
  }
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    bulkUpdate(form);
    Array.prototype.forEach.call(form.elements, function (e) {
      if (e.type !== "checkbox") return;
      e.addEventListener("change", function () {
        if (e.hasAttribute("data-select-all")) {
          bulkBoxes(form).forEach(function (b) { b.checked = e.checked; });
        }
        bulkUpdate(form);
      });
    });
    form.addEventListener("submit", function (ev) {
      var btn = ev.submitter;
      if (btn && btn.hasAttribute("data-needs-reason")) {
        var reason = document.querySelector(btn.getAttribute("data-needs-reason"));
        if (reason && !reason.value.trim()) {
          ev.preventDefault();
          reason.setAttribute("aria-invalid", "true");
          reason.focus();
          reason.placeholder = "A reason is required to reject";
        }
      }
    });
  });

  // The program form: show the inputs that apply, add rules, check and
  // preview as you type.
  var pform = document.querySelector("form.program-form");
  if (!pform) return;

  function syncSide(side) {
    var kind = side.querySelector("[data-kind]");
    var type = side.querySelector("[data-type]");
    var none = !kind || kind.value === "none";
    side.querySelectorAll("[data-when-kind]").forEach(function (f) {
      var want = f.getAttribute("data-when-type");
      var wantKind = f.getAttribute("data-when-kind-is");
      f.hidden = none || (want !== null && type && type.value !== want) || (wantKind !== null && kind.value !== wantKind);
    });
  }
  function syncAll(root) { root.querySelectorAll("[data-side]").forEach(syncSide); }
  syncAll(pform);
  on(pform, "change", "[data-kind], [data-type]", function (ev, el) { syncSide(el.closest("[data-side]")); });
  on(pform, "change", "[data-remove-rule]", function (ev, el) {
    el.closest("[data-rule]").classList.toggle("removing", el.checked);
  });

  var tpl = document.getElementById("rule-template");
  var rules = document.getElementById("rules");
  var addBtn = pform.querySelector("[data-add-rule]");
  if (addBtn && tpl && rules) {
    addBtn.addEventListener("click", function () {
      var next = 0;
      pform.querySelectorAll("[name^='rule.']").forEach(function (e) {
        var i = parseInt(e.name.split(".")[1], 10);
        if (!isNaN(i) && i >= next) next = i + 1;
      });
      var frag = tpl.content.cloneNode(true);
      frag.querySelectorAll("*").forEach(function (e) {
        ["name", "id", "for", "aria-describedby", "data-error-for"].forEach(function (a) {
          var v = e.getAttribute(a);
          if (v && v.indexOf("__i__") >= 0) e.setAttribute(a, v.split("__i__").join(String(next)));
        });
      });
      var fs = frag.querySelector("[data-rule]");
      rules.appendChild(frag);
      syncAll(fs);
      var first = fs.querySelector("select");
      if (first) first.focus();
    });
  }

  var previewURL = pform.getAttribute("data-preview");
  var timer = null;
  var seq = 0;
  function showErrors(errors) {
    pform.querySelectorAll("[data-error-for]").forEach(function (box) { box.textContent = ""; });
    pform.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    Object.keys(errors || {}).forEach(function (key) {
      var box = pform.querySelector('[data-error-for="' + key + '"]') ||
        pform.querySelector('[data-error-for="' + key.replace(/\.percent_bps$/, ".percent").replace(/\.max_amount$/, ".max") + '"]') ||
        pform.querySelector('[data-error-for="' + key.replace(/\.[a-z_]+$/, ".trigger") + '"]') ||
        document.getElementById("form-err");
      var p = document.createElement("p");
      p.className = "field-error";
      p.textContent = errors[key];
      box.appendChild(p);
      var input = pform.querySelector('[name="' + key + '"]');
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }
  function showPreview(pv) {
    var out = document.getElementById("preview");
    if (!out) return;
    out.textContent = "";
    if (!pv) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = "Fix the highlighted fields to see the rewards.";
      out.appendChild(p);
      return;
    }
    if (!pv.rows.length) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = "These rules grant no reward on a signup or purchase.";
      out.appendChild(none);
    } else {
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      var t = document.createElement("table");
      t.className = "compact preview";
      var head = t.createTHead().insertRow();
      ["When", "Who", "Reward", "How"].forEach(function (h) {
        var th = document.createElement("th");
        th.scope = "col";
        th.textContent = h;
        head.appendChild(th);
      });
      var body = t.createTBody();
      pv.rows.forEach(function (r) {
        var tr = body.insertRow();
        [r.occasion, r.role.charAt(0).toUpperCase() + r.role.slice(1), r.amount + " " + r.kind, r.explanation].forEach(function (v, i) {
          var td = tr.insertCell();
          td.textContent = v;
          if (i === 3) td.className = "wrap muted";
        });
      });
      wrap.appendChild(t);
      out.appendChild(wrap);
    }
    (pv.skips || []).forEach(function (s) {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = s;
      out.appendChild(p);
    });
  }
  function check() {
    var mine = ++seq;
    var body = new URLSearchParams(new FormData(pform));
    fetch(previewURL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" },
      body: body
    }).then(function (res) {
      if (!res.ok) throw new Error("preview answered " + res.status);
      return res.json();
    }).then(function (data) {
      if (mine !== seq) return; // a newer check is on its way
      showErrors(data.errors);
      showPreview(data.preview);
      pform.setAttribute("data-checked", String(mine));
    }).catch(function () { /* the server checks again on submit */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }
  pform.addEventListener("input", later);
  pform.addEventListener("change", later);
}());

// A page showing a job under way (an import) reloads itself every few
// seconds until the job is done.
(function () {
  var el = document.querySelector("[data-autorefresh]");
  if (!el) return;
  var s = parseInt(el.getAttribute("data-autorefresh"), 10) || 2;
  setTimeout(function () { window.location.reload(); }, s * 1000);
}());
