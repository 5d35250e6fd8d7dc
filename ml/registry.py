"""Model registry services: register bundles, activate one per model, find the active one.

Web workers call `active_version` on every request; it asks the database at most once every
`HWR_REGISTRY_CHECK_SECONDS` per process, so a version activated by `retrain` or the admin is
picked up without a restart, at the cost of one indexed query every few seconds.
"""
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.bundle import BundleError, read_meta
from core.words import TEXT_CONTRACT
from ml.kinds import LABELS, MODELS, TEXT_MODEL
from ml.models import ModelVersion


def read_bundle_for(kind, bundle_dir):
    """meta.json of a bundle that can serve `kind`: a character model's labels must be that
    kind's, in order; the text model must read lines and decode by CTC."""
    meta = read_meta(bundle_dir)
    if kind == TEXT_MODEL:
        if meta["input"] != TEXT_CONTRACT or meta.get("decoding") != "ctc":
            raise BundleError(f"{bundle_dir}: not a text model (a line in, CTC scores out)")
    elif meta["labels"] != LABELS[kind]:
        raise BundleError(f"{bundle_dir}: its labels are not the {kind} labels")
    return meta


def register_bundle(kind, bundle_dir, *, parent=None, metrics=None, training_data=None,
                    notes=""):
    """Record a bundle folder as a new inactive version of `kind` (version from meta.json)."""
    meta = read_bundle_for(kind, bundle_dir)
    return ModelVersion.objects.create(
        name=kind,
        version=str(meta["version"]),
        bundle_path=str(Path(bundle_dir).resolve()),
        parent=parent,
        metrics=metrics if metrics is not None else meta.get("metrics", {}),
        training_data=training_data or {"datasets": meta.get("datasets", [])},
        notes=notes,
    )


def activate(model_version):
    """Make `model_version` the only active version of its model, in one transaction."""
    with transaction.atomic():
        list(ModelVersion.objects.select_for_update().filter(name=model_version.name))
        ModelVersion.objects.filter(name=model_version.name, is_active=True).exclude(
            pk=model_version.pk
        ).update(is_active=False)
        ModelVersion.objects.filter(pk=model_version.pk).update(is_active=True)
    model_version.is_active = True
    clear_cache()
    return model_version


def register_bundled_models(**_signal_kwargs):
    """Register the bundles shipped in ml/artifacts (run after migrate).

    A shipped bundle becomes active when nothing is, or when the active version is an older
    shipped bundle (a new release of the source); a retrained version stays active.
    """
    for kind in MODELS:
        bundle_dir = Path(settings.HWR_BUNDLED_MODELS_DIR) / kind
        if not (bundle_dir / "meta.json").is_file():
            continue
        meta = read_bundle_for(kind, bundle_dir)
        shipped, _ = ModelVersion.objects.get_or_create(
            name=kind,
            version=str(meta["version"]),
            defaults={
                "bundle_path": _relative_to_source(bundle_dir),
                "bundled": True,
                "metrics": meta.get("metrics", {}),
                "training_data": {"datasets": meta.get("datasets", [])},
                "notes": "bundled with the source",
            },
        )
        active = ModelVersion.objects.filter(name=kind, is_active=True).first()
        if active is None or (active.bundled and active.pk != shipped.pk):
            activate(shipped)


def _relative_to_source(path):
    path = Path(path).resolve()
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


_cache = {}
_cache_lock = threading.Lock()


def clear_cache():
    """Forget what was read, so the next `active_version` asks the database (tests, admin)."""
    _cache.clear()


def active_version(kind):
    """(version, bundle_dir) serving `kind`, re-read from the database every few seconds.

    Before migrations have registered anything, the bundled folder is served as it is.
    """
    now = time.monotonic()
    cached = _cache.get(kind)
    if cached and now - cached[0] < settings.HWR_REGISTRY_CHECK_SECONDS:
        return cached[1]
    with _cache_lock:
        active = ModelVersion.objects.filter(name=kind, is_active=True).first()
        if active is not None:
            result = (active.version, active.bundle_dir)
        else:
            result = (None, Path(settings.HWR_BUNDLED_MODELS_DIR) / kind)
        _cache[kind] = (now, result)
        return result
