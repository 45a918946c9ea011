// The check-in page: send the scan at once (the page has a button for phones without script), and, only
// when the volunteer asks, share the phone's position with this check-in.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (form && form.dataset.autoSubmit) {
    form.submit();
  }
  var share = document.getElementById("share-location");
  var locationForm = document.getElementById("location-form");
  if (share && locationForm) {
    share.addEventListener("click", function () {
      var error = document.getElementById("location-error");
      if (!navigator.geolocation) {
        error.hidden = false;
        return;
      }
      share.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          document.getElementById("location-latitude").value = position.coords.latitude.toFixed(6);
          document.getElementById("location-longitude").value = position.coords.longitude.toFixed(6);
          locationForm.submit();
        },
        function () {
          share.disabled = false;
          error.hidden = false;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
      );
    });
  }
})();
