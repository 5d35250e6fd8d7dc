"""`manage.py train` for one epoch on a few hundred real samples, then `evaluate` on its bundle."""
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from core.bundle import read_meta
from core.inference import Recognizer
from ml import datasets
from ml.architectures import load_served, network_of
from ml.tests.test_datasets import glyphs, write_emnist

pytestmark = pytest.mark.slow
# What `train` writes into a bundle folder: the models, their metadata and the training plots.
BUNDLE_FILES = ("model.keras", "model.tflite", "meta.json", "curves.png", "confusion.png")
# The tests that take the `bundle` are marked `datasets`: it trains on every default source.


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "digit"
    call_command("train", model="digit", limit=100, epochs=1, batch_size=64, out=str(out))
    return out


@pytest.mark.datasets
def test_train_writes_a_complete_bundle(bundle):
    for name in BUNDLE_FILES:
        assert (bundle / name).stat().st_size > 0, name
    meta = read_meta(bundle)
    assert meta["labels"] == list("0123456789")
    assert meta["architecture"]["name"] == "vgg-slim" and meta["architecture"]["parameters"] > 100_000
    assert meta["architecture"]["voting_rotations_rad"] == [0.1, -0.1]
    used = {(d["name"], d["split"]): d for d in meta["datasets"]}
    assert used[("mnist", "train")]["count"] == 100
    assert set(used[("unipen", "test")]["files"]) == {"unipen_1abc_train.jsonl.gz", "unipen_1abc_test.jsonl.gz"}
    assert set(meta["metrics"]["test"]) == {"mnist", "unipen", "conventions", "femnist"}
    assert meta["training"]["epochs_run"] == 1 and meta["seed"] == 1


@pytest.mark.datasets
def test_tflite_agrees_with_keras(bundle):
    part = datasets.load_test_set("mnist-test", list("0123456789"), limit=64)
    images = part.images.astype(np.float32)[..., None] / 255.0
    served = load_served(bundle / "model.keras")
    assert network_of(served) is not served  # the bundle votes over turned copies
    expected = served.predict(images, verbose=0)
    got = Recognizer(bundle).batch_probabilities(images)
    assert np.abs(expected - got).max() < 1e-4


@pytest.mark.datasets
def test_evaluate_on_a_test_set(bundle, tmp_path, capsys):
    call_command("evaluate", model=str(bundle), dataset="unipen-test", limit=50, output=str(tmp_path))
    printed = capsys.readouterr().out
    assert "50 samples" in printed and "accuracy" in printed and "per class" in printed
    assert (tmp_path / "confusion.png").stat().st_size > 0


@pytest.mark.datasets
def test_evaluate_an_image_folder_end_to_end(bundle, tmp_path, capsys):
    """Digits saved as dark ink on white, larger than 28 px: read back through preprocess_bytes."""
    part = datasets.load_test_set("mnist-test", list("0123456789"), limit=20)
    for i, (image, label) in enumerate(zip(part.images, part.labels)):
        folder = tmp_path / "images" / label
        folder.mkdir(parents=True, exist_ok=True)
        paper = Image.fromarray(255 - image).resize((112, 112), Image.Resampling.BILINEAR)
        paper.save(folder / f"{i}.png")
    call_command("evaluate", model=str(bundle), images=str(tmp_path / "images"),
                 output=str(tmp_path / "out"))
    printed = capsys.readouterr().out
    assert "20 samples" in printed
    assert (tmp_path / "out" / "confusion.png").is_file()


@pytest.mark.datasets
def test_evaluate_rejects_a_folder_named_after_no_label(bundle, tmp_path):
    (tmp_path / "images" / "Q").mkdir(parents=True)
    with pytest.raises(CommandError, match="'Q' is not a label of this model"):
        call_command("evaluate", model=str(bundle), images=str(tmp_path / "images"))


def test_evaluate_missing_bundle_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="not a model bundle"):
        call_command("evaluate", model=str(tmp_path / "nothing"), dataset="mnist-test")


@pytest.mark.datasets
def test_evaluate_unknown_test_set_is_a_command_error(bundle):
    with pytest.raises(CommandError, match="unknown test set 'cifar-test'"):
        call_command("evaluate", model=str(bundle), dataset="cifar-test")


def test_train_with_missing_dataset_is_a_command_error(tmp_path, settings):
    settings.HWR_DATASETS_DIR = tmp_path
    with pytest.raises(CommandError, match="missing .*train-images-idx3-ubyte.gz"):
        call_command("train", model="digit", dataset="mnist", out=str(tmp_path / "b"))


@pytest.fixture
def emnist_digits(tmp_path, settings, monkeypatch):
    """Official EMNIST digits files with 40 glyphs per split, as the datasets folder."""
    settings.HWR_DATASETS_DIR = tmp_path
    monkeypatch.setenv("HWR_CACHE_DIR", str(tmp_path / "cache"))
    codes = np.arange(40) % 10
    images = glyphs(40)
    for i, code in enumerate(codes):
        images[i, 10:14, 8 + code:12 + code] = 255  # classes differ a little
    mapping = {k: [48 + k] for k in range(10)}
    for part in ("train", "test"):
        write_emnist(tmp_path, "digits", part, images, codes, mapping)
    return images


def test_train_on_official_emnist_files(emnist_digits, tmp_path):
    """A user who has the EMNIST files can train on them."""
    out = tmp_path / "bundle"
    call_command("train", model="digit", dataset="emnist-digits", epochs=1, batch_size=16, out=str(out))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["metrics"]["test"]["emnist-digits"]["count"] == 40
    assert {d["name"] for d in meta["datasets"]} == {"emnist-digits"}
    assert meta["training"]["precision"] == "float32"


def test_bfloat16_training_still_exports_a_float32_bundle(emnist_digits, tmp_path):
    import keras

    out = tmp_path / "bundle"
    call_command("train", model="digit", dataset="emnist-digits", epochs=1, batch_size=16,
                 precision="bfloat16", out=str(out))
    assert read_meta(out)["training"]["precision"] == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # later models are not affected
    model = load_served(out / "model.keras")
    assert {w.dtype for w in model.weights} == {"float32"}
    assert {layer.compute_dtype for layer in model.layers + network_of(model).layers} == {"float32"}
    images = emnist_digits.astype(np.float32)[..., None] / 255.0
    got = Recognizer(out).batch_probabilities(images)
    assert np.abs(model.predict(images, verbose=0) - got).max() < 1e-4


def test_train_rejects_an_unknown_precision(tmp_path):
    with pytest.raises(CommandError, match="invalid choice: 'float16'"):
        call_command("train", "--model", "digit", "--precision", "float16", "--out", str(tmp_path / "b"))


@pytest.mark.datasets
def test_evaluate_the_text_model_with_the_lexicon_reports_the_words_it_knows(capsys, settings):
    from core import lexicon
    from ml import words

    call_command("evaluate", model="text", dataset="unipen-words-test", limit=40, lexicon=True)
    printed = capsys.readouterr().out
    assert "40 words" in printed and "character error rate" in printed
    known = sum(lexicon.knows(r["text"], settings.HWR_LEXICON) for r in words.split_records("test")[:40])
    assert known > 0
    assert f"words the lexicon knows ({known}): right" in printed
