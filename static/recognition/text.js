/* Shows a text answer (several characters) and sends per-character corrections; exposes
   window.hwrText. Every character is its own sample: unchanged ones are confirmed, changed
   ones corrected, through the same POST /feedback as single characters. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const labelsByKind = JSON.parse($("labels-by-kind").textContent);
  let current = null;
  let storeShown = null;      // for a preview: stores it and resolves to the stored result

  /* result: what /submit or /upload answered; a preview (no sample_ids) is stored through
     `store` before its corrections are sent. */
  function show(result, { store = null } = {}) {
    hwr.showError("");
    current = result;
    storeShown = store;
    $("text-result").hidden = false;
    $("text-result").classList.remove("stale");
    setNote("");
    $("text-characters").replaceChildren(...result.characters.map(card));
    $("text-save").disabled = false;
    setStatus("", "");
    update();
  }

  function card(character) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = character.normalized_image;
    image.width = image.height = 42;
    image.alt = `Character ${character.position + 1} as the model saw it`;
    const input = document.createElement("input");
    input.type = "text";
    input.value = character.label;
    input.maxLength = 1;
    input.autocomplete = "off";
    input.setAttribute("autocapitalize", "off");
    input.spellcheck = false;
    input.dataset.predicted = character.label;
    input.setAttribute("aria-label", `Character ${character.position + 1}`);
    input.addEventListener("input", update);
    const confidence = document.createElement("span");
    const close = hwr.closeCall ? hwr.closeCall(character.top3) : null;
    confidence.textContent = close ? `${close[0].label} or ${close[1].label}?`
      : `${(character.confidence * 100).toFixed(0)} %`;
    const alternatives = document.createElement("span");
    alternatives.className = "alternatives";
    for (const entry of character.top3.slice(1)) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = entry.label;
      button.setAttribute("aria-label", `It was ${entry.label} (box ${character.position + 1})`);
      button.addEventListener("click", () => { input.value = entry.label; update(); });
      alternatives.append(button);
    }
    item.append(image, input, confidence, alternatives);
    return item;
  }

  function inputs() {
    return [...$("text-characters").querySelectorAll("input")];
  }

  /* The heading follows the boxes; edited boxes stand out; the button says what it will save. */
  function update() {
    const boxes = inputs();
    for (const input of boxes) {
      input.classList.toggle("edited", input.value !== input.dataset.predicted);
      input.removeAttribute("aria-invalid");
    }
    $("text-label").textContent = boxes.map((input) => input.value || "_").join("");
    const changed = boxes.some((input) => input.value !== input.dataset.predicted);
    $("text-save").textContent = changed ? "Save corrections" : "All correct";
    setStatus("", "");
  }

  function hide() {
    current = null;
    storeShown = null;
    $("text-result").hidden = true;
  }

  function setNote(text) {
    $("text-note").textContent = text;
    $("text-note").hidden = !text;
  }

  /* The drawing changed since this answer: grey it out and say so. */
  function markStale(text) {
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
    const valid = labelsByKind[result.kind];
    const boxes = inputs();
    const bad = boxes.find((input) => input.value.length !== 1 || !valid.includes(input.value));
    if (bad) {
      bad.setAttribute("aria-invalid", "true");
      const what = { digit: "a digit, 0 to 9", letter: "a letter, A to Z or a to z" }[result.kind] ||
        "a digit or a letter";
      setStatus(bad.value ? `“${bad.value}” is not a character this model knows: each box takes ${what}.`
        : `A box is empty: each box takes ${what}.`, "bad");
      bad.focus();
      return;
    }
    $("text-save").disabled = true;
    setStatus("Saving…", "");
    try {
      if (!result.word_id) {
        if (!storeShown) throw new Error("this answer was not kept: predict again");
        const stored = await storeShown();
        if (stored.characters.length !== result.characters.length) throw new Error("the drawing changed: predict again");
        result.characters.forEach((character, index) => Object.assign(character, {
          sample_id: stored.characters[index].sample_id, label: stored.characters[index].label }));
        result.word_id = stored.word_id;
      }
      for (const [index, input] of boxes.entries()) {
        const isCorrect = input.value === result.characters[index].label;
        await hwr.postJSON("/feedback", { sample_id: result.characters[index].sample_id,
          is_correct: isCorrect, correct_label: isCorrect ? "" : input.value });
      }
      const text = boxes.map((input) => input.value).join("");
      setStatus(`Thanks! Saved: you wrote “${text}”.`, "ok");
    } catch (error) {
      setStatus(hwr.sentence(`could not save your answer: ${error.message}`), "bad");
    } finally {
      $("text-save").disabled = false;
    }
  });

  window.hwrText = { show, hide, markStale };
})();
