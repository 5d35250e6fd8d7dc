/* Canvas page: draw with mouse, finger or pen; predict on demand and live while drawing.
   Strokes are kept as points {x, y, t} (x, y as fractions of the canvas, t in ms since the
   first point), so the drawing can be redrawn at any size, undone, and sent later as data.
   In text mode the canvas is wide, the strokes go with the image, and the characters' boxes
   are drawn over the drawing. */
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const kind = document.getElementById("kind");
  const live = document.getElementById("live");
  const mode = document.getElementById("mode");
  const caseConsistency = document.getElementById("case-consistency");
  const LINE_WIDTH = 0.07;    // of the canvas height: about MNIST's pen for a character filling it
  const TEXT_ASPECT = 3;      // width / height of the canvas in text mode
  const LIVE_DELAY_MS = 350;
  const SEND_SIDE = 280;      // a fixed size keeps requests small on high-density screens
  const strokes = [];
  let current = null;
  let startTime = null;
  let liveTimer = null;
  let requestNumber = 0;      // the latest request wins; older answers are dropped
  let inFlight = null;
  let boxes = [];             // text mode: the characters' boxes, in pixels of the sent image

  const aspect = () => (mode.value === "text" ? TEXT_ASPECT : 1);

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.getBoundingClientRect().width * ratio);
    const height = Math.round(width / aspect());
    if (width > 0 && (canvas.width !== width || canvas.height !== height)) {
      canvas.width = width;
      canvas.height = height;
      redraw();
    }
  }

  function redraw() {
    paint(context, canvas.width, canvas.height);
    drawBoxes();
  }

  function paint(target, width, height) {
    target.fillStyle = "#fff";
    target.fillRect(0, 0, width, height);
    target.strokeStyle = target.fillStyle = "#000";
    target.lineWidth = LINE_WIDTH * height;
    target.lineCap = target.lineJoin = "round";
    for (const stroke of strokes) drawStroke(target, stroke, width, height);
  }

  function drawBoxes() {
    const scale = canvas.height / SEND_SIDE;
    const pad = LINE_WIDTH * canvas.height / 2;   // the boxes hold stroke centres: add the pen
    context.save();
    context.strokeStyle = "#2b59c3";
    context.fillStyle = "#2b59c3";
    context.lineWidth = Math.max(1, canvas.height / 200);
    context.font = `${Math.round(canvas.height / 12)}px sans-serif`;
    for (const { box, label } of boxes) {
      const [left, top, right, bottom] = box.map((value) => value * scale);
      context.strokeRect(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad);
      context.fillText(label, left - pad, Math.max(top - pad - 4, canvas.height / 12));
    }
    context.restore();
  }

  /* The image sent to the server: always SEND_SIDE pixels high, whatever the screen. */
  function exportPNG() {
    const out = document.createElement("canvas");
    out.height = SEND_SIDE;
    out.width = SEND_SIDE * aspect();
    paint(out.getContext("2d"), out.width, out.height);
    return out.toDataURL("image/png");
  }

  /* The strokes in pixels of the sent image, with their timing: [[x, y, t], ...] each. */
  function exportStrokes() {
    const width = SEND_SIDE * aspect();
    return strokes.map((stroke) => stroke.map((p) => [
      Math.round(p.x * width * 10) / 10, Math.round(p.y * SEND_SIDE * 10) / 10, p.t]));
  }

  /* Quadratic curves through the midpoints between samples: smooth without lag. */
  function drawStroke(target, points, width, height) {
    const at = (p) => [p.x * width, p.y * height];
    if (points.length === 1) {
      const [x, y] = at(points[0]);
      target.beginPath();
      target.arc(x, y, target.lineWidth / 2, 0, 2 * Math.PI);
      target.fill();
      return;
    }
    target.beginPath();
    target.moveTo(...at(points[0]));
    for (let i = 1; i < points.length - 1; i++) {
      const [x, y] = at(points[i]);
      const [nx, ny] = at(points[i + 1]);
      target.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
    }
    target.lineTo(...at(points[points.length - 1]));
    target.stroke();
  }

  function pointFrom(event) {
    const box = canvas.getBoundingClientRect();
    if (startTime === null) startTime = event.timeStamp;
    return {
      x: Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1),
      y: Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1),
      t: Math.round(event.timeStamp - startTime),
    };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [pointFrom(event)];
    strokes.push(current);
    boxes = [];
    redraw();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) current.push(pointFrom(each));
    redraw();
    scheduleLivePredict();
  });

  function endStroke() {
    if (!current) return;
    current = null;
    scheduleLivePredict();
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

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
    const body = { image: exportPNG(), kind: kind.value };
    if (text) Object.assign(body, { multi: true, strokes: exportStrokes(), case_consistency: caseConsistency.checked });
    try {
      const result = await hwr.postJSON("/submit", body, { signal: inFlight.signal });
      if (number !== requestNumber) return;
      if (text) {
        hwr.hideResult();
        hwrText.show(result);
        boxes = result.characters;
        redraw();
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
    boxes = [];
  }

  function setMode() {
    const text = mode.value === "text";
    document.getElementById("workspace").classList.toggle("text-mode", text);
    document.getElementById("case-option").hidden = !text;
    canvas.setAttribute("aria-label", text
      ? "Drawing area: write several characters in a row with the mouse, a finger or a pen"
      : "Drawing area: draw one character with the mouse, a finger or a pen");
    clear();
    resize();
  }

  function undo() {
    strokes.pop();
    boxes = [];
    redraw();
    if (strokes.length) scheduleLivePredict(); else clear();
  }

  function clear() {
    strokes.length = 0;
    startTime = null;
    requestNumber++;
    if (inFlight) inFlight.abort();
    clearTimeout(liveTimer);
    hideResults();
    redraw();
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
  window.addEventListener("resize", resize);
  resize();
  redraw();

  window.hwrDrawing = { strokes };
})();
