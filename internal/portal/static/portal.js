// Instant duplicate and conflict feedback on the lead registration form.
(function () {
  var form = document.getElementById("lead-form");
  if (!form) return;
  var out = document.getElementById("check");
  var timer;
  function check() {
    var name = form.elements.company_name.value, domain = form.elements.company_domain.value;
    if (!name && !domain) { out.textContent = ""; return; }
    var q = "?company_name=" + encodeURIComponent(name) + "&company_domain=" + encodeURIComponent(domain);
    fetch(form.dataset.check + q, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (a) { out.textContent = a.message; out.className = "check-result " + (a.ok ? "ok" : "bad"); })
      .catch(function () {});
  }
  ["company_name", "company_domain"].forEach(function (n) {
    form.elements[n].addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
  });
})();
