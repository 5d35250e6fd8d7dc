"""A written line -> its characters, left to right: the one place that decides where one ends.

Pieces of ink (pen strokes when the canvas sends them, connected components of the image
otherwise) are grouped by how much they overlap in x: the strokes of one character are stacked
over each other (the two strokes of a 4, the bar of a t or a 7, the three bars of an E), while
neighbouring characters only touch or overlap a little. Pieces much smaller than the line (the
dot of an i or j) join the character they sit over. Each character then becomes an ink map that
`preprocessing.normalize` turns into the model's input, exactly as for a single character.
"""
from dataclasses import dataclass
from functools import cache

import cc3d
import numpy as np

from core import preprocessing

MAX_STROKES = 300
MAX_POINTS = 20_000
MAX_CHARACTERS = 64
MAX_COORDINATE = 1e6
# Fractions of the line's height.
DOT_SIZE = 0.2        # a piece whose box is smaller than this is a dot or a tick
DOT_REACH = 0.25      # how far beside a character a dot may sit
MIN_WIDTH = 0.1       # a vertical bar counts as this wide when overlaps are measured
# Share of the narrower piece's width that must overlap for two pieces to be one character.
# Chosen on lines built from UNIPEN *train* writers (bench/text.py uses test writers): 0.3
# splits 8-character lines exactly more often than 0.4-0.7; requiring strokes of one character
# to come near each other did worse (tablet strokes of a 5 or an E often do not touch).
SAME_CHARACTER_OVERLAP = 0.3
# Touching characters in an image (no strokes to tell them apart): a character wider than WIDE
# line heights may be several; it may be cut at columns crossed by at most CUT_INK pen widths
# of ink (where neighbours touch; the MAX_CUTS emptiest), into parts at most MAX_PART line
# heights wide, and the recognizer keeps the cuts whose parts it reads most confidently.
WIDE = 0.7
CUT_INK = 3.0
MAX_CUTS = 16
MAX_PART = 2.0
# Strokes (the canvas): up to MAX_JOIN neighbouring groups, each at most JOIN_GAP line heights
# from the next, may be one character drawn in detached strokes (the bar of a 5, the stem of a
# 4); they are joined when the recognizer's log-confidence in the whole beats the sum over the
# parts by JOIN_COST per character lost. Chosen on lines from UNIPEN *validation* writers
# (150 per kind and length; `any`, 8 characters, characters right without joining 59.2 %): a
# cost of 0.25 joined neighbours that read as one squeezed letter ("rn" as "m"; 35.7 %), 0.75
# and 1.0 gave 62.3 % (4 characters: 68.8 / 71.7 % against 68.7 %), a gap of 0.1 60.4 %;
# digits stayed within 0.7 points of their 81.0 / 94.0 % without joining.
JOIN_GAP = 0.05
JOIN_COST = 1.0
MAX_JOIN = 3
# Pen width of rasterised strokes, and the box of a line's tall characters when the drawn pen is
# not known (training data draws tall characters at 64 px with a 3-8 px pen).
RASTER_BOX = 64
RASTER_WIDTH = 5


class SegmentationError(preprocessing.PreprocessingError):
    """Strokes or an image that cannot be split into characters; the message is shown."""


@dataclass
class Character:
    """One character of the line: its box in the input's coordinates and its own ink map."""

    box: tuple  # (left, top, right, bottom), y growing downwards
    ink: np.ndarray


