/* Canvas page: predict on demand and live while drawing (the pad itself is pad.js). In text
   mode the canvas is wide, the strokes go with the image, and the characters' boxes are drawn
   over the drawing.

   Live answers are previews: the server stores nothing. The drawing is stored when the person
   acts on it: predicts explicitly, answers (yes, a tapped guess, a correction), or leaves the
   page with an answer on screen that still matches the drawing. */
import { postJSON, showError } from "../js/api.js";
import * as characterResult from "./character-result.js";
import { createPad } from "./pad.js";
import * as textResult from "./text-result.js";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const kind = $("kind");
const live = $("live");
const mode = $("mode");
const pen = $("pen");
const caseConsistency = $("case-consistency");
const labelsByKind = JSON.parse($("labels-by-kind").textContent);
const PEN_WIDTHS = { fine: 0.035, normal: 0.07, bold: 0.1 };   // of the canvas height
const LIVE_DELAY_MS = 350;
const BUSY_DELAY_MS = 150;  // quicker answers show no spinner
// Characters the digit-or-letter model cannot tell apart from their look-alikes: no hint then.
const LOOKALIKES = ["0Oo", "1lIi", "2Zz", "5Ss", "6b", "8B", "9gq"];
let liveTimer = null;
let busyTimer = null;
let requestNumber = 0;      // the latest request wins; older answers are dropped
let inFlight = null;
let shown = null;           // the answer on screen: {body, result, storing, current}
let drawingVersion = 0;     // counts changes to the drawing: an answer to an older one is stale

const pad = createPad(canvas, {
  aspect: canvasAspect,
  onStroke: drawingChanged,
  pen: () => PEN_WIDTHS[pen.value] || PEN_WIDTHS.normal,
});

/* The canvas's shape is the stylesheet's (square, or wide in text mode). */
function canvasAspect() {
  const ratio = parseFloat(getComputedStyle(canvas).aspectRatio);
  return ratio > 0 ? ratio : 1;
}

function drawingChanged() {
  drawingVersion++;
  if (shown && shown.current) {
    shown.current = false;
    characterResult.markStale(staleText());
    textResult.markStale(staleText());
  }
  scheduleLivePredict();
}

function staleText() {
  return live.checked ? "The drawing changed: reading it again…" : "The drawing changed: press Predict for a new answer.";
}

function scheduleLivePredict() {
  if (!live.checked) return;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => predict({ preview: true }), LIVE_DELAY_MS);
}

function requestBody(preview) {
  const body = { image: pad.exportPNG(), kind: kind.value };
  if (mode.value === "text") {
    Object.assign(body, { multi: true, strokes: pad.exportStrokes(), case_consistency: caseConsistency.checked });
  }
  if (preview) body.preview = true;
  return body;
}

/* Store an answer shown as a preview (once, however often it is asked for). */
function store(entry, options = {}) {
  if (!entry.storing) {
    const body = Object.assign({}, entry.body);
    delete body.preview;
    entry.storing = postJSON("/submit", body, options);
    entry.storing.catch(() => { entry.storing = null; });
  }
  return entry.storing;
}

async function predict({ preview = false } = {}) {
  clearTimeout(liveTimer);
  if (pad.isEmpty) {
    hideResults();
    showError("Draw a character first.");
    return;
  }
  const number = ++requestNumber;
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  const { signal } = inFlight;
  const body = requestBody(preview);
  const version = drawingVersion;
  const text = Boolean(body.multi);
  // Would the digit-or-letter model read it as a character of another kind? (a preview: free)
  const check = text || body.kind === "any" ? null
    : postJSON("/submit", { image: body.image, kind: "any", preview: true }, { signal }).catch(() => null);
  setBusy(true);
  try {
    const result = await postJSON("/submit", body, { signal });
    if (number !== requestNumber) return;
    const current = version === drawingVersion;   // not drawn on while it was read
    const entry = { body, result, storing: preview ? null : Promise.resolve(result), current };
    shown = entry;
    const options = { store: () => store(entry) };
    if (text) {
      characterResult.hide();
      textResult.show(result, options);
      if (current) pad.setBoxes(result.characters);
    } else {
      textResult.hide();
      characterResult.show(result, options);
    }
    if (!current) {
      characterResult.markStale(staleText());
      textResult.markStale(staleText());
    } else if (check) {
      showKindHint(result, await check, number);
    }
  } catch (error) {
    if (error.name === "AbortError" || number !== requestNumber) return;
    hideResults();
    showError(`could not read the drawing: ${error.message}`);
  } finally {
    if (number === requestNumber) setBusy(false);
  }
}

