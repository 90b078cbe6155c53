/* An element marked data-focus-on-swap is focused once, as htmx swaps it in, unless focus has
   already moved elsewhere. `autofocus` in swapped content is focused twice: by Chromium when the
   element is inserted and by htmx when the swap settles, so a Tab pressed in between (120 ms
   under load) was undone. Full pages keep `autofocus` (see focus_attribute in templating.py). */
(function () {
  "use strict";

  // before:settle runs in the same task as the swap: no key press can come between.
  document.addEventListener("htmx:before:settle", function () {
    var wanted = document.querySelector("[data-focus-on-swap]");
    if (!wanted) return;
    wanted.removeAttribute("data-focus-on-swap");
    // The button that asked (Add field) was swapped out, which leaves the focus on the body.
    var active = document.activeElement;
    if (!active || active === document.body) wanted.focus();
  });
})();
