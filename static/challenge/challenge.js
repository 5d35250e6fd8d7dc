/* Challenge page: the server says which character to draw (and keeps the time, the streak and
   the progress in the session); the drawing is sent when the user is done. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const kind = $("kind");
  const pad = hwrPad($("canvas"));

  function showProgress(state) {
    $("prompt").textContent = state.prompt;
    for (const key of ["streak", "best_streak", "done", "points"]) {
      $(key.replace("_", "-")).textContent = state[key];
    }
  }

  async function ask() {
    pad.clear();
    try {
      showProgress(await hwr.postJSON(`/challenge/next?kind=${encodeURIComponent(kind.value)}`, {}));
      hwr.showError("");
    } catch (error) {
      hwr.showError(`Could not start the challenge: ${error.message}`);
    }
  }

  async function send() {
    if (!pad.strokes.length) {
      hwr.showError(`Draw “${$("prompt").textContent}” first.`);
      return;
    }
    $("send").disabled = true;
    try {
      const result = await hwr.postJSON("/challenge/answer", { image: pad.exportPNG() });
      $("last").hidden = false;
      $("last-score").textContent = `+${result.score}`;
      $("last-verdict").textContent = result.right
        ? `Yes! The model read “${result.label}”.`
        : `The model read “${result.label}”, not “${result.prompt}”.`;
      $("last-detail").textContent = `${result.seconds.toFixed(1)} s` +
        (result.accepted ? "" : " · this drawing will be checked by a reviewer");
      showProgress(result.next);
      pad.clear();
      hwr.showError("");
    } catch (error) {
      hwr.showError(`Could not score the drawing: ${error.message}`);
    } finally {
      $("send").disabled = false;
    }
  }

  $("send").addEventListener("click", send);
  $("clear").addEventListener("click", () => pad.clear());
  $("skip").addEventListener("click", ask);
  kind.addEventListener("change", ask);
  $("canvas").addEventListener("keydown", (event) => {
    if (event.key === "Enter") send();
    if (event.key === "Escape") pad.clear();
  });
  pad.resize();
  ask();
})();
