/* The review queue: one item at a time, decided with a key; the next items are fetched ahead
   (with their images), and decisions are sent in order in the background, so a key press
   never waits for the server. An item is a character (a sample: `sample_id`, labelled with one
   key) or a word (`word_id`, whose text is edited in a field). */
import { getJSON, postJSON } from "../js/api.js";

const config = JSON.parse(document.getElementById("review-config").textContent);
const $ = (id) => document.getElementById(id);
const PREFETCH = 5;
const REFILL_BELOW = 3;
const MAX_EXCLUDED = 250;

let current = null;          // the item on screen
let pending = [];            // fetched, not shown yet
const excluded = [];         // ids decided or skipped in this visit (not to be fetched again)
let fetching = null;
let exhausted = false;
let sending = Promise.resolve();
let unsent = 0;

// Every request of the page waits for the one before: decisions are applied in the order
// they were taken, and the items fetched next know about them.
function inLine(task) {
  const result = sending.then(task);
  sending = result.then(() => undefined, () => undefined);
  return result;
}

const isWord = (item) => Boolean(item.word_id);
const idOf = (item) => item.word_id || item.sample_id;
// The answer an item is accepted with: the text or label given, or the model's own.
function answerOf(item) {
  if (isWord(item)) return item.feedback.text;
  return item.feedback ? item.feedback.label : item.predicted;
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").classList.toggle("error", Boolean(isError));
}

function showCounts(counts) {
  for (const [queue, count] of Object.entries(counts || {})) {
    const element = $("count-" + queue);
    if (element) element.textContent = count;
  }
}

function exclude(id) {
  if (!excluded.includes(id)) excluded.push(id);
  if (excluded.length > MAX_EXCLUDED) excluded.shift();
}

function refill() {
  if (fetching || exhausted || pending.length >= REFILL_BELOW) return fetching;
  const held = [...excluded, ...pending.map(idOf)];
  if (current) held.push(idOf(current));
  const url = `${config.items}?queue=${encodeURIComponent(config.queue)}&count=${PREFETCH}` +
    `&exclude=${held.slice(-MAX_EXCLUDED).join(",")}`;
  // Queued behind the decisions being sent: the items left depend on them, and the server
  // sees one change at a time from this page.
  fetching = inLine(() => getJSON(url))
    .then((body) => {
      const known = new Set([...held, ...pending.map(idOf)]);
      const fresh = body.items.filter((item) => !known.has(idOf(item)));
      if (fresh.length === 0) exhausted = true;
      pending.push(...fresh);
      if (unsent === 0) showCounts(body.counts);
      // The pictures come next, one after another in the same line as everything else.
      for (const item of fresh) {
        item.picture = inLine(() => fetch(item.image, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.blob() : null)))
          .then((blob) => (blob ? URL.createObjectURL(blob) : item.image))
          .catch(() => item.image);
      }
    })
    .catch((error) => setStatus(`Could not load the next items: ${error.message}`, true))
    .finally(() => { fetching = null; });
  return fetching;
}

function row(...cells) {
  const element = document.createElement("tr");
  element.append(...cells.map((content) => {
    const cell = document.createElement("td");
    cell.append(content);
    return cell;
  }));
  return element;
}

function render() {
  const item = current;
  $("item").hidden = !item;
  $("empty").hidden = Boolean(item) || !exhausted;
  if (!item) return;
  const word = isWord(item);
  $("item").classList.toggle("word", word);
  for (const id of ["normalized-figure", "top5", "label-form", "keys-sample"]) $(id).hidden = word;
  for (const id of ["read", "candidates", "text-form", "keys-word"]) $(id).hidden = !word;
  delete $("item").dataset.sampleId;
  delete $("item").dataset.wordId;
  $("item").dataset[word ? "wordId" : "sampleId"] = idOf(item);
  $("original").removeAttribute("src");
  $("original").alt = word ? "the word as written" : "the drawing or photo as sent";
  Promise.resolve(item.picture || item.image).then((url) => {
    if (current === item) $("original").src = url;
  });
  if (word) renderWord(item);
  else renderSample(item);
}

function renderWord(item) {
  const answer = item.feedback;
  const who = { answer: answer.is_correct ? "User confirmed" : "User says",
                reviewer: "Reviewer said" }[answer.origin] || "Answer";
  $("answer-who").textContent = who;
  $("answer-label").textContent = answer.text;
  $("read-text").textContent = item.read;
  $("meta").textContent = [item.kind, item.source, item.model].filter(Boolean).join(" · ");
  $("candidates").tBodies[0].replaceChildren(...item.candidates.slice(0, 5).map((reading, index) => {
    const choose = document.createElement("button");
    choose.type = "button";
    choose.className = "reading";
    choose.textContent = reading.text;
    choose.addEventListener("click", () => editText(reading.text));
    const key = document.createElement("kbd");
    key.textContent = String(index + 1);
    return row(key, choose, `${(100 * reading.confidence).toFixed(1)} %`);
  }));
  $("candidates").hidden = item.candidates.length === 0;
  $("text-input").value = answer.text;
}

