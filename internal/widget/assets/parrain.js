/*! Parrain snippet v1 — self-hosted referrals, no dependencies. Docs: docs/integration.md */
(function (w, d) {
  "use strict";
  var none = function () { return ""; };
  var P = { version: "1", referralCode: none, cookie: none, consentId: none, fill: none, widget: none,
    touches: function () { return []; }, lookup: function () { return Promise.resolve({ matched: false }); } };
  try {
    var me = d.currentScript;
    if (!me) {
      var all = d.querySelectorAll('script[src*="/js/parrain.js"]');
      me = all[all.length - 1];
    }
    var attr = function (n, def) { var v = me && me.getAttribute("data-" + n); return v ? v : def; };
    var base = me ? me.src.replace(/\/js\/parrain\.js.*$/, "") : "";
    var cfg = {
      program: attr("program", ""),
      param: attr("param", "ref"),
      days: parseInt(attr("window-days", "30"), 10) || 30,
      domain: attr("cookie-domain", "")
    };
    var CODE = /^[A-Za-z0-9-]{3,32}$/;
    var CONSENT = /^cns_[0-9a-f]{32}$/;

    var getCookie = function (name) {
      var parts = d.cookie ? d.cookie.split("; ") : [];
      for (var i = 0; i < parts.length; i++) {
        var kv = parts[i].split("=");
        if (kv[0] === name) { return decodeURIComponent(kv.slice(1).join("=")); }
      }
      return "";
    };
    var setCookie = function (name, value) {
      d.cookie = name + "=" + value + "; Max-Age=" + cfg.days * 86400 + "; Path=/; SameSite=Lax" +
        (cfg.domain ? "; Domain=" + cfg.domain : "") + (location.protocol === "https:" ? "; Secure" : "");
    };
    // The cookie has the format of Parrain's own: CODE.unixseconds~…, oldest
    // first, at most 5, so the backend can pass it as referral_cookie.
    var touches = function () {
      var out = [], raw = getCookie("parrain_ref");
      if (!raw) { return out; }
      var items = raw.split("~");
      for (var i = 0; i < items.length; i++) {
        var t = items[i].split(".");
        if (t.length === 2 && CODE.test(t[0]) && /^\d+$/.test(t[1])) { out.push({ code: t[0].toUpperCase(), clicked_at: new Date(t[1] * 1000).toISOString(), s: t[1] }); }
      }
      return out;
    };
    var params = new URLSearchParams(location.search);
    var ref = params.get(cfg.param);
    if (ref && CODE.test(ref)) {
      var ts = touches();
      ts.push({ code: ref.toUpperCase(), s: String(Math.floor(Date.now() / 1000)) });
      ts = ts.slice(-5);
      setCookie("parrain_ref", ts.map(function (t) { return t.code + "." + t.s; }).join("~"));
    }
    var consent = params.get("parrain_consent");
    if (consent && CONSENT.test(consent)) { setCookie("parrain_consent", consent); }

    P.touches = function () { return touches().map(function (t) { return { code: t.code, clicked_at: t.clicked_at }; }); };
    P.referralCode = function () { var t = touches(); return t.length ? t[t.length - 1].code : ""; };
    P.cookie = function () { return getCookie("parrain_ref"); };
    P.consentId = function () { var c = getCookie("parrain_consent"); return CONSENT.test(c) ? c : ""; };

    // fill sets the hidden inputs of signup forms: parrain_ref (the code),
    // parrain_cookie (all touches) and parrain_consent, unless already set.
    P.fill = function (root) {
      var set = function (sel, v) {
        var els = (root || d).querySelectorAll(sel);
        for (var i = 0; i < els.length; i++) { if (!els[i].value && v) { els[i].value = v; } }
      };
      set('input[name="parrain_ref"],input[data-parrain-ref]', P.referralCode());
      set('input[name="parrain_cookie"],input[data-parrain-cookie]', P.cookie());
      set('input[name="parrain_consent"],input[data-parrain-consent]', P.consentId());
    };

    // lookup asks Parrain for the advocate a friend named (name or email).
    // The body is sent as text/plain: a simple request, no preflight.
    P.lookup = function (query, locale) {
      return fetch(base + "/api/v1/widget/lookup", {
        method: "POST", headers: { "Content-Type": "text/plain" }, credentials: "omit",
        body: JSON.stringify({ program_id: cfg.program, query: query, locale: locale || d.documentElement.lang || "" })
      }).then(function (r) { return r.json(); }).then(function (j) {
        return j.error ? { matched: false, message: j.error.message } : j;
      });
    };
    var bindLookup = function (root) {
      var inputs = (root || d).querySelectorAll("input[data-parrain-lookup]");
      for (var i = 0; i < inputs.length; i++) {
        (function (input) {
          if (input.getAttribute("data-parrain-bound")) { return; }
          input.setAttribute("data-parrain-bound", "1");
          var form = input.form || d;
          var out = form.querySelector("[data-parrain-lookup-result]");
          input.addEventListener("change", function () {
            if (!input.value.trim()) { return; }
            P.lookup(input.value.trim()).then(function (res) {
              if (out) { out.textContent = res.message || ""; }
              var hidden = form.querySelector('input[name="parrain_ref"],input[data-parrain-ref]');
              if (res.matched && hidden) { hidden.value = res.code; }
            })["catch"](function () {});
          });
        })(inputs[i]);
      }
    };

    // widget embeds the advocate's widget in element: an iframe of Parrain
    // identified by a short-lived token that the customer's backend signed.
    P.widget = function (el, opts) {
      opts = opts || {};
      if (typeof el === "string") { el = d.querySelector(el); }
      if (!el || !opts.token) { return null; }
      var f = d.createElement("iframe");
      var q = "?program=" + encodeURIComponent(opts.program || cfg.program) + (opts.locale ? "&locale=" + encodeURIComponent(opts.locale) : "");
      f.src = base + "/widget" + q + "#token=" + encodeURIComponent(opts.token);
      f.title = opts.title || "Referral program";
      f.setAttribute("loading", "lazy");
      f.setAttribute("allow", "clipboard-write");
      f.style.width = "100%";
      f.style.border = "0";
      f.style.height = (opts.height || 640) + "px";
      w.addEventListener("message", function (e) {
        if (e.source === f.contentWindow && e.origin === new URL(base).origin && e.data && e.data.parrain === "height") {
          f.style.height = Math.max(200, Math.min(4000, e.data.height | 0)) + "px";
          f.setAttribute("data-parrain-ready", "1");
        }
      });
      el.innerHTML = "";
      el.appendChild(f);
      return f;
    };

    var ready = function () { try { P.fill(d); bindLookup(d); } catch (e) { /* degrade silently */ } };
    if (d.readyState === "loading") { d.addEventListener("DOMContentLoaded", ready); } else { ready(); }
  } catch (e) { /* a blocked or failing snippet must never break the page */ }
  w.Parrain = P;
  var q = w.parrainq || [];
  w.parrainq = { push: function (fn) { try { fn(P); } catch (e) { /* ignore */ } } };
  for (var i = 0; i < q.length; i++) { w.parrainq.push(q[i]); }
})(window, document);
