"""A simulated user population the bundled digit model has not seen: strongly slanted writers.

Built from held-out UNIPEN-test pen strokes, sheared as an italic hand writes and drawn on a
280x280 white canvas as the browser does, so `retrain` can be shown to adapt to users' own
style (a test and bench/retrain.py use it). Split by writer: the writers who give feedback
are never the ones the improvement is measured on.
"""
import io

import numpy as np
from PIL import Image

from ml.datasets import rasterise, read_unipen

SLANT = 1.3  # horizontal shift per unit of height: about 52 degrees of italic
CANVAS = 280
PEN_WIDTH = 14
GLYPH_BOX = 170


def slanted_digits(slant=SLANT):
    """[(png_bytes, label, writer)] for every UNIPEN-test digit, sheared by `slant`."""
    records, _ = read_unipen("test")
    samples = []
    for record in records:
        if not record["label"].isdigit():
            continue
        strokes = [[[x + slant * y, y] for x, y in stroke] for stroke in record["strokes"]]
        samples.append((canvas_png(strokes), record["label"], record["writer"]))
    return samples


def canvas_png(strokes):
    """Strokes (y up) drawn dark on a white 280x280 canvas, as the page would send them."""
    ink = rasterise(strokes, PEN_WIDTH, box=GLYPH_BOX)
    glyph = Image.fromarray(((1.0 - ink) * 255).astype(np.uint8), "L")
    glyph.thumbnail((CANVAS - 20, CANVAS - 20))
    canvas = Image.new("L", (CANVAS, CANVAS), 255)
    canvas.paste(glyph, ((CANVAS - glyph.width) // 2, (CANVAS - glyph.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def split_by_writer(samples):
    """(feedback, unseen): whole writers on each side, about half of the samples each."""
    counts = {}
    for _, _, writer in samples:
        counts[writer] = counts.get(writer, 0) + 1
    by_size = sorted(counts, key=lambda writer: (-counts[writer], writer))
    giving = set(by_size[::2])
    feedback = [s for s in samples if s[2] in giving]
    unseen = [s for s in samples if s[2] not in giving]
    return feedback, unseen
