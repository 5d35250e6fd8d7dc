"""Retraining the text model on word corrections: the steps `ml.retraining.run` takes for it.

The same run as for the character models (feedback split by image, fine-tuning on it mixed
with replayed base data, the gate, registration and hot reload); only the data and the training
differ: the corrections come as input lines rebuilt as the web built them
(`feedback.training.load_word_feedback`, through `ml.feedback_source`), the replayed lines are
training words and numbers, and the text model is fine-tuned with CTC.
"""
import os
from pathlib import Path

import numpy as np

from core import words
from core.bundle import read_meta
from core.inference import Recognizer
from ml import words as text_training

# The share of number lines in the replayed base data, as in training (12,000 of 81,000).
REPLAY_NUMBERS = 0.15


def replay_sample(kind, count, options):
    """`count` base training lines per epoch (words of the training writers and some number
    lines), jittered as in training, so fine-tuning does not forget them: other lines each
    epoch, as a few hundred lines seen again and again are learnt by heart and the rest forgotten."""
    count, seed = count * options.epochs, options.seed
    if count < 1:
        return np.zeros((0, words.HEIGHT, words.WIDTH), np.uint8), np.array([], dtype=object)
    train = text_training.split_records("train")
    rng = np.random.default_rng(seed)
    numbers = int(round(count * REPLAY_NUMBERS))
    chosen = rng.choice(len(train), min(count - numbers, len(train)), replace=False)
    records = [train[i] for i in chosen]
    if numbers:
        records += text_training.number_lines("train", numbers, seed)
    images = text_training.render_all(records, 1, augment=True, seed=seed, cache=False)
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
    records = text_training.split_records("test")
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
