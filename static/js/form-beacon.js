/* leadsite form beacon: counts a form's start, the first field the visitor touches, once per
   page load. It sends the event, the referring host and the UTM campaign the server put on its
   tag: no cookie, nothing typed. */
(function (d) {
  "use strict";
  var tag = d.currentScript;
  if (!tag || !window.fetch) return;

  function start(event) {
    var target = event.target;
    if (!target.closest || !target.closest("[data-leadsite-form]")) return;
    d.removeEventListener("focusin", start, true);
    d.removeEventListener("input", start, true);
    var body = new URLSearchParams({ event: "start" });
    var host = tag.getAttribute("data-referrer-host");
    var campaign = tag.getAttribute("data-utm-campaign");
    if (host) body.set("referrer", host);
    if (campaign) body.set("utm_campaign", campaign);
    fetch(tag.getAttribute("data-beacon"), {
      method: "POST", body: body, keepalive: true, credentials: "omit"
    }).catch(function () { /* not counted: nothing for the visitor to do */ });
  }

  d.addEventListener("focusin", start, true);
  d.addEventListener("input", start, true);
})(document);
