"""Segmentation of a line into characters: synthetic strokes for each rule, real UNIPEN lines."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core import segmentation
from core.preprocessing import (
    NothingDrawn,
    PreprocessingError,
    decode_image,
    ink_map,
    normalize,
    stroke_width,
)
from core.segmentation import (
    SegmentationError,
    drawn_pen_width,
    group_pieces,
    segment_ink,
    segment_strokes,
)
from ml.datasets import read_unipen
from ml.text_lines import PEN_PX, build_line, line_png, records_by_label
from recognition.tests.images import ring
from testing import DATASET_SLICES

# Synthetic strokes in pixels, y down, line height 100.
I_STEM, I_DOT = [[10, 40], [10, 100]], [[12, 15]]
T_STEM, T_BAR = [[60, 0], [60, 100]], [[40, 30], [85, 30]]
FOUR = [[[120, 0], [105, 65], [165, 65]], [[150, 20], [150, 100]]]
E = [[[200, 0], [200, 100]], [[200, 0], [250, 0]], [[200, 50], [240, 50]], [[200, 100], [250, 100]]]
H_LEGS_FIRST = [[[300, 0], [300, 100]], [[350, 0], [350, 100]], [[300, 50], [350, 50]]]


def boxes_of(strokes):
    return [[*np.min(s, axis=0), *np.max(s, axis=0)] for s in map(np.array, strokes)]


def test_dot_bar_and_multi_stroke_characters_are_grouped():
    # i, then t with its bar added last (after the 4 and the E), a two-stroke 4, an E, an H.
    strokes = [I_STEM, I_DOT, T_STEM, *FOUR, *E, *H_LEGS_FIRST, T_BAR]
    groups = group_pieces(boxes_of(strokes))
    assert groups == [[0, 1], [2, 12], [3, 4], [5, 6, 7, 8], [9, 10, 11]]


def test_touching_and_slightly_overlapping_characters_stay_apart():
    zero = [[[0, 0], [50, 0], [50, 100], [0, 100], [0, 0]]]
    # the second 0 starts 8 units before the first one ends: boxes overlap, the characters don't
    overlapping = [[[42, 0], [92, 0], [92, 100], [42, 100], [42, 0]]]
    one = [[[100, 0], [100, 100]]]
    assert group_pieces(boxes_of(zero + overlapping + one)) == [[0], [1], [2]]


def test_a_speck_far_from_any_character_is_dropped():
    assert group_pieces(boxes_of([I_STEM, [[200, 90]]])) == [[0]]


def judge_by_shape(inks):
    """A stand-in for the recognizer when testing how its verdicts are used: sure of whatever
    is shaped like one character (0.4-0.9 times as wide as it is high), unsure of the rest."""
    return [0.0 if 0.4 <= ink.shape[1] / ink.shape[0] <= 0.9 else -3.0 for ink in inks]


def test_a_stroke_drawn_apart_joins_its_character_when_the_whole_reads_better():
    body, stem = [[120, 0], [105, 65], [160, 65]], [[164, 20], [164, 100]]  # a 4, its stem apart
    strokes = [I_STEM, body, stem, [[230, 0], [290, 0], [250, 100]]]
    assert len(group_pieces(boxes_of(strokes))) == 4  # too little overlap to group them
    characters = segment_strokes(strokes, log_confidences=judge_by_shape)
    assert [c.box for c in characters][1] == (105.0, 0.0, 164.0, 100.0)
    assert len(characters) == 3


def test_neighbours_that_read_well_apart_stay_apart():
    zero = [[[0, 0], [50, 0], [50, 100], [0, 100], [0, 0]]]
    overlapping = [[[42, 0], [92, 0], [92, 100], [42, 100], [42, 0]]]  # the whole is too wide
    assert len(segment_strokes(zero + overlapping, log_confidences=judge_by_shape)) == 2


def test_only_close_neighbours_are_put_to_the_recognizer():
    def judge(inks):
        asked.extend(ink.shape[1] for ink in inks)
        return [0.0] * len(inks)

    def box(left):
        return [[left + 30, 0], [left, 0], [left, 100], [left + 30, 100]]  # a "[" 30 wide

    gap = 100 * segmentation.JOIN_GAP  # in line heights; this line is 100 high
    asked = []
    assert len(segment_strokes([box(0), box(30 + gap + 5)], log_confidences=judge)) == 2 and asked == []
    segment_strokes([box(0), box(31), box(200)], log_confidences=judge)  # the first two nearly touch
    assert asked and max(asked) < 100  # they were asked about, and never with the far third


def test_characters_come_left_to_right_whatever_the_writing_order():
    characters = segment_strokes([FOUR[0], FOUR[1], I_STEM, I_DOT])
    assert [c.box[0] for c in characters] == sorted(c.box[0] for c in characters)
    assert characters[0].box == (10.0, 15.0, 12.0, 100.0)
    assert all(normalize(c.ink).shape == (28, 28) for c in characters)


@pytest.mark.parametrize("strokes, message", [
    ([], "non-empty list"),
    ([[]], "stroke 1 must be a non-empty list"),
    ([[[1, 2, 3, 4]]], "[x, y] or [x, y, t]"),
    ([[[1, 2]], [[float("nan"), 2]]], "stroke 2: coordinates must be finite"),
    ([[[1e9, 2]]], "within"),
    ([[[0, 0]]] * (segmentation.MAX_STROKES + 1), "too many strokes"),
    ([[[0, 0]] * (segmentation.MAX_POINTS + 1)], "too many points"),
])
def test_bad_strokes_are_refused_with_a_message(strokes, message):
    with pytest.raises(SegmentationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        segment_strokes(strokes)


def test_too_many_characters_are_refused():
    strokes = [[[x * 100, 0], [x * 100, 100]] for x in range(segmentation.MAX_CHARACTERS + 1)]
    with pytest.raises(SegmentationError, match="too many characters"):
        segment_strokes(strokes)


@pytest.fixture(scope="module")
def unipen_test():
    records, _ = read_unipen("test", DATASET_SLICES)
    return records_by_label(records)


def pick(by_label, label, strokes):
    """The first held-out record of `label` written with exactly `strokes` strokes."""
    return next(r for r in by_label[label] if len(r["strokes"]) == strokes)


def test_real_i_dot_t_bar_and_two_stroke_four(unipen_test):
    records = [pick(unipen_test, "i", 2), pick(unipen_test, "t", 2), pick(unipen_test, "4", 2),
               pick(unipen_test, "E", 4), pick(unipen_test, "x", 2)]
    line = build_line(records, np.random.default_rng(1), gaps=(0.1, 0.2))
    groups = group_pieces(boxes_of(line.strokes))
    assert groups == [[0, 1], [2, 3], [4, 5], [6, 7, 8, 9], [10, 11]]


def test_real_lines_with_overlap_are_split_into_their_characters(unipen_test):
    """Random held-out characters with gaps from -8 % to 30 % of the line height: each line's
    groups must be exactly its characters' strokes, for nearly every line."""
    rng = np.random.default_rng(7)
    labels = sorted(unipen_test)
    right = 0
    for _ in range(60):
        records = [unipen_test[label][rng.integers(len(unipen_test[label]))]
                   for label in rng.choice(labels, 4)]
        line = build_line(records, rng)
        ends = np.cumsum([len(r["strokes"]) for r in records])
        expected = [list(range(start, end)) for start, end in zip([0, *ends[:-1]], ends)]
        right += group_pieces(boxes_of(line.strokes)) == expected
    assert right >= 45, f"{right} of 60 lines split into their characters"


