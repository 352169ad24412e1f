/* tidetrace tip line: seal the report in the browser before it leaves.
 *
 * Runs only when JavaScript is on; without it the same form posts the text and the
 * server seals it on arrival. With it, the text and files become one libsodium sealed
 * box (X25519, crypto_box_seal) to the tip line's public key, sent as one opaque file:
 * the clear fields lose their names so the browser does not send them at all.
 * Photos are redrawn on a canvas first, which drops EXIF/GPS and other metadata.
 * Loads nothing from elsewhere; the page's CSP allows scripts from this site only.
 */
(function () {
  "use strict";

  var forms = document.querySelectorAll("form[data-seal-key]");
  if (!forms.length || !window.sodium) {
    return;
  }
  var IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];

  function toBase64(bytes) {
    return window.sodium.to_base64(bytes, window.sodium.base64_variants.ORIGINAL);
  }

  function readBytes(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(file);
    });
  }

  function redraw(file) {
    // A canvas copy has pixels only: no EXIF, GPS, camera serial, XMP or comments.
    return createImageBitmap(file).then(function (bitmap) {
      var canvas = document.createElement("canvas");
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      var type = file.type === "image/png" ? "image/png" : "image/jpeg";
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob === null) { reject(new Error("redraw failed")); return; }
          resolve(blob);
        }, type, 0.92);
      });
    });
  }

  function prepare(file) {
    if (IMAGE_TYPES.indexOf(file.type) >= 0) {
      return redraw(file).then(function (blob) {
        return readBytes(blob).then(function (bytes) {
          return {
            name: file.name, mime: blob.type, data: toBase64(bytes),
            stripped: true, removed: ["redrawn in the browser: all metadata"]
          };
        });
      });
    }
    // PDFs cannot be cleaned here; recipients only ever see a copy cleaned on opening.
    return readBytes(file).then(function (bytes) {
      return { name: file.name, mime: file.type, data: toBase64(bytes), stripped: false, removed: [] };
    });
  }

  function attachSealed(form, sealed) {
    var input = document.createElement("input");
    input.type = "file";
    input.name = "sealed";
    input.hidden = true;
    var transfer = new DataTransfer();
    transfer.items.add(new File([sealed], "sealed.bin", { type: "application/octet-stream" }));
    input.files = transfer.files;
    form.appendChild(input);
  }

  Array.prototype.forEach.call(forms, function (form) {
    var note = form.querySelector("[data-seal-note]");
    var message = form.querySelector("textarea[name=message]");
    var fileInput = form.querySelector("input[type=file][name=files]");
    var language = form.querySelector("input[name=language]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    if (note) {
      note.textContent = form.getAttribute("data-text-js");
    }
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sealed") === "done") {
        return; // already sealed, or sealing failed and the person chose to send anyway
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      if (note) { note.textContent = form.getAttribute("data-text-sealing"); }
      var files = fileInput ? Array.prototype.slice.call(fileInput.files) : [];
      window.sodium.ready
        .then(function () { return Promise.all(files.map(prepare)); })
        .then(function (entries) {
          var payload = JSON.stringify({
            v: 1,
            language: language ? language.value : "en",
            message: message ? message.value.trim() : "",
            files: entries
          });
          var key = window.sodium.from_base64(
            form.getAttribute("data-seal-key"), window.sodium.base64_variants.ORIGINAL);
          var sealed = window.sodium.crypto_box_seal(window.sodium.from_string(payload), key);
          if (maxBytes && sealed.length > maxBytes) {
            throw new Error("too large");
          }
          attachSealed(form, sealed);
          // Nothing in the clear may leave: unnamed fields are not submitted.
          if (message) { message.removeAttribute("name"); }
          if (fileInput) { fileInput.removeAttribute("name"); }
          form.setAttribute("data-sealed", "done");
          form.submit();
        })
        .catch(function (error) {
          if (button) { button.disabled = false; }
          if (note) {
            note.textContent = error && error.message === "too large"
              ? form.getAttribute("data-text-too-large")
              : form.getAttribute("data-text-failed");
          }
          if (!(error && error.message === "too large")) {
            form.setAttribute("data-sealed", "done");
          }
        });
    });
  });
})();
