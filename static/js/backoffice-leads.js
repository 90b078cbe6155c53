// Leads list and board niceties that need a script: "select all", the count of selected rows,
// closing the inline "New lead" form, Escape to cancel an inline edit, and the board's
// drag-and-drop. Everything works without it; listeners are delegated, so content htmx swaps in
// is covered too. The focus after a swap ("Load more", a saved view, a moved card) is the
// server's data-focus-on-swap (focus-on-swap.js).
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

  // Escape cancels an inline edit (the lead page's sections, "New lead"): its Cancel link.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var form = event.target.closest(".section-form, #lead-new");
    if (!form) return;
    var cancel = form.querySelector("[data-close], .form-actions a.button-quiet");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });

  // The board: a card dropped on another column submits its own status form with that status.
  function setUpBoard() {
    if (typeof Sortable === "undefined") return;
    document.querySelectorAll(".board-cards:not([data-sortable])").forEach(function (list) {
      list.setAttribute("data-sortable", "");
      Sortable.create(list, {
        group: "lead-board",
        sort: false,
        onAdd: function (event) {
          var form = event.item.querySelector("form.board-move");
          if (!form) return;
          form.querySelector("select[name=status]").value = event.to.getAttribute("data-status");
          form.requestSubmit();
        },
      });
    });
  }

  // After htmx swaps content in (Load more, a new lead, a saved view, the board) or out
  // (erased), recount and wire up new board columns.
  document.addEventListener("htmx:after:settle", function () {
    updateCount();
    setUpBoard();
  });
  document.addEventListener("DOMContentLoaded", setUpBoard);
})();
