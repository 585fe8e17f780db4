// Messaging: quick replies into the reply box, and the newest message kept in view when
// the conversation reloads itself (live updates). No inline script anywhere: this file.
(function () {
  "use strict";
  // <select data-snippet-into="ID">: the chosen quick reply's text is added to the textarea,
  // then the choice is reset (without JavaScript the server adds it on sending instead).
  document.addEventListener("change", function (ev) {
    var sel = ev.target.closest("select[data-snippet-into]");
    if (!sel || !sel.value) { return; }
    var opt = sel.options[sel.selectedIndex];
    var box = document.getElementById(sel.getAttribute("data-snippet-into"));
    if (box && opt) {
      var text = opt.getAttribute("data-text") || "";
      box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
      box.focus();
    }
    sel.value = "";
  });
  function newestIntoView() {
    var list = document.querySelectorAll("#message-list .message");
    if (list.length) { list[list.length - 1].scrollIntoView({block: "nearest"}); }
  }
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target && ev.target.id === "message-list") { newestIntoView(); }
  });
})();
