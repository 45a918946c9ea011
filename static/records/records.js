// The records' pages: "select all" in the approval queue, and the certificates list looking again
// while a certificate is being prepared. Without script both pages work: tick each box, reload.
(function () {
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (pick) {
        pick.checked = box.checked;
      });
    });
  });
  var preparing = document.querySelector("[data-refresh]");
  if (preparing) {
    var seconds = parseInt(preparing.getAttribute("data-refresh"), 10) || 5;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
