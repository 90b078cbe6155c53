// Leads list and board niceties that need a script: "select all", the count of selected rows,
// closing the inline "New lead" form, Escape to cancel an inline edit, keeping keyboard focus
// after "Load more" and after a swap (a saved view, a moved card), and the board's drag-and-drop.
// Everything works without it; listeners are delegated, so content htmx swaps in is covered too.
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

  // "Load more" replaces itself with the next rows: focus moves to the first of them instead
  // of falling back to the page.
  var loadingMore = false;
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-load-more]")) loadingMore = true;
  });

  function restoreFocus() {
    var target = null;
    if (loadingMore) {
      var firsts = document.querySelectorAll("tr[data-first-of-page]");
      var row = firsts[firsts.length - 1];
      if (row) {
        row.removeAttribute("data-first-of-page");
        target = row.querySelector("a");
      }
      loadingMore = false;
    }
    target = target || document.querySelector("[data-focus-after-swap]");
    if (target) {
      target.removeAttribute("data-focus-after-swap");
      target.focus();
    }
  }

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
  // (erased), recount, put focus back and wire up new board columns.
  document.addEventListener("htmx:after:settle", function () {
    updateCount();
    restoreFocus();
    setUpBoard();
  });
  document.addEventListener("DOMContentLoaded", setUpBoard);
})();
