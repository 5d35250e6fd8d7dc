"""The model registry: one active version per model, enforced by the database."""
import json
import shutil

import pytest
from django.db import IntegrityError, transaction

from core.bundle import BundleError
from ml import registry
from ml.kinds import KINDS
from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(settings, tiny_bundles_dir, tmp_path):
    """A copy of the tiny bundles standing in for ml/artifacts, with a fresh registry."""
    shipped_dir = tmp_path / "artifacts"
    shutil.copytree(tiny_bundles_dir, shipped_dir)
    settings.HWR_BUNDLED_MODELS_DIR = shipped_dir
    settings.HWR_REGISTRY_CHECK_SECONDS = 0
    ModelVersion.objects.all().delete()
    registry.clear_cache()
    return shipped_dir


def _retrained_copy(shipped_dir, tmp_path, kind, version):
    bundle = tmp_path / "models" / kind / version
    shutil.copytree(shipped_dir / kind, bundle)
    meta = json.loads((bundle / "meta.json").read_text())
    (bundle / "meta.json").write_text(json.dumps({**meta, "version": version}))
    return bundle


def test_bundled_models_registered_once_and_active(shipped):
    registry.register_bundled_models()
    registry.register_bundled_models()
    assert ModelVersion.objects.count() == len(KINDS)
    for kind in KINDS:
        active = ModelVersion.objects.get(name=kind, is_active=True)
        assert active.bundled
        assert active.bundle_dir.resolve() == (shipped / kind).resolve()


def test_database_refuses_two_active_versions(shipped, tmp_path):
    registry.register_bundled_models()
    second = registry.register_bundle("digit", _retrained_copy(shipped, tmp_path, "digit", "r2"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=second.pk).update(is_active=True)
    assert ModelVersion.objects.filter(name="digit", is_active=True).count() == 1


def test_activate_and_roll_back_switch_the_served_version(shipped, tmp_path):
    registry.register_bundled_models()
    original = ModelVersion.objects.get(name="digit", is_active=True)
    retrained_dir = _retrained_copy(shipped, tmp_path, "digit", "r2")
    retrained = registry.register_bundle("digit", retrained_dir, parent=original)
    assert registry.active_version("digit") == (original.version, original.bundle_dir)

    registry.activate(retrained)
    assert registry.active_version("digit") == ("r2", retrained_dir.resolve())
    assert ModelVersion.objects.filter(name="digit", is_active=True).get().pk == retrained.pk

    registry.activate(original)
    assert registry.active_version("digit")[0] == original.version


def test_new_shipped_bundle_replaces_old_shipped_but_not_a_retrained_one(shipped, tmp_path):
    registry.register_bundled_models()
    retrained = registry.register_bundle("letter", _retrained_copy(shipped, tmp_path, "letter", "r2"))
    registry.activate(retrained)
    for kind in ("digit", "letter"):
        meta_path = shipped / kind / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta_path.write_text(json.dumps({**meta, "version": "release-2"}))

    registry.register_bundled_models()

    assert ModelVersion.objects.get(name="digit", is_active=True).version == "release-2"
    assert ModelVersion.objects.get(name="letter", is_active=True).version == "r2"


def test_active_version_is_cached_between_checks(shipped, settings, tmp_path):
    registry.register_bundled_models()
    settings.HWR_REGISTRY_CHECK_SECONDS = 3600
    first = registry.active_version("digit")
    retrained = registry.register_bundle("digit", _retrained_copy(shipped, tmp_path, "digit", "r3"))
    ModelVersion.objects.filter(name="digit").update(is_active=False)
    ModelVersion.objects.filter(pk=retrained.pk).update(is_active=True)
    assert registry.active_version("digit") == first  # not re-read within the interval
    settings.HWR_REGISTRY_CHECK_SECONDS = 0
    assert registry.active_version("digit")[0] == "r3"


def test_bundle_with_other_labels_is_refused(shipped):
    with pytest.raises(BundleError, match="not the digit labels"):
        registry.register_bundle("digit", shipped / "letter")
    assert not ModelVersion.objects.exists()
