"""Writing conventions the training sources lack, drawn onto UNIPEN's pen strokes.

MNIST and NIST SD19 were written in the United States, where a 1 is a plain stick and a 7 has
no bar. Much of Europe writes the 1 with a long up-stroke (a flag) and crosses the 7 to tell
the two apart; a model trained on the sources alone often reads a 1 with a long, shallow flag
as a 7. These functions add the missing stroke to a writer's own character, so the variant
keeps that writer's hand and is drawn like every other UNIPEN record. Strokes are UNIPEN's:
lists of [x, y] points, y up.
"""
import numpy as np

# A character is a plain stick when it is at most this wide for its height.
STICK_WIDTH = 0.25
FLAG_ANGLE_DEGREES = (30.0, 60.0)  # below the horizontal, from the top of the stem
FLAG_LENGTH = (0.25, 0.5)  # of the height
BAR_HEIGHT = (0.35, 0.55)  # of the height, from the bottom
BAR_HALF_LENGTH = (0.2, 0.35)  # of the width (at least half the height)
BAR_TILT = 0.05  # of the height, either way
POINTS = 8  # per added stroke


def _points(strokes):
    return [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes]


def _line(start, end):
    return np.linspace(start, end, POINTS).tolist()


def continental_one(strokes, rng):
    """A plain-stick 1 with a flag: a straight up-stroke into the top of the stem, from the
    lower left. None when the 1 is not a plain stick (it may have a flag or a base already)."""
    points = _points(strokes)
    every = np.concatenate(points)
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    height = y1 - y0
    if height <= 0 or x1 - x0 > STICK_WIDTH * height:
        return None
    top = every[every[:, 1].argmax()]
    angle = np.radians(rng.uniform(*FLAG_ANGLE_DEGREES))
    length = rng.uniform(*FLAG_LENGTH) * height
    start = top - length * np.array([np.cos(angle), np.sin(angle)])
    return [_line(start, top)] + list(strokes)


def crossed_seven(strokes, rng):
    """A 7 with a bar across its stem, a little below the middle. None when no stroke crosses
    that height (not a 7 drawn the usual way)."""
    points = _points(strokes)
    every = np.concatenate(points)
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    height, width = y1 - y0, x1 - x0
    level = y0 + rng.uniform(*BAR_HEIGHT) * height
    crossings = [
        a[0] + (level - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        for stroke in points for a, b in zip(stroke[:-1], stroke[1:])
        if a[1] != b[1] and (a[1] - level) * (b[1] - level) <= 0
    ]
    if not crossings:
        return None
    centre = float(np.mean(crossings))
    half = rng.uniform(*BAR_HALF_LENGTH) * max(width, 0.5 * height)
    tilt = rng.uniform(-BAR_TILT, BAR_TILT) * height
    bar = _line([centre - half, level - tilt], [centre + half, level + tilt])
    return list(strokes) + [bar]


# What each label may be written as, beyond what the sources hold.
VARIANTS = {"1": continental_one, "7": crossed_seven}
