/* 大字版 (large text, higher contrast): a switch in the header of every public and volunteer page.
   The choice is remembered in this browser's localStorage. Loaded in <head> without defer
   (templates/includes/a11y_head.html), it applies the choice before first paint, then keeps the switch
   in step once the page is read. */
(function () {
  "use strict";
  var KEY = "portal.largeText";
  var CLASS = "large-text";
  var root = document.documentElement;

  try {
    if (localStorage.getItem(KEY) === "1") {
      root.classList.add(CLASS);
    }
  } catch (e) {
    /* Storage turned off: normal text. */
  }

  function remember(on) {
    try {
      if (on) {
        localStorage.setItem(KEY, "1");
      } else {
        localStorage.removeItem(KEY);
      }
    } catch (e) {
      /* Private mode or storage turned off: the choice holds for this page only. */
    }
  }

  function init() {
    var button = document.getElementById("large-text-toggle");
    if (!button) {
      return;
    }
    function show() {
      button.setAttribute("aria-pressed", root.classList.contains(CLASS) ? "true" : "false");
    }
    button.addEventListener("click", function () {
      var on = !root.classList.contains(CLASS);
      root.classList.toggle(CLASS, on);
      remember(on);
      show();
    });
    show();
    button.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
