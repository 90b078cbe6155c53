// Leads list niceties that need a script: "select all", the count of selected rows, and closing
// the inline "New lead" form. Everything works without it; listeners are delegated, so rows and
// forms htmx swaps in later are covered too.
(function () {
  "use strict";

  function leadBoxes() {
    return document.querySelectorAll('input[type="checkbox"][name="lead"]');
  }

  function updateCount() {
    var counter = document.querySelector("[data-bulk-count]");
    if (!counter) return;
    var boxes = leadBoxes();
    var selected = 0;
    boxes.forEach(function (box) { if (box.checked) selected += 1; });
    counter.textContent = selected ? selected + " selected" : "";
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && selected === boxes.length;
      all.indeterminate = selected > 0 && selected < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      leadBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches && target.matches('[data-select-all], input[name="lead"]')) updateCount();
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close]");
    if (!closer) return;
    var panel = document.querySelector(closer.getAttribute("data-close"));
    if (!panel) return;
    event.preventDefault();
    panel.remove();
    var opener = document.querySelector("[data-opens='" + closer.getAttribute("data-close") + "']");
    if (opener) opener.focus();
  });

  // After htmx swaps rows in (Load more, a new lead) or out (erased), recount.
  document.addEventListener("htmx:after:settle", updateCount);
})();
