/* Upload page: preview the chosen file, send it with the kind, show the answer. */
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("image");
  const preview = document.getElementById("preview");
  const button = document.getElementById("predict");

  input.addEventListener("change", () => {
    hwr.hideResult();
    hwr.showError("");
    const file = input.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files[0]) { hwr.showError("Choose an image first."); return; }
    const body = new FormData();
    body.append("image", input.files[0]);
    body.append("kind", document.getElementById("kind").value);
    button.disabled = true;
    try {
      hwr.showResult(await hwr.postJSON(form.action, body));
    } catch (error) {
      hwr.hideResult();
      hwr.showError(`Could not recognise the image: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
})();
