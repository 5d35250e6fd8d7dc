/* Upload page: preview the chosen file, send it with the kind (and, in text mode, as several
   characters in a row), show the answer. */
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("image");
  const preview = document.getElementById("preview");
  const button = document.getElementById("predict");
  const mode = document.getElementById("mode");
  const caseConsistency = document.getElementById("case-consistency");

  function hideResults() {
    hwr.hideResult();
    hwrText.hide();
    hwr.showError("");
  }

  input.addEventListener("change", () => {
    hideResults();
    const file = input.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });

  mode.addEventListener("change", () => {
    const text = mode.value === "text";
    document.getElementById("case-option").hidden = !text;
    document.getElementById("text-hint").hidden = !text;
    hideResults();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files[0]) { hwr.showError("Choose an image first."); return; }
    const text = mode.value === "text";
    const body = new FormData();
    body.append("image", input.files[0]);
    body.append("kind", document.getElementById("kind").value);
    if (text) {
      body.append("multi", "true");
      body.append("case_consistency", caseConsistency.checked ? "true" : "false");
    }
    button.disabled = true;
    try {
      const result = await hwr.postJSON(form.action, body);
      hideResults();
      if (text) hwrText.show(result); else hwr.showResult(result);
    } catch (error) {
      hideResults();
      hwr.showError(`Could not recognise the image: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
})();
