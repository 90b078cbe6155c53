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
    // A view once the frame has loaded (not a bot's GET of it): no cookie, host and campaign only.
    frame.addEventListener("load", function () {
      var body = new URLSearchParams({ event: "view" }), from = query.get("referrer");
      if (from) body.set("referrer", new URL(from).hostname);
      if (query.get("utm_campaign")) body.set("utm_campaign", query.get("utm_campaign"));
      if (w.fetch) w.fetch(origin + "/b/" + encodeURIComponent(ref), {
        method: "POST", body: body, mode: "no-cors", credentials: "omit"
      }).catch(function () {});
    }, { once: true });
    tag.parentNode.insertBefore(frame, tag);
    frames.push({ frame: frame, origin: origin });
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
