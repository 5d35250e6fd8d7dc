/* Shows a text answer (several characters) and sends per-character corrections; exposes
   window.hwrText. Every character is its own sample: unchanged ones are confirmed, changed
   ones corrected, through the same POST /feedback as single characters. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const labelsByKind = JSON.parse($("labels-by-kind").textContent);
  let current = null;

  function show(result) {
    hwr.showError("");
    current = result;
    $("text-result").hidden = false;
    $("text-label").textContent = result.text;
    $("text-model").textContent = `Model ${result.model.name} ${result.model.version}` +
      (result.case_consistency ? " · one case per word" : "");
    $("text-characters").replaceChildren(...result.characters.map(card));
    $("text-save").disabled = false;
    setStatus("", "");
  }

  function card(character) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = character.normalized_image;
    image.width = image.height = 42;
    image.alt = `Character ${character.position + 1} as the model saw it`;
    const input = document.createElement("input");
    input.value = character.label;
    input.maxLength = 1;
    input.autocomplete = "off";
    input.dataset.predicted = character.label;
    input.setAttribute("aria-label", `Character ${character.position + 1}`);
    input.addEventListener("input", () => input.classList.toggle("changed", input.value !== character.label));
    const confidence = document.createElement("span");
    confidence.textContent = `${(character.confidence * 100).toFixed(0)} %`;
    item.append(image, input, confidence);
    return item;
  }

  function hide() {
    current = null;
    $("text-result").hidden = true;
  }

  function setStatus(message, tone) {
    $("text-status").textContent = message;
    $("text-status").className = tone;
  }

  $("text-feedback").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = current;
    const valid = labelsByKind[result.kind];
    const inputs = [...$("text-characters").querySelectorAll("input")];
    const bad = inputs.find((input) => input.value.length !== 1 || !valid.includes(input.value));
    if (bad) {
      setStatus(`Each box takes one of: ${valid.split("").join(" ")}`, "bad");
      bad.focus();
      return;
    }
    $("text-save").disabled = true;
    setStatus("Saving…", "");
    try {
      for (const [index, input] of inputs.entries()) {
        const isCorrect = input.value === input.dataset.predicted;
        await hwr.postJSON("/feedback", { sample_id: result.characters[index].sample_id,
          is_correct: isCorrect, correct_label: isCorrect ? "" : input.value });
      }
      const text = inputs.map((input) => input.value).join("");
      setStatus(`Thanks! Saved: you wrote “${text}”.`, "ok");
    } catch (error) {
      $("text-save").disabled = false;
      setStatus(`Could not save your feedback: ${error.message}`, "bad");
    }
  });

  window.hwrText = { show, hide };
})();
