/* leadsite public forms with conditional fields: hide a field (and its "Only if ..." note)
   while the answer it depends on does not fit. The server decides what counts: it drops a
   hidden field's answer whatever the browser sends. public-form.js calls this again on the
   form region it swaps in. */
(function () {
  "use strict";

  function answer(form, name) {
    var input = form.elements[name];
    if (!input) return "";
    if (input.type === "checkbox") return input.checked ? "on" : "";
    return input.value || "";
  }

  function apply(form) {
    var shown = {};
    Array.prototype.forEach.call(form.querySelectorAll(".field"), function (box) {
      var field = box.getAttribute("data-when-field");
      var input = box.querySelector("[name]");
      var show = true;
      if (field) {
        var source = form.elements[field];
        // An answer from an earlier step is a hidden input: the server already kept it.
        var here = source && source.type !== "hidden";
        var value = answer(form, field).trim().toLowerCase();
        var values = JSON.parse(box.getAttribute("data-when-values") || "[]");
        var op = box.getAttribute("data-when-op");
        var fits = op === "checked" ? value === "on"
          : op === "not_empty" ? value !== ""
          : values.some(function (v) { return v.toLowerCase() === value; });
        show = fits && (!here || shown[field] !== false);
      }
      if (input) shown[input.name] = show;
      box.hidden = !show;
      Array.prototype.forEach.call(box.querySelectorAll("input, select, textarea"), function (el) {
        el.disabled = !show;
      });
      var note = box.querySelector(".when-note");
      if (note) note.hidden = true;
    });
  }

  function watch(region) {
    var form = region.querySelector("form[data-leadsite-form]");
    if (!form || !form.querySelector("[data-when-field]")) return;
    apply(form);
    form.addEventListener("input", function () { apply(form); });
    form.addEventListener("change", function () { apply(form); });
  }

  window.leadsiteConditions = watch;
  var region = document.getElementById("lead-form");
  if (region) watch(region);
})();
