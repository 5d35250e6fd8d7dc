"""Lines of text built from real UNIPEN characters, for the text benchmark and the tests.

Held-out characters (their writers are in neither training set) are sized as in handwriting
(capitals, digits and ascenders full height, other lower case letters at x-height, descenders
below the baseline), jittered, and placed side by side with gaps drawn from a range that
includes some overlap. The result is what the canvas page sends: strokes in the image's
pixels, y down, in writing order, and the PNG of the same line.
"""
import io
import string
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.preprocessing import rasterize

FULL_HEIGHT = set(string.digits + string.ascii_uppercase + "bdfhklt")
DESCENDERS = set("gjpqy")
X_HEIGHT = 0.6
DESCENT = 0.35
# Gap between neighbouring characters' boxes, as a share of the line height (negative: overlap).
GAPS = (-0.08, 0.3)
LINE_HEIGHT_PX = 150
PEN_PX = 12  # about the canvas page's pen for a 280 px high drawing
MARGIN_PX = 30


@dataclass
class Line:
    text: str
    strokes: list  # [[[x, y], ...], ...] in the PNG's pixels, y down
    png: bytes


def records_by_label(records):
    by_label = {}
    for record in records:
        by_label.setdefault(record["label"], []).append(record)
    return by_label


def build_line(records, rng, gaps=GAPS):
    """UNIPEN records (one per character, in order) -> a Line written left to right."""
    strokes, x = [], 0.0
    for record in records:
        points = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) * (1, -1) for stroke in record["strokes"]]
        every = np.concatenate(points)
        (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
        label = record["label"]
        height = 1.0 if label in FULL_HEIGHT else X_HEIGHT
        bottom = 1.0
        if label in DESCENDERS:
            height, bottom = X_HEIGHT + DESCENT, 1.0 + DESCENT
        if label in "ij":
            height += 0.25  # the dot above x-height
        height *= rng.uniform(0.9, 1.1) * LINE_HEIGHT_PX
        bottom = bottom * LINE_HEIGHT_PX + rng.uniform(-0.03, 0.03) * LINE_HEIGHT_PX
        scale = height / max(y1 - y0, 1e-9)
        scale = min(scale, 1.2 * LINE_HEIGHT_PX / max(x1 - x0, 1e-9))  # a flat stroke stays sane
        for stroke in points:
            placed = (stroke - (x0, y1)) * scale + (x, bottom)
            strokes.append(placed)
        x += (x1 - x0) * scale + rng.uniform(*gaps) * LINE_HEIGHT_PX
    every = np.concatenate(strokes)
    shift = MARGIN_PX - every.min(axis=0)
    strokes = [stroke + shift for stroke in strokes]
    text = "".join(record["label"] for record in records)
    return Line(text, [stroke.round(1).tolist() for stroke in strokes], line_png(strokes))


def line_png(strokes):
    """The strokes drawn black on white, at their own pixel coordinates."""
    every = np.concatenate(strokes)
    extent = every.max(axis=0) - every.min(axis=0)
    ink = rasterize(strokes, PEN_PX, box=float(extent.max()), y_up=False)
    # rasterize crops to the strokes plus a pen-wide margin: put that back in place.
    left, top = (every.min(axis=0) - PEN_PX).round().astype(int)
    width, height = (every.max(axis=0) + MARGIN_PX).round().astype(int)
    canvas = np.zeros((height, width), np.float32)
    canvas[top:top + ink.shape[0], left:left + ink.shape[1]] = ink[:height - top, :width - left]
    buffer = io.BytesIO()
    Image.fromarray((255 - canvas * 255).round().astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def random_text(kind, length, rng):
    """A string to write: digits for `digit`; for `letter`/`any`, letters in one of the usual
    case patterns (hello, Hello, HELLO)."""
    if kind == "digit":
        return "".join(rng.choice(list(string.digits), length))
    letters = "".join(rng.choice(list(string.ascii_lowercase), length))
    pattern = rng.choice(["lower", "lower", "capitalised", "upper"])
    if pattern == "upper":
        return letters.upper()
    if pattern == "capitalised":
        return letters[0].upper() + letters[1:]
    return letters


def build_text(text, by_label, rng):
    """A Line writing `text` with one random held-out record per character."""
    return build_line([by_label[c][rng.integers(len(by_label[c]))] for c in text], rng)
