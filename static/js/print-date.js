// The print brief says the day it was printed: the server wrote the day the page was served,
// which a page kept open (or restored from the cache) can be days behind.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  window.addEventListener("beforeprint", function () {
    var now = new Date();
    var text = pad(now.getDate()) + "/" + pad(now.getMonth() + 1) + "/" + now.getFullYear();
    document.querySelectorAll("[data-print-date]").forEach(function (el) { el.textContent = text; });
  });
})();
