/* An element marked data-focus-on-swap is focused once, as htmx swaps it in, unless the person
   has moved the focus since asking. `autofocus` in swapped content is focused twice: by Chromium
   when the element is inserted and by htmx when the swap settles, so a Tab pressed in between
   (120 ms under load) was undone. Full pages keep `autofocus` (see focus_attribute in
   templating.py). The one mechanism for the lead page, the form builder, the leads list (a saved
   view, "Load more") and the board (a moved card). */
(function () {
  "use strict";

  // Where the focus was when the last request left: still there at the swap (the name of the
  // view being saved), it has not been moved since, so the swap may move it.
  var focusAtRequest = null;
  document.addEventListener("htmx:before:request", function () {
    focusAtRequest = document.activeElement;
  });

  // before:settle runs in the same task as the swap: no key press can come between.
  document.addEventListener("htmx:before:settle", function () {
    var wanted = document.querySelector("[data-focus-on-swap]");
    if (!wanted) return;
    wanted.removeAttribute("data-focus-on-swap");
    // The button that asked (Add field, Move, Load more) was swapped out, which leaves the
    // focus on the body.
    var active = document.activeElement;
    if (!active || active === document.body || active === focusAtRequest) wanted.focus();
  });
})();
