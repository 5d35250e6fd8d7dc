"""Words written by people the text model never saw, sent as the draw page sends them.

The UNIPEN test writers' words drawn on a text-mode canvas (PNG + strokes in its pixels), for the
tests and benches that go through the API; `slanted_words` makes a population the shipped model
is weak on (a strongly italic hand), to show that `retrain --model text` adapts to it.
"""
import base64
import io
import json

import numpy as np
from PIL import Image, ImageDraw

CANVAS = (560, 280)      # the text-mode canvas as sent: 280 px high, aspect 2
PEN = 0.07 * CANVAS[1]   # the page's "normal" pen
WRITTEN_HEIGHT = (90, 200)


def canvas_word(strokes, rng, y_up=True):
    """Strokes -> (PNG bytes, strokes [[x, y, t], ...] in its pixels) as the draw page sends."""
    points = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes]
    every = np.concatenate(points)
    low, high = every.min(axis=0), every.max(axis=0)
    size = np.maximum(high - low, 1e-9)
    scale = min(rng.uniform(*WRITTEN_HEIGHT) / size[1], (CANVAS[0] - 2 * PEN) / size[0])
    offset = np.array([rng.uniform(PEN, max(PEN, CANVAS[0] - PEN - size[0] * scale)),
                       rng.uniform(PEN, max(PEN, CANVAS[1] - PEN - size[1] * scale))])
    image = Image.new("L", CANVAS, 255)
    draw = ImageDraw.Draw(image)
    sent, t = [], 0
    for stroke in points:
        xy = (stroke - low) * scale
        if y_up:
            xy[:, 1] = size[1] * scale - xy[:, 1]
        xy += offset
        coordinates = [tuple(p) for p in xy.round(1).tolist()]
        if len(coordinates) > 1:
            draw.line(coordinates, fill=0, width=round(PEN))
        for x, y in coordinates:
            draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=0)
        sent.append([[x, y, (t := t + 8)] for x, y in coordinates])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), sent


def slanted_words(records, slant, seed=0):
    """[(png, strokes, text, writer)]: each record's strokes (y up) sheared by `slant` (a shift
    per unit of height, as an italic hand writes) and drawn on the canvas."""
    rng = np.random.default_rng(seed)
    words = []
    for record in records:
        sheared = [[[x + slant * y, y] for x, y in stroke] for stroke in record["strokes"]]
        png, strokes = canvas_word(sheared, rng)
        words.append((png, strokes, record["text"], record["writer"]))
    return words


def read_through_api(client, png, strokes, kind="any"):
    """One canvas word through POST /api/v1/predict (text mode); the answer JSON."""
    body = {"image": "data:image/png;base64," + base64.b64encode(png).decode(), "kind": kind,
            "multi": True, "strokes": strokes}
    response = client.post("/api/v1/predict", json.dumps(body), content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"predict answered {response.status_code}: {response.content!r}")
    return response.json()


def give_verified_word_feedback(client, words):
    """Each word read through the API, answered with its text as its writer would, then
    verified as a reviewer would."""
    from feedback.models import WordFeedback
    from feedback.services import set_status

    for png, strokes, text, _ in words:
        result = read_through_api(client, png, strokes)
        response = client.post(f"/api/v1/words/{result['word_id']}/feedback", {"text": text},
                               content_type="application/json")
        if response.status_code not in (200, 201):
            raise RuntimeError(f"word feedback answered {response.status_code}: {response.content!r}")
    set_status(WordFeedback.objects.filter(status=WordFeedback.Status.NEW), WordFeedback.Status.VERIFIED)


def served_word_accuracy(client, words):
    """(share of words read exactly, model versions that answered) of the API on `words`."""
    results = [read_through_api(client, png, strokes) for png, strokes, _, _ in words]
    right = sum(r["text"] == text for r, (_, _, text, _) in zip(results, words))
    return right / len(words), sorted({r["model"]["version"] for r in results})