def test_image_without_strokes_is_split_by_connected_components(unipen_test):
    records = [pick(unipen_test, "7", 1), pick(unipen_test, "i", 2), pick(unipen_test, "3", 1)]
    line = build_line(records, np.random.default_rng(2), gaps=(0.2, 0.3))
    characters = segment_ink(ink_map(decode_image(line.png)))
    assert len(characters) == 3
    stroke_lefts = [min(x for stroke in line.strokes[a:b] for x, _ in stroke)
                    for a, b in [(0, 1), (1, 3), (3, 4)]]
    assert np.allclose([c.box[0] for c in characters], stroke_lefts, atol=8)


def test_line_characters_keep_their_relative_size():
    """A capital O then a small o: the small one's strokes come out thicker, as in training."""
    big, small = ring(50, centre=(50, 50)), ring(30, centre=(160, 70))
    capital, lower = (normalize(c.ink) for c in segment_strokes([s.tolist() for s in big + small]))
    assert stroke_width(lower > 0.5) > 1.3 * stroke_width(capital > 0.5)


def widths(strokes, image=None):
    return [stroke_width(normalize(c.ink) > 0.5) for c in segment_strokes(strokes, image)]


def drawn(strokes):
    """The PNG the canvas page would send with these strokes (pen 12 px), decoded."""
    return decode_image(line_png([np.array(s) for s in strokes]))


