/* Requests from the site's pages to its own routes, and their failures in words a person can act
   on: postJSON sends the page's CSRF token, and it and getJSON turn a refusal's JSON `error`
   into the message of the Error they throw; showError shows such a message in the page's
   #error paragraph. */

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

/* POST and return the JSON answer. A failure throws an Error whose message says, in words,
   what happened and what to do (error.status holds the HTTP status when there was one); an
   aborted request throws the AbortError itself. options: headers (sent too), signal, keepalive. */
export async function postJSON(url, body, options = {}) {
  const isForm = body instanceof FormData;
  return requestJSON(url, {
    method: "POST",
    headers: Object.assign({ "X-CSRFToken": csrfToken() },
      isForm ? {} : { "Content-Type": "application/json" }, options.headers),
    body: isForm ? body : JSON.stringify(body),
    signal: options.signal,
    keepalive: Boolean(options.keepalive),
  });
}

/* GET and return the JSON answer; failures as postJSON's. options: headers, signal. */
export async function getJSON(url, options = {}) {
  return requestJSON(url, { method: "GET", headers: options.headers, signal: options.signal });
}

/* fetch with the JSON answer asked for; a failure as an Error in words (postJSON says how). */
async function requestJSON(url, init) {
  let response;
  try {
    response = await fetch(url, Object.assign({}, init, {
      headers: Object.assign({ "Accept": "application/json" }, init.headers),
      credentials: "same-origin",
    }));
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error(navigator.onLine === false
      ? "you are offline: connect to the internet, then try again"
      : "the server could not be reached: check your connection, then try again");
  }
  let data = null;
  try { data = await response.json(); } catch (ignored) { /* not JSON */ }
  if (!response.ok) {
    const error = new Error(explain(response.status, data && data.error));
    error.status = response.status;
    throw error;
  }
  return data;
}

/* A refusal's message as a person can act on it; the server's own words when it gave some. */
function explain(status, message) {
  if (status === 413) {
    const bytes = message && /([\d,]+) bytes/.exec(message);
    const limit = bytes ? ` (the limit is ${Math.round(Number(bytes[1].replace(/,/g, "")) / 1048576)} MB)` : "";
    return `the image is too large to send${limit}: choose a smaller image, or crop it`;
  }
  if (status === 503 && message) return `recognition is not available right now (${message}): try again later`;
  if (message && status < 500) return message;
  if (status === 404) return "the page is out of date: reload it and try again";
  return `the server ran into a problem (error ${status}): try again in a moment`;
}

/* A message as a sentence: capital first letter, final full stop. */
export function sentence(message) {
  const text = String(message || "").trim();
  if (!text) return "";
  return text[0].toUpperCase() + text.slice(1) + (/[.!?…]$/.test(text) ? "" : ".");
}

/* The page's error line (#error) says `message` as a sentence; an empty message hides it. */
export function showError(message) {
  const line = document.getElementById("error");
  line.textContent = sentence(message);
  line.hidden = !message;
}
