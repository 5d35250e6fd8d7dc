/* Boxes drawn over a picture on a canvas: the characters read, each with its label, over a
   drawing (pad.js) or a photo (upload.js), and a photo's box read or marked. A box is
   [left, top, right, bottom] in the picture's pixels; `scale` turns them into the canvas's. */

/* The box, widened by `margin` canvas pixels on every side (a drawing's boxes hold the centres
   of its strokes: the pen's half width is added); returns the rectangle drawn. */
export function strokeBox(context, box, { scale = 1, margin = 0 } = {}) {
  const [left, top, right, bottom] = box.map((value) => value * scale);
  const drawn = [left - margin, top - margin, right + margin, bottom + margin];
  context.strokeRect(drawn[0], drawn[1], drawn[2] - drawn[0], drawn[3] - drawn[1]);
  return drawn;
}

/* Each character's box ({box, label}) with its label in `colour`. The label goes above the box,
   kept inside the canvas (`labelPlace: "above"`, a drawing whose writing fills the canvas's
   height), or below it where it fits and above it otherwise ("below", a photo). */
export function drawCharacters(context, characters,
  { colour, lineWidth, fontSize, scale = 1, margin = 0, labelPlace = "below" }) {
  context.save();
  context.strokeStyle = context.fillStyle = colour;
  context.lineWidth = lineWidth;
  context.font = `${fontSize}px sans-serif`;
  context.textBaseline = labelPlace === "above" ? "alphabetic" : "top";
  const height = context.canvas.height;
  for (const { box, label } of characters) {
    const [left, top, , bottom] = strokeBox(context, box, { scale, margin });
    const below = bottom + lineWidth;
    const y = labelPlace === "above" ? Math.max(top - 4, fontSize)
      : below + fontSize <= height ? below : Math.max(0, top - fontSize - lineWidth);
    context.fillText(label, left, y);
  }
  context.restore();
}
