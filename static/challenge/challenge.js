/* Challenge page: the server says which character to draw (and keeps the time, the streak and
   the progress in the session); the drawing is sent when the user is done. The verdict on the
   last drawing stays beside the next prompt, above the canvas, so that it is seen on a phone. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const kind = $("kind");
  const pad = hwrPad($("canvas"));
  let busyTimer = null;

  function showProgress(state) {
    $("prompt").textContent = state.prompt;
    for (const key of ["streak", "best_streak", "done", "points"]) {
      $(key.replace("_", "-")).textContent = state[key];
    }
  }

  function setBusy(on) {
    clearTimeout(busyTimer);
    if (on) busyTimer = setTimeout(() => { $("busy").hidden = false; }, 150);
    else $("busy").hidden = true;
  }

  async function ask() {
    pad.clear();
    $("last").hidden = true;
    try {
      showProgress(await hwr.postJSON(`/challenge/next?kind=${encodeURIComponent(kind.value)}`, {}));
      hwr.showError("");
    } catch (error) {
      hwr.showError(`could not start the challenge: ${error.message}`);
    }
  }

  async function send() {
    if (!pad.strokes.length) {
      hwr.showError(`Draw “${$("prompt").textContent}” first.`);
      return;
    }
    $("send").disabled = true;
    setBusy(true);
    try {
      const result = await hwr.postJSON("/challenge/answer", { image: pad.exportPNG() });
      $("last").hidden = false;
      $("last").classList.toggle("wrong", !result.right);
      $("last-score").textContent = `+${result.score}`;
      $("last-verdict").textContent = result.right
        ? `Yes! The model read “${result.label}”.`
        : `The model read “${result.label}”, not “${result.prompt}”.`;
      $("last-detail").textContent = `${result.seconds.toFixed(1)} s` +
        (result.right ? ` · streak ${result.next.streak}` : "") +
        (result.accepted ? "" : " · a reviewer will check this drawing");
      showProgress(result.next);
      pad.clear();
      hwr.showError("");
    } catch (error) {
      hwr.showError(`could not score the drawing: ${error.message}`);
    } finally {
      $("send").disabled = false;
      setBusy(false);
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
