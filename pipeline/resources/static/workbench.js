// clincoder review page: evidence highlighting and keyboard shortcuts. The page works without it
// (every action is a plain form post); this only links codes and text and saves keystrokes.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("ol.codes > li"));
  var marks = Array.prototype.slice.call(document.querySelectorAll("#letter mark"));
  var selected = -1;

  function clear() {
    marks.forEach(function (m) { m.classList.remove("lit"); });
    items.forEach(function (li) { li.classList.remove("lit"); });
  }

  function showEvidence(id) {
    clear();
    var first = null;
    marks.forEach(function (m) {
      if (m.dataset.codes.split(" ").indexOf(id) >= 0) {
        m.classList.add("lit");
        first = first || m;
      }
    });
    if (first) { first.scrollIntoView({block: "center"}); }
  }

  function select(i) {
    if (!items.length) { return; }
    selected = (i + items.length) % items.length;
    items.forEach(function (li, n) { li.classList.toggle("selected", n === selected); });
    items[selected].focus();
    showEvidence(items[selected].dataset.id);
  }

  items.forEach(function (li, n) {
    li.addEventListener("click", function (ev) {
      if (ev.target.closest("form, summary, details")) { return; }
      select(n);
    });
  });

  marks.forEach(function (m) {
    m.addEventListener("click", function () {
      clear();
      m.dataset.codes.split(" ").forEach(function (id) {
        var li = document.getElementById("code-" + id);
        if (li) { li.classList.add("lit"); }
      });
    });
  });

  function press(selector) {
    if (selected < 0) { return; }
    var button = items[selected].querySelector(selector);
    if (button) { button.click(); }
  }

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var actions = {
      j: function () { select(selected + 1); },
      k: function () { select(selected - 1); },
      a: function () { press("button.accept"); },
      x: function () { press("button.reject"); },
      u: function () { press("button.up"); },
      d: function () { press("button.down"); },
      s: function () { var b = document.getElementById("submit"); if (b) { b.click(); } },
      "/": function () { document.getElementById("search-q").focus(); }
    };
    if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
  });

  // after an action the page reloads at #code-N: keep that code selected
  var hash = window.location.hash.match(/^#code-(\d+)$/);
  if (hash) {
    items.forEach(function (li, n) { if (li.dataset.id === hash[1]) { select(n); } });
  }
})();
