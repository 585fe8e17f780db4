// Messaging: quick replies into the reply box, a file too large refused before it is sent,
// the newest message kept in view when the conversation reloads itself (live updates), and
// a hide reason being typed kept through such a reload.
// No inline script anywhere: this file.
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
  // <input type=file data-max-bytes>: a file over the limit is refused by its field at once,
  // the rest of the form kept, rather than sent over a phone's connection to be refused (past
  // the server's request limit, with a bare error page and the typed text lost).
  document.addEventListener("change", function (ev) {
    var input = ev.target.closest("input[type=file][data-max-bytes]");
    if (!input) { return; }
    var file = input.files && input.files[0];
    var errorId = input.id + "-error";
    var error = document.getElementById(errorId);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== errorId;
    });
    var field = input.closest(".field");
    if (file && file.size > parseInt(input.getAttribute("data-max-bytes"), 10)) {
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.id = errorId;
        input.parentNode.appendChild(error);
      }
      var size = (file.size / (1024 * 1024)).toFixed(1) + " MB";
      error.textContent = input.getAttribute("data-too-large").replace("{size}", size);
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", described.concat([errorId]).join(" "));
      if (field) { field.classList.add("has-error"); }
    } else if (error) {
      // another file chosen: what was said of the last one no longer holds
      error.remove();
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", described.join(" "));
      if (field) { field.classList.remove("has-error"); }
    }
  });
  function newestIntoView() {
    var list = document.querySelectorAll("#message-list .message");
    if (list.length) { list[list.length - 1].scrollIntoView({block: "nearest"}); }
  }
  // While a reply is being written, the conversation reloading above it must not move the
  // box from under the fingers: it is kept where it was (the new message shows above it).
  var writingAt = null;
  function replyBeingWritten() {
    var el = document.activeElement;
    return el && el.closest ? el.closest(".reply-form") : null;
  }
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var form = ev.target && ev.target.id === "message-list" ? replyBeingWritten() : null;
    writingAt = form ? {form: form, top: form.getBoundingClientRect().top} : null;
  });
  // A hide box left open (a reason being typed) is not swept away by the conversation
  // reloading itself: the reload waits, says so in the box, and runs once the box is closed.
  var reloadWaiting = false;
  function openHideBox(list) { return list.querySelector("details.hide-message[open]"); }
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var list = ev.target;
    if (!list || list.id !== "message-list") { return; }
    var box = openHideBox(list);
    if (!box) { return; }
    ev.preventDefault();
    reloadWaiting = true;
    if (!box.querySelector(".reload-waiting")) {
      var note = document.createElement("p");
      note.className = "help reload-waiting";
      note.setAttribute("role", "status");
      note.textContent = "New messages came in: they show when you hide this one or close this box.";
      box.appendChild(note);
    }
  });
  // "toggle" does not bubble: listened for on the way down
  document.addEventListener("toggle", function (ev) {
    var box = ev.target;
    if (!reloadWaiting || box.open || !box.matches || !box.matches("details.hide-message")) { return; }
    var list = box.closest("#message-list");
    if (!list || openHideBox(list)) { return; }
    reloadWaiting = false;
    window.htmx.trigger(document.body, "thread-changed");
  }, true);
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (!ev.target || ev.target.id !== "message-list") { return; }
    if (writingAt) {
      window.scrollBy(0, writingAt.form.getBoundingClientRect().top - writingAt.top);
      writingAt = null;
    } else {
      newestIntoView();
    }
  });
})();
