// Relance workspace: CSRF header for htmx, confirmations, keyboard shortcuts.
// Served by the app itself (no inline script: the Content-Security-Policy forbids it).
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers["X-CSRF-Token"] = token.content;
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "chat-form" && event.detail.successful) {
      form.reset();
      var log = document.getElementById("chat-log");
      if (log) log.scrollTop = log.scrollHeight;
    }
  });

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var current = -1;
  function select(index) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("selected");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("selected");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName !== "A") window.location = row.getAttribute("data-href");
    });
  });

  function typing(target) {
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }
  function click(id) {
    var element = document.getElementById(id);
    if (element && !element.disabled) { element.click(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (rows.length) {
      if (key === "j") { select(current + 1); event.preventDefault(); }
      else if (key === "k") { select(current - 1); event.preventDefault(); }
      else if (key === "Enter" && current >= 0) { window.location = rows[current].getAttribute("data-href"); }
      return;
    }
    if (key === "j") { click("next"); }
    else if (key === "k") { click("prev"); }
    else if (key === "a") { if (click("approve")) event.preventDefault(); }
    else if (key === "r") {
      var reason = document.getElementById("reason");
      if (reason) { reason.focus(); event.preventDefault(); }
    } else if (key === "e") {
      var edit = document.getElementById("edit");
      if (edit) { edit.open = true; document.getElementById("edit-body").focus(); event.preventDefault(); }
    }
  });
  // A policy error's "Line N" button puts the cursor on that line of the YAML.
  document.addEventListener("click", function (event) {
    var line = event.target.getAttribute && event.target.getAttribute("data-goto-line");
    var area = document.getElementById("policy-text");
    if (!line || !area) return;
    var lines = area.value.split("\n"), start = 0, n = parseInt(line, 10);
    for (var i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[n - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
    var ratio = (n - 1) / Math.max(1, lines.length);
    area.scrollTop = ratio * area.scrollHeight - area.clientHeight / 3;
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
