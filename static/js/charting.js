// Diagnosis picker: suggestions come from the server (HTMX POST); picking one adds a ticked
// checkbox to the list of codes (the real form input). Enter picks the first suggestion
// instead of submitting the note.
(function () {
  "use strict";

  function addCode(code, description) {
    var list = document.getElementById("dx-list");
    if (!list) { return; }
    var boxes = document.querySelectorAll('input[type="checkbox"][name="dx"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value === code) {
        boxes[i].checked = true;
        var item = boxes[i].closest("li");
        if (item && item.parentNode !== list) { list.appendChild(item); }
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
    var first = document.querySelector("#dx-suggestions .suggest-pick");
    if (first) {
      ev.preventDefault();
      first.click();
    }
  });
})();
