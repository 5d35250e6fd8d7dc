"""Reading model bundles: a folder with model.keras, model.tflite (what the web serves) and
meta.json. The web process reads them with this and never imports TensorFlow; `ml.bundle`
writes them.
"""
import json
from pathlib import Path

from core.preprocessing import INPUT_CONTRACT
from core.words import TEXT_CONTRACT

# What a bundle's model may take: a 28x28 character, or a line of text.
CONTRACTS = (INPUT_CONTRACT, TEXT_CONTRACT)


class BundleError(ValueError):
    """A bundle folder that is missing files or does not match the serving contract."""


def read_meta(bundle_dir):
    """Load and check meta.json: labels present and the input contract the one we serve."""
    bundle_dir = Path(bundle_dir)
    meta_path = bundle_dir / "meta.json"
    if not meta_path.is_file() or not (bundle_dir / "model.tflite").is_file():
        raise BundleError(f"{bundle_dir}: not a model bundle (needs meta.json and model.tflite)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise BundleError(f"{meta_path}: invalid JSON ({error})") from error
    if meta.get("input") not in CONTRACTS:
        raise BundleError(f"{meta_path}: input contract {meta.get('input')!r} is none we serve")
    labels = meta.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise BundleError(f"{meta_path}: 'labels' must be a non-empty list of strings")
    for key in ("name", "version"):
        if not meta.get(key):
            raise BundleError(f"{meta_path}: missing '{key}'")
    return meta
