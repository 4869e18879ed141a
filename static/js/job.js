// Follow a background reindex: poll its state and move the progress bar until it ends.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || !window.fetch) return;
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var bar = document.getElementById("job-progress");
  var phase = document.getElementById("job-phase");
  var count = document.getElementById("job-count");

  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        var total = job.total || 0;
        var pct = total ? Math.round((100 * job.done) / total) : 0;
        bar.max = total || 1;
        bar.value = total ? job.done : 0;
        bar.textContent = pct + "%";
        phase.textContent = job.phase + (job.status === "queued" || job.status === "running" ? "…" : "");
        count.textContent = job.done + " / " + total + " mục (" + pct + "%)";
        if (job.status === "queued" || job.status === "running") {
          setTimeout(poll, 700);
        } else {
          window.location.reload(); // the server renders the result and any problems
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
