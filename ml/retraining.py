"""Retraining from stored feedback: fine-tune the active version, gate it, register it.

One function per step, as in training: load the feedback, split it, fine-tune on it mixed with a
replay sample of the base training data (so the model does not forget), evaluate the active and
the candidate version the way the web serves them (LiteRT), gate, then register and activate.
The character models' steps are here; the text model's (word corrections) in
`ml.text_retraining`; `run` is the same for both. The corrections themselves come from the app
that stores them, through `ml.feedback_source` (ml imports no app built on it).
"""
import dataclasses
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from django.conf import settings
from scipy.stats import binomtest

from core.bundle import read_meta
from core.inference import Recognizer
from ml import datasets, evaluation, feedback_source, registry
from ml.bundle import export_bundle
from ml.kinds import LABELS, TEXT_MODEL
from ml.models import ModelVersion

# The standard test set each model is held to (it must not lose more than `max_test_drop`).
STANDARD_TEST = {"digit": "mnist-test", "letter": "unipen-test", "any": "unipen-test"}


@dataclass
class Options:
    include_unreviewed: bool = False
    include_prompted: bool = False
    holdout_percent: int = 25
    replay_ratio: float = 4.0
    epochs: int = 4
    batch_size: int = 64
    learning_rate: float = 2e-4
    min_samples: int = 20
    max_test_drop: float = 0.2  # points
    min_holdout_gain: float = 0.0  # points
    fine_tuned_share: float = 0.6  # weights: this much fine-tuned, the rest the active version's
    significance: float = 0.05  # the holdout gain must be this unlikely by chance (1: no check)
    test_limit: int | None = None
    seed: int = 1
    dry_run: bool = False
    force: bool = False


# Where a model's retraining differs from the character models' defaults above: the text model
# learns a new hand from word corrections only at a higher rate, and its standard test (words
# read exactly) is judged on a sample of the test writers' words, with its wider noise.
MODEL_DEFAULTS = {TEXT_MODEL: {"epochs": 6, "learning_rate": 5e-4, "test_limit": 2000,
                               "max_test_drop": 1.0}}


def options_for(kind, **given):
    """Retraining options for `kind`: the values given (None: not given) over its defaults."""
    names = {option.name for option in dataclasses.fields(Options)}
    chosen = {name: value for name, value in given.items() if name in names and value is not None}
    return Options(**{**MODEL_DEFAULTS.get(kind, {}), **chosen})


@dataclass
class Outcome:
    """What `retrain` did, for the command's report (and the tests)."""

    status: str  # "too-few", "promoted", "kept-inactive", "dry-run"
    message: str
    version: ModelVersion | None = None
    metrics: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


def holdout_mask(image_hashes, holdout_percent):
    """Deterministic split by image: the same drawing is always on the same side, also when it
    was sent twice (so it is never both trained on and used to judge), and the same feedback
    always splits the same way (sample ids are random: split by them, the gate's verdict would
    vary from run to run)."""
    buckets = [int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 for key in image_hashes]
    return np.array(buckets) < holdout_percent


def replay_sample(kind, count, options):
    """`count` random base training samples, so fine-tuning does not forget the base data."""
    seed = options.seed
    # `limit` draws (and normalises) only `count` samples of each source, not whole sets.
    parts = datasets.load_parts(kind, splits=("train",), limit=max(count, 1), seed=seed)["train"]
    images, labels = datasets.as_arrays(parts, LABELS[kind])
    chosen = np.random.default_rng(seed).choice(len(labels), min(count, len(labels)), replace=False)
    return images[chosen], labels[chosen]


