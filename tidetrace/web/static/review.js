// Keyboard answers on the review page: y same entity, n different, u unsure, s skip.
// Keys are ignored while typing in a field, and with modifier keys (browser shortcuts).
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)) {
      return;
    }
    var key = (event.key || "").toLowerCase();
    var control = document.querySelector('[data-key="' + key + '"]');
    if (!control || !form) { return; }
    event.preventDefault();
    if (control.tagName === "A") {
      window.location.href = control.getAttribute("href");
    } else {
      form.requestSubmit(control);
    }
  });
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll('#bulk-form input[name="pair"]');
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
    });
  }
})();
