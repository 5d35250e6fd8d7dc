"""The text model's input and decoding (core.words), without a model: CTC scores made
by hand, lines drawn from strokes."""
import math

import numpy as np
import pytest

from core import words
from core.preprocessing import NothingDrawn

ALPHABET = "abn"


def scores(path, sure=0.9):
    """Log probabilities of columns that each favour one class: 0 is blank, 1.. the alphabet."""
    classes = len(ALPHABET) + 1
    table = np.full((len(path), classes), (1 - sure) / (classes - 1))
    table[np.arange(len(path)), path] = sure
    return np.log(table)


def test_best_path_merges_repeats_and_drops_blanks():
    reading = words.best_path(scores([0, 1, 1, 0, 3, 0, 3, 3, 1]), ALPHABET)
    assert reading.text == "anna"
    assert reading.columns == [[1, 2], [4, 4], [6, 7], [8, 8]]


def test_beam_search_finds_the_likeliest_text_and_offers_others():
    log_probs = scores([0, 2, 0, 1, 0])
    # Column 3 is unsure between "a" and "n": both readings are offered, "ba" first.
    log_probs[3] = np.log([0.05, 0.5, 0.05, 0.4])
    readings = words.beam_search(log_probs, ALPHABET, count=3)
    assert [r.text for r in readings[:2]] == ["ba", "bn"]
    assert readings[0].log_probability > readings[1].log_probability
    assert all(len(r.columns) == len(r.text) for r in readings)


def test_beam_search_sums_the_paths_of_one_text():
    """CTC's probability of a text is the sum over its alignments, which greedy decoding misses:
    "a" spread over three unsure columns beats a blank that wins each column alone."""
    log_probs = np.log(np.array([[0.4, 0.35, 0.25, 0.0001]] * 3) + 1e-12)
    assert words.best_path(log_probs, ALPHABET).text == ""
    assert words.beam_search(log_probs, ALPHABET)[0].text == "a"


def test_beam_search_keeps_to_the_allowed_characters():
    log_probs = scores([0, 2, 0])
    assert words.beam_search(log_probs, ALPHABET, allowed="an")[0].text in ("a", "n")


def test_edit_distance():
    assert words.edit_distance("kitten", "sitting") == 3
    assert words.edit_distance("", "abc") == 3
    assert words.edit_distance("same", "same") == 0