def fine_tune(bundle_dir, feedback, replay, options, progress=None):
    """The active version's Keras model, trained a few epochs on the feedback and replay samples
    (`(images, labels)` each) mixed, with augmentation.

    Batch-norm layers stay frozen (inference mode): re-estimating their statistics on a small,
    skewed mix is what makes a fine-tuned model forget the base data fastest.
    """
    import keras

    from ml.architectures import load_served, network_of, voting_angles, with_rotation_voting
    from ml.training import make_dataset

    keras.utils.set_random_seed(options.seed)
    served = load_served(Path(bundle_dir) / "model.keras")
    model = network_of(served)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(options.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    original = [weights.copy() for weights in model.get_weights()]
    callbacks = []
    if progress is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(
            "fine-tuning", epoch=epoch + 1, epochs=options.epochs,
            loss=round(float(logs.get("loss", 0)), 4),
            accuracy=round(float(logs.get("accuracy", 0)), 4))))
    images, labels = (np.concatenate(pair) for pair in zip(feedback, replay))
    history = model.fit(
        make_dataset(images[..., None], labels, options.batch_size, options.seed, training=True),
        epochs=options.epochs, verbose=2, callbacks=callbacks,
    )
    # Weight-space ensembling (WiSE-FT): part of the way from the active weights to the
    # fine-tuned ones keeps most of the gain and forgets much less of the base data.
    share = options.fine_tuned_share
    model.set_weights([(1 - share) * before + share * after
                       for before, after in zip(original, model.get_weights())])
    # Served as the active version is: voting over the same turned copies, if it did.
    return with_rotation_voting(model, voting_angles(served)), history.history


def hits(bundle_dir, images, labels):
    """Per sample: does this bundle's model.tflite (as the web serves it) get the label right?"""
    if not len(labels):
        return np.zeros(0, dtype=bool)
    probabilities = Recognizer(bundle_dir, num_threads=os.cpu_count()).batch_probabilities(images)
    return probabilities.argmax(axis=1) == labels


def standard_set(kind, options):
    """The standard test set `kind` is held to (or `test_limit` samples of it), as arrays."""
    standard = datasets.load_test_set(STANDARD_TEST[kind], LABELS[kind], options.test_limit,
                                      options.seed)
    return datasets.as_arrays([standard], LABELS[kind])


def evaluate_both(steps, active_dir, candidate_dir, holdout, standard):
    """Accuracy of the active and the candidate version on each evaluation set, and how many
    answers the candidate fixes and breaks (what the significance check of the gate reads)."""
    metrics = {}
    for name, (images, labels) in {"feedback_holdout": holdout, "standard_test": standard}.items():
        active, candidate = (steps.hits(active_dir, images, labels),
                             steps.hits(candidate_dir, images, labels))
        metrics[name] = {
            "count": int(len(labels)),
            "active": float(active.mean()) if len(labels) else None,
            "candidate": float(candidate.mean()) if len(labels) else None,
            "fixed": int((candidate & ~active).sum()),
            "broken": int((active & ~candidate).sum()),
        }
    return metrics


def gate(metrics, options):
    """Reasons the candidate may not replace the active version (empty: it may)."""
    reasons = []
    holdout, standard = metrics["feedback_holdout"], metrics["standard_test"]
    gain = (holdout["candidate"] - holdout["active"]) * 100 if holdout["count"] else 0.0
    if holdout["count"] and gain < options.min_holdout_gain:
        reasons.append(f"feedback holdout accuracy {holdout['candidate']:.2%} against the active "
                       f"version's {holdout['active']:.2%} ({gain:+.2f} points; at least "
                       f"{options.min_holdout_gain:+.2f} required)")
    if holdout["count"] and options.significance < 1:
        # Feedback whose labels carry no signal (poisoned, shuffled) fixes about as many answers
        # as it breaks; "not lower" alone would let such a candidate through by luck.
        fixed, broken = holdout["fixed"], holdout["broken"]
        p_value = (binomtest(fixed, fixed + broken, 0.5, alternative="greater").pvalue
                   if fixed + broken else 1.0)
        if p_value > options.significance:
            reasons.append(f"no clear gain on the feedback holdout: the candidate fixes {fixed} "
                           f"answers and breaks {broken} (one-sided sign test p = {p_value:.3f}, "
                           f"at most {options.significance} required)")
    drop = (standard["active"] - standard["candidate"]) * 100
    if drop > options.max_test_drop:
        reasons.append(f"standard test accuracy drops {drop:.2f} points "
                       f"(at most {options.max_test_drop:.2f} allowed)")
    return reasons


