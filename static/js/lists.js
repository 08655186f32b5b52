/* The lists (queue, history): their filter panel closed on small screens, and the history's stars toggled in place.
   Without JavaScript the panel stays as the server sent it and a star's form reloads the list at its row. */
(function () {
  "use strict";

  // Bootstrap's "md" breakpoint: below it the filters would push the first request a screen or more down.
  var SMALL = window.matchMedia("(max-width: 767.98px)");

  function collapseFiltersOnSmallScreens() {
    if (!SMALL.matches) {
      return;
    }
    document.querySelectorAll("details[data-collapse-on-small]").forEach(function (panel) {
      // A filter the server refused keeps the panel open: its error is inside.
      if (!panel.querySelector("[aria-invalid='true']")) {
        panel.open = false;
      }
    });
  }

  function showFollowing(form, following, message) {
    var button = form.querySelector("button[aria-pressed]");
    button.setAttribute("aria-pressed", following ? "true" : "false");
    button.title = following ? "Ne plus suivre cette demande" : "Suivre cette demande";
    form.querySelector("[data-star]").textContent = following ? "★" : "☆";
    var status = document.querySelector("[data-follow-status]");
    if (status) {
      status.textContent = message;
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-follow]") : null;
    if (!form || !window.fetch) {
      return;
    }
    event.preventDefault();
    // Not disabled while it works: a disabled button loses the keyboard focus. A second click waits instead.
    if (form.dataset.busy) {
      return;
    }
    form.dataset.busy = "true";
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (answer) {
        showFollowing(form, answer.following, answer.message);
      })
      .catch(function () {
        // The session ended, the network failed…: the ordinary form says what happened.
        form.submit();
      })
      .finally(function () {
        delete form.dataset.busy;
      });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", collapseFiltersOnSmallScreens);
  } else {
    collapseFiltersOnSmallScreens();
  }
})();
