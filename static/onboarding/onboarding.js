// Onboarding: warn before submitting a quiz with unanswered questions (no inline scripts: CSP).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("quiz")) return;
    var open = 0;
    form.querySelectorAll("fieldset.question").forEach(function (fs) {
      if (!fs.querySelector("input:checked")) open += 1;
    });
    if (open && !window.confirm(open + " question(s) have no answer yet. Submit anyway?")) event.preventDefault();
  });
})();
