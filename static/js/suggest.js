// Search as you type: titles whose words start like the query, chosen with mouse or keyboard.
// Without this script the search box is a plain form.
(function () {
  "use strict";
  var DELAY = 120;

  function setup(input) {
    var form = input.form;
    var list = document.createElement("ul");
    var listId = input.id + "-goi-y";
    var items = [];
    var active = -1;
    var timer = null;
    var lastQuery = "";
    var controller = null;

    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Gợi ý tiêu đề");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.parentNode.classList.add("has-suggest");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      items.forEach(function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(suggestions) {
      list.textContent = "";
      items = suggestions.map(function (s, i) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        a.href = s.url;
        a.textContent = s.title;
        a.tabIndex = -1;
        li.appendChild(a);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep focus in the box until we navigate
          window.location.href = s.url;
        });
        list.appendChild(li);
        return li;
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query === lastQuery) return;
      lastQuery = query;
      if (!query) {
        close();
        return;
      }
      if (controller) controller.abort();
      controller = new AbortController();
      fetch("/api/suggest?q=" + encodeURIComponent(query), { signal: controller.signal })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (input.value.trim() === query) render(data.suggestions || []); })
        .catch(function () { /* aborted or offline: the plain form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = items[active].querySelector("a").href;
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    if (form) form.addEventListener("submit", close);
  }

  document.querySelectorAll("input[data-suggest]").forEach(setup);
})();