/* "This looks more like the digit 7: not a letter?" when the kind asked for does not fit. */
function showKindHint(result, check, number) {
  if (!check || number !== requestNumber || !shown || !shown.current) return;
  const other = check.label;
  if (labelsByKind[result.kind].includes(other) || check.confidence < 0.75) return;
  if (LOOKALIKES.some((group) => group.includes(other) && group.includes(result.label))) return;
  const what = /[0-9]/.test(other) ? `the digit ${other}` : `the letter ${other}`;
  const not = result.kind === "digit" ? "not a digit" : "not a letter";
  characterResult.setNote(`This looks more like ${what}: ${not}?`, {
    label: "Read as digit or letter",
    onClick: () => { kind.value = "any"; kindChanged(); },
  });
}

function setBusy(on) {
  clearTimeout(busyTimer);
  if (on) {
    busyTimer = setTimeout(() => { $("busy").hidden = false; $("workspace").setAttribute("aria-busy", "true"); }, BUSY_DELAY_MS);
  } else {
    $("busy").hidden = true;
    $("workspace").removeAttribute("aria-busy");
  }
}

function hideResults() {
  shown = null;
  characterResult.hide();
  textResult.hide();
}

function showCaseOption() {
  $("case-option").hidden = mode.value !== "text" || kind.value === "digit";
}

function setMode() {
  const text = mode.value === "text";
  $("workspace").classList.toggle("text-mode", text);
  $("draw-heading").textContent = text ? "Write a word or number" : "Draw a character";
  showCaseOption();
  canvas.setAttribute("aria-label", text
    ? "Drawing area: write several characters in a row with the mouse, a finger or a pen"
    : "Drawing area: draw one character with the mouse, a finger or a pen");
  clear();
  pad.resize();
}

function kindChanged() {
  showCaseOption();
  if (!pad.isEmpty) predict({ preview: true });
}

function undo() {
  pad.undo();
  if (!pad.isEmpty) drawingChanged(); else clear();
}

function clear() {
  pad.clear();
  requestNumber++;
  if (inFlight) inFlight.abort();
  clearTimeout(liveTimer);
  setBusy(false);
  hideResults();
  showError("");
}

/* Keys typed in a field (the correction boxes) are the field's, never the drawing's. */
function typingInField(event) {
  const target = event.target;
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

$("predict").addEventListener("click", () => predict());
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clear);
kind.addEventListener("change", kindChanged);
mode.addEventListener("change", setMode);
pen.addEventListener("change", () => { pad.redraw(); if (!pad.isEmpty) drawingChanged(); });
caseConsistency.addEventListener("change", () => { if (!pad.isEmpty) predict({ preview: true }); });
canvas.addEventListener("keydown", (event) => {
  if (event.key === "Enter") predict();
  if (event.key === "Escape") clear();
});
document.addEventListener("keydown", (event) => {
  if (typingInField(event)) return;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); undo(); }
});
// Leaving (or hiding: a phone may never come back) with an answer on screen for this very
// drawing: that answer was final, keep it.
function keepFinalAnswer() {
  if (shown && shown.current && !shown.storing) store(shown, { keepalive: true });
}
window.addEventListener("pagehide", keepFinalAnswer);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") keepFinalAnswer(); });
pad.resize();

