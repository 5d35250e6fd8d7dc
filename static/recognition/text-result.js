/* The answer panel for a word or a number (recognition/_text_result.html), on the draw and
   upload pages: the reading in one field to confirm or correct, the model's other readings to
   tap and each character as the model saw it; the field is saved as the word's answer
   (POST /feedback/word). */
import { postJSON, sentence, showError } from "../js/api.js";
import { closeCall } from "./character-result.js";

const $ = (id) => document.getElementById(id);
const field = $("text-answer");
let current = null;
let storeShown = null;      // for a preview: stores it and resolves to the stored result

/* result: what /submit or /upload answered; a preview (no word_id) is stored through `store`
   before its answer is sent. */
export function show(result, { store = null } = {}) {
  showError("");
  current = result;
  storeShown = store;
  $("text-result").hidden = false;
  $("text-result").classList.remove("stale");
  setNote("");
  field.value = result.text;
  field.setAttribute("inputmode", result.kind === "digit" ? "numeric" : "text");
  const readings = result.candidates || [];
  $("text-candidates").replaceChildren(...readings.map(reading));
  $("text-readings").hidden = readings.length < 2;
  $("text-characters").replaceChildren(...result.characters.map(card));
  $("text-save").disabled = false;
  update();
}

/* One of the model's whole readings: tapping it puts it in the field. */
function reading(candidate) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reading";
  button.dataset.text = candidate.text;
  const text = document.createElement("b");
  text.textContent = candidate.text;
  const share = document.createElement("span");
  share.className = "pct";
  share.textContent = `${(candidate.confidence * 100).toFixed(0)} %`;
  button.append(text, share);
  button.setAttribute("aria-label", `${candidate.text} (${share.textContent})`);
  button.addEventListener("click", () => { field.value = candidate.text; update(); });
  item.append(button);
  return item;
}

/* A character as the model saw it, with its next guesses: tapping one puts it in its place
   in the field (while the field has one character per card). */
function card(character) {
  const item = document.createElement("li");
  const image = document.createElement("img");
  image.src = character.normalized_image;
  image.width = image.height = 42;
  image.alt = `Character ${character.position + 1} as the model saw it`;
  const label = document.createElement("b");
  label.textContent = character.label;
  const confidence = document.createElement("span");
  const close = closeCall(character.top3);
  confidence.textContent = close ? `${close[0].label} or ${close[1].label}?`
    : `${(character.confidence * 100).toFixed(0)} %`;
  const alternatives = document.createElement("span");
  alternatives.className = "alternatives";
  for (const entry of character.top3.slice(1)) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = entry.label;
    button.setAttribute("aria-label", `It was ${entry.label} (character ${character.position + 1})`);
    button.addEventListener("click", () => {
      const letters = [...field.value];
      letters[character.position] = entry.label;
      field.value = letters.join("");
      update();
    });
    alternatives.append(button);
  }
  item.append(image, label, confidence, alternatives);
  return item;
}

/* The field stands out once edited; the button says what it will save; a reading that is in
   the field is shown pressed; a character's guesses fit only while the lengths match. */
function update() {
  const changed = field.value.trim() !== current.text;
  field.classList.toggle("edited", changed);
  field.removeAttribute("aria-invalid");
  $("text-save").textContent = changed ? "Save correction" : "All correct";
  for (const button of $("text-candidates").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.text === field.value.trim()));
  }
  const aligned = [...field.value].length === current.characters.length;
  for (const button of $("text-characters").querySelectorAll("button")) button.disabled = !aligned;
  setStatus("", "");
}

field.addEventListener("input", () => { if (current) update(); });

export function hide() {
  current = null;
  storeShown = null;
  $("text-result").hidden = true;
}

function setNote(text) {
  $("text-note").textContent = text;
  $("text-note").hidden = !text;
}

/* The drawing changed since this answer: grey it out and say so. */
export function markStale(text) {
  if ($("text-result").hidden) return;
  $("text-result").classList.add("stale");
  setNote(text);
}

function setStatus(message, tone) {
  $("text-status").textContent = message;
  $("text-status").className = tone;
}

$("text-feedback").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = current;
  if (!result) return;
  const text = field.value.trim();   // a space a phone keyboard added is not part of the word
  $("text-save").disabled = true;
  setStatus("Saving…", "");
  let refusedText = false;    // the server refused the text itself (not the drawing)
  try {
    if (!result.word_id) {
      if (!storeShown) throw new Error("this answer was not kept: predict again");
      const stored = await storeShown();
      Object.assign(result, { word_id: stored.word_id, text: stored.text, characters: stored.characters });
    }
    const saved = await postJSON("/feedback/word", { word_id: result.word_id, text })
      .catch((error) => { refusedText = error.status === 400; throw error; });
    if (result !== current) return;
    setStatus(saved.feedback.is_correct ? `Thanks! Saved as correct: “${text}”.`
      : `Thanks! Saved: you wrote “${text}”.`, "ok");
  } catch (error) {
    setStatus(sentence(`could not save your answer: ${error.message}`), "bad");
    if (refusedText) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  } finally {
    $("text-save").disabled = false;
  }
});
