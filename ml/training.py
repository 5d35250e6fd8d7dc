"""Training, one function per step: load, build, train, evaluate, export.

Imports TensorFlow; only `manage.py train` (and the retrain path) come here, never the web.
"""
import json
import math
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml import datasets, evaluation
from ml.architectures import VOTE_ANGLES, build_model, voting_angles, with_rotation_voting
from ml.bundle import export_bundle
from ml.kinds import LABELS

# Augmentation strength: rotation (radians), scale, shear and shift (px). Affine jitter only:
# `normalize` brings every stroke to 1.5-3.6 px, so an elastic warp or thickened strokes show the
# network pictures it is never served (both cost accuracy on the validation writers).
ROTATION, SCALE, SHEAR, SHIFT = 0.15, 0.12, 0.15, 2.0
PATIENCE = 5


def load_data(kind, dataset, limit, seed):
    """Every source's parts for `kind`, and train / validation as float32 images + class ids."""
    parts = datasets.load_parts(kind, dataset, limit=limit, seed=seed)

    def stack(split_parts):
        images, labels = datasets.as_arrays(split_parts, LABELS[kind])
        return images[..., None], labels

    return parts, stack(parts["train"]), stack(parts["val"])


def augment(images):
    """Random affine jitter (rotation, scale, shear, shift about the centre) for a training batch;
    bilinear sampling, zero outside the image."""
    batch = tf.shape(images)[0]
    centre = (images.shape[1] - 1) / 2.0

    def uniform(limit):
        return tf.random.uniform([batch], -limit, limit)

    angle, shear = uniform(ROTATION), uniform(SHEAR)
    scale = 1.0 + uniform(SCALE)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # Each output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2).
    a0, a1 = cos, cos * shear - sin
    b0, b1 = sin, sin * shear + cos
    a2 = centre * (1.0 - a0 - a1) + uniform(SHIFT)
    b2 = centre * (1.0 - b0 - b1) + uniform(SHIFT)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return keras.ops.image.affine_transform(images, transforms, interpolation="bilinear",
                                            fill_mode="constant")


def make_dataset(images, labels, batch_size, seed, training):
    """Batches, shuffled and augmented for training.

    tf.data's autotuning is off: its background thread makes closing each epoch's iterator wait
    with the CPU idle. Without a GPU the augmentation gets one thread: it costs about a tenth of
    a training step, so one thread keeps up and the step keeps the cores.
    """
    workers = os.cpu_count() if tf.config.list_physical_devices("GPU") else 1
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = workers
    options.threading.max_intra_op_parallelism = 1
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if training:
        data = data.map(lambda x, y: (augment(x), y), num_parallel_calls=workers)
    return data.prefetch(2).with_options(options)