def run(kind, options=Options(), log=print, progress=None):
    """The whole `manage.py retrain`; the active version and its files are never modified.

    `progress(stage, **figures)`, when given, hears of each step (the admin's job page).
    """
    steps = steps_for(kind)
    progress = progress or (lambda stage, **figures: None)
    started = time.monotonic()
    progress("loading feedback")
    active = _active_row(kind)
    images, labels, image_hashes = _feedback_loader(kind)(active, options, log)
    if len(labels) < options.min_samples:
        return Outcome("too-few", f"{len(labels)} usable feedback samples for {kind}; "
                       f"at least {options.min_samples} are needed. Nothing changed.")
    in_holdout = holdout_mask(image_hashes, options.holdout_percent)
    train_images, train_labels = images[~in_holdout], labels[~in_holdout]
    replay_images, replay_labels = steps.replay_sample(
        kind, int(round(options.replay_ratio * len(train_labels))), options)
    log(f"fine-tuning {kind} {active.version} on {len(train_labels)} feedback + "
        f"{len(replay_labels)} replay samples; {int(in_holdout.sum())} held out")
    progress("fine-tuning", epoch=0, epochs=options.epochs, feedback_train=int(len(train_labels)),
             feedback_holdout=int(in_holdout.sum()), replay=int(len(replay_labels)))
    model, history = steps.fine_tune(active.bundle_dir, (train_images, train_labels),
                                     (replay_images, replay_labels), options, progress)
    progress("evaluating")

    version = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
    standard = steps.standard_set(kind, options)
    counts = {"feedback_train": int(len(train_labels)), "feedback_holdout": int(in_holdout.sum()),
              "replay": int(len(replay_labels))}
    # Staged beside its final place, so the last step is one atomic rename on the same disk.
    models_dir = Path(settings.HWR_MODELS_DIR) / kind
    models_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".retrain-", dir=models_dir))
    try:
        candidate_dir = steps.export_candidate(model, scratch / version, kind, version, active,
                                               history, counts)
        metrics = evaluate_both(steps, active.bundle_dir, candidate_dir,
                                (images[in_holdout], labels[in_holdout]), standard)
        reasons = gate(metrics, options)
        metrics["seconds"] = round(time.monotonic() - started, 1)
        progress("gate", gate={name: metrics[name] for name in ("feedback_holdout", "standard_test")},
                 refused=reasons)
        if options.dry_run:
            verdict = "would be promoted" if not reasons else "would be refused: " + "; ".join(reasons)
            return Outcome("dry-run", f"dry run, nothing registered; the candidate {verdict}.",
                           metrics=metrics, counts=counts)
        final_dir = models_dir / version
        candidate_dir.rename(final_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    promote = options.force or not reasons
    notes = ("promoted" + (" with --force despite: " + "; ".join(reasons) if reasons else "")
             if promote else "kept inactive: " + "; ".join(reasons))
    candidate = registry.register_bundle(kind, final_dir, parent=active, metrics=metrics,
                                         training_data=counts, notes=notes)
    if promote:
        registry.activate(candidate)
        return Outcome("promoted", f"{kind} {version} is now active ({notes}).", candidate,
                       metrics, counts)
    return Outcome("kept-inactive", f"{kind} {version} was kept inactive: " + "; ".join(reasons),
                   candidate, metrics, counts)


def steps_for(kind):
    """The functions `run` calls for `kind`: this module's, or the text model's."""
    if kind == TEXT_MODEL:
        from ml import text_retraining as steps
    else:
        steps = CHARACTER_STEPS
    return steps


def _feedback_loader(kind):
    """The function of the app that stores corrections which hands over `kind`'s."""
    family = feedback_source.TEXT if kind == TEXT_MODEL else feedback_source.CHARACTERS
    try:
        return feedback_source.loader(family)
    except feedback_source.NoFeedbackSource as error:
        raise datasets.DatasetError(str(error)) from error


def _active_row(kind):
    active = ModelVersion.objects.filter(name=kind, is_active=True).first()
    if active is None:
        registry.register_bundled_models()
        active = ModelVersion.objects.filter(name=kind, is_active=True).first()
    if active is None:
        raise datasets.DatasetError(f"no {kind} model to retrain: train one with "
                                    f"`manage.py train --model {kind}` first")
    return active


def export_candidate(model, out_dir, kind, version, active, history, counts):
    parent_meta = read_meta(active.bundle_dir)
    meta = {
        "name": kind,
        "version": version,
        "labels": LABELS[kind],
        "architecture": parent_meta.get("architecture"),
        "parent_version": active.version,
        "datasets": parent_meta.get("datasets", []),
        "feedback": counts,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    curves = evaluation.plot_curves(history, out_dir.parent / "curves.png")
    return export_bundle(model, out_dir, meta, extra_files=[curves])


CHARACTER_STEPS = SimpleNamespace(replay_sample=replay_sample,
                                  fine_tune=fine_tune, standard_set=standard_set, hits=hits,
                                  export_candidate=export_candidate)
