/* A drawing pad on a canvas, shared by the draw and challenge pages: draw with mouse, finger or
   pen. Strokes are kept as points {x, y, t} (x, y as fractions of the canvas, t in ms since
   the first point), so the drawing can be redrawn at any size, undone, and sent as data.
   createPad(canvas, {aspect, onStroke, pen}) -> the pad; onStroke runs while and after
   drawing; pen() gives the pen's width as a fraction of the canvas height. The image sent is
   always black on white; on screen the canvas takes the page's colours (--paper, --pen). */
import { drawCharacters } from "./boxes.js";

const LINE_WIDTH = 0.07;    // of the canvas height: about MNIST's pen for a character filling it
const SENT_COLOURS = { paper: "#fff", pen: "#000" };
const SEND_SIDE = 280;      // a fixed size keeps requests small on high-density screens
const BOX_COLOUR = "#4a74e0";

export function createPad(canvas, { aspect = () => 1, onStroke = () => {}, pen = () => LINE_WIDTH } = {}) {
  const context = canvas.getContext("2d");
  let screenColours = SENT_COLOURS;
  const strokes = [];
  let current = null;
  let startTime = null;
  let boxes = [];           // characters' boxes ({box, label}), in pixels of the sent image

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

  function readColours() {
    const style = getComputedStyle(canvas);
    const paper = style.getPropertyValue("--paper").trim();
    const ink = style.getPropertyValue("--pen").trim();
    screenColours = paper && ink ? { paper, pen: ink } : SENT_COLOURS;
    redraw();
  }

  function redraw() {
    paint(context, canvas.width, canvas.height, screenColours);
    drawCharacters(context, boxes, {
      colour: BOX_COLOUR,
      lineWidth: Math.max(1, canvas.height / 200),
      fontSize: Math.round(canvas.height / 12),
      scale: canvas.height / SEND_SIDE,
      margin: pen() * canvas.height / 2,   // the boxes hold stroke centres: add the pen
      labelPlace: "above",
    });
  }

  function paint(target, width, height, colours) {
    target.fillStyle = colours.paper;
    target.fillRect(0, 0, width, height);
    target.strokeStyle = target.fillStyle = colours.pen;
    target.lineWidth = pen() * height;
    target.lineCap = target.lineJoin = "round";
    for (const stroke of strokes) drawStroke(target, stroke, width, height);
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

  /* The image sent to the server: always SEND_SIDE pixels high, whatever the screen. */
  function exportPNG() {
    const out = document.createElement("canvas");
    out.height = SEND_SIDE;
    out.width = SEND_SIDE * aspect();
    paint(out.getContext("2d"), out.width, out.height, SENT_COLOURS);
    return out.toDataURL("image/png");
  }

  /* The strokes in pixels of the sent image, with their timing: [[x, y, t], ...] each. */
  function exportStrokes() {
    const width = SEND_SIDE * aspect();
    return strokes.map((stroke) => stroke.map((p) => [
      Math.round(p.x * width * 10) / 10, Math.round(p.y * SEND_SIDE * 10) / 10, p.t]));
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
    onStroke();
  });

  function endStroke() {
    if (!current) return;
    current = null;
    onStroke();
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  window.addEventListener("resize", resize);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", readColours);
  readColours();

  return {
    get isEmpty() { return strokes.length === 0; },
    resize,
    redraw,
    exportPNG,
    exportStrokes,
    setBoxes(next) { boxes = next; redraw(); },
    undo() { strokes.pop(); boxes = []; redraw(); },
    clear() { strokes.length = 0; startTime = null; boxes = []; redraw(); },
  };
}
