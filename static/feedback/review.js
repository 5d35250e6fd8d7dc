// The review queue: one item at a time, decided with a key; the next items are fetched ahead
// (with their images), and decisions are sent in order in the background, so a key press
// never waits for the server.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("review-config").textContent);
  const csrf = document.querySelector("#review [name=csrfmiddlewaretoken]").value;
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
    const held = [...excluded, ...pending.map((item) => item.sample_id)];
    if (current) held.push(current.sample_id);
    const url = `${config.items}?queue=${encodeURIComponent(config.queue)}&count=${PREFETCH}` +
      `&exclude=${held.slice(-MAX_EXCLUDED).join(",")}`;
    // Queued behind the decisions being sent: the items left depend on them, and the server
    // sees one change at a time from this page.
    fetching = inLine(() => fetch(url, { credentials: "same-origin" }))
      .then((response) => response.json().then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
        const known = new Set([...held, ...pending.map((item) => item.sample_id)]);
        const fresh = body.items.filter((item) => !known.has(item.sample_id));
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

  function render() {
    const item = current;
    $("item").hidden = !item;
    $("empty").hidden = Boolean(item) || !exhausted;
    if (!item) return;
    $("item").dataset.sampleId = item.sample_id;
    $("original").removeAttribute("src");
    Promise.resolve(item.picture || item.image).then((url) => {
      if (current === item) $("original").src = url;
    });
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
    const body = $("top5").tBodies[0];
    body.replaceChildren(...item.top5.map((guess) => {
      const row = document.createElement("tr");
      const label = document.createElement("td");
      label.textContent = guess.label;
      const probability = document.createElement("td");
      probability.textContent = `${(100 * guess.probability).toFixed(1)} %`;
      const barCell = document.createElement("td");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${Math.round(100 * guess.probability)}px`;
      barCell.append(bar);
      row.append(label, probability, barCell);
      return row;
    }));
    $("label-input").value = "";
  }

  function advance() {
    current = pending.shift() || null;
    render();
    const loading = refill();
    if (!current && loading) {
      loading.then(() => { if (!current) advance(); });
    }
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data),
    }).then((response) => response.json().then((body) => {
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      return body;
    }));
  }

  function remember(item, text) {
    const entry = document.createElement("li");
    entry.textContent = text;
    entry.dataset.sampleId = item.sample_id;
    $("history").prepend(entry);
    while ($("history").children.length > 10) $("history").lastChild.remove();
  }

  function decide(action, label) {
    const item = current;
    if (!item) return;
    if (action === "label") {
      const valid = config.labels[item.kind] || "";
      if (!label || label.length !== 1 || !valid.includes(label)) {
        setStatus(`“${label}” is not a ${item.kind} label (${valid})`, true);
        return;
      }
    }
    const shown = action === "label" ? label : (item.feedback ? item.feedback.label : item.predicted);
    exclude(item.sample_id);
    remember(item, `${action} ${action === "reject" ? "" : shown}`.trim());
    setStatus(`${action === "reject" ? "Rejected" : "Saved " + shown}`);
    unsent += 1;
    inLine(() => post(config.decide, { sample_id: item.sample_id, action, label: label || "", queue: config.queue }))
      .then((body) => { unsent -= 1; if (unsent === 0) showCounts(body.counts); })
      .catch((error) => { unsent -= 1; setStatus(`Not saved (${shown}): ${error.message}`, true); });
    advance();
  }

  function skip() {
    if (!current) return;
    exclude(current.sample_id);
    setStatus("Skipped");
    advance();
  }

  function undo() {
    inLine(() => post(config.undo, {}))
      .then((body) => {
        const index = excluded.indexOf(body.item.sample_id);
        if (index >= 0) excluded.splice(index, 1);
        if (current) pending.unshift(current);
        pending = pending.filter((item) => item.sample_id !== body.item.sample_id);
        current = body.item;
        exhausted = false;
        render();
        const entry = $("history").querySelector(`li[data-sample-id="${body.item.sample_id}"]`);
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

  document.addEventListener("keydown", (event) => {
    if (event.target === $("label-input") || event.altKey || event.metaKey) return;
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
    else if (/^[0-9A-Za-z]$/.test(event.key)) { event.preventDefault(); decide("label", event.key); }
  });

  refill().then(advance);
})();
