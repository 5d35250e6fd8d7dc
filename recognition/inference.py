"""The model serving each kind: `get_recognizer(kind)` is the one place where a kind is resolved
to a model bundle (the registry's active version), loaded once per process and run by
`core.inference.Recognizer`.
"""
import logging
import threading

from core.bundle import BundleError
from core.inference import Recognizer
from ml.registry import active_version


class ModelUnavailable(RuntimeError):
    """No usable model bundle for a kind (not trained yet, or not matching the contract)."""


logger = logging.getLogger(__name__)
_recognizers = {}
_unavailable = {}  # kind -> the bundle folder that could not be served
_recognizers_lock = threading.Lock()


def get_recognizer(kind):
    """The recognizer of `kind`'s active version, loaded once per process.

    The registry is re-read every HWR_REGISTRY_CHECK_SECONDS, so a version activated by
    `retrain` or the admin replaces the loaded one without a restart. Callers take the
    recognizer once per request, so one request is always served by one version.
    """
    _, bundle_dir = active_version(kind)
    recognizer = _recognizers.get(kind)
    if recognizer is None or recognizer.bundle_dir != bundle_dir:
        with _recognizers_lock:
            recognizer = _recognizers.get(kind)
            if recognizer is None or recognizer.bundle_dir != bundle_dir:
                try:
                    recognizer = Recognizer(bundle_dir)
                except BundleError as error:
                    if _unavailable.get(kind) != bundle_dir:  # said once, not on every request
                        logger.error("cannot serve kind %r: %s", kind, error)
                        _unavailable[kind] = bundle_dir
                    raise ModelUnavailable(f"no model available for '{kind}'") from error
                _unavailable.pop(kind, None)
                _recognizers[kind] = recognizer
    return recognizer
