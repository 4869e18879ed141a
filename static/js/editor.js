// Live preview for the edit form: the server renders the entry exactly as its page will.
// Without JavaScript the "Xem trước" button submits the form and the page shows the preview.
(function () {
  "use strict";
  var form = document.getElementById("edit-form");
  var target = document.getElementById("preview");

  // After a refused save, bring the first field in error into view (above the sticky save bar,
  // thanks to its scroll-margin) and put the cursor in it; its message is read with it.
  var firstError = form && form.querySelector('[aria-invalid="true"], .has-error[tabindex]');
  if (firstError) {
    firstError.focus({ preventScroll: true });
    firstError.scrollIntoView({ block: "center" });
  }

  if (!form || !target || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var pending = null;

  function refresh() {
    var data = new FormData(form);
    data.delete("files"); // the preview needs the words, not the files being chosen
    data.append("status", form.getAttribute("data-status") || "draft");
    if (pending) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    fetch(url, { method: "POST", body: data, credentials: "same-origin", signal: pending && pending.signal })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) { target.innerHTML = html; })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        target.innerHTML = "";
        var p = document.createElement("p");
        p.className = "form-error";
        p.textContent = "Không tải được bản xem trước. Bạn vẫn có thể lưu bình thường.";
        target.appendChild(p);
      });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  });
  var button = document.getElementById("preview-button");
  if (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      refresh();
      document.getElementById("preview-title").scrollIntoView({ behavior: "smooth", block: "start" });
    });
  }
})();
