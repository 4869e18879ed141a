// A drafted entry's proposed values are marked "Đề xuất" until the editor changes them: typing in
// a field (or ticking a field box) removes its mark. Without JavaScript the marks stay, saying in
// full that the value was proposed automatically and should be checked.
(function () {
  "use strict";
  var form = document.getElementById("edit-form");
  if (!form) return;
  var badges = document.querySelectorAll(".proposed-badge[data-for]");
  Array.prototype.forEach.call(badges, function (badge) { badge.classList.add("js"); });

  function touched(event) {
    var name = event.target && event.target.name;
    if (!name) return;
    var badge = document.getElementById(name + "-proposed");
    if (!badge) return;
    badge.remove();
    Array.prototype.forEach.call(form.querySelectorAll("[aria-describedby]"), function (el) {
      var ids = el.getAttribute("aria-describedby").split(" ").filter(function (id) { return id !== name + "-proposed"; });
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }
  form.addEventListener("input", touched);
  form.addEventListener("change", touched);
})();
