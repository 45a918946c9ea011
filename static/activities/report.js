// The report page's photos: each picked file is sent on its own, one after the other (a village's
// signal carries one upload better than four at once), with a progress bar, to the staging endpoint (activities.workbench.report_photo_stage); what it accepts is
// kept server-side and its id goes into the form, what it refuses shows the image intake's message next
// to the file. The file input is emptied once the files are handed over, so the form does not send them
// a second time. Without this script the files simply go with the form.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = form.querySelector("input[type=file][name=photos]");
  var list = document.getElementById("photo-uploads");
  if (!input || !list) return;
  var text = form.dataset;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var pending = 0;
  var queue = [];
  var sending = false;

  function next() {
    if (sending || !queue.length) return;
    sending = true;
    queue.shift()();
  }

  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (content) node.textContent = content;
    return node;
  }

  function upload(file) {
    var row = el("li", { "class": "wb-photo wb-photo-uploading" });
    var preview = el("img", { alt: "", width: "120" });
    if (window.URL && URL.createObjectURL && /^image\//.test(file.type)) preview.src = URL.createObjectURL(file);
    var body = el("div", { "class": "wb-photo-body" });
    var bar = el("progress", { max: "100", value: "0" });
    var message = el("span", { "class": "wb-photo-message", role: "status" }, text.uploading);
    body.appendChild(el("span", { "class": "wb-photo-name" }, file.name));
    body.appendChild(bar);
    body.appendChild(message);
    row.appendChild(preview);
    row.appendChild(body);
    list.appendChild(row);

    var data = new FormData();
    data.append("photo", file, file.name);
    var request = new XMLHttpRequest();
    request.open("POST", form.dataset.stageUrl);
    request.setRequestHeader("X-CSRFToken", csrf);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    pending += 1;
    request.addEventListener("loadend", function () {
      pending -= 1;
      sending = false;
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
      row.classList.remove("wb-photo-uploading");
      if (request.status === 201 && answer && answer.id) {
        bar.value = 100;
        row.classList.add("wb-photo-done");
        row.dataset.staged = answer.id;
        message.textContent = text.uploaded;
        preview.src = answer.url;
        var caption = el("label", {}, text.caption + " ");
        caption.appendChild(el("input", { type: "text", name: "caption_" + answer.id, maxlength: "100" }));
        body.insertBefore(caption, message);
        var kept = el("input", { type: "hidden", name: "kept_photos", value: answer.id });
        row.appendChild(kept);
      } else {
        row.classList.add("wb-photo-refused");
        bar.hidden = true;
        preview.hidden = true;  // nothing of a refused file is kept, nor shown as if it were
        message.textContent = (answer && answer.message) || text.failed;
      }
      var remove = el("button", { type: "button", "class": "btn btn-small" }, text.remove);
      remove.addEventListener("click", function () { row.remove(); });
      body.appendChild(remove);
      next();
    });
    queue.push(function () { request.send(data); });
    next();
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, upload);
    input.value = "";  // handed over: not sent again with the form
  });

  form.addEventListener("submit", function (event) {
    if (pending > 0) {
      event.preventDefault();
      window.alert(text.wait);
    }
  });
})();
