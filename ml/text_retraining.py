"""Retraining the text model on word corrections: the steps `ml.retraining.run` takes for it.

The same run as for the character models (feedback split by image, fine-tuning on it mixed
with replayed base data, the gate, registration and hot reload); only the data and the training
differ: a word's input line is rebuilt from what the Word stored by `core.words.text_line`,
as the web built it, and the text model is fine-tuned with CTC.
"""
import os
from pathlib import Path

import numpy as np
from django.conf import settings
from tqdm import tqdm

from core import words
from core.bundle import read_meta
from core.inference import Recognizer
from core.preprocessing import PreprocessingError
from feedback.models import WordFeedback
from ml import words as text_training

# The share of number lines in the replayed base data, as in training (12,000 of 81,000).
REPLAY_NUMBERS = 0.15


def usable_feedback(include_unreviewed):
    """Word corrections with a trustworthy text: verified (and new, when asked); never rejected."""
    statuses = [WordFeedback.Status.VERIFIED]
    if include_unreviewed:
        statuses.append(WordFeedback.Status.NEW)
    return (WordFeedback.objects.filter(status__in=statuses).select_related("word")
            .order_by("word__created", "word_id"))


def load_feedback(active, options, log=print):
    """Word corrections as the model's input lines (uint8), their right texts, and the sha256 of
    each word's image (what the holdout split reads)."""
    alphabet = set(read_meta(active.bundle_dir)["labels"])
    length = words.WIDTH // words.STRIDE // 2
    lines, texts, image_hashes, skipped = [], [], [], 0
    rows = list(usable_feedback(options.include_unreviewed))
    for feedback in tqdm(rows, desc="drawing word feedback", unit="word", disable=not rows):
        text = feedback.text
        if not text or not set(text) <= alphabet or len(text) > length:
            skipped += 1  # characters the model has no output for, or longer than a line holds
            continue
        try:
            with feedback.word.image.open("rb") as handle:
                line = words.text_line(handle.read(), feedback.word.strokes,
                                       max_pixels=settings.HWR_MAX_IMAGE_PIXELS)
        except (OSError, PreprocessingError):
            skipped += 1  # its file is gone or no longer reads as writing
            continue
        lines.append(np.round(line.image * 255).astype(np.uint8))
        texts.append(text)
        image_hashes.append(feedback.word.image_sha256)
    if skipped:
        log(f"skipped {skipped} word corrections that could not be used (text outside the "
            f"model's alphabet or image unreadable)")
    return (np.array(lines, np.uint8).reshape(-1, words.HEIGHT, words.WIDTH),
            np.array(texts, dtype=object), image_hashes)


def replay_sample(kind, count, options):
    """`count` base training lines per epoch (words of the training writers and some number
    lines), jittered as in training, so fine-tuning does not forget them: other lines each
    epoch, as a few hundred lines seen again and again are learnt by heart and the rest forgotten."""
    count, seed = count * options.epochs, options.seed
    if count < 1:
        return np.zeros((0, words.HEIGHT, words.WIDTH), np.uint8), np.array([], dtype=object)
    splits, _ = text_training.load_splits()
    rng = np.random.default_rng(seed)
    numbers = int(round(count * REPLAY_NUMBERS))
    chosen = rng.choice(len(splits["train"]), min(count - numbers, len(splits["train"])), replace=False)
    records = [splits["train"][i] for i in chosen]
    if numbers:
        records += text_training.number_lines("train", numbers, seed)
    images = text_training.render_all(records, 1, augment=True, seed=seed)
    return images, np.array([r["text"] for r in records], dtype=object)


def fine_tune(bundle_dir, feedback, replay, options, progress=None):
    """The active text model trained with CTC on the feedback lines each epoch, mixed with that
    epoch's share of the replay lines, batch-norm frozen, then taken part of the way from its
    weights (as for characters); returned as it is served."""
    import keras

    meta = read_meta(bundle_dir)
    alphabet, width = meta["labels"], meta["architecture"]["width"]
    keras.utils.set_random_seed(options.seed)
    model = text_training.build_model(len(alphabet), width)
    model.set_weights(keras.saving.load_model(Path(bundle_dir) / "model.keras", compile=False).get_weights())
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(options.learning_rate, clipnorm=5.0),
                  loss=keras.losses.CTC())
    original = [weights.copy() for weights in model.get_weights()]
    length = words.WIDTH // words.STRIDE // 2
    history = {"loss": []}
    for epoch in range(options.epochs):
        images = np.concatenate([feedback[0], replay[0][epoch::options.epochs]])
        texts = [*feedback[1], *replay[1][epoch::options.epochs]]
        data = text_training.make_dataset(images, text_training.encode(texts, alphabet, length),
                                          options.batch_size, True, options.seed + epoch)
        loss = model.fit(data, epochs=1, verbose=2).history["loss"][-1]
        history["loss"].append(loss)
        if progress is not None:
            progress("fine-tuning", epoch=epoch + 1, epochs=options.epochs, loss=round(float(loss), 4))
    share = options.fine_tuned_share
    model.set_weights([(1 - share) * before + share * after
                       for before, after in zip(original, model.get_weights())])
    return text_training.serving_model(model, len(alphabet), width), history


def standard_set(kind, options):
    """The test writers' UNIPEN words (all, or `test_limit` of them drawn at random: the split is
    ordered by writer, and its first words are a few writers'), drawn without jitter."""
    records = text_training.load_splits()[0]["test"]
    if options.test_limit and options.test_limit < len(records):
        chosen = np.random.default_rng(options.seed).choice(len(records), options.test_limit, replace=False)
        records = [records[i] for i in np.sort(chosen)]
    return text_training.render_all(records, 1, augment=False), np.array([r["text"] for r in records], dtype=object)


def hits(bundle_dir, images, texts):
    """Per line: does this bundle's model.tflite, decoded as the web decodes it (beam search,
    without the lexicon: the gate judges the model, not the word list), read the text exactly?"""
    if not len(texts):
        return np.zeros(0, dtype=bool)
    reader = Recognizer(bundle_dir, num_threads=os.cpu_count())
    probabilities = [reader.probabilities(image / 255.0) for image in images]
    read = text_training.read_texts(probabilities, reader.labels)
    return np.array([r == t for r, t in zip(read, texts)])


def export_candidate(model, out_dir, kind, version, active, history, counts):
    """The fine-tuned text bundle: the parent's alphabet and decoding, this run's figures."""
    from datetime import UTC, datetime

    from ml import evaluation
    from ml.bundle import export_bundle

    parent = read_meta(active.bundle_dir)
    meta = {key: parent[key] for key in ("labels", "output", "decoding", "architecture", "datasets")
            if key in parent}
    meta.update(name=kind, version=version, parent_version=active.version, feedback=counts,
                created=datetime.now(UTC).isoformat(timespec="seconds"))
    curves = evaluation.plot_curves(history, out_dir.parent / "curves.png")
    return export_bundle(model, out_dir, meta, extra_files=[curves], contract=words.TEXT_CONTRACT)
