// Body diagram: tapping a region of the SVG toggles the matching checkbox (the real form
// input) and every shape of that region; ticking a checkbox marks the shapes. Without
// JavaScript the checkbox list works on its own.
(function () {
  "use strict";

  function boxFor(root, region) {
    var boxes = root.querySelectorAll('input[type="checkbox"][name="regions"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value === region) { return boxes[i]; }
    }
    return null;
  }

  function paint(root, region, on) {
    var shapes = root.querySelectorAll('[data-region="' + region + '"]');
    for (var i = 0; i < shapes.length; i++) {
      shapes[i].classList.toggle("on", on);
    }
  }

  function init(root) {
    var svg = root.querySelector("svg.body-svg.interactive");
    if (!svg || root.dataset.bodyMapReady) { return; }
    root.dataset.bodyMapReady = "1";
    svg.addEventListener("click", function (ev) {
      var shape = ev.target.closest("[data-region]");
      if (!shape) { return; }
      var box = boxFor(root, shape.getAttribute("data-region"));
      if (!box) { return; }
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
    root.addEventListener("change", function (ev) {
      var box = ev.target;
      if (box.name === "regions") { paint(root, box.value, box.checked); }
    });
    // Sync once: the browser may restore ticks on back/forward.
    var boxes = root.querySelectorAll('input[type="checkbox"][name="regions"]');
    for (var i = 0; i < boxes.length; i++) { paint(root, boxes[i].value, boxes[i].checked); }
  }

  function initAll() {
    var maps = document.querySelectorAll(".body-map");
    for (var i = 0; i < maps.length; i++) { init(maps[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
  document.addEventListener("htmx:afterSettle", initAll);
})();