function renderSample(item) {
  $("normalized").src = item.normalized;
  const answer = item.feedback;
  if (answer) {
    const who = { answer: answer.is_correct ? "User confirmed" : "User says",
                  prompt: "Challenge asked for", reviewer: "Reviewer said" }[answer.origin] || "Answer";
    $("answer-who").textContent = who;
    $("answer-label").textContent = answer.label;
  } else {
    $("answer-who").textContent = "Model says (no answer yet)";
    $("answer-label").textContent = item.predicted;
  }
  const facts = [item.kind, item.source, item.model, `margin ${(item.margin ?? 0).toFixed(2)}`];
  if (item.word) facts.push(`in the word “${item.word}”`);
  if (item.prompt) facts.push(`prompt “${item.prompt}”`);
  $("meta").textContent = facts.join(" · ");
  $("top5").tBodies[0].replaceChildren(...item.top5.map((guess) => {
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round(100 * guess.probability)}px`;
    return row(guess.label, `${(100 * guess.probability).toFixed(1)} %`, bar);
  }));
  $("label-input").value = "";
}

// The text field of a word, focused with `text` in it (selected: typing replaces it).
function editText(text) {
  if (!current || !isWord(current)) return;
  const input = $("text-input");
  if (text !== undefined) input.value = text;
  input.focus();
  input.select();
}

function advance() {
  current = pending.shift() || null;
  render();
  const loading = refill();
  if (!current && loading) {
    loading.then(() => { if (!current) advance(); });
  }
}

function remember(item, text) {
  const entry = document.createElement("li");
  entry.textContent = text;
  entry.dataset.itemId = idOf(item);
  $("history").prepend(entry);
  while ($("history").children.length > 10) $("history").lastChild.remove();
}

// Why a label or a word's text cannot be stored (the server checks the same), or "".
function problemWith(item, value) {
  const valid = config.labels[item.kind] || "";
  if (!isWord(item)) {
    return value && value.length === 1 && valid.includes(value) ? ""
      : `“${value}” is not a ${item.kind} label (${valid})`;
  }
  if (!value) return "The text is empty: write what the word says";
  if (value.length > config.textMax) return `The text is longer than ${config.textMax} characters`;
  if (item.kind === "any") {
    return /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value) ? "Write the text on one line" : "";
  }
  const bad = [...value].find((character) => !valid.includes(character));
  return bad === undefined ? "" : `“${bad}” cannot be in a ${item.kind} word`;
}

function decide(action, value) {
  const item = current;
  if (!item) return;
  if (action === "label") {
    const problem = problemWith(item, value);
    if (problem) {
      setStatus(problem, true);
      return;
    }
  }
  const shown = action === "label" ? value : answerOf(item);
  exclude(idOf(item));
  remember(item, `${action} ${action === "reject" ? "" : shown}`.trim());
  setStatus(`${action === "reject" ? "Rejected" : "Saved " + shown}`);
  unsent += 1;
  const decision = isWord(item)
    ? { word_id: item.word_id, action, text: value || "", queue: config.queue }
    : { sample_id: item.sample_id, action, label: value || "", queue: config.queue };
  inLine(() => postJSON(config.decide, decision))
    .then((body) => { unsent -= 1; if (unsent === 0) showCounts(body.counts); })
    .catch((error) => { unsent -= 1; setStatus(`Not saved (${shown}): ${error.message}`, true); });
  advance();
}

function skip() {
  if (!current) return;
  exclude(idOf(current));
  setStatus("Skipped");
  advance();
}

function undo() {
  inLine(() => postJSON(config.undo, {}))
    .then((body) => {
      const id = idOf(body.item);
      const index = excluded.indexOf(id);
      if (index >= 0) excluded.splice(index, 1);
      if (current) pending.unshift(current);
      pending = pending.filter((item) => idOf(item) !== id);
      current = body.item;
      exhausted = false;
      render();
      const entry = $("history").querySelector(`li[data-item-id="${id}"]`);
      if (entry) entry.remove();
      showCounts(body.counts);
      setStatus("Undone: the item is back");
    })
    .catch((error) => setStatus(`Nothing undone: ${error.message}`, true));
}

// A clicked button gives the focus back, so that the keys keep working after a tap.
const press = (id, action) => $(id).addEventListener("click", (event) => {
  event.currentTarget.blur();
  action();
});
press("accept", () => decide("accept"));
press("reject", () => decide("reject"));
press("skip", skip);
press("undo", undo);
$("label-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("label-input").blur();
  decide("label", $("label-input").value.trim());
});
$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("text-input").blur();
  decide("label", $("text-input").value.trim());
});
$("text-input").addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  event.preventDefault();
  if (current && isWord(current)) $("text-input").value = answerOf(current);
  $("text-input").blur();
});

// On a word, letters and digits are not labels: E or F2 opens its text, 1-5 a reading's.
function wordKey(event) {
  if (event.key === "e" || event.key === "E" || event.key === "F2") {
    event.preventDefault();
    editText();
  } else if (/^[1-5]$/.test(event.key)) {
    const reading = current.candidates[Number(event.key) - 1];
    if (reading) {
      event.preventDefault();
      editText(reading.text);
    }
  }
}

document.addEventListener("keydown", (event) => {
  if (event.target === $("label-input") || event.target === $("text-input") ||
      event.altKey || event.metaKey) return;
  if (event.ctrlKey) {
    if (event.key === "z") { event.preventDefault(); undo(); }
    return;
  }
  if (event.target.closest && event.target.closest("a, button, input, select, textarea") &&
      event.key === "Enter") {
    return;  // Enter on a focused link or button does what it says
  }
  if (event.key === "Enter") { event.preventDefault(); decide("accept"); }
  else if (event.key === "-" || event.key === "Delete") { event.preventDefault(); decide("reject"); }
  else if (event.key === " ") { event.preventDefault(); skip(); }
  else if (event.key === "Backspace") { event.preventDefault(); undo(); }
  else if (current && isWord(current)) wordKey(event);
  else if (/^[0-9A-Za-z]$/.test(event.key)) { event.preventDefault(); decide("label", event.key); }
});

refill().then(advance);
