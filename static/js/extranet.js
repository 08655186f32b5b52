/* Forms with errors: the summary takes the focus when the page loads (screen readers read it, keyboard users
   start from it), and each of its links puts the focus on its field. No inline script: the CSP forbids them. */
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary && (document.activeElement === null || document.activeElement === document.body)) {
      summary.focus();
    }
  }

  function labelOf(field) {
    var fieldset = field.closest("fieldset");
    if ((field.type === "radio" || field.type === "checkbox") && fieldset && fieldset.querySelector("legend")) {
      return fieldset.querySelector("legend");
    }
    return (field.labels && field.labels[0]) || field;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    if (!link) {
      return;
    }
    var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!field) {
      return;
    }
    event.preventDefault();
    labelOf(field).scrollIntoView();
    field.focus({ preventScroll: true });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
})();
