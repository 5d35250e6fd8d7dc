"""A simulated user population the bundled digit model has not seen: strongly slanted writers.

Built from held-out UNIPEN-test pen strokes, sheared as an italic hand writes and drawn on a
280x280 white canvas as the browser does, so `retrain` can be shown to adapt to users' own
style (the retrain tests and bench/retrain.py use it). Split by writer: the writers who give feedback
are never the ones the improvement is measured on.
"""
import base64
import io
import random

import numpy as np
from PIL import Image

from ml.datasets import rasterize, read_unipen

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
    ink = rasterize(strokes, PEN_WIDTH, box=GLYPH_BOX)
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


def predict_through_api(client, png, kind="digit"):
    """One drawing through POST /api/v1/predict with a Django test client; the answer JSON."""
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    response = client.post("/api/v1/predict", {"kind": kind, "image": data_url},
                           content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"predict answered {response.status_code}: {response.content!r}")
    return response.json()


def give_verified_feedback(client, samples, shuffle_labels=False):
    """Each drawing predicted, answered as its writer would (or with shuffled labels: poison),
    through the real API, then verified as a reviewer would."""
    from feedback.models import Feedback
    from feedback.services import set_status

    labels = [label for _, label, _ in samples]
    if shuffle_labels:
        random.Random(0).shuffle(labels)
    for (png, _, _), label in zip(samples, labels):
        result = predict_through_api(client, png)
        right = result["label"] == label
        response = client.post(f"/api/v1/samples/{result['sample_id']}/feedback",
                               {"is_correct": right, "correct_label": "" if right else label},
                               content_type="application/json")
        if response.status_code not in (200, 201):
            raise RuntimeError(f"feedback answered {response.status_code}: {response.content!r}")
    set_status(Feedback.objects.filter(status=Feedback.Status.NEW), Feedback.Status.VERIFIED)


def served_accuracy(client, samples):
    """(accuracy, model versions that answered) of the API on `samples`."""
    results = [predict_through_api(client, png) for png, _, _ in samples]
    hits = sum(r["label"] == label for r, (_, label, _) in zip(results, samples))
    return hits / len(samples), sorted({r["model"]["version"] for r in results})
