"""Loaders on IDX files the tests write, the UNIPEN rasteriser's orientation, writer splits."""
import gzip
import json

import numpy as np
import pytest
from PIL import Image

from core.preprocessing import preprocess_bytes
from ml import datasets
from ml.datasets import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, DatasetError
from recognition.tests.images import encode
from testing import DATASET_SLICES


def write_idx(path, array, magic=None, cut=0):
    """An IDX file (gzip when the name ends in .gz), optionally with a wrong magic or cut short."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else (0x0800 | array.ndim)
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    data = header + array.tobytes()
    data = data[:len(data) - cut]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def glyphs(count):
    """Upright asymmetric test images: a bar along the top row and one down the left column."""
    images = np.zeros((count, 28, 28), np.uint8)
    images[:, 4:7, 4:24] = 255
    images[:, 4:24, 4:7] = 255
    return images


def write_emnist(root, split, part, images, codes, mapping):
    folder = root / "emnist" / split
    write_idx(folder / f"emnist-{split}-{part}-images-idx3-ubyte.gz", images.transpose(0, 2, 1))
    write_idx(folder / f"emnist-{split}-{part}-labels-idx1-ubyte.gz", codes)
    (folder / f"emnist-{split}-mapping.txt").write_bytes(
        b"".join(f"{k} {' '.join(map(str, v))}\r\n".encode() for k, v in mapping.items())
    )


def test_idx_round_trip_plain_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        loaded = datasets.read_idx(write_idx(tmp_path / name, images), IDX_IMAGES_MAGIC)
        assert loaded.shape == (2, 3, 4)
        assert (loaded == images).all()


def test_idx_bad_magic(tmp_path):
    path = write_idx(tmp_path / "x-idx1-ubyte.gz", [1, 2, 3], magic=0x12345678)
    with pytest.raises(DatasetError, match="bad IDX magic number 0x12345678"):
        datasets.read_idx(path, IDX_LABELS_MAGIC)


def test_idx_truncated(tmp_path):
    path = write_idx(tmp_path / "x-idx3-ubyte.gz", np.zeros((5, 28, 28)), cut=100)
    with pytest.raises(DatasetError, match="truncated"):
        datasets.read_idx(path, IDX_IMAGES_MAGIC)


def test_idx_not_gzip(tmp_path):
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(b"definitely not gzip")
    with pytest.raises(DatasetError, match="unreadable"):
        datasets.read_idx(path, IDX_IMAGES_MAGIC)


def test_mnist_idx_count_mismatch(tmp_path):
    folder = tmp_path / "mnist" / "idx"
    write_idx(folder / "t10k-images-idx3-ubyte.gz", glyphs(4))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", [1, 2, 3])
    with pytest.raises(DatasetError, match="holds 4 images but t10k-labels-idx1-ubyte.gz 3 labels"):
        datasets.read_mnist("test", root=tmp_path)


def test_mnist_npz_fallback(tmp_path):
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / "mnist" / "mnist.npz", x_train=glyphs(2), y_train=np.array([3, 4], np.uint8),
             x_test=glyphs(1), y_test=np.array([7], np.uint8))
    images, labels, _ = datasets.read_mnist("train", root=tmp_path)
    assert images.shape == (2, 28, 28)
    assert list(labels) == ["3", "4"]


def test_mnist_missing_files_named_with_folder(tmp_path):
    with pytest.raises(DatasetError) as error:
        datasets.read_mnist("train", root=tmp_path)
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and "mnist.npz" in message
    assert str(tmp_path / "mnist") in message


def test_emnist_transposition_and_mapping(tmp_path):
    images = glyphs(3)
    images[1, 20:24, 20:24] = 128  # one differs, to check order too
    write_emnist(tmp_path, "byclass", "test", images, [0, 10, 61], {0: [48], 10: [65], 61: [122]})
    loaded, labels, files = datasets.read_emnist("byclass", "test", root=tmp_path)
    assert (loaded == images).all()  # stored transposed, upright after loading
    assert loaded[0, 5, 20] == 255 and loaded[0, 20, 5] == 255 and loaded[0, 20, 20] == 0
    assert list(labels) == ["0", "A", "z"]
    assert [f.name for f in files][-1] == "emnist-byclass-mapping.txt"


def test_emnist_letters_mapping_takes_upper_case(tmp_path):
    write_emnist(tmp_path, "letters", "test", glyphs(2), [1, 26], {1: [65, 97], 26: [90, 122]})
    _, labels, _ = datasets.read_emnist("letters", "test", root=tmp_path)
    assert list(labels) == ["A", "Z"]


def test_emnist_label_outside_mapping(tmp_path):
    write_emnist(tmp_path, "digits", "test", glyphs(2), [0, 12], {0: [48]})
    with pytest.raises(DatasetError, match=r"labels \[12\] not in emnist-digits-mapping.txt"):
        datasets.read_emnist("digits", "test", root=tmp_path)


def test_emnist_count_mismatch(tmp_path):
    write_emnist(tmp_path, "digits", "test", glyphs(2), [0, 1], {0: [48], 1: [49]})
    write_idx(tmp_path / "emnist/digits/emnist-digits-test-labels-idx1-ubyte.gz", [0, 1, 1])
    with pytest.raises(DatasetError, match="holds 2 images but .* 3 labels"):
        datasets.read_emnist("digits", "test", root=tmp_path)


def test_emnist_missing_files_named_with_folder(tmp_path):
    with pytest.raises(DatasetError) as error:
        datasets.read_emnist("balanced", "train", root=tmp_path)
    message = str(error.value)
    for name in ("emnist-balanced-train-images-idx3-ubyte.gz", "emnist-balanced-train-labels-idx1-ubyte.gz",
                 "emnist-balanced-mapping.txt"):
        assert name in message
    assert str(tmp_path / "emnist" / "balanced") in message


def test_unknown_emnist_split():
    with pytest.raises(DatasetError, match="unknown EMNIST split 'bytes'"):
        datasets.read_emnist("bytes", "train")


def test_rasterize_flips_y_so_up_is_the_top():
    # A 'T' in y-up coordinates: the bar at y=100 is above the stem that goes up to it.
    strokes = [[[0, 100], [100, 100]], [[50, 0], [50, 100]]]
    ink = datasets.rasterize(strokes, width=4) > 0.5
    widths = ink.sum(axis=1)
    rows = np.flatnonzero(widths)
    top, bottom = rows[:len(rows) // 4], rows[-len(rows) // 4:]
    assert widths[top].max() > 5 * widths[bottom].max()


def test_rasterize_stroke_width_and_round_caps():
    thin = datasets.rasterize([[[0, 0], [0, 50]]], width=3)
    thick = datasets.rasterize([[[0, 0], [0, 50]]], width=8)
    assert (thin > 0.5).sum(axis=1).max() <= 4 < (thick > 0.5).sum(axis=1).max()
    dot = datasets.rasterize([[[5, 5]], [[0, 0], [10, 10]]], width=6)
    assert (dot > 0.5).sum() > 0


def test_unipen_record_normalizes_upright():
    """A real UNIPEN-shaped record (y up) comes out of `normalize` with the dot above the stem."""
    record = [[[160, 464], [160, 463], [160, 460], [160, 457]], [[158, 473], [158, 472]]]  # 'i'
    image = datasets._normalize_record((record, 5, datasets.RASTER_BOX))
    rows = np.flatnonzero(image.sum(axis=1))
    dot_rows = rows[rows < rows.mean()]
    gap = np.flatnonzero(image[rows[0]:rows[-1] + 1].sum(axis=1) == 0)
    assert image.shape == (28, 28) and len(dot_rows) and len(gap)  # dot, gap, then stem below
    assert image[:rows[0] + gap[0]].sum() < image[rows[0] + gap[-1]:].sum()


def test_a_scan_is_read_exactly_as_its_upload():
    """Training reads a scan through the web's own path, so a model learns from the very
    picture it is served when someone uploads that scan."""
    with np.load(DATASET_SLICES / "mnist" / "mnist.npz") as mnist:
        scans = mnist["x_test"][:20]
    for scan in scans:
        served = np.round(preprocess_bytes(encode(Image.fromarray(scan))) * 255).astype(np.uint8)
        assert np.array_equal(datasets._normalize_image(scan), served)


def test_a_lighter_stroke_of_a_scan_is_kept():
    """A 1 with a serif, the serif pressed hard and the stem at a third of its strength: each
    stroke is cut at half its own contrast, so the stem stays (cut at half the scan's range,
    only the serif was left)."""
    scan = np.zeros((28, 28), np.uint8)
    scan[4:7, 10:16] = 255
    scan[4:25, 13:16] = np.maximum(scan[4:25, 13:16], 85)
    rows = np.flatnonzero(datasets._normalize_image(scan).max(axis=1) > 127)
    assert rows[-1] - rows[0] + 1 >= 18


def test_unipen_writers_characters_keep_their_relative_size(tmp_path):
    """Each writer's characters are drawn relative to that writer's tall ones (not each to its
    own box): one writer's small o gets a smaller box than their O; another's tablet units don't
    matter."""
    def record(label, writer, radius):
        angles = np.linspace(0, 6.3, 30)
        stroke = np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1).round().astype(int)
        return {"label": label, "writer": writer, "institution": "tst", "strokes": [stroke.tolist()],
                "y_axis": "up"}

    records = {"train": [record("O", "w1", 50), record("o", "w1", 30), record("O", "w1", 52)],
               "test": [record("O", "w2", 5000), record("o", "w2", 3000)]}
    (tmp_path / "unipen").mkdir()
    for split, rows in records.items():
        with gzip.open(tmp_path / "unipen" / f"unipen_1abc_{split}.jsonl.gz", "wt") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    raw = datasets.raw_unipen(tmp_path)
    train_boxes = {label: box for (_, _, box), label in
                   zip(raw.items["train"] + raw.items["val"],
                       list(raw.labels["train"]) + list(raw.labels["val"]))}
    test_boxes = [box for _, _, box in raw.items["test"]]
    assert train_boxes["o"] < 0.65 * datasets.RASTER_BOX <= train_boxes["O"]
    assert test_boxes[1] < 0.65 * datasets.RASTER_BOX <= test_boxes[0]
    small = datasets._normalize_record(raw.items["test"][1]) > 127
    large = datasets._normalize_record(raw.items["test"][0]) > 127
    assert small.sum() > large.sum()


def test_group_split_keeps_each_writer_in_one_split():
    writers = np.array([f"w{i % 50}" for i in range(1000)])
    splits = datasets.group_split(writers, "test", test_percent=10)
    for writer in np.unique(writers):
        assert len(set(splits[writers == writer])) == 1
    assert set(splits) == {"train", "val", "test"}


@pytest.mark.datasets
def test_real_unipen_and_femnist_splits_are_writer_disjoint():
    femnist = datasets.raw_femnist()
    assert sum(len(v) for v in femnist.labels.values()) == 55950
    with np.load(femnist.files[0]) as npz:
        writers = npz["writer"]
    splits = datasets.group_split(writers, "femnist", datasets.TEST_PERCENT)
    by_split = {s: set(writers[splits == s]) for s in ("train", "val", "test")}
    assert not (by_split["train"] & by_split["test"]) and not (by_split["train"] & by_split["val"])


def test_sources_for_rejects_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'imagenet'"):
        datasets.sources_for("digit", "imagenet")
