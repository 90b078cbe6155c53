// Variable picker of the email activity editor: a button with data-insert puts its text at the
// cursor of the template field last focused in the same form (the body, else the subject).
// Delegated from document, so forms swapped in by htmx work too. Without JavaScript the list
// still shows the names to type.
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
})();
