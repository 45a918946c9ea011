// The organiser's roster, with or without signal. A tap on "check in" or "check out" becomes an entry
// {key, volunteer, action, at} in a queue kept in localStorage (so a reload, or a dead battery, loses
// nothing); the page shows it at once, and the queue is sent to the server whenever it can be: on load,
// on the "online" event and every ~15 s. An entry leaves the queue only once the server answered it; the
// key makes a second delivery change nothing. Without script the buttons post the form (checked now).
(function () {
  "use strict";
  var root = document.getElementById("roster");
  if (!root) return;
  var activity = root.getAttribute("data-activity");
  var syncUrl = root.getAttribute("data-sync-url");
  var labels = JSON.parse(document.getElementById("roster-labels").textContent);
  var QUEUE = "roster-queue-" + activity;
  var STATE = "roster-state-" + activity;
  var statusLine = document.getElementById("sync-status");

  function load(key, fallback) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value === null || value === undefined ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }
  function save(key, value) {
    window.localStorage.setItem(key, JSON.stringify(value));
  }
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.getAttribute("data-csrf");
  }
  function hhmm(iso) {
    var moment = new Date(iso);
    return ("0" + moment.getHours()).slice(-2) + ":" + ("0" + moment.getMinutes()).slice(-2);
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function rows() {
    return Array.prototype.slice.call(root.querySelectorAll(".wb-person[data-volunteer]"));
  }
  function rowOf(volunteer) {
    return document.getElementById("person-" + volunteer);
  }

  // The server's attendance, newer than the page (kept from the last answer): a reload offline shows it.
  function applyState(attendance) {
    rows().forEach(function (row) {
      var state = attendance[row.getAttribute("data-volunteer")];
      row.setAttribute("data-in", state ? state["in"] : "");
      row.setAttribute("data-out", state && state.out ? state.out : "");
      row.setAttribute("data-in-late", state && state.in_late ? "1" : "");
      row.setAttribute("data-out-late", state && state.out_late ? "1" : "");
      row.setAttribute("data-missed", state && state.missed ? "1" : "");
    });
  }
  var kept = load(STATE, null);
  if (kept && kept.at > root.getAttribute("data-rendered-at")) applyState(kept.attendance);

  function timeSpan(part, label, iso, late, waiting) {
    var span = el("span", "wb-time", label + " " + hhmm(iso) + " ");
    span.setAttribute("data-part", part);
    if (waiting) span.appendChild(el("span", "status status-pending", labels.waiting));
    else if (late) span.appendChild(el("span", "status status-flagged", labels.late));
    return span;
  }

  // A row as the server holds it, with the queued entries on top.
  function render(row) {
    var volunteer = row.getAttribute("data-volunteer");
    var queued = load(QUEUE, []).filter(function (entry) { return String(entry.volunteer) === volunteer; });
    var checkedIn = row.getAttribute("data-in"), checkedOut = row.getAttribute("data-out");
    var inWaiting = false, outWaiting = false;
    queued.forEach(function (entry) {
      if (entry.action === "in" && !checkedIn) { checkedIn = entry.at; inWaiting = true; }
      if (entry.action === "out" && checkedIn && !checkedOut) { checkedOut = entry.at; outWaiting = true; }
    });
    var times = row.querySelector("[data-part=times]");
    times.textContent = "";
    if (checkedIn) times.appendChild(timeSpan("in", labels["in"], checkedIn, row.getAttribute("data-in-late"), inWaiting));
    if (checkedOut) times.appendChild(timeSpan("out", labels.out, checkedOut, row.getAttribute("data-out-late"), outWaiting));
    if (row.getAttribute("data-missed")) {
      var missed = el("span", "status status-flagged", labels.missed);
      missed.setAttribute("data-part", "missed");  // as the server draws it (workbench/roster.html)
      times.appendChild(missed);
    }
    var inButton = row.querySelector("button[value=in]"), outButton = row.querySelector("button[value=out]");
    if (inButton) inButton.hidden = Boolean(checkedIn);
    if (outButton) outButton.hidden = !checkedIn || Boolean(checkedOut);
    return Boolean(checkedIn);
  }
  function renderAll() {
    var count = 0;
    rows().forEach(function (row) { if (render(row)) count += 1; });
    var counter = document.getElementById("checked-in-count");
    if (counter) counter.textContent = count;
    var waiting = load(QUEUE, []).length;
    if (waiting) {
      statusLine.textContent = labels.offline.replace("%(count)s", waiting);
      statusLine.className = "wb-sync wb-sync-waiting";
    }
  }

  function showAnswer(answer) {
    if (answer.outcome !== "refused" && !answer.arrived_late) return;
    var list = document.getElementById("entry-list");
    if (list.querySelector('[data-key="' + answer.key + '"]')) return;
    var row = rowOf(answer.volunteer);
    var item = el("li", "wb-entry wb-entry-" + answer.outcome + (answer.arrived_late ? " wb-entry-late" : ""));
    item.setAttribute("data-key", answer.key);
    item.appendChild(el("strong", "", row ? row.getAttribute("data-name") : String(answer.volunteer || "")));
    var what = answer.action === "out" ? labels.check_out : labels.check_in;
    item.appendChild(document.createTextNode(" · " + what + (answer.at ? " " + hhmm(answer.at) : "") + " "));
    if (answer.outcome === "refused") {
      item.appendChild(el("span", "status status-refused", labels.refused));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "muted", answer.message));
    }
    if (answer.arrived_late) item.appendChild(el("span", "status status-flagged", labels.late));
    list.insertBefore(item, list.firstChild);
    var none = document.getElementById("no-entries");
    if (none) none.hidden = true;
  }

  var sending = false;
  function sync() {
    if (sending) return Promise.resolve();
    var queue = load(QUEUE, []);
    sending = true;
    if (queue.length) {
      statusLine.textContent = labels.sending;
      statusLine.className = "wb-sync wb-sync-sending";
    }
    return fetch(syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify({ entries: queue }),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (answer) {
        var answered = {};
        answer.results.forEach(function (result) { answered[result.key] = true; showAnswer(result); });
        // Entries tapped while this request was on its way stay queued for the next one.
        save(QUEUE, load(QUEUE, []).filter(function (entry) { return !answered[entry.key]; }));
        save(STATE, { at: answer.server_time, attendance: answer.attendance });
        applyState(answer.attendance);
        root.setAttribute("data-synced", String(Date.now()));
        if (!load(QUEUE, []).length) {
          statusLine.textContent = labels.synced;
          statusLine.className = "wb-sync wb-sync-done";
        }
      })
      .catch(function () { /* no signal (or the server is away): the queue waits for the next try */ })
      .then(function () {
        sending = false;
        renderAll();
      });
  }

  root.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-roster-form]");
    if (!form) return;
    event.preventDefault();
    var button = event.submitter;
    if (!button || !button.value) return;
    var queue = load(QUEUE, []);
    queue.push({
      key: uuid(),
      volunteer: parseInt(form.querySelector("input[name=volunteer]").value, 10),
      action: button.value,
      at: new Date().toISOString(),
    });
    save(QUEUE, queue);
    renderAll();
    if (navigator.onLine !== false) sync();
  });

  window.addEventListener("online", sync);
  window.setInterval(sync, (parseInt(root.getAttribute("data-sync-seconds"), 10) || 15) * 1000);
  renderAll();
  sync();

  // The service worker keeps this page and its files, so a reload without signal still shows the roster.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      .register(root.getAttribute("data-worker-url"), { scope: root.getAttribute("data-worker-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (registration.active) registration.active.postMessage({ keep: window.location.pathname });
      })
      .catch(function () { /* not over https, or not allowed: the page works without it */ });
  }
})();
