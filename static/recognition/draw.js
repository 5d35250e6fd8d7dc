/* Canvas page: draw with mouse, finger or pen; predict on demand and live while drawing.
   Strokes are kept as points {x, y, t} (x, y as fractions of the canvas, t in ms since the
   first point), so the drawing can be redrawn at any size, undone, and sent later as data. */
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const kind = document.getElementById("kind");
  const live = document.getElementById("live");
  const LINE_WIDTH = 0.07;    // of the canvas side: about MNIST's pen for a character filling it
  const LIVE_DELAY_MS = 350;
  const SEND_SIDE = 280;      // a fixed size keeps requests small on high-density screens
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
    paint(context, canvas.width);
  }

  function paint(target, side) {
    target.fillStyle = "#fff";
    target.fillRect(0, 0, side, side);
    target.strokeStyle = target.fillStyle = "#000";
    target.lineWidth = LINE_WIDTH * side;
    target.lineCap = target.lineJoin = "round";
    for (const stroke of strokes) drawStroke(target, stroke, side);
  }

  /* The image sent to the server: always SEND_SIDE pixels square, whatever the screen. */
  function exportPNG() {
    const out = document.createElement("canvas");
    out.width = out.height = SEND_SIDE;
    paint(out.getContext("2d"), SEND_SIDE);
    return out.toDataURL("image/png");
  }

  /* Quadratic curves through the midpoints between samples: smooth without lag. */
  function drawStroke(target, points, side) {
    const at = (p) => [p.x * side, p.y * side];
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
        { image: exportPNG(), kind: kind.value }, { signal: inFlight.signal });
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
