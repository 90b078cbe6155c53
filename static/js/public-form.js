/* leadsite public forms: send without leaving the page, show errors in place, keep an embedding
   page informed of our height. The forms work the same without this script. */
(function () {
  "use strict";
  var body = document.body;
  var embedded = body.classList.contains("embed");
  var parentOrigin = body.getAttribute("data-parent-origin");
  var viaScript = body.hasAttribute("data-embed-script");

  function tell(message) {
    if (!parentOrigin || window.parent === window) return;
    message.leadsite = 1;
    // The target origin is checked by the browser: only that parent receives it.
    window.parent.postMessage(message, parentOrigin);
  }

  function reportHeight() {
    var main = document.querySelector("main");
    if (main) tell({ type: "height", height: Math.ceil(main.getBoundingClientRect().height) });
  }

  function go(url) {
    if (!/^https?:\/\//i.test(url)) return;
    if (!embedded) return window.location.assign(url);
    if (viaScript && parentOrigin) return tell({ type: "redirect", url: url });
    try { window.top.location.href = url; } catch (e) { /* the Continue link stays */ }
  }

  function focusFirst(region, stepped) {
    var invalid = region.querySelector("[aria-invalid=true]");
    if (invalid && invalid.tagName === "FIELDSET") invalid = invalid.querySelector("input");
    var target = invalid || region.querySelector(".error-summary, .done, .notice");
    // A new step of the form: its first question, as if the page had loaded.
    if (!target && stepped) target = region.querySelector(".field:not([hidden]) input, .field:not([hidden]) select, .field:not([hidden]) textarea");
    if (target) target.focus();
  }

  function failed(form, button) {
    button.disabled = false;
    form.removeAttribute("aria-busy");
    var note = form.querySelector(".send-failed");
    if (!note) {
      note = document.createElement("p");
      note.className = "error send-failed";
      note.setAttribute("role", "alert");
      button.parentNode.insertBefore(note, button);
    }
    note.textContent = "We could not send the form. Check your connection and try again: " +
      "everything you typed is still here.";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-leadsite-form") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var stepped = !!form.querySelector("[name=_step]");
    fetch(form.action, {
      method: "POST",
      body: data,
      headers: { "X-Leadsite-Fragment": "1" },
      credentials: "omit"
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var parsed = new DOMParser().parseFromString(html, "text/html");
      var fresh = parsed.getElementById("lead-form");
      var region = document.getElementById("lead-form");
      if (!fresh || !region) return failed(form, button);
      var title = fresh.querySelector(".error-summary") ? "Error: " : "";
      document.title = title + document.title.replace(/^Error: /, "");
      region.replaceWith(fresh);
      var redirect = fresh.getAttribute("data-redirect");
      if (redirect) go(redirect);
      if (window.leadsiteConditions) window.leadsiteConditions(fresh);
      focusFirst(fresh, stepped);
      reportHeight();
    }).catch(function () {
      failed(form, button);
    });
  });

  if (embedded && parentOrigin) {
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.querySelector("main"));
    window.addEventListener("load", reportHeight);
    reportHeight();
  }
})();

/* The form's start, once per page load: no cookie, nothing typed (see public/_beacon.html). */
(function (d) {
  "use strict";
  var meta = d.querySelector("meta[name=leadsite-beacon]");
  function start(event) {
    if (!event.target.closest || !event.target.closest("[data-leadsite-form]")) return;
    d.removeEventListener("focusin", start, true);
    d.removeEventListener("input", start, true);
    var body = new URLSearchParams(Object.assign({ event: "start" }, meta.dataset));
    fetch(meta.content, { method: "POST", body: body, credentials: "omit" }).catch(function () {});
  }
  if (meta && window.fetch) {
    d.addEventListener("focusin", start, true);
    d.addEventListener("input", start, true);
  }
})(document);
