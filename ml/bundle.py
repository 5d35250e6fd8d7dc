"""Model bundles: a folder with model.keras, model.tflite (what the web serves) and meta.json.

`read_meta` is used by the web process and never imports TensorFlow; `export_bundle` is used by
training and imports it lazily.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from recognition.preprocessing import INPUT_CONTRACT
from recognition.words import TEXT_CONTRACT

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


def export_bundle(model, out_dir, meta, extra_files=(), contract=INPUT_CONTRACT):
    """Write model.keras, model.tflite (float32) and meta.json into `out_dir` atomically.

    The files are written to a temporary sibling folder first and renamed into place, so a
    crash never leaves a half-written bundle where a complete one was.
    """
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; web workers may run as another user
    try:
        model.save(staging / "model.keras")
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        (staging / "model.tflite").write_bytes(converter.convert())
        meta = {**meta, "input": contract}
        (staging / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
        for path in extra_files:
            shutil.copy2(path, staging / Path(path).name)
        read_meta(staging)
        if out_dir.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
            os.replace(out_dir, retired / out_dir.name)
            os.replace(staging, out_dir)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out_dir
