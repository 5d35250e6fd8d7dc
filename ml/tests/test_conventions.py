"""Continental 1s and crossed 7s: the added strokes, the `conventions` source's splits."""
import gzip
import json

import numpy as np
import pytest

from ml import conventions, datasets
from ml.text_lines import build_line
from recognition.tests.images import data_url
from testing import DATASET_SLICES

STICK = [[[100, 0], [102, 50], [104, 100]]]  # a plain 1, y up: the top is at y = 100
SEVEN = [[[0, 100], [60, 100], [20, 0]]]  # the bar along the top, the stem down to the left
SENT_PER_LABEL = 60
MIN_READ = 0.95


def test_a_continental_one_gets_a_flag_from_the_lower_left_into_the_top_of_its_stem():
    rng = np.random.default_rng(0)
    for _ in range(20):
        flag, *rest = conventions.continental_one(STICK, rng)
        assert rest == STICK
        (start_x, start_y), (end_x, end_y) = flag[0], flag[-1]
        assert (end_x, end_y) == (104, 100)
        length = np.hypot(end_x - start_x, end_y - start_y)
        angle = np.degrees(np.arctan2(end_y - start_y, end_x - start_x))
        assert 25 <= length <= 50 and 30 <= angle <= 60


def test_a_one_that_is_not_a_plain_stick_keeps_its_form():
    with_base = STICK + [[[80, 0], [130, 0]]]
    assert conventions.continental_one(with_base, np.random.default_rng(0)) is None


def test_a_crossed_seven_gets_a_bar_across_its_stem_below_the_middle():
    rng = np.random.default_rng(0)
    for _ in range(20):
        *rest, bar = conventions.crossed_seven(SEVEN, rng)
        assert rest == SEVEN
        (left, y_left), (right, y_right) = bar[0], bar[-1]
        level = (y_left + y_right) / 2
        stem_x = 20 + (level / 100) * 40  # where the stem is at that height
        assert 30 <= level <= 60 and left < stem_x < right
        assert abs(y_right - y_left) <= 10 and right - left >= 20


def test_a_seven_that_no_stroke_crosses_below_the_middle_is_left_alone():
    flat = [[[0, 10], [60, 10]]]
    assert conventions.crossed_seven(flat, np.random.default_rng(0)) is None


def test_redrawn_ones_look_flagged_after_normalization():
    """The flag survives `normalize`: ink left of the stem in the upper half, none without it."""
    flagged = conventions.continental_one(STICK, np.random.default_rng(1))
    plain = datasets._normalize_record((STICK, 5, datasets.RASTER_BOX)) > 127
    redrawn = datasets._normalize_record((flagged, 5, datasets.RASTER_BOX)) > 127
    columns = np.flatnonzero(redrawn.any(axis=0))
    stem = np.flatnonzero(redrawn[20])  # a row in the lower part: the stem alone
    assert plain.any(axis=0).sum() <= 6
    assert columns[0] < stem[0] - 3 and redrawn[:14, :stem[0]].any()


def test_conventions_keep_each_writer_in_their_unipen_split(tmp_path):
    def record(label, writer):
        strokes = STICK if label == "1" else SEVEN if label == "7" else [[[0, 0], [50, 100]]]
        return {"label": label, "writer": writer, "institution": "tst", "strokes": strokes, "y_axis": "up"}

    train_writers = [f"w{i}" for i in range(40)]
    rows = {"train": [record(label, w) for w in train_writers for label in "147"],
            "test": [record(label, "held-out") for label in "1477"]}
    (tmp_path / "unipen").mkdir()
    for split, records in rows.items():
        with gzip.open(tmp_path / "unipen" / f"unipen_1abc_{split}.jsonl.gz", "wt") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in records)
    unipen = datasets.raw_unipen(tmp_path)
    redrawn = datasets.raw_conventions(tmp_path)
    for split, copies in datasets.CONVENTION_COPIES.items():
        originals = unipen.labels[split]
        assert sorted(redrawn.labels[split]) == sorted(np.repeat(originals[originals != "4"], copies))
    assert len(redrawn.labels["test"]) == 3 and len(redrawn.labels["val"]) > 0
    assert redrawn.files == unipen.files and redrawn.code == (conventions.__file__,)
    images = datasets.normalize_all(redrawn.normalizer, redrawn.items["test"])
    assert images.shape == (3, 28, 28) and (images.max(axis=(1, 2)) == 255).all()


@pytest.mark.django_db
def test_the_digit_model_reads_held_out_writers_continental_ones_and_crossed_sevens(client, real_models):
    """Through the API, as the canvas page sends them: UNIPEN-test writers' own 1s and 7s
    (writers no model trained on), redrawn with a flag or a bar, on a white canvas."""
    records, _ = datasets.read_unipen("test", DATASET_SLICES)
    rng = np.random.default_rng(0)
    for label, redraw in conventions.VARIANTS.items():
        answers = []
        for record in (record for record in records if record["label"] == label):
            strokes = redraw(record["strokes"], rng)
            if strokes is None:
                continue
            line = build_line([{"label": label, "strokes": strokes}], rng)
            body = {"kind": "digit", "image": data_url(line.png)}
            response = client.post("/api/v1/predict", json.dumps(body), content_type="application/json")
            answers.append(response.json()["label"])
            if len(answers) == SENT_PER_LABEL:
                break
        assert len(answers) == SENT_PER_LABEL
        assert answers.count(label) >= MIN_READ * SENT_PER_LABEL, (label, answers)
