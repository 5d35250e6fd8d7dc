/* The answer panel for one character (recognition/_result.html), on the draw and upload pages:
   the reading, the guesses to tap, what the model saw, and the person's answer on it, saved as
   the sample's feedback. */
import { postJSON, sentence, showError } from "../js/api.js";

const $ = (id) => document.getElementById(id);
const labelsByKind = JSON.parse($("labels-by-kind").textContent);
// Top two closer than this: the answer is shown as a question ("9 or g?").
const CLOSE_CALL = 0.2;
let currentSample = null;
let storeShown = null;      // for a preview: stores it and resolves to the stored result

const percent = (p) => `${(p * 100).toFixed(1)} %`;

/* The top two, when they are too close to call. */
export function closeCall(top) {
  return top.length > 1 && top[0].probability - top[1].probability < CLOSE_CALL ? top.slice(0, 2) : null;
}

/* result: what /submit or /upload answered (a preview has no sample_id: then `store`, when
   given, is called to store it before feedback is sent). */
export function show(result, { store = null } = {}) {
  showError("");
  currentSample = result;
  storeShown = store;
  $("result").hidden = false;
  $("result").classList.remove("stale");
  const close = closeCall(result.top5);
  $("result-label").textContent = close ? `${close[0].label} or ${close[1].label}?` : result.label;
  $("result-confidence").textContent = close
    ? "Too close to call: tap the one you wrote."
    : result.confidence < 0.6 ? `Not sure: ${percent(result.confidence)}` : `${percent(result.confidence)} sure`;
  showCase(result);
  setNote("");
  $("result-seen").src = result.normalized_image;
  $("result-bars").replaceChildren(...result.top5.map((entry) => candidate(entry, close)));
  resetFeedback(result.kind, close);
}

/* "a or A, either case": only for a letter whose other case really shares the answer. */
function showCase(result) {
  const ci = result.case_insensitive;
  const other = result.label.toLowerCase() === result.label ? result.label.toUpperCase() : result.label.toLowerCase();
  const shown = ci && other !== result.label && ci.label.toUpperCase() === result.label.toUpperCase() &&
    ci.probability - result.confidence >= 0.05;
  $("result-case").hidden = !shown;
  if (shown) $("result-case").textContent = `“${result.label}” or “${other}”, either case: ${percent(ci.probability)}`;
}

function candidate(entry, close) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "candidate";
  if (close && close.some((each) => each.label === entry.label)) button.classList.add("close");
  button.dataset.label = entry.label;
  button.innerHTML = '<b></b><span class="track"><span class="fill"></span></span><span class="pct"></span>';
  button.querySelector("b").textContent = entry.label;
  button.querySelector(".fill").style.width = `${Math.max(entry.probability * 100, 1)}%`;
  button.querySelector(".pct").textContent = percent(entry.probability);
  button.setAttribute("aria-label", `It was ${entry.label} (${percent(entry.probability)})`);
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => sendAnswer(entry.label));
  item.append(button);
  return item;
}

export function hide() {
  currentSample = null;
  storeShown = null;
  $("result").hidden = true;
}

/* A short remark under the answer, with an optional button ({label, onClick}). */
export function setNote(text, action) {
  const note = $("result-note");
  note.textContent = text;
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action.label;
    button.addEventListener("click", action.onClick);
    note.append(" ", button);
  }
  note.hidden = !text;
}

/* The drawing changed since this answer: grey it out and say so. */
export function markStale(text) {
  if ($("result").hidden) return;
  $("result").classList.add("stale");
  setNote(text);
}

function feedbackButtons() {
  return document.querySelectorAll("#feedback button, #result-bars button");
}

/* In a close call there is no single answer to say yes to: the guesses are the question. */
function resetFeedback(kind, close) {
  $("feedback-ask").hidden = false;
  $("feedback-right").hidden = $("feedback-yes").hidden = Boolean(close);
  $("feedback-no").textContent = close ? "Neither" : "No";
  $("feedback-tap").textContent = close ? "tap the one you wrote above, or" : "or tap a guess";
  $("feedback-tap").classList.toggle("first", Boolean(close));
  $("feedback-correct").hidden = true;
  $("feedback-label").value = "";
  $("feedback-label").removeAttribute("aria-invalid");
  $("feedback-label").inputMode = kind === "digit" ? "numeric" : "text";
  $("feedback-valid").textContent = describeLabels(kind);
  setFeedbackStatus("", "");
  for (const button of feedbackButtons()) button.disabled = false;
}

function describeLabels(kind) {
  return { digit: "a digit, 0 to 9", letter: "a letter, A to Z or a to z",
    any: "a digit or a letter, 0 to 9, A to Z or a to z" }[kind] || labelsByKind[kind];
}

function setFeedbackStatus(message, tone) {
  $("feedback-status").textContent = message;
  $("feedback-status").className = tone;
}

/* The person says what they wrote (the shown answer, a tapped guess or a typed one). */
async function sendAnswer(label) {
  const shown = currentSample;
  for (const button of feedbackButtons()) button.disabled = true;
  setFeedbackStatus("Saving…", "");
  try {
    if (!shown.sample_id) {
      if (!storeShown) throw new Error("this answer was not kept: predict again");
      const stored = await storeShown();
      Object.assign(shown, { sample_id: stored.sample_id, label: stored.label });
    }
    const isCorrect = label === shown.label;
    await postJSON("/feedback", { sample_id: shown.sample_id, is_correct: isCorrect,
      correct_label: isCorrect ? "" : label });
    if (shown !== currentSample) return;
    $("feedback-ask").hidden = true;
    $("feedback-correct").hidden = true;
    for (const button of $("result-bars").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.label === label));
    }
    setFeedbackStatus(isCorrect ? `Thanks! Saved as correct: “${label}”.` : `Thanks! Saved: you wrote “${label}”.`, "ok");
  } catch (error) {
    setFeedbackStatus(sentence(`could not save your answer: ${error.message}`), "bad");
  } finally {
    for (const button of feedbackButtons()) button.disabled = false;
  }
}

$("feedback-yes").addEventListener("click", () => sendAnswer(currentSample.label));
$("feedback-no").addEventListener("click", () => {
  $("feedback-ask").hidden = true;
  $("feedback-correct").hidden = false;
  $("feedback-label").focus();
});
$("feedback-label").addEventListener("input", () => {
  $("feedback-label").removeAttribute("aria-invalid");
  setFeedbackStatus("", "");
});
$("feedback-correct").addEventListener("submit", (event) => {
  event.preventDefault();
  const label = $("feedback-label").value.trim();
  const kind = currentSample.kind;
  if (label.length !== 1 || !labelsByKind[kind].includes(label)) {
    $("feedback-label").setAttribute("aria-invalid", "true");
    setFeedbackStatus(label
      ? `“${label}” is not one of the characters this model knows: type ${describeLabels(kind)}.`
      : `Type what you wrote: ${describeLabels(kind)}.`, "bad");
    $("feedback-label").focus();
    return;
  }
  sendAnswer(label);
});
