/* Before the idle timeout (extranet/middleware.py SessionTimeoutMiddleware) signs the user out, the page warns and
   offers to stay signed in (« Rester connecté » posts to the keep-alive endpoint, which answers 204). If nobody
   answers, a deposit form typed in is saved as a draft just before the end, the server ending the session then
   (requests/drafts.py): signing in again brings the user back to it. Other pages go to the login page when the
   session is over. The seconds come from <body> (extranet/context_processors.py), the moment the session ends is
   shared between the site's tabs (localStorage), so that one tab kept alive keeps the others from warning.
   Without JavaScript: no warning, the server's timeout as before. No inline script: the CSP forbids them. */
(function () {
  "use strict";

  var body = document.body;
  var dialog = document.getElementById("session-warning");
  if (!body.hasAttribute("data-session-expires-in") || !dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var SHARED = "espace-partenaires:session-expires-at";
  // The middleware ends the session strictly after the timeout: past the end, a little later, the login page.
  var GRACE = 2000;

  function seconds(name) {
    return (Number(body.getAttribute("data-session-" + name)) || 0) * 1000;
  }

  var loaded = Date.now();
  var expiresAt = loaded + seconds("expires-in");
  var endsAt = loaded + seconds("ends-in");
  var idle = seconds("idle-timeout");
  var warning = seconds("warning");
  var draftSave = seconds("draft-save");
  var remaining = dialog.querySelector("[data-session-remaining]");
  var keepAlive = dialog.querySelector("form");
  var draftForm = document.querySelector("form[data-draft-form]");
  // A form shown again with what was posted (errors) holds typed values already.
  var typed = draftForm !== null && draftForm.getAttribute("data-draft-form") === "typed";
  var over = false;

  function shared() {
    try {
      return Number(window.localStorage.getItem(SHARED)) || 0;
    } catch (error) {
      return 0;
    }
  }

  function share() {
    try {
      window.localStorage.setItem(SHARED, String(expiresAt));
    } catch (error) {
      // Storage refused (private mode, quota): each tab counts alone.
    }
  }

  function minutesLeft(left) {
    var minutes = Math.floor(left / 60000);
    if (minutes < 1) {
      return "moins d'une minute";
    }
    return minutes === 1 ? "1 minute" : minutes + " minutes";
  }

  function hide() {
    if (dialog.open) {
      dialog.close();
    }
  }

  function leave() {
    over = true;
    // A GET of the page: the server, the session over, answers with the login page (and back here after it).
    window.location.assign(window.location.href);
  }

  function saveDraft() {
    over = true;
    // Drafts keep no file (the form says so): none is sent for nothing.
    Array.prototype.forEach.call(draftForm.querySelectorAll("input[type=file]"), function (input) {
      input.value = "";
    });
    [["action", "brouillon"], ["fin_de_session", "1"]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      draftForm.appendChild(input);
    });
    // The prototype's: a control named "submit" would hide the form's own method.
    HTMLFormElement.prototype.submit.call(draftForm);
  }

  function tick() {
    if (over) {
      return;
    }
    var other = shared();
    if (other > expiresAt) {
      // Another tab kept the session alive (or loaded a page) since.
      expiresAt = Math.min(other, endsAt);
      hide();
    }
    var left = expiresAt - Date.now();
    if (left > warning) {
      return;
    }
    if (draftForm !== null && typed && left <= draftSave) {
      saveDraft();
      return;
    }
    if (left <= -GRACE) {
      leave();
      return;
    }
    remaining.textContent = minutesLeft(Math.max(left, 0));
    if (!dialog.open) {
      dialog.showModal();
    }
  }

  function stay() {
    window
      .fetch(keepAlive.action, { method: "POST", body: new FormData(keepAlive), credentials: "same-origin" })
      .then(function (response) {
        if (response.status !== 204) {
          // Signed out already (the login page answered): nothing left to keep alive.
          leave();
          return;
        }
        expiresAt = Math.min(Date.now() + idle, endsAt);
        share();
        hide();
      })
      .catch(function () {
        // The network failed: the warning stays, the user may try again.
      });
  }

  keepAlive.addEventListener("submit", function (event) {
    event.preventDefault();
    stay();
  });
  // Escape: whoever pressed it is there, as for the button.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    stay();
  });
  if (draftForm !== null) {
    dialog.querySelector("[data-session-draft-note]").hidden = false;
    draftForm.addEventListener("input", function () {
      typed = true;
    });
    draftForm.addEventListener("change", function () {
      typed = true;
    });
  }
  window.addEventListener("storage", function (event) {
    if (event.key === SHARED) {
      tick();
    }
  });
  share();
  // Each second: a background tab's timers may run less often (once a minute), hence the margins of the settings.
  window.setInterval(tick, 1000);
})();
