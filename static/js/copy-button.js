// Copy buttons: <button data-copy="#element-id" hidden> copies that element's text.
// The buttons stay hidden without JavaScript; the text is there to select by hand.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copied(button, ok) {
    var label = button.querySelector(".copy-label") || button.firstChild;
    var before = label.textContent;
    label.textContent = ok ? "Copied" : "Press Ctrl+C";
    button.classList.add("is-copied");
    window.setTimeout(function () {
      label.textContent = before;
      button.classList.remove("is-copied");
    }, 1600);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, true); },
        function () { selectText(source); copied(button, false); }
      );
    } else {
      // Plain http on another host: no clipboard API; select the text for Ctrl+C.
      selectText(source);
      copied(button, false);
    }
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:after:swap", function () { reveal(document); });
  if (document.readyState !== "loading") reveal(document);
})();
