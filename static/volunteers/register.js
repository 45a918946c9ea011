// Birth date and gender are asked only for documents other than the resident ID, which carries both.
// Without script both stay shown, and the server ignores them for a resident ID.
(function () {
  document.documentElement.classList.add("js");
  var type = document.getElementById("id_id_type");
  var other = document.getElementById("other-document");
  if (!type || !other) return;
  function update() { other.hidden = type.value === "resident"; }
  type.addEventListener("change", update);
  update();
})();