def check_strokes(strokes):
    """Client strokes ([[x, y] or [x, y, t], ...] per stroke) -> float arrays of (x, y) points."""
    if not isinstance(strokes, list) or not strokes:
        raise SegmentationError("strokes must be a non-empty list of strokes")
    if len(strokes) > MAX_STROKES:
        raise SegmentationError(f"too many strokes: {len(strokes)} (at most {MAX_STROKES})")
    arrays, total = [], 0
    for number, stroke in enumerate(strokes, 1):
        if not isinstance(stroke, list) or not stroke:
            raise SegmentationError(f"stroke {number} must be a non-empty list of points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise SegmentationError(f"too many points (at most {MAX_POINTS:,} in all)")
        if any(not isinstance(point, list) or len(point) not in (2, 3) for point in stroke):
            raise SegmentationError(f"stroke {number}: every point must be [x, y] or [x, y, t]")
        try:
            points = np.array([point[:2] for point in stroke], dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise SegmentationError(f"stroke {number}: points must hold numbers") from error
        if not np.isfinite(points).all() or np.abs(points).max() > MAX_COORDINATE:
            raise SegmentationError(f"stroke {number}: coordinates must be finite numbers "
                                    f"within ±{MAX_COORDINATE:,.0f}")
        arrays.append(points)
    return arrays


def segment_strokes(strokes, image=None, log_confidences=None):
    """Strokes (y down, any unit, in writing order) -> characters, left to right.

    Each character is redrawn with the pen scaled to RASTER_WIDTH. With the `image` the strokes
    came with (a PIL image; the canvas page sends both), at its drawn size with the pen measured
    on that image (`drawn_pen_width`), so a small `o` keeps its relatively thick strokes as on
    the single-character canvas, even in a line with no tall character ("once"); without it, or
    when the image shows no ink, at its size relative to the line's tall characters. With
    `log_confidences` (ink maps -> the recognizer's log-confidence in each), neighbours close
    enough to be one character drawn in detached strokes are joined where the recognizer reads
    them best (`join_detached`).
    """
    strokes = check_strokes(strokes)
    boxes = np.array([[*s.min(axis=0), *s.max(axis=0)] for s in strokes])
    groups = group_pieces(boxes)
    pen_width = drawn_pen_width(image, strokes) if image is not None else None
    if pen_width:
        scale = RASTER_WIDTH / pen_width
    else:
        scale = preprocessing.relative_scale([[strokes[i] for i in members] for members in groups], RASTER_BOX)

    @cache  # a candidate that `join_detached` keeps is drawn once
    def draw(members):
        left, top, right, bottom = union = _union(boxes[list(members)])
        size = np.clip(max(right - left, bottom - top) * scale, RASTER_BOX / 4, 2 * RASTER_BOX)
        return Character(union, preprocessing.rasterize([strokes[i] for i in members], RASTER_WIDTH, size, y_up=False))

    if log_confidences is not None and len(groups) <= MAX_JOIN * MAX_CHARACTERS:  # else too many
        groups = join_detached(groups, boxes, draw, log_confidences)
    return _checked([draw(tuple(members)) for members in groups])


def join_detached(groups, boxes, draw, log_confidences):
    """Groups of strokes, left to right -> the same with neighbours joined where they are one
    character drawn in detached strokes (the bar of a 5, the stem of a 4, a large i-dot).

    Runs of up to MAX_JOIN neighbours, each within JOIN_GAP line heights of the next, are
    candidates; the grouping kept is the one whose characters the recognizer reads most
    confidently together (the sum of log-confidences plus JOIN_COST per character, by dynamic
    programming, all candidates in one `log_confidences` call), so a run is joined only when the
    recognizer is much surer of the whole than of its parts.
    """
    height = boxes[:, 3].max() - boxes[:, 1].min()
    spans = [_union(boxes[members]) for members in groups]
    rights = np.maximum.accumulate([span[2] for span in spans])  # how far the ink so far reaches
    close = [spans[k + 1][0] - rights[k] <= JOIN_GAP * height for k in range(len(spans) - 1)]
    runs = [(i, j) for i in range(len(groups)) for j in range(i + 2, min(i + MAX_JOIN, len(groups)) + 1)
            if all(close[i:j - 1])]
    if not runs:
        return groups

    def joined(i, j):
        return tuple(sorted(index for group in groups[i:j] for index in group))

    candidates = runs + [(k, k + 1) for k in sorted({k for i, j in runs for k in range(i, j)})]
    confidence = log_confidences([draw(joined(i, j)).ink for i, j in candidates])
    # Lone groups outside every run score 0: every grouping holds them alike.
    scores = {(k, k + 1): JOIN_COST for k in range(len(groups))}
    scores.update((span, value + JOIN_COST) for span, value in zip(candidates, confidence))
    return [list(joined(i, j)) for i, j in _best_partition(len(groups), scores)]


def drawn_pen_width(image, strokes):
    """The width of the pen that drew `image`, in the unit of its `strokes` (arrays of x, y).

    Measured on the image's ink (2 x area / perimeter) and converted by comparing the ink's
    extent with the strokes' along their longer side, so strokes in pixels of the image, in
    fractions of it or in tablet units all work. None when the image holds no ink or the
    strokes are a single point.
    """
    try:
        ink, scale = preprocessing.working_ink_map(image)
    except preprocessing.NothingDrawn:
        return None
    mask = ink > 0.5
    pen = preprocessing.stroke_width(mask) * scale
    ink_extent = np.array(preprocessing._crop_to_ink(mask).shape[::-1]) * scale  # width, height
    stroke_extent = np.ptp(np.concatenate(strokes), axis=0)
    axis = int(np.argmax(stroke_extent))
    if stroke_extent[axis] <= 0:
        return None
    # The ink reaches half a pen beyond the strokes' centre lines on either side.
    pixels_per_unit = max(ink_extent[axis] - pen, pen) / stroke_extent[axis]
    return pen / pixels_per_unit


def segment_ink(ink, log_confidences=None):
    """Ink map of a whole line (no strokes known) -> characters, by connected components.

    With `log_confidences` (ink maps -> the recognizer's log-confidence in each), a character
    wide enough to be several touching ones is cut where the recognizer reads the parts best
    (`split_touching`).
    """
    mask = ink > 0.5
    if mask.sum() < 2:
        raise preprocessing.NothingDrawn()
    pen = preprocessing.stroke_width(mask)
    mask = preprocessing._drop_specks(mask, pen)
    labels, count = preprocessing.pieces(mask)
    if count > MAX_STROKES:
        raise SegmentationError(f"too many separate pieces of ink: {count} (at most {MAX_STROKES})")
    slices = cc3d.statistics(labels)["bounding_boxes"][1:]  # [0] is the background's
    boxes = np.array([[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in slices], dtype=float)
    characters = []
    for members in group_pieces(boxes):
        left, top, right, bottom = (int(v) for v in _union(boxes[members]))
        window = labels[top:bottom, left:right]
        own = np.isin(window, np.asarray(members) + 1)
        characters.append(Character((left, top, right, bottom), np.where(own, ink[top:bottom, left:right], 0.0)))
    if log_confidences is not None:
        height = max(c.box[3] for c in characters) - min(c.box[1] for c in characters)
        characters = [part for c in characters
                      for part in split_touching(c, pen, height, log_confidences)]
    return _checked(characters)


def split_touching(character, pen, height, log_confidences):
    """One character of an image line -> the characters it holds, when it is touching ones.

    Candidate cuts are the emptiest column of each run of columns with little ink; every way of
    keeping some of them is scored by the sum of the parts' log-confidences (dynamic
    programming over the cuts, all parts classified in one `log_confidences` call), so a cut is
    kept only when the recognizer is surer of the parts together than of the whole. Straight cuts cannot
    part characters that overlap in x; those stay one, as before.
    """
    if character.box[2] - character.box[0] < WIDE * height:
        return [character]
    profile = np.count_nonzero(character.ink > 0.5, axis=0)
    margin = max(2 * pen, MIN_WIDTH * height)  # no sliver of a character at either side
    cuts = []
    for run in np.split(np.arange(len(profile)), np.flatnonzero(np.diff(profile <= CUT_INK * pen)) + 1):
        column = int(run[np.argmin(profile[run])])
        if profile[column] <= CUT_INK * pen and margin <= column <= len(profile) - margin:
            cuts.append(column)
    cuts = sorted(sorted(cuts, key=lambda column: profile[column])[:MAX_CUTS])
    if not cuts:
        return [character]
    edges = [0, *cuts, len(profile)]
    # A part is at most MAX_PART line heights wide (the recognizer reads a squeezed "mw" as a
    # confident "m"; a lower-case "m" alone is up to 1.6 x-heights) and has at least a pen's
    # square of ink (no slivers).
    parts = {(i, j): character.ink[:, edges[i]:edges[j]]
             for i in range(len(edges)) for j in range(i + 1, len(edges))
             if edges[j] - edges[i] <= MAX_PART * height}
    scored = [span for span, part in parts.items() if np.count_nonzero(part > 0.5) >= pen * pen]
    if not scored:
        return [character]
    confidences = log_confidences([parts[span] for span in scored])
    chosen = _best_partition(len(edges) - 1, dict(zip(scored, confidences)))
    if chosen is None:
        return [character]  # no way to cut it into parts of a character's size
    return [_part(character, edges[i], edges[j]) for i, j in chosen]


def _best_partition(count, scores):
    """The spans (i, j) that cover 0..count end to end with the highest total score, by dynamic
    programming over `scores` (a dict of the allowed spans); None when none covers it."""
    best, previous = {0: 0.0}, {}  # best total up to each point, and where its last span began
    for j in range(1, count + 1):
        for i in range(j):
            if i in best and (i, j) in scores and best[i] + scores[(i, j)] > best.get(j, -np.inf):
                best[j], previous[j] = best[i] + scores[(i, j)], i
    if count not in best:
        return None
    spans, j = [], count
    while j:
        spans.append((previous[j], j))
        j = previous[j]
    return spans[::-1]


def _part(character, start, stop):
    """The columns start:stop of a character, boxed to their own ink."""
    left, top = character.box[:2]
    ink = character.ink[:, start:stop]
    rows = np.flatnonzero((ink > 0.5).any(axis=1))
    return Character((left + start, top + rows[0], left + stop, top + rows[-1] + 1), ink[rows[0]:rows[-1] + 1])


def group_pieces(boxes):
    """Boxes (left, top, right, bottom) of pieces in writing order -> index groups, left to right.

    A piece joins the character it overlaps most in x, when that overlap covers at least a
    third of the narrower of the two; characters that end up overlapping that much are merged (the
    bar of an H drawn last joins both legs); small pieces join the character beneath them.
    """
    boxes = np.asarray(boxes, dtype=float)
    height = max(boxes[:, 3].max() - boxes[:, 1].min(), 1e-9)
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    small = size < DOT_SIZE * height
    if small.all():
        small[:] = False
    groups = []  # [left, right, members]
    for index in np.flatnonzero(~small):
        left, right = boxes[index, 0], boxes[index, 2]
        overlaps = [_overlap((left, right), group[:2], height) for group in groups]
        if overlaps and max(overlaps) >= SAME_CHARACTER_OVERLAP:
            group = groups[int(np.argmax(overlaps))]
            group[0], group[1] = min(group[0], left), max(group[1], right)
            group[2].append(int(index))
        else:
            groups.append([left, right, [int(index)]])
    groups = _merge_overlapping(groups, height)
    for index in np.flatnonzero(small):
        centre = (boxes[index, 0] + boxes[index, 2]) / 2
        distances = [max(group[0] - centre, centre - group[1], 0.0) for group in groups]
        nearest = int(np.argmin(distances))
        if distances[nearest] <= DOT_REACH * height:
            groups[nearest][2].append(int(index))
        # else: a speck far from any character (a full stop, a slip of the pen) is no character
    groups.sort(key=lambda group: (group[0] + group[1]) / 2)
    return [sorted(group[2]) for group in groups]


def _overlap(a, b, height):
    """Overlap in x of two intervals, as a share of the narrower one (widened to MIN_WIDTH)."""
    a, b = _widened(a, height), _widened(b, height)
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared / min(a[1] - a[0], b[1] - b[0])


def _widened(interval, height):
    left, right = interval
    pad = max(MIN_WIDTH * height - (right - left), 0.0) / 2
    return left - pad, right + pad


def _merge_overlapping(groups, height):
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda group: group[0])
        for first, second in zip(groups, groups[1:]):
            if _overlap(first[:2], second[:2], height) >= SAME_CHARACTER_OVERLAP:
                first[0], first[1] = min(first[0], second[0]), max(first[1], second[1])
                first[2].extend(second[2])
                groups.remove(second)
                merged = True
                break
    return groups


def _union(boxes):
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def _checked(characters):
    if len(characters) > MAX_CHARACTERS:
        raise SegmentationError(f"too many characters: {len(characters)} (at most {MAX_CHARACTERS})")
    return characters
