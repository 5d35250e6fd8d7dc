"""Shared fixtures: tiny model bundles trained in the test session, the real bundled ones, and
the dataset slices shipped in `testing/datasets`.

The tiny bundles let tests exercise the whole serving path before (or without) the real models;
they are trained for a few steps on the MNIST slice's images passed through `normalize`, exported
with `export_bundle`, and cached between runs keyed by the code and the data that shape them.

Tests marked `datasets` need the full datasets (HWR_DATASETS_DIR); without that folder they are
skipped, and every other test runs from the repository alone.
"""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings

from ml.kinds import KINDS, LABELS
from testing import DATASET_SLICES

ROOT = Path(__file__).resolve().parent
TINY_MNIST = DATASET_SLICES / "mnist" / "mnist.npz"
# Chromium fixtures (`browser`, `page`) for the page tests of every app.
pytest_plugins = ["recognition.tests.browser"]
TINY_SAMPLES = 400


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked `datasets` when there is no datasets folder (a fresh clone)."""
    folder = Path(django_settings.HWR_DATASETS_DIR)
    if folder.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the full datasets: no folder at {folder}; set "
                                   "HWR_DATASETS_DIR to where they are")
    for item in items:
        if item.get_closest_marker("datasets"):
            item.add_marker(skip)


def _tiny_bundle_key():
    digest = hashlib.sha256()
    for path in (__file__, ROOT / "core/preprocessing.py", ROOT / "core/bundle.py", ROOT / "ml/bundle.py",
                 TINY_MNIST):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def _train_tiny_bundles(out_dir):
    import keras

    from core.preprocessing import normalize
    from ml.bundle import export_bundle

    with np.load(TINY_MNIST) as mnist:
        raw, digits = mnist["x_train"][:TINY_SAMPLES], mnist["y_train"][:TINY_SAMPLES]
    images = np.stack([normalize(image / 255.0) for image in raw])[..., None]
    keras.utils.set_random_seed(0)
    for kind in KINDS:
        # Letters have no MNIST data: the digit images stand in for the first ten classes,
        # which is enough to exercise a 52-class bundle end to end.
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(len(LABELS[kind]), activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(images, digits, epochs=3, batch_size=32, verbose=0)
        meta = {"name": f"tiny-{kind}", "version": "test-1", "labels": LABELS[kind]}
        export_bundle(model, out_dir / kind, meta)


@pytest.fixture(scope="session")
def tiny_bundles_dir(request, tmp_path_factory):
    """A folder with a tiny bundle per kind (trained once, then reused from pytest's cache)."""
    name = f"tiny-bundles-{_tiny_bundle_key()}"
    cache = getattr(request.config, "cache", None)  # absent under `-p no:cacheprovider`
    out_dir = Path(cache.mkdir(name)) if cache is not None else tmp_path_factory.mktemp(name)
    if not all((out_dir / kind / "meta.json").is_file() for kind in KINDS):
        _train_tiny_bundles(out_dir)
    return out_dir


@pytest.fixture
def dataset_slices(settings, tmp_path, monkeypatch):
    """The shipped slices as the datasets folder, for code that reads HWR_DATASETS_DIR itself
    (retrain's replay and standard test, `testing.simulation`); their normalised arrays are cached
    in a temporary folder, not in var/cache."""
    settings.HWR_DATASETS_DIR = DATASET_SLICES
    monkeypatch.setenv("HWR_CACHE_DIR", str(tmp_path / "cache"))
    return DATASET_SLICES


def _serve_bundles(settings, bundles_dir, tmp_path):
    """Make `bundles_dir` the shipped models, registered afresh as the active versions."""
    from ml import registry
    from ml.models import ModelVersion

    settings.HWR_BUNDLED_MODELS_DIR = bundles_dir
    settings.MEDIA_ROOT = tmp_path / "media"
    ModelVersion.objects.all().delete()
    registry.clear_cache()
    registry.register_bundled_models()


@pytest.fixture
def tiny_models(settings, tiny_bundles_dir, tmp_path, db):
    """Serve the tiny bundles, and keep uploaded sample images in a temporary media folder."""
    from ml import registry

    _serve_bundles(settings, tiny_bundles_dir, tmp_path)
    yield tiny_bundles_dir
    registry.clear_cache()


@pytest.fixture
def no_models(settings, tmp_path, db):
    """Nothing to serve: an empty registry and an empty bundles folder."""
    from ml import registry

    _serve_bundles(settings, tmp_path / "no-bundles", tmp_path)
    yield
    registry.clear_cache()


@pytest.fixture
def real_models(settings, tmp_path, db):
    """Serve the bundled models from ml/artifacts; skip while the digit model is not trained."""
    bundled = ROOT / "ml" / "artifacts"
    if not (bundled / "digit" / "model.tflite").is_file():
        pytest.skip("the bundled digit model is not trained yet (ml/artifacts/digit)")
    from ml import registry

    _serve_bundles(settings, bundled, tmp_path)
    yield bundled
    registry.clear_cache()


@pytest.fixture
def retrainable(real_models, settings, tmp_path):
    """The bundled models served, retrained bundles written to a temporary folder and picked up
    at once; returns a function giving the active version of a model by name."""
    from ml.models import ModelVersion

    settings.HWR_MODELS_DIR = tmp_path / "models"
    settings.HWR_REGISTRY_CHECK_SECONDS = 0
    return lambda name: ModelVersion.objects.get(name=name, is_active=True)
