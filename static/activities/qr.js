// The QR screen at the venue: a new code with each window (ACTIVITY_QR_SECONDS), fetched from the server
// just after the window turns, so a photo of the code shared from home expires within a minute or two.
(function () {
  "use strict";
  var screen = document.getElementById("qr-screen");
  if (!screen) return;
  var image = document.getElementById("qr-image");
  var link = document.getElementById("qr-url");
  var offline = document.getElementById("qr-offline");
  var checkedIn = document.getElementById("qr-checked-in");
  var url = screen.getAttribute("data-token-url");
  var seconds = parseFloat(screen.getAttribute("data-seconds")) || 60;

  function schedule(nextIn) {
    var wait = Math.max(1, Math.min(isFinite(nextIn) ? nextIn : seconds, seconds)) + 0.5;
    window.setTimeout(renew, wait * 1000);
  }
  function renew() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (state) {
        image.src = state.image;
        image.setAttribute("data-url", state.url);
        image.setAttribute("data-window", state.window);
        link.href = state.url;
        link.textContent = state.url;
        checkedIn.textContent = state.checked_in;
        offline.hidden = true;
        schedule(state.next_in);
      })
      .catch(function () {
        offline.hidden = false;
        schedule(5);
      });
  }
  schedule(parseFloat(screen.getAttribute("data-next-in")));
})();
