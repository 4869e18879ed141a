// Keep what is typed in the edit form in this browser until the server confirms the save, so a
// lost connection, an expired session or a closed tab never loses an editor's work.
(function () {
  "use strict";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  var PREFIX = "kb-draft:";

  // The page after a successful save names the form whose draft is now on the server.
  var cleared = document.querySelector('meta[name="kb-clear-draft"]');
  if (cleared) store.removeItem(PREFIX + cleared.getAttribute("content"));

  var form = document.getElementById("edit-form");
  if (!form) return;
  var key = PREFIX + window.location.pathname;
  var base = form.querySelector('input[name="base_hash"]');

  function values() {
    var out = { fields: [] };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "checkbox") { if (el.checked) out.fields.push(el.value); return; }
      out[el.name] = el.value;
    });
    return out;
  }

  function fill(saved) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "checkbox") { el.checked = saved.fields.indexOf(el.value) >= 0; return; }
      if (Object.prototype.hasOwnProperty.call(saved, el.name)) el.value = saved[el.name];
    });
    form.dispatchEvent(new Event("input")); // refresh the preview
  }

  var timer = null;
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      try {
        store.setItem(key, JSON.stringify({ at: Date.now(), base: base ? base.value : "", values: values() }));
      } catch (e) { /* storage full or refused: the server still has the last save */ }
    }, 800);
  });

  var raw = store.getItem(key);
  if (!raw) return;
  var saved;
  try { saved = JSON.parse(raw); } catch (e) { store.removeItem(key); return; }
  if (JSON.stringify(saved.values) === JSON.stringify(values())) return;
  var note = document.createElement("div");
  note.className = "notice draft-note";
  note.setAttribute("role", "status");
  var when = new Date(saved.at);
  var text = document.createElement("p");
  text.textContent = "Trình duyệt này còn giữ nội dung bạn đang gõ dở lúc " +
    when.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" }) + " ngày " +
    when.toLocaleDateString("vi-VN") + " (chưa được lưu).";
  var restore = document.createElement("button");
  restore.type = "button";
  restore.textContent = "Khôi phục nội dung đó";
  var drop = document.createElement("button");
  drop.type = "button";
  drop.className = "secondary";
  drop.textContent = "Bỏ qua";
  restore.addEventListener("click", function () { fill(saved.values); note.remove(); });
  drop.addEventListener("click", function () { store.removeItem(key); note.remove(); });
  note.appendChild(text);
  note.appendChild(restore);
  note.appendChild(document.createTextNode(" "));
  note.appendChild(drop);
  form.parentNode.insertBefore(note, form);
})();
