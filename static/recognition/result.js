/* Shows a prediction (label, top guesses, what the model saw) and asks for feedback on it.
   Shared by the draw and upload pages (the challenge page uses its requests and errors);
   exposes window.hwr. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const labelsByKind = JSON.parse($("labels-by-kind").textContent);
  let currentSample = null;

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* POST and return the JSON answer; a non-2xx answer throws an Error with the server's message. */
  async function postJSON(url, body, options) {
    const isForm = body instanceof FormData;
    const response = await fetch(url, {
      method: "POST",
      headers: Object.assign({ "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        isForm ? {} : { "Content-Type": "application/json" }),
      body: isForm ? body : JSON.stringify(body),
      credentials: "same-origin",
      signal: options && options.signal,
    });
    let data = null;
    try { data = await response.json(); } catch (ignored) { /* not JSON */ }
    if (!response.ok) {
      const message = data && data.error ? data.error : `the server answered ${response.status}`;
      throw new Error(message);
    }
    return data;
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  function showResult(result) {
    showError("");
    currentSample = result;
    $("result").hidden = false;
    $("result-label").textContent = result.label;
    $("result-confidence").textContent = `${(result.confidence * 100).toFixed(1)} % confident`;
    const ci = result.case_insensitive;
    $("result-case").hidden = !ci;
    if (ci) $("result-case").textContent = `Ignoring case: ${ci.label} (${(ci.probability * 100).toFixed(1)} %)`;
    $("result-seen").src = result.normalized_image;
    $("result-model").textContent = `Model ${result.model.name} ${result.model.version}`;
    const bars = $("result-bars");
    bars.replaceChildren(...result.top5.map((entry) => {
      const item = document.createElement("li");
      const pct = (entry.probability * 100).toFixed(1);
      item.innerHTML = '<b></b><span class="track"><span class="fill"></span></span><span class="pct"></span>';
      item.querySelector("b").textContent = entry.label;
      item.querySelector(".fill").style.width = `${Math.max(entry.probability * 100, 0.5)}%`;
      item.querySelector(".pct").textContent = `${pct} %`;
      item.setAttribute("aria-label", `${entry.label}: ${pct} percent`);
      return item;
    }));
    resetFeedback(result.kind);
  }

  function hideResult() {
    currentSample = null;
    $("result").hidden = true;
  }

  function resetFeedback(kind) {
    $("feedback-ask").hidden = false;
    $("feedback-correct").hidden = true;
    $("feedback-label").value = "";
    $("feedback-label").pattern = `[${labelsByKind[kind]}]`;
    $("feedback-valid").textContent = labelsByKind[kind].split("").join(" ");
    setFeedbackStatus("", "");
    for (const button of document.querySelectorAll("#feedback button")) button.disabled = false;
  }

  function setFeedbackStatus(message, tone) {
    $("feedback-status").textContent = message;
    $("feedback-status").className = tone;
  }

  async function sendFeedback(isCorrect, correctLabel) {
    const sample = currentSample;
    for (const button of document.querySelectorAll("#feedback button")) button.disabled = true;
    setFeedbackStatus("Saving…", "");
    try {
      await postJSON("/feedback", { sample_id: sample.sample_id, is_correct: isCorrect, correct_label: correctLabel });
      $("feedback-ask").hidden = true;
      $("feedback-correct").hidden = true;
      setFeedbackStatus(isCorrect ? "Thanks! Saved as correct." : `Thanks! Saved: you wrote “${correctLabel}”.`, "ok");
    } catch (error) {
      for (const button of document.querySelectorAll("#feedback button")) button.disabled = false;
      setFeedbackStatus(`Could not save your feedback: ${error.message}`, "bad");
    }
  }

  if ($("feedback")) {  // the challenge page uses postJSON and showError only
    $("feedback-yes").addEventListener("click", () => sendFeedback(true, ""));
    $("feedback-no").addEventListener("click", () => {
      $("feedback-ask").hidden = true;
      $("feedback-correct").hidden = false;
      $("feedback-label").focus();
    });
    $("feedback-correct").addEventListener("submit", (event) => {
      event.preventDefault();
      const label = $("feedback-label").value.trim();
      const valid = labelsByKind[currentSample.kind];
      if (label.length !== 1 || !valid.includes(label)) {
        setFeedbackStatus(`Type one of: ${valid.split("").join(" ")}`, "bad");
        return;
      }
      sendFeedback(false, label);
    });
  }

  window.hwr = { postJSON, showResult, hideResult, showError };
})();
