// Research pages: copy an insight's share link; prefill a highlight from selected note text.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      var done = function () { button.textContent = "Link copied"; };
      if (navigator.clipboard) { navigator.clipboard.writeText(window.location.href).then(done, done); } else { done(); }
    });
  });
  var source = document.querySelector("[data-highlight-source]");
  var excerpt = document.getElementById("id_excerpt");
  if (source && excerpt) {
    source.addEventListener("mouseup", function () {
      var text = String(window.getSelection() || "").trim();
      if (text) { excerpt.value = text; }
    });
  }
})();
