// The kiosk page: PIN pad keys, focus and announcements after each screen, and the camera.
(function () {
  "use strict";
  var screenEl = document.getElementById("screen");
  var announce = document.getElementById("announce");
  var toast = document.getElementById("toast");
  var stream = null;
  var capturedSeq = null;

  // PIN pad: digits go into the field (never anywhere else); the form posts it.
  document.addEventListener("click", function (e) {
    var key = e.target.closest("[data-digit],[data-key]");
    if (!key) return;
    var input = document.getElementById("pin");
    if (!input) return;
    if (key.dataset.digit !== undefined) {
      if (input.value.length < 4) input.value += key.dataset.digit;
    } else if (key.dataset.key === "back") {
      input.value = input.value.slice(0, -1);
    }
    input.focus();
  });

  // A refused tap (stale screen, double tap) is said plainly, briefly.
  document.body.addEventListener("htmx:responseError", function (e) {
    toast.textContent = e.detail.xhr.responseText || "エラー / Error";
    toast.hidden = false;
    setTimeout(function () { toast.hidden = true; }, 4000);
  });

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
  }

  function capture(seq) {
    var video = document.getElementById("camera");
    var canvas = document.getElementById("frame");
    if (!video || !canvas || !video.videoWidth) return;
    var current = screenEl.querySelector("[data-step]");
    if (!current || current.dataset.seq !== seq) return;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      fetch("/kiosk/face", { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: blob })
        .then(function (r) { if (!r.ok) return r.text().then(function (t) { throw new Error(t); }); })
        .catch(function (err) { toast.textContent = String(err.message || err); toast.hidden = false; });
    }, "image/jpeg", 0.92);
  }

  function startCamera(seq) {
    var status = document.getElementById("camera-status");
    var go = function () {
      var video = document.getElementById("camera");
      if (!video) return;
      video.srcObject = stream;
      var shoot = function () { setTimeout(function () { capture(seq); }, 1500); };
      if (video.readyState >= 2) shoot(); else video.addEventListener("loadeddata", shoot, { once: true });
    };
    if (stream) { go(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      if (status) status.textContent = "カメラを使えません。暗証番号で確認してください。 / No camera: please use the PIN.";
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: true, audio: false }).then(function (s) {
      stream = s;
      go();
    }).catch(function () {
      if (status) status.textContent = "カメラを使えません。暗証番号で確認してください。 / No camera: please use the PIN.";
    });
  }

  // After every new screen: language, focus on its title, announce it, camera on or off.
  function settle() {
    var s = screenEl.querySelector("[data-step]");
    if (!s) return;
    document.documentElement.lang = s.dataset.lang || "ja";
    var title = document.getElementById("title");
    var auto = s.querySelector("[autofocus]");
    if (auto) auto.focus(); else if (title) title.focus();
    var alerts = Array.prototype.map.call(s.querySelectorAll(".alert"), function (a) { return a.textContent; });
    announce.textContent = alerts.concat(title ? [title.textContent] : []).join(" ");
    if (s.dataset.camera) {
      if (capturedSeq !== s.dataset.seq) {
        capturedSeq = s.dataset.seq;
        startCamera(s.dataset.seq);
      }
    } else {
      stopCamera();
    }
  }

  new MutationObserver(settle).observe(screenEl, { childList: true });
  settle();
})();
