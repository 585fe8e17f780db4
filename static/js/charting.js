// Diagnosis picker: suggestions come from the server (HTMX POST); picking one adds a ticked
// checkbox to the list of codes (the real form input). Enter in the search box never
// submits the note: it picks the first suggestion, or searches now when none is shown yet.
// Forms marked data-unsaved (the note, an addendum) ask before the page is left with
// typed changes, and send once: a second tap on Save while the first is on its way is
// ignored (it made a second draft).
(function () {
  "use strict";

  var dirty = false;
  var sending = false;

  function inUnsavedForm(el) {
    return el && el.closest && el.closest("form[data-unsaved]");
  }

  function edited(ev) {
    if (inUnsavedForm(ev.target) && ev.target.name !== "dx_new") { dirty = true; }
  }
  document.addEventListener("input", edited);
  document.addEventListener("change", edited);

  document.addEventListener("submit", function (ev) {
    if (!ev.target.matches || !ev.target.matches("form[data-unsaved]")) { return; }
    if (sending) {
      ev.preventDefault();
      return;
    }
    sending = true;
    dirty = false;
    // the server never answered (offline): let the person try again
    window.setTimeout(function () { sending = false; }, 15000);
  });

  window.addEventListener("beforeunload", function (ev) {
    if (dirty && !sending) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  });
  // back/forward cache: the page comes back as it was left, not sending
  window.addEventListener("pageshow", function () { sending = false; });
  // a form sent back refused (400, 409) holds what was typed and is not saved either
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector('form[data-unsaved="pending"]')) { dirty = true; }
  });

  function addCode(code, description) {
    var list = document.getElementById("dx-list");
    if (!list) { return; }
    var boxes = document.querySelectorAll('input[type="checkbox"][name="dx"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value === code) {
        boxes[i].checked = true;
        var item = boxes[i].closest("li");
        if (item && item.parentNode !== list) { list.appendChild(item); }
        dirty = true;
        return;
      }
    }
    var li = document.createElement("li");
    var label = document.createElement("label");
    label.className = "check";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "dx";
    box.value = code;
    box.checked = true;
    var strong = document.createElement("strong");
    strong.textContent = code;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(strong);
    label.appendChild(document.createTextNode(" " + description));
    li.appendChild(label);
    list.appendChild(li);
    dirty = true;
  }

  function clearSearch() {
    var input = document.querySelector('input[name="dx_new"]');
    var box = document.getElementById("dx-suggestions");
    if (input) { input.value = ""; input.focus(); }
    if (box) { box.textContent = ""; }
  }

  document.addEventListener("click", function (ev) {
    var pick = ev.target.closest(".suggest-pick");
    if (!pick) { return; }
    ev.preventDefault();
    addCode(pick.getAttribute("data-code"), pick.getAttribute("data-description"));
    clearSearch();
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || !ev.target.matches || !ev.target.matches('input[name="dx_new"]')) { return; }
    ev.preventDefault();
    var first = document.querySelector("#dx-suggestions .suggest-pick");
    if (first) {
      first.click();
    } else if (window.htmx && ev.target.value.trim()) {
      window.htmx.trigger(ev.target, "search");
    }
  });
})();
