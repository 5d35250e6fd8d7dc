/* Upload page: a photo chosen, dropped, pasted or taken is shrunk in the browser when large, sent
   at once, and shown with the box the server read; dragging a box over the photo reads just that
   part. Text mode boxes each character found. */
import { postJSON, showError } from "../js/api.js";
import { drawCharacters, strokeBox } from "./boxes.js";
import * as characterResult from "./character-result.js";
import * as textResult from "./text-result.js";

const $ = (id) => document.getElementById(id);
const form = $("upload-form");
const preview = $("preview");
const overlay = $("preview-boxes");
const button = $("predict");
const mode = $("mode");
// Phones take 12-megapixel photos: what the server reads is at most 1200 px across, so a photo
// is sent at most this size (and as a JPEG when it was over MAX_BYTES), well under the body limit.
const MAX_SIDE = 2400;
const MAX_BYTES = 4 * 1024 * 1024;
const READ_COLOUR = "#2f5bea";
const MARKED_COLOUR = "#e8590c";
const ACCEPTED = ["image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif"];
let photo = null;   // the Blob sent
let crop = null;    // [left, top, right, bottom] the person marked, in the photo's pixels
let read = null;    // the last answer
let dragging = null;

function hideResults() {
  characterResult.hide();
  textResult.hide();
  showError("");
}

/* The photo's pixels under a pointer event. */
function photoPoint(event) {
  const rect = overlay.getBoundingClientRect();
  const x = (event.clientX - rect.left) * overlay.width / rect.width;
  const y = (event.clientY - rect.top) * overlay.height / rect.height;
  return [Math.min(Math.max(x, 0), overlay.width), Math.min(Math.max(y, 0), overlay.height)];
}

/* What was read (blue), the box being dragged or marked (dashed), and each character found. */
function drawOverlay() {
  overlay.width = preview.naturalWidth || 1;
  overlay.height = preview.naturalHeight || 1;
  const context = overlay.getContext("2d");
  const line = Math.max(2, Math.max(overlay.width, overlay.height) / 300);
  context.lineWidth = line;
  const characters = read && read.characters ? read.characters : [];
  overlay.dataset.count = characters.length;
  if (read && read.box) {
    context.strokeStyle = READ_COLOUR;
    strokeBox(context, read.box);
  }
  const marked = dragging || crop;
  if (marked) {
    context.setLineDash([4 * line, 3 * line]);
    context.strokeStyle = MARKED_COLOUR;
    strokeBox(context, marked);
    context.setLineDash([]);
  }
  drawCharacters(context, characters, {
    colour: READ_COLOUR,
    lineWidth: line,
    fontSize: Math.round(Math.max(12, overlay.height / 14)),
  });
  overlay.dataset.box = read && read.box ? read.box.map(Math.round).join(",") : "";
}

/* A large photo is redrawn at most MAX_SIDE across (upright, as its EXIF says) before it is sent. */
async function shrunk(file) {
  if (!ACCEPTED.includes(file.type) && !file.type.startsWith("image/")) {
    throw new Error("That file is not a picture: choose a photo or a scan (PNG, JPEG, WebP, GIF or BMP).");
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    if (ACCEPTED.includes(file.type)) return file;  // let the server say what is wrong with it
    throw new Error("This browser cannot open that picture: send it as a JPEG or PNG.");
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size <= MAX_BYTES && ACCEPTED.includes(file.type)) return file;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";  // a transparent picture reads as ink on white paper
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
}

async function take(file) {
  if (!file) return;
  hideResults();
  read = null;
  crop = null;
  try {
    photo = await shrunk(file);
  } catch (error) {
    showError(error.message);
    return;
  }
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(photo);
  await preview.decode().catch(() => {});
  $("preview-frame").hidden = false;
  drawOverlay();
  await send();
}

async function send() {
  if (!photo) { showError("Choose a photo first."); return; }
  const text = mode.value === "text";
  const body = new FormData();
  body.append("image", photo, photo.name || "photo.jpg");
  body.append("kind", $("kind").value);
  if (crop) body.append("crop", crop.map((v) => v.toFixed(1)).join(","));
  if (text) {
    body.append("multi", "true");
    body.append("case_consistency", $("case-consistency").checked ? "true" : "false");
  }
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  button.textContent = "Reading…";
  try {
    const result = await postJSON(form.action, body);
    hideResults();
    read = result;
    if (text) textResult.show(result);
    else characterResult.show(result);
  } catch (error) {
    hideResults();
    read = null;
    showError(`Could not read the photo: ${error.message}`);
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
    button.textContent = "Read again";
    $("box-hint").hidden = !read;
    $("whole").hidden = !crop;
    drawOverlay();
  }
}

for (const input of [$("image"), $("camera")]) {
  input.addEventListener("change", () => take(input.files[0]));
}
const zone = $("drop-zone");
for (const type of ["dragenter", "dragover"]) {
  form.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("over"); });
}
form.addEventListener("dragleave", () => zone.classList.remove("over"));
form.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("over");
  take(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const item = [...event.clipboardData.items].find((entry) => entry.type.startsWith("image/"));
  if (!item) return;
  event.preventDefault();
  take(item.getAsFile());
});

overlay.addEventListener("pointerdown", (event) => {
  if (!photo) return;
  overlay.setPointerCapture(event.pointerId);
  const [x, y] = photoPoint(event);
  dragging = [x, y, x, y];
  dragging.start = [x, y];
});
overlay.addEventListener("pointermove", (event) => {
  if (!dragging) return;
  const [x, y] = photoPoint(event);
  const [x0, y0] = dragging.start;
  dragging = Object.assign([Math.min(x0, x), Math.min(y0, y), Math.max(x0, x), Math.max(y0, y)], { start: [x0, y0] });
  drawOverlay();
});
overlay.addEventListener("pointerup", () => {
  if (!dragging) return;
  const [left, top, right, bottom] = dragging;
  dragging = null;
  const least = Math.max(8, Math.max(overlay.width, overlay.height) / 50);
  if (right - left >= least && bottom - top >= least) {
    crop = [left, top, right, bottom];
    send();
  } else {
    drawOverlay();  // a tap, not a box
  }
});
overlay.addEventListener("pointercancel", () => { dragging = null; drawOverlay(); });

$("whole").addEventListener("click", () => { crop = null; send(); });
form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
$("kind").addEventListener("change", () => { if (photo) send(); });
mode.addEventListener("change", () => {
  const text = mode.value === "text";
  $("case-option").hidden = !text;
  $("spacing-hint").hidden = !text;
  if (photo) send(); else hideResults();
});