def test_with_the_drawn_pen_a_line_without_tall_characters_keeps_its_size():
    """"oo" and "OO" written with the same pen: relative to their own line they come out alike;
    at their drawn size with the pen they were drawn with, the small ones keep thicker strokes,
    as one character drawn on the canvas does."""
    small = [s.tolist() for s in ring(30, centre=(50, 50)) + ring(30, centre=(130, 50))]
    large = [s.tolist() for s in ring(60, centre=(80, 80)) + ring(60, centre=(230, 80))]
    assert widths(small) == pytest.approx(widths(large), rel=0.1)
    assert drawn_pen_width(drawn(small), [np.array(s) for s in small]) == pytest.approx(PEN_PX, rel=0.25)
    assert min(widths(small, drawn(small))) > 1.3 * max(widths(large, drawn(large)))


def test_strokes_in_another_unit_than_the_image_give_the_same_characters():
    """The API takes strokes in any unit: in fractions of the image, the pen measured on the
    image is converted, and the characters come out as with strokes in its pixels."""
    small = [s.tolist() for s in ring(30, centre=(50, 50)) + ring(30, centre=(130, 50))]
    image = drawn(small)
    fractions = [(np.array(s) / image.width).tolist() for s in small]
    pairs = list(zip(segment_strokes(small, image), segment_strokes(fractions, image)))
    assert len(pairs) == 2
    for in_pixels, in_fractions in pairs:
        assert np.abs(normalize(in_pixels.ink) - normalize(in_fractions.ink)).mean() < 0.02


def test_a_blank_image_has_no_pen():
    assert drawn_pen_width(Image.new("L", (300, 100), 255), [np.array(I_STEM)]) is None


def test_blank_image_has_no_characters():
    with pytest.raises(NothingDrawn):
        segment_ink(np.zeros((50, 200), np.float32))


BLANK = Image.new("L", (90, 30), 255)
LINE = drawn([np.array(stroke) + 40 for stroke in [I_STEM, *FOUR]])
coordinates = st.floats(allow_nan=True, allow_infinity=True, width=32) | st.integers(-10**7, 10**7)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.lists(coordinates, max_size=4), max_size=12), max_size=8),
       st.sampled_from([None, "blank", "line"]))
def test_any_strokes_become_characters_or_the_services_own_error(strokes, image):
    """Whatever a client sends as strokes, with whatever image: characters the model can take,
    or a message."""
    image = {None: None, "blank": BLANK, "line": LINE}[image]
    try:
        characters = segment_strokes(strokes, image)
        images = [normalize(character.ink) for character in characters]
    except PreprocessingError:
        return
    assert 0 < len(images) <= segmentation.MAX_CHARACTERS
    assert all(image.shape == (28, 28) and np.isfinite(image).all() for image in images)


def ink_pixels(characters):
    return sum(np.count_nonzero(c.ink > 0.5) for c in characters)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 40), st.integers(20, 160))
def test_cutting_touching_characters_keeps_every_column_of_ink(seed, height, width):
    """Whatever the line and whatever the recognizer's confidences: the cut characters cover
    the uncut ones' ink exactly, each part holds ink, and the boxes stay in the image."""
    rng = np.random.default_rng(seed)
    ink = (rng.random((height, width)) < rng.uniform(0.05, 0.6)).astype(np.float32)
    try:
        whole = segment_ink(ink)
    except PreprocessingError:
        return
    cut = segment_ink(ink, log_confidences=lambda inks: rng.uniform(-5, 0, len(inks)))
    assert len(cut) >= len(whole)
    assert ink_pixels(cut) == ink_pixels(whole)
    for character in cut:
        left, top, right, bottom = character.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        assert character.ink.shape == (bottom - top, right - left) and (character.ink > 0.5).any()
