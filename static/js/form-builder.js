/* The origin's form builder: reorder fields in the page by dragging their handle (SortableJS),
   by Alt+ArrowUp/Down on the focused handle, or with the Move buttons, without a round trip.
   Without this script the Move buttons post the form and the server moves the field. */
(function () {
  "use strict";

  function rows(list) {
    return Array.prototype.slice.call(list.querySelectorAll(":scope > .builder-item"));
  }

  // The order the server reads is each row's hidden `order`: rewrite it from the page's order.
  function renumber(list) {
    rows(list).forEach(function (row, index, all) {
      row.querySelector("[data-order]").value = String(index + 1);
      row.querySelector("[data-move=up]").disabled = index === 0;
      row.querySelector("[data-move=down]").disabled = index === all.length - 1;
    });
    // The preview listens for this (hx-trigger "builder:moved from:body").
    document.body.dispatchEvent(new CustomEvent("builder:moved", { bubbles: true }));
  }

  function announce(list, row) {
    var status = document.getElementById("builder-status");
    var all = rows(list);
    if (status) {
      status.textContent = row.getAttribute("data-label") + ": position " +
        (all.indexOf(row) + 1) + " of " + all.length + ".";
    }
  }

  function move(list, row, direction) {
    var other = direction < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (!other) return false;
    if (direction < 0) list.insertBefore(row, other);
    else list.insertBefore(other, row);
    renumber(list);
    announce(list, row);
    return true;
  }

  function setUp(list) {
    if (list.hasAttribute("data-ready")) return;
    list.setAttribute("data-ready", "");
    rows(list).forEach(function (row) { row.querySelector(".builder-handle").hidden = false; });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button || !list.contains(button)) return;
      event.preventDefault();  // moved here; htmx must not post it
      event.stopPropagation();
      var row = button.closest(".builder-item");
      move(list, row, button.getAttribute("data-move") === "up" ? -1 : 1);
      // Focus stays on the button pressed, or on its twin when this one is now disabled.
      var twin = row.querySelector(button.getAttribute("data-move") === "up" ? "[data-move=down]" : "[data-move=up]");
      (button.disabled ? twin : button).focus();
    }, true);

    list.addEventListener("keydown", function (event) {
      var handle = event.target.closest(".builder-handle");
      if (!handle || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      move(list, handle.closest(".builder-item"), event.key === "ArrowUp" ? -1 : 1);
      handle.focus();
    });

    if (window.Sortable) {
      window.Sortable.create(list, {
        handle: ".builder-handle",
        draggable: ".builder-item",
        animation: 120,
        // Pointer events rather than the browser's drag and drop, which will not start a drag
        // on a button (the handle) and does nothing on touch screens.
        forceFallback: true,
        onEnd: function (event) {
          renumber(list);
          announce(list, event.item);
        }
      });
    }
  }

  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-builder-list]"), setUp);
  }

  // The builder comes back from the server (htmx) after a save, an add or a removal.
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  scan();
})();
