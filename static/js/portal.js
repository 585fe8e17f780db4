// Small progressive enhancements. No inline scripts anywhere: this file is the place.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // The client portal's Menu button (phones): shows or hides the navigation.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest(".menu-toggle");
    if (!btn) { return; }
    var bar = btn.closest(".topbar");
    var open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
  // The unread count shows on the Menu button too while the menu is folded (phones).
  function syncMenuBadge() {
    var src = document.getElementById("messages-badge");
    var dst = document.querySelector(".menu-toggle .menu-badge");
    if (!src || !dst) { return; }
    var hidden = src.classList.contains("hidden");
    dst.classList.toggle("hidden", hidden);
    dst.textContent = hidden || !src.firstChild ? "" : src.firstChild.textContent;
  }
  document.addEventListener("DOMContentLoaded", syncMenuBadge);
  document.addEventListener("htmx:afterSettle", syncMenuBadge);
  document.addEventListener("htmx:oobAfterSwap", syncMenuBadge);
  // Confirm before destructive POSTs: <button data-confirm="...">.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, true);
  // A print button: <button data-print> (the recovery codes' sheet).
  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-print]")) { window.print(); }
  });
  // A refused form: bring the first field with an error into view and focus it.
  document.addEventListener("DOMContentLoaded", function () {
    var bad = document.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); }
  });
  // HTMX: show server errors instead of silently ignoring them.
  document.addEventListener("htmx:responseError", function (ev) {
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "htmx-error";
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      var main = document.getElementById("main");
      if (main) { main.prepend(box); }
    }
    box.textContent = "That did not work (error " + ev.detail.xhr.status + "). Reload the page and try again.";
  });
})();
