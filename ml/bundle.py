"""Writing model bundles: a folder with model.keras, model.tflite (what the web serves) and
meta.json, exported by training and retraining (TensorFlow, imported lazily). `core.bundle` reads
them.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from core.bundle import read_meta
from core.preprocessing import INPUT_CONTRACT


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
