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
  const boxes = document.getElementById("preview-boxes");

  function hideResults() {
    hwr.hideResult();
    hwrText.hide();
    hwr.showError("");
    drawBoxes([]);
  }

  /* Each character found, boxed and labelled over the preview; the canvas has the image's own
     size, so the boxes (in its pixels) need no scaling and CSS fits both to the page. */
  function drawBoxes(characters) {
    boxes.width = preview.naturalWidth || 1;
    boxes.height = preview.naturalHeight || 1;
    boxes.dataset.count = characters.length;
    const context = boxes.getContext("2d");
    const line = Math.max(1, boxes.height / 150);
    context.strokeStyle = context.fillStyle = "#2b59c3";
    context.lineWidth = line;
    const size = Math.round(Math.max(12, boxes.height / 10));
    context.font = `${size}px sans-serif`;
    context.textBaseline = "top";
    for (const { box: [left, top, right, bottom], label } of characters) {
      context.strokeRect(left - line, top - line, right - left + 2 * line, bottom - top + 2 * line);
      const below = bottom + 2 * line;  // the label under its box, or above it at the bottom edge
      context.fillText(label, left, below + size <= boxes.height ? below : Math.max(0, top - size - 2 * line));
    }
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
      if (text) {
        hwrText.show(result);
        drawBoxes(result.characters);
      } else {
        hwr.showResult(result);
      }
    } catch (error) {
      hideResults();
      hwr.showError(`Could not recognise the image: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
})();
