/* leadsite embed: <script src="BASE/static/js/embed.js" data-leadsite-ref="REF" async></script>
   puts the form's iframe where the tag is, tells it this page's URL, referrer, utm_* and kid (a
   share link's referral code), and keeps the frame as tall as its content. Several tags on one
   page each get their own form. */
(function (w, d) {
  "use strict";
  var frames = w.__leadsiteFrames = w.__leadsiteFrames || [];

  function insert(tag) {
    var ref = tag.getAttribute("data-leadsite-ref");
    if (!ref || tag.hasAttribute("data-leadsite-done")) return;
    tag.setAttribute("data-leadsite-done", "");
    var origin = new URL(tag.src, d.baseURI).origin;
    var query = new URLSearchParams({ url: w.location.href, js: "1" });
    if (d.referrer) query.set("referrer", d.referrer);
    new URLSearchParams(w.location.search).forEach(function (value, key) {
      if (/^(utm_|kid$)/i.test(key)) query.set(key.toLowerCase(), value); // kid: the referrer
    });
    var frame = d.createElement("iframe");
    frame.src = origin + "/embed/" + encodeURIComponent(ref) + "?" + query;
    frame.title = tag.getAttribute("data-leadsite-title") || "Registration form";
    frame.style.cssText = "display:block;width:100%;border:0;background:transparent;height:" +
      (parseInt(tag.getAttribute("data-leadsite-height"), 10) || 420) + "px";
    frame.addEventListener("load", function () { countView(origin, ref, query); }, { once: true });
    tag.parentNode.insertBefore(frame, tag);
    frames.push({ frame: frame, origin: origin });
  }

  // One view per form shown, once its frame has loaded here: a bot that fetches the frame
  // alone, or a prefetch, runs no script and is not counted. Sent without cookies, and with
  // only the referring host and the campaign: no URL, nothing about the visitor.
  function countView(origin, ref, query) {
    if (!w.fetch) return;
    var body = new URLSearchParams({ event: "view" });
    var referrer = query.get("referrer");
    if (referrer) body.set("referrer", new URL(referrer).hostname);
    if (query.get("utm_campaign")) body.set("utm_campaign", query.get("utm_campaign"));
    w.fetch(origin + "/b/" + encodeURIComponent(ref), {
      method: "POST", body: body, mode: "no-cors", keepalive: true, credentials: "omit"
    }).catch(function () { /* not counted: nothing for the visitor to do */ });
  }

  function receive(event) {
    var data = event.data;
    if (!data || data.leadsite !== 1) return;
    for (var i = 0; i < frames.length; i++) {
      var item = frames[i];
      // Only our frames, from the site they were loaded from.
      if (event.source !== item.frame.contentWindow || event.origin !== item.origin) continue;
      if (data.type === "height" && data.height > 0 && data.height < 20000) {
        item.frame.style.height = Math.ceil(data.height) + "px";
      } else if (data.type === "redirect" && /^https?:\/\//i.test(data.url)) {
        w.location.href = data.url;
      }
      return;
    }
  }

  if (!w.__leadsiteListening) {
    w.__leadsiteListening = true;
    w.addEventListener("message", receive);
  }
  var tags = d.querySelectorAll("script[data-leadsite-ref]");
  for (var i = 0; i < tags.length; i++) insert(tags[i]);
})(window, document);