class BudgetedCosine(keras.callbacks.Callback):
    """Cosine learning-rate decay, per step, over the epochs that fit in the time budget.

    After each epoch the plan becomes the epochs done plus as many more as the time left holds at
    the last epoch's pace (never more than `epochs`), so the schedule still ends near zero and
    training stops in time. The pace is the last epoch's, not the mean, so that a first epoch
    slowed by warm-up or a busy machine does not cut the plan of the whole run.
    """

    def __init__(self, base_rate, epochs, budget_seconds, clock=time.monotonic):
        super().__init__()
        self.base_rate, self.epochs, self.planned, self.budget = base_rate, epochs, epochs, budget_seconds
        self.clock, self.started, self.epoch_started, self.epoch = clock, None, None, 0

    def on_train_begin(self, logs=None):
        self.started = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.epoch_started = epoch, self.clock()

    def on_train_batch_begin(self, batch, logs=None):
        progress = min((self.epoch + batch / self.params["steps"]) / max(self.planned, 1), 1.0)
        self.model.optimizer.learning_rate.assign(self.base_rate * 0.5 * (1 + math.cos(math.pi * progress)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())
        if self.budget:
            now = self.clock()
            pace = max(now - self.epoch_started, 1e-9)
            fits = int(max(self.budget - (now - self.started), 0.0) / pace)
            self.planned = min(self.epochs, epoch + 1 + fits)
        if epoch + 1 >= self.planned:
            self.model.stop_training = True


class AnnealedEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping that watches only the second half of the cosine schedule.

    While the learning rate is high, validation accuracy wanders and five flat epochs are not a
    plateau: counting them stopped runs with half the schedule left and a worse model.
    """

    def __init__(self, schedule, **kwargs):
        super().__init__(**kwargs)
        self.schedule = schedule

    def on_epoch_end(self, epoch, logs=None):
        self.start_from_epoch = self.schedule.planned // 2
        super().on_epoch_end(epoch, logs)


def build(architecture, classes, learning_rate):
    model = build_model(architecture, classes)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train(model, train_set, val_set, epochs, batch_size, seed, budget_minutes, learning_rate):
    """Fit with augmentation, budgeted cosine schedule and early stopping on validation accuracy."""
    budget_seconds = budget_minutes * 60 if budget_minutes else None
    schedule = BudgetedCosine(learning_rate, epochs, budget_seconds)
    callbacks = [
        schedule,
        AnnealedEarlyStopping(schedule, monitor="val_accuracy", mode="max", patience=PATIENCE,
                              restore_best_weights=True),
    ]
    started = time.monotonic()
    history = model.fit(
        make_dataset(*train_set, batch_size, seed, training=True),
        validation_data=make_dataset(*val_set, 512, seed, training=False),
        epochs=epochs,
        callbacks=callbacks,
        verbose=1 if os.isatty(1) else 2,
    )
    return history.history, time.monotonic() - started


def serving_model(model, architecture, kind):
    """What the bundle holds: a fresh, uncompiled copy of the trained network (no optimizer
    state, a third of the size), voting over turned copies of the image where `kind` does."""
    network = build_model(architecture, len(LABELS[kind]))
    network.set_weights(model.get_weights())
    return with_rotation_voting(network, VOTE_ANGLES[kind])


def evaluate_parts(model, kind, test_parts):
    """Per-source test metrics, plus the predictions of all sources for the confusion matrix."""
    labels = LABELS[kind]
    metrics, all_true, all_pred = {}, [], []
    for part in test_parts:
        images, true = datasets.as_arrays([part], labels)
        probabilities = model.predict(images[..., None], batch_size=512, verbose=0)
        metrics[part.source] = evaluation.summary(true, probabilities, labels)
        all_true.append(true)
        all_pred.append(probabilities.argmax(axis=1))
    return metrics, np.concatenate(all_true), np.concatenate(all_pred)


def hardware():
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_cores": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__,
    }


def export(model, out_dir, kind, args, parts, history, seconds, metrics, true, pred):
    """Write the served model's bundle: model.keras/.tflite, meta.json, curves.png and
    confusion.png."""
    staging = Path(out_dir).parent / f".{Path(out_dir).name}-plots"
    staging.mkdir(parents=True, exist_ok=True)
    curves = evaluation.plot_curves(history, staging / "curves.png")
    confusion = evaluation.plot_confusion(true, pred, LABELS[kind], staging / "confusion.png",
                                          title=f"{kind}: all test sources")
    meta = {
        "name": kind,
        "version": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
        "labels": LABELS[kind],
        "architecture": {"name": args["arch"], "parameters": int(model.count_params()),
                         "voting_rotations_rad": list(voting_angles(model))},
        "datasets": datasets.file_records(parts),
        "metrics": {"test": metrics, "validation_accuracy_best": max(history.get("val_accuracy", [0]))},
        "training": {
            "seconds": round(seconds, 1),
            "epochs_run": len(history.get("loss", [])),
            "epochs_max": args["epochs"],
            "batch_size": args["batch_size"],
            "time_budget_minutes": args["time_budget"],
            "precision": args["precision"],
            "limit": args["limit"],
            "dataset": args["dataset"],
            "augmentation": {"rotation_rad": ROTATION, "scale": SCALE, "shear": SHEAR,
                             "shift_px": SHIFT},
            "hardware": hardware(),
        },
        "seed": args["seed"],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        return export_bundle(model, out_dir, meta, extra_files=[curves, confusion])
    finally:
        for path in (curves, confusion):
            path.unlink(missing_ok=True)
        staging.rmdir()


def run(kind, dataset="default", arch="vgg", epochs=30, batch_size=128, limit=None, seed=1,
        out=None, time_budget=None, learning_rate=2e-3, precision="float32", log=print):
    """The whole `manage.py train`: load, build, train, evaluate, export; returns the bundle folder.

    `precision="bfloat16"` computes in bfloat16 with float32 weights (Keras mixed precision):
    on CPUs with AVX512-BF16 or AMX a training step can take half the time (how much depends on
    the machine), so up to twice the epochs fit a budget. The exported model is float32 either way.
    """
    keras.utils.set_random_seed(seed)
    log(f"loading {kind} data ({dataset})...")
    parts, train_set, val_set = load_data(kind, dataset, limit, seed)
    log(f"train {len(train_set[1])}, validation {len(val_set[1])}, "
        f"test {sum(len(p.labels) for p in parts['test'])} samples")
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        model = build(arch, len(LABELS[kind]), learning_rate)
        log(f"{arch} ({precision}): {model.count_params():,} parameters")
        history, seconds = train(model, train_set, val_set, epochs, batch_size, seed, time_budget,
                                 learning_rate)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    served = serving_model(model, arch, kind)
    metrics, true, pred = evaluate_parts(served, kind, parts["test"])
    for source, summary in metrics.items():
        log(f"test {source}: " + json.dumps({k: v for k, v in summary.items() if k != "per_class"}))
    args = {"arch": arch, "epochs": epochs, "batch_size": batch_size, "limit": limit,
            "dataset": dataset, "seed": seed, "time_budget": time_budget, "precision": precision}
    return export(served, out, kind, args, parts, history, seconds, metrics, true, pred)
