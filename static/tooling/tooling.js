// Tooling pages: warn before leaving a document editor with unsaved changes.
(function () {
  "use strict";
  var form = document.querySelector("form.doc-edit");
  if (!form) return;
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