def test_word_input_scales_the_ink_to_the_line_height_and_keeps_its_shape():
    ink = np.zeros((100, 300), np.float32)
    ink[20:80, 50:170] = 1.0  # a frame 60 high, 120 wide, drawn with a 4 px pen
    ink[24:76, 54:166] = 0.0
    line, placement = words.word_input(ink)
    assert line.shape == (words.HEIGHT, words.WIDTH)
    rows, cols = np.flatnonzero(line.max(axis=1) > 0.5), np.flatnonzero(line.max(axis=0) > 0.5)
    assert len(rows) == words.INK_HEIGHT
    assert abs(len(cols) - 2 * words.INK_HEIGHT) <= 1
    # The columns map back to the ink's own columns.
    start, stop = placement.ink_columns(cols[0] // words.STRIDE, cols[-1] // words.STRIDE)
    assert start == pytest.approx(50, abs=words.STRIDE / placement.scale)
    assert stop == pytest.approx(170, abs=words.STRIDE / placement.scale)


def test_a_long_line_is_scaled_to_fit_the_width():
    ink = np.zeros((40, 2000), np.float32)
    ink[10:30, :] = 1.0
    line, _ = words.word_input(ink)
    cols = np.flatnonzero(line.max(axis=0) > 0.5)
    assert len(cols) <= words.INK_WIDTH
    assert np.flatnonzero(line.max(axis=1) > 0.5).size < words.INK_HEIGHT


def test_an_empty_line_is_nothing_drawn():
    with pytest.raises(NothingDrawn):
        words.word_input(np.zeros((10, 10), np.float32))


def test_strokes_are_drawn_with_the_trained_pen_and_placed_in_their_own_units():
    # Two vertical bars 200 units apart, in canvas pixels (y down).
    strokes = [[[100, 50], [100, 150]], [[300, 50], [300, 150]]]
    line, placement = words.render_strokes(strokes)
    cols = np.flatnonzero(line.max(axis=0) > 0.5)
    bars = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    assert len(bars) == 2
    for bar, x in zip(bars, (100, 300)):
        assert len(bar) <= math.ceil(words.PEN) + 1  # the pen of training, not the canvas's
        start, stop = placement.ink_columns(bar[0] // words.STRIDE, bar[-1] // words.STRIDE)
        assert start - words.STRIDE / placement.scale <= x <= stop + words.STRIDE / placement.scale


def test_character_spans_cover_the_ink_between_neighbours():
    line = np.zeros((words.HEIGHT, words.WIDTH), np.float32)
    line[:, 10:90] = 1.0
    spans = words.character_spans([[5, 6], [12, 13], [18, 20]], line)
    assert spans[0][0] <= 10 // words.STRIDE and spans[-1][1] >= 89 // words.STRIDE
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert words.input_piece(line, 0, 1).max() > 0.5  # widened until it holds ink


def test_bold_ink_is_thinned_to_the_pens_of_training_and_thin_ink_kept():
    from core.preprocessing import rasterize, stroke_width

    zigzag = [[[x, 0 if x % 120 else 300] for x in range(0, 1260, 60)]]  # like "wwwww", y down

    def drawn(pen):
        return words.word_input(rasterize(zigzag, pen, 1260, y_up=False))[0] > 0.5

    scale = words.INK_HEIGHT / 300
    bold, thin = drawn(60), drawn(6)  # 60 px at 28/300 would be 5.6 px
    assert stroke_width(bold) <= words.TRAINED_PENS[1] + 0.5
    assert stroke_width(thin) >= 0.5 * 6 * scale and thin.any(axis=0).sum() > 0.9 * 1260 * scale


def test_fine_ink_seen_from_afar_is_thickened_to_the_pens_of_training():
    from core.preprocessing import rasterize, stroke_width

    zigzag = [[[x, 0 if x % 120 else 300] for x in range(0, 1260, 60)]]
    line = words.word_input(rasterize(zigzag, 2, 1260, y_up=False))[0]  # 2 px at 28/300: 0.2 px
    assert stroke_width(line > 0.5) >= words.TRAINED_PENS[0] - 0.25


def test_a_faint_piece_is_given_full_contrast():
    line = np.zeros((words.HEIGHT, words.WIDTH), np.float32)
    line[10:20, 40:44] = 0.3
    piece = words.input_piece(line, 10, 11)
    assert piece.max() == pytest.approx(1.0) and np.count_nonzero(piece > 0.5) >= 2


def zigzag_line(turn_degrees=0.0, shear=0.0):
    """Points of a long zigzag (like "wwwwwwww", y down), turned and slanted as given."""
    points = np.array([[x, 0.0 if x % 120 else 150.0] for x in range(0, 1260, 30)])
    points[:, 0] += shear * (150 - points[:, 1])
    angle = math.radians(turn_degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return points @ rotation.T


def band(points):
    return np.ptp(np.asarray(points)[:, 1])


def test_a_line_written_uphill_is_laid_level():
    tilted = zigzag_line(-9)  # rising to the right, as on a phone held askew
    turn = words.level_turn(tilted)
    assert turn is not None
    assert band(tilted @ turn.T) == pytest.approx(band(zigzag_line()), rel=0.05)


def test_level_and_slanted_writing_is_left_as_written():
    assert words.level_turn(zigzag_line()) is None
    assert words.level_turn(zigzag_line(shear=0.4)) is None  # italic: standing it up makes it taller


def picture_of(points, margin=40):
    """PNG of the points drawn as one stroke with a 6 px pen, and the points in its pixels."""
    import io

    from PIL import Image, ImageDraw

    points = np.asarray(points) - np.asarray(points).min(axis=0) + margin
    width, height = (np.ceil(points.max(axis=0)) + margin).astype(int)
    image = Image.new("L", (int(width), int(height)), 255)
    ImageDraw.Draw(image).line([tuple(p) for p in points], fill=0, width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), points


@pytest.mark.parametrize("with_strokes", [True, False], ids=["canvas strokes", "image"])
def test_a_tilted_line_reads_at_full_height_and_its_boxes_land_on_its_ink(with_strokes):
    def line_of(points):
        data, points = picture_of(points)
        strokes = [points.tolist()] if with_strokes else None
        return words.text_line(data, strokes), points

    level, _ = line_of(zigzag_line())
    tilted, points = line_of(zigzag_line(-9))
    used = lambda line: np.count_nonzero(line.image.max(axis=0) > 0.5)  # noqa: E731
    assert used(tilted) == pytest.approx(used(level), rel=0.1)  # not shrunk to fit its tilt
    top, bottom, left, right = tilted.ink
    x0, y0, x1, y1 = tilted.picture_box(left, right)
    (ink_x0, ink_y0), (ink_x1, ink_y1) = points.min(axis=0), points.max(axis=0)
    pen = 6
    assert x0 <= ink_x0 + pen and y0 <= ink_y0 + pen and x1 >= ink_x1 - pen and y1 >= ink_y1 - pen
    # A box square to the levelled line, turned back, is wider by the band's height x sin(9 deg).
    corners = 2 * 150 * math.sin(math.radians(9))
    assert x1 - x0 <= ink_x1 - ink_x0 + corners + 4 * pen and y1 - y0 <= ink_y1 - ink_y0 + 4 * pen
