/* Parrain widget: the advocate's link, one-click sharing, email invitations,
   referrals, rewards and notifications. Identified by the widget token in
   the URL fragment (never sent to a server as part of a URL). */
(function () {
  "use strict";
  var root = document.getElementById("parrain");
  var program = root.getAttribute("data-program");
  var locale = root.getAttribute("data-locale");
  var token = "";
  var m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) { token = decodeURIComponent(m[1]); }
  try { history.replaceState(null, "", location.pathname + location.search); } catch (e) { /* ignore */ }

  var $ = function (id) { return document.getElementById(id); };
  var S = {};
  try { S = JSON.parse(root.getAttribute("data-strings") || "{}"); } catch (e) { /* English keys then */ }
  var t = function (k, vars) {
    var s = S[k] || k;
    for (var n in (vars || {})) { s = s.split("{" + n + "}").join(vars[n]); }
    return s;
  };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  };
  var api = function (method, path, body, headers) {
    var h = { "Authorization": "Bearer " + token };
    for (var k in (headers || {})) { h[k] = headers[k]; }
    if (body) { h["Content-Type"] = "application/json"; }
    var sep = path.indexOf("?") < 0 ? "?" : "&";
    return fetch(path + sep + "program=" + encodeURIComponent(program) + (locale ? "&locale=" + encodeURIComponent(locale) : ""),
      { method: method, headers: h, body: body ? JSON.stringify(body) : undefined, credentials: "omit", keepalive: method === "POST" && !!body && path.indexOf("shares") > 0 })
      .then(function (r) {
        return r.json().then(function (j) { if (!r.ok) { var err = new Error((j.error && j.error.message) || r.status); err.code = j.error && j.error.code; throw err; } return j; });
      });
  };
  var resize = function () {
    try { parent.postMessage({ parrain: "height", height: document.documentElement.scrollHeight }, "*"); } catch (e) { /* ignore */ }
  };
  var fail = function (err) {
    $("loading").hidden = true;
    var box = $("error");
    box.textContent = err && err.code === "unauthenticated" ? t("widget.error.token") : t("widget.error.generic");
    box.hidden = false;
    resize();
  };

  // ShareURL in internal/widget/widgetapi.go builds the same URLs.
  var shareURL = function (channel, link, subject, msg) {
    var e = encodeURIComponent;
    switch (channel) {
      case "email": return "mailto:?subject=" + e(subject) + "&body=" + e(msg);
      case "x": return "https://x.com/intent/tweet?text=" + e(msg);
      case "linkedin": return "https://www.linkedin.com/sharing/share-offsite/?url=" + e(link);
      case "facebook": return "https://www.facebook.com/sharer/sharer.php?u=" + e(link) + "&quote=" + e(msg);
      case "whatsapp": return "https://wa.me/?text=" + e(msg);
      case "sms": return "sms:?&body=" + e(msg);
    }
    return link;
  };
  var channels = ["email", "x", "linkedin", "facebook", "whatsapp", "sms"];

  var render = function (me) {
    S = me.strings || {};
    document.documentElement.lang = me.locale;
    document.title = t("widget.title");
    var css = document.documentElement.style;
    css.setProperty("--brand", me.branding.color);
    css.setProperty("--accent", me.branding.accent);
    if (me.branding.logo_url) { $("logo").src = me.branding.logo_url; $("logo").alt = me.program.sender; $("logo").hidden = false; }
    $("headline").textContent = me.headline;
    if (!me.participant.active || !me.program.active) { $("disabled").textContent = t("widget.disabled"); $("disabled").hidden = false; }

    $("link-label").textContent = t("widget.link_label");
    $("link").value = me.link;
    $("copy").textContent = t("widget.copy");
    $("copy").onclick = function () {
      var done = function () { $("copy-status").textContent = t("widget.copied"); $("copy").setAttribute("data-copied", me.link); share("copy"); };
      var fallback = function () {
        var i = $("link"); i.focus(); i.select();
        try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* ignore */ }
        $("copy-status").textContent = t("widget.copy_failed");
      };
      if (navigator.clipboard && navigator.clipboard.writeText) { navigator.clipboard.writeText(me.link).then(done, fallback); } else { fallback(); }
    };

    $("share-label").textContent = t("widget.share_label");
    $("message-label").textContent = t("widget.message_label");
    $("message").value = me.share.message;
    $("disclosure").textContent = me.share.disclosure;
    var box = $("share");
    box.textContent = "";
    var links = {};
    channels.forEach(function (c) {
      var a = el("a", "share-" + c, t("widget.share." + c));
      a.setAttribute("data-channel", c);
      if (c !== "email" && c !== "sms") { a.target = "_blank"; a.rel = "noopener"; }
      a.onclick = function () { share(c); };
      links[c] = a;
      box.appendChild(a);
    });
    var update = function () {
      // The advocate may rewrite the message, not drop the link or the
      // incentive disclosure.
      var msg = $("message").value.trim();
      if (msg.indexOf(me.link) < 0) { msg += " " + me.link; }
      if (msg.indexOf(me.share.disclosure) < 0) { msg += " " + me.share.disclosure; }
      channels.forEach(function (c) { links[c].href = shareURL(c, me.link, me.share.subject, msg); });
    };
    $("message").oninput = update;
    update();

    $("invite-title").textContent = t("widget.invite.title");
    $("invite-label").textContent = t("widget.invite.label");
    $("invite-emails").placeholder = t("widget.invite.placeholder");
    $("invite-note-label").textContent = t("widget.invite.note");
    $("invite-send").textContent = t("widget.invite.send");
    $("invite-limit").textContent = t("widget.invite.limit", { n: me.invites.per_day });
    $("invite").onsubmit = function (ev) {
      ev.preventDefault();
      var emails = $("invite-emails").value.split(/[\s,;]+/).filter(function (x) { return x; });
      if (!emails.length) { return; }
      $("invite-send").disabled = true;
      var key = "inv-" + Date.now() + "-" + Math.random().toString(36).slice(2);
      api("POST", "/api/v1/widget/invites", { emails: emails, note: $("invite-note").value, locale: me.locale }, { "Idempotency-Key": key })
        .then(function (res) {
          var ul = $("invite-results");
          ul.textContent = "";
          res.results.forEach(function (r) {
            var li = el("li", "", r.email);
            li.appendChild(el("span", "badge " + r.status, t("widget.invite.status." + r.status)));
            ul.appendChild(li);
          });
          $("invite-emails").value = "";
        }, function (err) { $("invite-results").textContent = err.message; })
        .then(function () { $("invite-send").disabled = false; resize(); });
    };

    $("referrals-title").textContent = t("widget.referrals.title");
    var stats = $("stats");
    stats.textContent = "";
    [["clicks", me.stats.clicks], ["signups", me.stats.signups], ["converted", me.stats.converted]].forEach(function (p) {
      var d = el("div", "stat-" + p[0]);
      d.appendChild(el("dt", "", t("widget.stats." + p[0])));
      d.appendChild(el("dd", "", String(p[1])));
      stats.appendChild(d);
    });
    var refs = $("referrals");
    refs.textContent = "";
    if (!me.referrals.length) { refs.appendChild(el("li", "muted", t("widget.referrals.empty"))); }
    me.referrals.forEach(function (r) {
      var li = el("li", "referral", r.friend);
      li.appendChild(el("span", "badge " + r.status, t("widget.status." + r.status)));
      refs.appendChild(li);
    });

    $("rewards-title").textContent = t("widget.rewards.title");
    var rw = $("rewards");
    rw.textContent = "";
    [["earned", me.rewards.earned], ["pending", me.rewards.pending], ["paid", me.rewards.paid]].forEach(function (p) {
      var d = el("div", "reward-" + p[0]);
      d.appendChild(el("dt", "", t("widget.rewards." + p[0])));
      d.appendChild(el("dd", "", p[1].length ? p[1].map(function (a) { return a.text; }).join(" + ") : "—"));
      rw.appendChild(d);
    });
    var fr = $("friend-rewards");
    fr.textContent = "";
    me.rewards.friend.forEach(function (r) {
      var li = el("li", "", t("widget.rewards.friend") + ": " + r.text);
      fr.appendChild(li);
    });

    if (me.terms_url) { $("terms").href = me.terms_url; $("terms").textContent = t("widget.terms"); $("terms").hidden = false; }
    $("notifications-title").textContent = t("widget.notifications.title");
    $("mark-read").textContent = t("widget.notifications.mark_read");
    $("mark-read").onclick = function () { api("POST", "/api/v1/widget/notifications/read", {}).then(loadNotifications); };
    loadNotifications();
    payoutForm();

    $("loading").hidden = true;
    $("app").hidden = false;
    resize();
  };

  var loadNotifications = function () {
    return api("GET", "/api/v1/widget/notifications?limit=10").then(function (res) {
      var ul = $("notifications");
      ul.textContent = "";
      if (!res.data.length) { ul.appendChild(el("li", "muted", t("widget.notifications.empty"))); }
      var unread = 0;
      res.data.forEach(function (n) {
        var li = el("li", n.read_at ? "" : "unread", n.text);
        li.appendChild(el("span", "muted", new Date(n.created_at).toLocaleDateString(document.documentElement.lang)));
        if (!n.read_at) { unread++; }
        ul.appendChild(li);
      });
      $("mark-read").hidden = unread === 0;
      resize();
    }, function () { /* the feed is secondary */ });
  };

  // Where cash rewards are paid: the advocate sets it here (masked once saved).
  var payoutForm = function () {
    [["payout-title", "title"], ["payout-method-label", "method"], ["payout-opt-bank", "bank"], ["payout-opt-paypal", "paypal"],
      ["payout-opt-stripe", "stripe"], ["payout-holder-label", "holder"], ["payout-iban-label", "iban"], ["payout-bic-label", "bic"],
      ["payout-paypal-label", "paypal_email"], ["payout-stripe-label", "stripe_account"], ["payout-save", "save"]].forEach(function (p) {
      $(p[0]).textContent = t("widget.payout." + p[1]);
    });
    var show = function (v) {
      var a = v.account;
      if (!v.set || !a) { $("payout-current").textContent = t("widget.payout.none"); return; }
      var what = a.method === "paypal" ? a.paypal_email : a.method === "stripe" ? a.stripe_account
        : (a.bank && (a.bank.holder_name + " " + (a.bank.iban || a.bank.account_number || "")));
      $("payout-current").textContent = t("widget.payout.current", { account: what });
      $("payout-method").value = a.method;
      pick();
    };
    var pick = function () {
      var m = $("payout-method").value;
      $("payout-bank").hidden = m !== "bank";
      $("payout-paypal").hidden = m !== "paypal";
      $("payout-stripe").hidden = m !== "stripe";
      resize();
    };
    $("payout-method").onchange = pick;
    $("payout").onsubmit = function (ev) {
      ev.preventDefault();
      var m = $("payout-method").value, body = { method: m };
      if (m === "bank") { body.bank = { holder_name: $("payout-holder").value, iban: $("payout-iban").value, bic: $("payout-bic").value }; }
      if (m === "paypal") { body.paypal_email = $("payout-paypal-email").value; }
      if (m === "stripe") { body.stripe_account = $("payout-stripe-account").value; }
      $("payout-save").disabled = true;
      api("PUT", "/api/v1/widget/payout-account", body)
        .then(function (v) { show(v); $("payout-status").textContent = t("widget.payout.saved"); },
          function (err) { $("payout-status").textContent = err.message; })
        .then(function () { $("payout-save").disabled = false; resize(); });
    };
    api("GET", "/api/v1/widget/payout-account").then(show, function () { /* secondary */ });
  };

  var share = function (channel) {
    api("POST", "/api/v1/widget/shares", { channel: channel })["catch"](function () { /* counting must not block sharing */ });
  };

  if (!token) { fail({ code: "unauthenticated" }); return; }
  api("GET", "/api/v1/widget/me").then(render, fail);
  window.addEventListener("resize", resize);
})();
