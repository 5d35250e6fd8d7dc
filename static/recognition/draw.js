/* Canvas page: predict on demand and live while drawing (the pad itself is pad.js). In text
   mode the canvas is wide, the strokes go with the image, and the characters' boxes are drawn
   over the drawing. */
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  const kind = document.getElementById("kind");
  const live = document.getElementById("live");
  const mode = document.getElementById("mode");
  const caseConsistency = document.getElementById("case-consistency");
  const TEXT_ASPECT = 3;      // width / height of the canvas in text mode
  const LIVE_DELAY_MS = 350;
  let liveTimer = null;
  let requestNumber = 0;      // the latest request wins; older answers are dropped
  let inFlight = null;

  const pad = hwrPad(canvas, {
    aspect: () => (mode.value === "text" ? TEXT_ASPECT : 1),
    onStroke: scheduleLivePredict,
  });
  const strokes = pad.strokes;

  function scheduleLivePredict() {
    if (!live.checked) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(predict, LIVE_DELAY_MS);
  }

  async function predict() {
    clearTimeout(liveTimer);
    if (!strokes.length) {
      hideResults();
      hwr.showError("Draw a character first.");
      return;
    }
    const number = ++requestNumber;
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const text = mode.value === "text";
    const body = { image: pad.exportPNG(), kind: kind.value };
    if (text) Object.assign(body, { multi: true, strokes: pad.exportStrokes(), case_consistency: caseConsistency.checked });
    try {
      const result = await hwr.postJSON("/submit", body, { signal: inFlight.signal });
      if (number !== requestNumber) return;
      if (text) {
        hwr.hideResult();
        hwrText.show(result);
        pad.setBoxes(result.characters);
      } else {
        hwrText.hide();
        hwr.showResult(result);
      }
    } catch (error) {
      if (error.name === "AbortError" || number !== requestNumber) return;
      hideResults();
      hwr.showError(`Could not recognise the drawing: ${error.message}`);
    }
  }

  function hideResults() {
    hwr.hideResult();
    hwrText.hide();
  }

  function setMode() {
    const text = mode.value === "text";
    document.getElementById("workspace").classList.toggle("text-mode", text);
    document.getElementById("case-option").hidden = !text;
    canvas.setAttribute("aria-label", text
      ? "Drawing area: write several characters in a row with the mouse, a finger or a pen"
      : "Drawing area: draw one character with the mouse, a finger or a pen");
    clear();
    pad.resize();
  }

  function undo() {
    pad.undo();
    if (strokes.length) scheduleLivePredict(); else clear();
  }

  function clear() {
    pad.clear();
    requestNumber++;
    if (inFlight) inFlight.abort();
    clearTimeout(liveTimer);
    hideResults();
    hwr.showError("");
  }

  document.getElementById("predict").addEventListener("click", predict);
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("clear").addEventListener("click", clear);
  kind.addEventListener("change", () => { if (strokes.length) predict(); });
  mode.addEventListener("change", setMode);
  caseConsistency.addEventListener("change", () => { if (strokes.length) predict(); });
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Enter") predict();
    if (event.key === "Escape") clear();
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); }
  });
  pad.resize();

  window.hwrDrawing = { strokes };
})();
