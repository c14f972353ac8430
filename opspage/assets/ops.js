// The overview updates itself: every 10 seconds it fetches its content
// again from the server and puts it in place, while the page is shown.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-fragment");
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (html) {
      live.innerHTML = html;
    }).catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, Number(live.getAttribute("data-every") || 10000));
})();
