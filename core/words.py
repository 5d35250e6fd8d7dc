"""Whole words and numbers: the text model's input and the decoding of what it outputs.

The text model reads a written line as one image (height `HEIGHT`, width `WIDTH`) and gives,
for each of `WIDTH / 4` columns, a score per character of its alphabet and for "blank" (CTC).
The same `word_input` builds that image from a canvas drawing, from rendered training strokes
and from a photo's ink, so the model is served what it was trained on. Plain NumPy and Pillow:
web workers import this, never TensorFlow.
"""
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

import cv2

from core import lexicon, segmentation
from core.preprocessing import (
    NothingDrawn, decode_image, rasterize, read_writing, stroke_width, working_ink_map,
)

HEIGHT, WIDTH = 32, 256
# The ink is scaled to this height (a margin above and below), and at most this wide.
INK_HEIGHT, INK_WIDTH = 28, WIDTH - 4
# The model's output columns: one per `STRIDE` input columns.
STRIDE = 4
TEXT_CONTRACT = {
    "shape": [1, HEIGHT, WIDTH, 1],
    "dtype": "float32",
    "range": [0, 1],
    "ink": 1.0,
    "normalisation": "text-line",
}
BLANK = 0
# Pen widths the model is trained with, in pixels of the input; canvas strokes are redrawn with
# the middle one (the canvas's own pen is far bolder on a word than on a character), and bolder
# ink in an image is thinned to it.
TRAINED_PENS = (1.0, 3.2)
PEN = 2.2
# A line is turned level when a turn of at most LEVEL_DEGREES makes its band of ink thinner by
# at least this share (less is within what training's slight turns cover).
LEVEL_DEGREES, LEVEL_GAIN = 12, 0.1


