// The email activity editor: a button with data-insert puts its text at the cursor of the
// template field last focused in the same form (the body, else the subject); a preview frame
// (iframe[data-preview-frame]) swapped in is loaded by posting the activity form's fields to its
// URL, from a form of its own (the activity form's submit would save it). Delegated from
// document, so forms swapped in by htmx work too. Without JavaScript the list still shows the
// names to type, and the preview is a page of its own.
(function () {
  "use strict";
  if (window.leadsiteVariablePicker) return;
  window.leadsiteVariablePicker = true;

  var FIELDS = 'input[name="activity-subject"], textarea[name="activity-body"]';
  var lastField = new WeakMap();

  document.addEventListener("focusin", function (event) {
    var field = event.target.closest && event.target.closest(FIELDS);
    if (field && field.form) lastField.set(field.form, field);
  });

  function insert(field, text) {
    var start = field.selectionStart == null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd == null ? start : field.selectionEnd;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + text.length, start + text.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-insert]");
    if (!button || !button.form) return;
    var form = button.form;
    var field = lastField.get(form);
    if (!field || !form.contains(field)) {
      field = form.querySelector('textarea[name="activity-body"]') ||
        form.querySelector('input[name="activity-subject"]');
    }
    if (field) insert(field, button.getAttribute("data-insert"));
  });

  function loadFrame(frame) {
    var source = frame.closest("form");
    if (!source || frame.dataset.loaded) return;
    frame.dataset.loaded = "1";
    var post = document.createElement("form");
    post.method = "post";
    post.action = frame.getAttribute("data-preview-frame");
    post.target = frame.name;
    post.hidden = true;
    new FormData(source).forEach(function (value, name) {
      if (typeof value !== "string") return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      post.appendChild(input);
    });
    document.body.appendChild(post);
    post.submit();  // no submit event: htmx leaves it alone
    post.remove();
  }

  function loadFrames(root) {
    if (root.matches && root.matches("iframe[data-preview-frame]")) loadFrame(root);
    if (root.querySelectorAll) root.querySelectorAll("iframe[data-preview-frame]").forEach(loadFrame);
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) { record.addedNodes.forEach(loadFrames); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
