/* The form builder's preview frame is as tall as the form it shows. An iframe keeps the height
   its CSS gives it (70vh, which left a tall grey band under a short form), so this measures the
   page inside (a srcdoc frame sandboxed with allow-same-origin and no scripts: readable from
   here, running nothing) when it loads and when the frame's width changes. A new frame swapped
   in by htmx starts at the last height, not the CSS one, so the preview does not jump while it
   loads. Without JavaScript the frame keeps its CSS height and scrolls. */
(function () {
  "use strict";

  var SELECTOR = ".form-preview-frame";
  var lastHeight = 0;

  function fit(frame) {
    var doc = frame.contentDocument;
    if (!doc || !doc.body || !doc.body.firstElementChild) return;  // not loaded yet
    // The root's own box, not its scrollHeight, which never reads less than the frame's height.
    var content = Math.ceil(doc.documentElement.getBoundingClientRect().height);
    var borders = frame.offsetHeight - frame.clientHeight;
    lastHeight = content + borders;
    frame.style.height = lastHeight + "px";
    frame.setAttribute("data-fitted", "");
  }

  // A narrower frame (a phone turned, the window resized) wraps the form onto more lines.
  var widths = new WeakMap();
  var resized = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var width = entry.contentRect.width;
      if (widths.get(entry.target) === width) return;  // our own change of height
      widths.set(entry.target, width);
      fit(entry.target);
    });
  });

  function watch(frame) {
    if (frame.hasAttribute("data-watched")) return;
    frame.setAttribute("data-watched", "");
    if (lastHeight && !frame.hasAttribute("data-fitted")) frame.style.height = lastHeight + "px";
    resized.observe(frame);
    fit(frame);
  }

  // `load` does not bubble: caught on its way down to the frame.
  document.addEventListener("load", function (event) {
    if (event.target.matches && event.target.matches(SELECTOR)) fit(event.target);
  }, true);
  document.addEventListener("htmx:before:settle", function () {
    document.querySelectorAll(SELECTOR).forEach(watch);
  });
  // Again once htmx has settled the swap: a frame that loaded during the settle (it puts the
  // attributes it settles back) was left at the last form's height (once in CI, 256 px for a
  // form of 177).
  document.addEventListener("htmx:after:settle", function () {
    document.querySelectorAll(SELECTOR).forEach(fit);
  });
  document.querySelectorAll(SELECTOR).forEach(watch);
})();