def word_input(ink):
    """Ink map (2-D, ink > 0.5 is ink) -> HEIGHT x WIDTH float32, ink 1.0, as the model reads it.

    The ink's box is scaled to INK_HEIGHT (aspect kept; a line too long for INK_WIDTH is scaled
    to fit it instead), strokes bolder or finer than the pens of training brought to the nearest
    of them, grey levels kept by area averaging, and placed at the left, centred vertically. Returns the image and the `Placement` that maps model columns back to the ink.
    """
    ink = np.asarray(ink, dtype=np.float32)
    mask = ink > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        raise NothingDrawn()
    top, left = rows[0], cols[0]
    ink = ink[top:rows[-1] + 1, left:cols[-1] + 1]
    height, width = ink.shape
    scale = min(INK_HEIGHT / height, INK_WIDTH / width)
    pen = stroke_width(mask[top:rows[-1] + 1, left:cols[-1] + 1])
    low, high = (bound / scale for bound in TRAINED_PENS)  # in the ink's pixels
    radius = round(abs(pen - min(max(pen, low), high)) / 2)
    if radius >= 1:
        # A felt pen or the canvas's bold one is thinned, a fine pen seen from afar thickened.
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        change = cv2.erode if pen > high else cv2.dilate
        ink = change(ink, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resampling = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.clip(np.asarray(Image.fromarray(ink).resize(size, resampling)), 0.0, 1.0)
    frame = np.zeros((HEIGHT, WIDTH), np.float32)
    y0, x0 = (HEIGHT - size[1]) // 2, (WIDTH - INK_WIDTH) // 2
    frame[y0:y0 + size[1], x0:x0 + size[0]] = small
    return frame, Placement(scale, left, x0)


def render_strokes(strokes, pen=PEN, y_up=False):
    """Pen strokes -> (the model's input, `Placement`), drawn at twice the ink height with a
    pen of `pen` pixels (at INK_HEIGHT) and area-averaged down, as a canvas would draw them.

    The placement's ink columns are in the strokes' own units (for canvas strokes: the pixels of
    the image sent with them).
    """
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    width, height = x1 - x0, max(y1 - y0, 1e-9)
    scale = 2 * INK_HEIGHT / max(height, width * INK_HEIGHT / INK_WIDTH)
    pen_px = max(1, round(2 * pen))
    image, placement = word_input(rasterize(strokes, pen_px, max(width, height) * scale, y_up=y_up))
    # rasterize draws x at (x - x0) * scale + pen_px; word_input cropped that at ink_left.
    left = x0 + (placement.ink_left - pen_px) / scale
    return image, Placement(placement.scale * scale, left, placement.input_left)


@dataclass
class TextLine:
    """A line of writing as the text model reads it (`image`), the picture it came from, and how
    to map the model's columns back to boxes in that picture."""

    picture: np.ndarray
    image: np.ndarray
    placement: "Placement"
    ink: tuple  # top, bottom, left, right of the ink, in the placement's ink units
    picture_box: object  # (left, right) in ink units -> [left, top, right, bottom] in the picture


def level_turn(points):
    """The turn (a 2x2 matrix acting on x, y) that lays a line of writing level, or None.

    A line written uphill on a phone, or on a sheet photographed askew, is tilted; the model
    was trained on level lines, and a tilted one is also scaled down to fit its height. The turn
    is the one (in whole degrees, up to LEVEL_DEGREES) that makes the band of ink thinnest, if
    that is clearly thinner: slanted (italic) strokes stay as written, since standing them up
    makes the band taller, not thinner."""
    points = np.asarray(points, np.float64)
    points = points[:: max(1, len(points) // 20_000)] - points.mean(axis=0)
    angles = np.radians(np.arange(-LEVEL_DEGREES, LEVEL_DEGREES + 1))
    heights = np.ptp(np.outer(points[:, 0], np.sin(angles)) + np.outer(points[:, 1], np.cos(angles)),
                     axis=0)
    best = int(np.argmin(heights))
    if heights[best] > (1 - LEVEL_GAIN) * np.ptp(points[:, 1]):
        return None
    cos, sin = np.cos(angles[best]), np.sin(angles[best])
    return np.array([[cos, -sin], [sin, cos]])


def _turned_ink(ink, turn):
    """The ink map turned by `turn` onto a canvas that holds all of it, and the 2x3 matrix from
    the ink map's pixels to the turned one's."""
    height, width = ink.shape
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64) @ turn.T
    low, high = corners.min(axis=0), corners.max(axis=0)
    matrix = np.hstack([turn, -low[:, None]])
    size = tuple(int(v) + 1 for v in np.ceil(high - low))
    return cv2.warpAffine(ink, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0), matrix


def _box_back(back, left, top, right, bottom):
    """A box in turned coordinates -> the box around it before the turn (`back`: the 2x3 matrix
    that undoes it)."""
    corners = np.array([[left, top, 1], [right, top, 1], [left, bottom, 1], [right, bottom, 1]],
                       np.float64) @ back.T
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    return [float(x0), float(y0), float(x1), float(y1)]


def text_line(data, strokes=None, crop=None, max_pixels=25_000_000):
    """Request bytes (and the canvas's strokes, or the box a person drew) -> `TextLine`.

    Canvas strokes are redrawn with the pen the model was trained with; an upload is read where
    the photo pipeline finds its writing. Either is laid level first (`level_turn`). Every route
    and retraining build the input here. Raises `PreprocessingError` (with a message for the
    person) when there is nothing to read.
    """
    if strokes is not None:
        picture = decode_image(data, max_pixels=max_pixels)
        points = segmentation.check_strokes(strokes)
        turn = level_turn(np.concatenate(points))
        if turn is None:
            turn = np.eye(2)
        points = [p @ turn.T for p in points]
        every = np.concatenate(points)
        image, placement = render_strokes(points)
        top, bottom = float(every[:, 1].min()), float(every[:, 1].max())
        ink = (top, bottom, float(every[:, 0].min()), float(every[:, 0].max()))
        back = np.hstack([turn.T, np.zeros((2, 1))])  # a turn is undone by its transpose
        return TextLine(picture, image, placement, ink,
                        lambda left, right: _box_back(back, left, top, right, bottom))
    writing = read_writing(data, max_pixels, crop, multi=True)
    ink_map, scale = working_ink_map(writing.image)
    ys, xs = np.nonzero(ink_map > 0.5)
    turn = level_turn(np.column_stack([xs, ys])) if len(xs) else None
    back = np.eye(2, 3)
    if turn is not None:
        ink_map, matrix = _turned_ink(ink_map, turn)
        back = cv2.invertAffineTransform(matrix)
    image, placement = word_input(ink_map)
    rows = np.flatnonzero((ink_map > 0.5).any(axis=1))
    columns = np.flatnonzero((ink_map > 0.5).any(axis=0))
    top, bottom = rows[0], rows[-1] + 1
    ink = (top, bottom, columns[0], columns[-1] + 1)
    return TextLine(writing.image, image, placement, ink, lambda left, right: writing.picture_box(
        [v * scale for v in _box_back(back, left, top, right, bottom)]))


@dataclass
class Placement:
    """Where the ink went in the model's input: the ink's column x is the input's column
    (x - ink_left) * scale + input_left."""

    scale: float
    ink_left: float
    input_left: int

    def ink_columns(self, first, last):
        """Output columns first..last (inclusive) -> the ink map's column range they cover."""
        start = (first * STRIDE - self.input_left) / self.scale + self.ink_left
        stop = ((last + 1) * STRIDE - self.input_left) / self.scale + self.ink_left
        return start, stop


@dataclass
class Reading:
    """One way of reading the line: its text, score (log probability) and, per character, the
    model columns where it was read."""

    text: str
    log_probability: float
    columns: list


def best_path(log_probs, alphabet):
    """Greedy CTC decoding: the most likely class per column, repeats merged, blanks dropped."""
    best = log_probs.argmax(axis=1)
    text, columns = [], []
    for column, index in enumerate(best):
        if index != BLANK and (column == 0 or best[column - 1] != index):
            text.append(alphabet[index - 1])
            columns.append([column, column])
        elif index != BLANK and columns:
            columns[-1][1] = column
    return Reading("".join(text), float(log_probs[np.arange(len(best)), best].sum()), columns)


def _add_log(a, b):
    """log(exp(a) + exp(b)) of two floats (NumPy's version costs ten times more per call)."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def beam_search(log_probs, alphabet, width=8, count=5, allowed=None, prune=-8.0, expand=6):
    """CTC prefix beam search: the `count` most likely texts, best first.

    Only a column's `expand` best characters scoring above `prune` (log probability) are
    expanded, which keeps a word to a few milliseconds even when the model is unsure
    everywhere. `allowed` restricts the characters (e.g. digits only).
    """
    mask = np.ones(len(alphabet) + 1, bool)
    if allowed is not None:
        mask[1:] = [character in allowed for character in alphabet]
    # prefix -> [log p ending in blank, log p ending in its last character, columns]
    beams = {(): [0.0, -math.inf, ()]}
    for column, row in enumerate(log_probs):
        eligible = np.flatnonzero((row > prune) & mask)
        eligible = eligible[eligible != BLANK]
        candidates = eligible[np.argsort(row[eligible])[::-1][:expand]].tolist()
        scores = row.tolist()
        blank = scores[BLANK]
        following = {}

        def add(prefix, with_blank, with_last, columns):
            entry = following.get(prefix)
            if entry is None:
                following[prefix] = [with_blank, with_last, columns]
            else:
                entry[0] = _add_log(entry[0], with_blank)
                entry[1] = _add_log(entry[1], with_last)

        for prefix, (p_blank, p_last, columns) in beams.items():
            total = _add_log(p_blank, p_last)
            add(prefix, total + blank, -math.inf, columns)
            for index in candidates:
                score = scores[index]
                if prefix and prefix[-1] == index:
                    # The same character again needs a blank between; without one it continues.
                    add(prefix, -math.inf, p_last + score, columns[:-1] + ((columns[-1][0], column),))
                    add(prefix + (index,), -math.inf, p_blank + score, columns + ((column, column),))
                else:
                    add(prefix + (index,), -math.inf, total + score, columns + ((column, column),))
        beams = dict(sorted(following.items(), key=lambda item: -_add_log(item[1][0], item[1][1]))[:width])
    ranked = sorted(beams.items(), key=lambda item: -_add_log(item[1][0], item[1][1]))[:count]
    return [Reading("".join(alphabet[i - 1] for i in prefix), _add_log(p_blank, p_last),
                    [list(c) for c in columns])
            for prefix, (p_blank, p_last, columns) in ranked]


def read_line(probabilities, alphabet, allowed=None, count=5, lexicon_source="", lexicon_weight=0.0):
    """The `count` best whole readings of a line from the model's column probabilities, best
    first: a beam search, its readings weighed against a lexicon's word frequencies when one is
    given (a wider beam then, so that the words among the readings are found)."""
    log_probs = np.log(np.asarray(probabilities, np.float64) + 1e-12)
    if not lexicon_source:
        return beam_search(log_probs, alphabet, count=count, allowed=allowed)
    readings = beam_search(log_probs, alphabet, width=16, count=16, allowed=allowed)
    return lexicon.rescore(readings, lexicon_source, lexicon_weight)[:count]


def edit_distance(a, b):
    """Levenshtein distance (insertions, deletions, substitutions) between two strings."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def character_spans(columns, line):
    """The output columns (start, stop) that belong to each character read at `columns`: cut
    half-way between neighbours, the first and the last reaching to the ends of the ink."""
    inked = np.flatnonzero((line > 0.5).any(axis=0))
    ink_start, ink_stop = inked[0] // STRIDE, inked[-1] // STRIDE + 1
    cuts = [(last + 1 + first) // 2 for (_, last), (first, _) in zip(columns, columns[1:])]
    starts = [min(ink_start, columns[0][0]), *cuts]
    stops = [*cuts, max(ink_stop, columns[-1][1] + 1)]
    return [(start, max(stop, start + 1)) for start, stop in zip(starts, stops)]


def input_piece(line, start, stop):
    """The line's input columns of output columns start..stop, widened until it holds ink, its
    darkest ink at 1 (an ink map `preprocessing.normalize` can read)."""
    total, darkest = line.shape[1] // STRIDE, float(line.max())
    while True:
        piece = line[:, start * STRIDE:stop * STRIDE]
        if np.count_nonzero(piece > 0.5 * darkest) >= 2 or (start == 0 and stop >= total):
            return piece / max(float(piece.max()), 1e-6)
        start, stop = max(0, start - 1), min(total, stop + 1)


def aligned_errors(read, text):
    """The edits that turn `text` into `read`: (wanted, read) pairs, '' for a missing or extra
    character, from one shortest alignment."""
    rows, cols = len(text) + 1, len(read) + 1
    cost = np.zeros((rows, cols), int)
    cost[:, 0], cost[0, :] = np.arange(rows), np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (text[i - 1] != read[j - 1]))
    errors, i, j = [], len(text), len(read)
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (text[i - 1] != read[j - 1]):
            if text[i - 1] != read[j - 1]:
                errors.append((text[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            errors.append((text[i - 1], ""))
            i -= 1
        else:
            errors.append(("", read[j - 1]))
            j -= 1
    return errors[::-1]
