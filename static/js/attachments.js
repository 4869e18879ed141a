// Attachments in the edit form: files dropped on the form join the file input, and each chosen
// file is listed with its size, too large ones flagged before anything is sent. The server checks
// every file again; without JavaScript the plain file input does the same job.
(function () {
  "use strict";
  var input = document.getElementById("files");
  var zone = document.getElementById("drop-zone");
  var list = document.getElementById("chosen-files");
  if (!input || !zone || !list || !window.DataTransfer) return;
  var maxFile = parseInt(input.getAttribute("data-max-file"), 10) || 0;
  var maxRequest = parseInt(input.getAttribute("data-max-request"), 10) || 0;

  function size(bytes) {
    if (bytes < 1024 * 1024) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + " MB";
  }

  function show() {
    list.textContent = "";
    var total = 0;
    Array.prototype.forEach.call(input.files, function (file) {
      total += file.size;
      var item = document.createElement("li");
      item.textContent = file.name + " · " + size(file.size);
      if (maxFile && file.size > maxFile) {
        item.className = "too-large";
        item.textContent += " — quá " + size(maxFile) + ", sẽ không được nhận";
      }
      list.appendChild(item);
    });
    if (maxRequest && total > maxRequest) {
      var note = document.createElement("li");
      note.className = "too-large";
      note.textContent = "Tổng cộng " + size(total) + ", quá " + size(maxRequest) + " cho một lần lưu: hãy bớt tệp.";
      list.appendChild(note);
    }
  }

  function add(files) {
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
    Array.prototype.forEach.call(files, function (f) { all.items.add(f); });
    input.files = all.files;
    show();
  }

  zone.hidden = false;
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("is-over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
})();
