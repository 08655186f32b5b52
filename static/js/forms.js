/* What the forms do with JavaScript (without it they work the same, all of their parts shown):
   - a part that applies only after some answer (data-shown-when: the field's name, data-shown-values: the answers
     that make it apply, separated by spaces) is hidden until then; the hidden attribute keeps it from being read out;
   - a form being sent says so: its submit buttons are disabled, the pressed one reads "Envoi en cours…", until the
     page is left (or shown again from the history: pageshow). A button that downloads a file (data-download, on it or
     on its form) leaves the page where it is: it is given back after a few seconds;
   - files being sent show their progress. A browser tells a page how far an upload is only for a request the page
     sends itself: a form with files chosen is sent by XMLHttpRequest (the same fields, the same address, the pressed
     button's name and value), and its answer is shown as the page's own, as a normal submission would: the address
     becomes the answer's (after a redirect, the page redirected to; else the form's). Without a file, or for a
     download, the form is submitted normally; if the request cannot be sent, too. */
(function () {
  "use strict";

  var BUSY_TEXT = "Envoi en cours…";
  var DOWNLOAD_TEXT = "Préparation du document…";
  var DOWNLOAD_DELAY = 4000;

  /* Progressive disclosure. */

  function applies(part, form) {
    var values = (part.getAttribute("data-shown-values") || "").split(" ");
    var name = part.getAttribute("data-shown-when");
    return Array.prototype.some.call(form.elements, function (control) {
      return control.name === name && control.checked && values.indexOf(control.value) >= 0;
    });
  }

  function disclose(form) {
    form.querySelectorAll("[data-shown-when]").forEach(function (part) {
      part.hidden = !applies(part, form);
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.querySelector("[data-shown-when]")) {
      disclose(form);
    }
  });

  /* Busy state. */

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (control) {
      return control.type === "submit";
    });
  }

  function relabel(button, text) {
    if (button && button.tagName === "BUTTON" && !button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.innerHTML);
      button.textContent = text;
    }
  }

  function giveBack(button) {
    button.disabled = false;
    if (button.hasAttribute("data-label")) {
      button.innerHTML = button.getAttribute("data-label");
      button.removeAttribute("data-label");
    }
  }

  function restore(form) {
    form.removeAttribute("data-busy");
    form.removeAttribute("aria-busy");
    submitButtons(form).forEach(giveBack);
    form.querySelectorAll("[data-submitter-copy], [data-upload-progress]").forEach(function (element) {
      element.remove();
    });
  }

  function setBusy(form, submitter) {
    form.setAttribute("data-busy", "");
    form.setAttribute("aria-busy", "true");
    submitButtons(form).forEach(function (button) {
      button.disabled = true;
    });
    // The default button pressed by Enter may be hidden: the visible one that sends the form says it.
    var shown = submitter && submitter.offsetParent !== null ? submitter : submitButtons(form).filter(function (b) {
      return b.offsetParent !== null && !b.name;
    })[0];
    relabel(shown, BUSY_TEXT);
  }

  /* Upload with progress. */

  function hasChosenFiles(form) {
    return (form.getAttribute("enctype") || "").toLowerCase() === "multipart/form-data" &&
      Array.prototype.some.call(form.querySelectorAll("input[type='file']"), function (input) {
        return input.files && input.files.length > 0;
      });
  }

  function target(form, submitter) {
    // Attributes, not the form's properties: a control named "action" or "method" hides those.
    var action = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action") || "";
    return new URL(action, window.location.href).href;
  }

  function progressDisplay(form, submitter) {
    var box = document.createElement("div");
    box.className = "mt-2";
    box.setAttribute("data-upload-progress", "");
    var status = document.createElement("p");
    status.className = "mb-1";
    status.setAttribute("role", "status");
    status.textContent = "Envoi des fichiers…";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Envoi des fichiers");
    bar.className = "w-100";
    box.appendChild(status);
    box.appendChild(bar);
    var anchor = (submitter && submitter.parentNode) || form;
    anchor.appendChild(box);
    return { status: status, bar: bar };
  }

  function submitNormally(form, submitter) {
    if (submitter && submitter.name) {
      // A disabled button's value is not sent: a copy of it is.
      var copy = document.createElement("input");
      copy.type = "hidden";
      copy.name = submitter.name;
      copy.value = submitter.value;
      copy.setAttribute("data-submitter-copy", "");
      form.appendChild(copy);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  function showAnswer(xhr) {
    var url = new URL(xhr.responseURL || window.location.href);
    history.replaceState(null, "", url.href);
    document.open();
    document.write(xhr.responseText);
    document.close();
  }

  function upload(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var display = progressDisplay(form, submitter);
    var xhr = new XMLHttpRequest();
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        display.bar.value = Math.round((event.loaded / event.total) * 100);
      }
    });
    xhr.upload.addEventListener("load", function () {
      display.bar.value = 100;
      display.status.textContent = "Fichiers envoyés, vérification en cours…";
    });
    xhr.addEventListener("load", function () {
      if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0) {
        showAnswer(xhr);
      } else {
        // Not a page (downloads are submitted normally): the form as it was, not sent again.
        restore(form);
      }
    });
    xhr.addEventListener("error", function () {
      display.bar.parentNode.remove();
      submitNormally(form, submitter);
    });
    xhr.open((form.getAttribute("method") || "get").toUpperCase(), target(form, submitter));
    xhr.setRequestHeader("Accept", "text/html");
    xhr.send(data);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.hasAttribute("data-no-busy")) {
      return;
    }
    if (form.hasAttribute("data-busy")) {
      event.preventDefault(); // sent already: a second click sends nothing more
      return;
    }
    var submitter = event.submitter || null;
    if ((submitter && submitter.hasAttribute("data-download")) || form.hasAttribute("data-download")) {
      // After the form's values are read (the button's value is sent only while it is enabled).
      window.setTimeout(function () {
        var button = submitter || submitButtons(form)[0];
        if (!button) {
          return;
        }
        button.disabled = true;
        relabel(button, DOWNLOAD_TEXT);
        window.setTimeout(function () {
          giveBack(button);
        }, DOWNLOAD_DELAY);
      }, 0);
      return;
    }
    if (hasChosenFiles(form) && window.FormData && window.XMLHttpRequest) {
      event.preventDefault();
      setBusy(form, submitter);
      upload(form, submitter);
      return;
    }
    // Disabled after the form's values are read, so that the pressed button's value goes with them; marked busy at
    // once, so that a second click sends nothing more.
    form.setAttribute("data-busy", "");
    window.setTimeout(function () {
      setBusy(form, submitter);
    }, 0);
  });

  // Back to a page kept in the browser's cache: its forms are usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy]").forEach(restore);
  });

  function start() {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-shown-when]")) {
        disclose(form);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
