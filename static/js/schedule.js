// Schedule: small enhancements only; every page works without this file.
(function () {
  "use strict";
  // A provider or date filter submits itself when changed (the button stays for no-JS).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches(".schedule-filter select, .schedule-filter input[type=date]")) {
      var form = el.form;
      if (form && form.requestSubmit) { form.requestSubmit(); }
    }
  });
  // Types with a custom colour (not in the palette) get it from data-color.
  function paint(root) {
    (root || document).querySelectorAll("[data-color]").forEach(function (el) {
      el.style.borderLeftColor = el.getAttribute("data-color");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paint(); });
  document.addEventListener("htmx:afterSwap", function (ev) { paint(ev.target); });
})();
