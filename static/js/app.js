// Small progressive enhancements; the app works without them. No inline script (CSP).
(function () {
  "use strict";
  // Recent-employer chips fill the employer field.
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-fill]");
    if (chip) {
      var input = document.getElementById(chip.getAttribute("data-fill"));
      if (input) { input.value = chip.getAttribute("data-value"); input.focus(); }
    }
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // An htmx request that fails: say so in words, keep what was typed.
  function showError(message) {
    var box = document.getElementById("live-error");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.getAttribute("data-network-error"));
  });
  document.addEventListener("htmx:responseError", function () {
    showError(document.body.getAttribute("data-server-error"));
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("live-error");
    if (box) { box.hidden = true; }
  });
  // After a swap that shows errors, move focus to the first field that needs a look.
  // event.target is the swapped-in element (detail.target is the old one after outerHTML).
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.target.querySelector && event.target.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  });
})();
