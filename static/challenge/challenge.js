/* Challenge page: the server says which character to draw; the drawing is sent when the user is
   done. The server keeps nothing between requests: the prompt, when it was asked, the streak
   and the progress are in a token it signs, which the page sends back in the X-Challenge
   header (and keeps in sessionStorage, so that a reload keeps the progress). The verdict on the
   last drawing stays beside the next prompt, above the canvas, so that it is seen on a phone. */
import { postJSON, showError } from "../js/api.js";
import { createPad } from "../recognition/pad.js";

const $ = (id) => document.getElementById(id);
const kind = $("kind");
const pad = createPad($("canvas"));
const TOKEN_KEY = "hwr-challenge";
let token = "";
let busyTimer = null;
try { token = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (ignored) { /* storage off */ }

function showProgress(state) {
  $("prompt").textContent = state.prompt;
  for (const key of ["streak", "best_streak", "done", "points"]) {
    $(key.replace("_", "-")).textContent = state[key];
  }
  token = state.token;
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch (ignored) { /* storage off */ }
}

const withToken = () => ({ headers: { "X-Challenge": token } });

function setBusy(on) {
  clearTimeout(busyTimer);
  if (on) busyTimer = setTimeout(() => { $("busy").hidden = false; }, 150);
  else $("busy").hidden = true;
}

/* A new character to draw; false (the error shown) when none came. */
async function ask() {
  pad.clear();
  $("last").hidden = true;
  try {
    showProgress(await postJSON(`/challenge/next?kind=${encodeURIComponent(kind.value)}`, {},
      withToken()));
    showError("");
    return true;
  } catch (error) {
    showError(`could not start the challenge: ${error.message}`);
    return false;
  }
}

async function send() {
  if (pad.isEmpty) {
    showError(`Draw “${$("prompt").textContent}” first.`);
    return;
  }
  $("send").disabled = true;
  setBusy(true);
  try {
    const result = await postJSON("/challenge/answer", { image: pad.exportPNG() }, withToken());
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
    showError("");
  } catch (error) {
    if (error.status === 409) {  // the character expired or was answered: draw a new one
      if (await ask()) showError(error.message);
    } else {
      showError(`could not score the drawing: ${error.message}`);
    }
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
