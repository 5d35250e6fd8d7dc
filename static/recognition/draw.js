/* Canvas page: draw with mouse, finger or pen; predict on demand and live while drawing.
   Strokes are kept as points {x, y, t} (x, y as fractions of the canvas, t in ms since the
   first point), so the drawing can be redrawn at any size, undone, and sent later as data. */
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const kind = document.getElementById("kind");
  const live = document.getElementById("live");
  const LINE_WIDTH = 0.045;   // of the canvas side: the same look at any size
  const LIVE_DELAY_MS = 350;
  const strokes = [];
  let current = null;
  let startTime = null;
  let liveTimer = null;
  let requestNumber = 0;      // the latest request wins; older answers are dropped
  let inFlight = null;

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const side = Math.round(canvas.getBoundingClientRect().width * ratio);
    if (side > 0 && canvas.width !== side) {
      canvas.width = canvas.height = side;
      redraw();
    }
  }

  function redraw() {
    const side = canvas.width;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, side, side);
    context.strokeStyle = context.fillStyle = "#000";
    context.lineWidth = LINE_WIDTH * side;
    context.lineCap = context.lineJoin = "round";
    for (const stroke of strokes) drawStroke(stroke, side);
  }

  /* Quadratic curves through the midpoints between samples: smooth without lag. */
  function drawStroke(points, side) {
    const at = (p) => [p.x * side, p.y * side];
    if (points.length === 1) {
      const [x, y] = at(points[0]);
      context.beginPath();
      context.arc(x, y, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(...at(points[0]));
    for (let i = 1; i < points.length - 1; i++) {
      const [x, y] = at(points[i]);
      const [nx, ny] = at(points[i + 1]);
      context.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
    }
    context.lineTo(...at(points[points.length - 1]));
    context.stroke();
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
      hwr.hideResult();
      hwr.showError("Draw a character first.");
      return;
    }
    const number = ++requestNumber;
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    try {
      const result = await hwr.postJSON("/submit",
        { image: canvas.toDataURL("image/png"), kind: kind.value }, { signal: inFlight.signal });
      if (number === requestNumber) hwr.showResult(result);
    } catch (error) {
      if (error.name === "AbortError" || number !== requestNumber) return;
      hwr.hideResult();
      hwr.showError(`Could not recognise the drawing: ${error.message}`);
    }
  }

  function undo() {
    strokes.pop();
    redraw();
    if (strokes.length) scheduleLivePredict(); else clear();
  }

  function clear() {
    strokes.length = 0;
    startTime = null;
    requestNumber++;
    if (inFlight) inFlight.abort();
    clearTimeout(liveTimer);
    redraw();
    hwr.hideResult();
    hwr.showError("");
  }

  document.getElementById("predict").addEventListener("click", predict);
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("clear").addEventListener("click", clear);
  kind.addEventListener("change", () => { if (strokes.length) predict(); });
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
