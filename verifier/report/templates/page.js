// verifier page: jump-to-line highlighting, copy/download buttons, .eml drop.
// The page shows the whole analysis without this script; it only adds conveniences.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function highlight(id) {
    var el = document.getElementById(id);
    if (!el) return;
    var prev = document.querySelectorAll("ol.headers li.active");
    for (var i = 0; i < prev.length; i++) prev[i].classList.remove("active");
    el.classList.add("active");
    el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center" });
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a.ref") : null;
    if (a) {
      var id = (a.getAttribute("href") || "").slice(1);
      if (id) {
        ev.preventDefault();
        history.replaceState(null, "", "#" + id);
        highlight(id);
      }
      return;
    }
    var b = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (b) {
      var src = document.getElementById(b.getAttribute("data-copy"));
      if (!src) return;
      var text = src.textContent;
      var done = function () { var t = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = t; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      }
      return;
    }
    var d = ev.target.closest ? ev.target.closest("button[data-download]") : null;
    if (d) {
      var from = document.getElementById(d.getAttribute("data-download"));
      if (!from) return;
      var blob = new Blob([from.textContent], { type: d.getAttribute("data-type") || "text/plain" });
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      link.href = url;
      link.download = d.getAttribute("data-name") || "verifier-report.txt";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }
  });

  if (location.hash.length > 1) highlight(location.hash.slice(1));

  // Drop an .eml (or any file) on the paste box: it is sent as a file upload.
  var box = document.getElementById("headers");
  var file = document.getElementById("file");
  var form = document.getElementById("paste-form");
  if (box && file && form) {
    var on = function (ev) { ev.preventDefault(); box.classList.add("dragging"); };
    var off = function () { box.classList.remove("dragging"); };
    box.addEventListener("dragenter", on);
    box.addEventListener("dragover", on);
    box.addEventListener("dragleave", off);
    box.addEventListener("drop", function (ev) {
      off();
      var files = ev.dataTransfer && ev.dataTransfer.files;
      if (!files || !files.length) return; // dropped text: the browser pastes it
      ev.preventDefault();
      file.files = files;
      box.value = "";
      form.submit();
    });
  }
})();
