"""A written line -> its characters, left to right: the one place that decides where one ends.

Pieces of ink (pen strokes when the canvas sends them, connected components of the image
otherwise) are grouped by how much they overlap in x: the strokes of one character are stacked
over each other (the two strokes of a 4, the bar of a t or a 7, the three bars of an E), while
neighbouring characters only touch or overlap a little. Pieces much smaller than the line (the
dot of an i or j) join the character they sit over. Each character then becomes an ink map that
`preprocessing.normalize` turns into the model's input, exactly as for a single character.
"""
from dataclasses import dataclass

import cc3d
import numpy as np

from recognition import preprocessing

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


def segment_strokes(strokes, pen_width=None):
    """Strokes (y down, any unit, in writing order) -> characters, left to right.

    Each character is redrawn with the pen scaled to RASTER_WIDTH: with the `pen_width` the line
    was drawn with (in the strokes' unit, see `drawn_pen_width`), at its drawn size, so a small
    `o` keeps its relatively thick strokes as on the single-character canvas, even in a line
    with no tall character ("once"); without it, at its size relative to the line's tall
    characters.
    """
    strokes = check_strokes(strokes)
    boxes = np.array([[*s.min(axis=0), *s.max(axis=0)] for s in strokes])
    groups = group_pieces(boxes)
    grouped_strokes = [[strokes[i] for i in members] for members in groups]
    unions = [_union(boxes[members]) for members in groups]
    if pen_width:
        extents = np.array([max(right - left, bottom - top) for left, top, right, bottom in unions])
        sizes = np.clip(extents * RASTER_WIDTH / pen_width, RASTER_BOX / 4, 2 * RASTER_BOX)
    else:
        sizes = preprocessing.relative_boxes(grouped_strokes, RASTER_BOX)
    characters = [
        Character(union, preprocessing.rasterise(group, RASTER_WIDTH, size, y_up=False))
        for union, group, size in zip(unions, grouped_strokes, sizes)
    ]
    return _checked(characters)


def drawn_pen_width(image):
    """The pen width, in pixels, of the line drawn in a PIL image (None when it holds no ink):
    the strokes sent with a drawing are in its pixels, so this is their pen too."""
    try:
        ink, scale = preprocessing.working_ink_map(image)
    except preprocessing.NothingDrawn:
        return None
    return preprocessing.stroke_width(ink > 0.5) * scale


def segment_ink(ink):
    """Ink map of a whole line (no strokes known) -> characters, by connected components."""
    mask = ink > 0.5
    if mask.sum() < 2:
        raise preprocessing.NothingDrawn()
    mask = preprocessing._drop_specks(mask, preprocessing.stroke_width(mask))
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
    return _checked(characters)


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
