"""The text model, one function per step: load words, render them, build, train, evaluate, export.

UNIPEN words (pen strokes with their text, split by writer) are drawn as the canvas draws them,
jittered as writers differ (slant, proportions, a slight turn, pen width), and read through
`core.words.word_input`, the function the web uses, so training sees what serving sees.
A small CNN reads the line into a sequence of columns, a bidirectional LSTM gives each column
its context, and CTC learns the alignment to the text. Imports TensorFlow: training only.
"""
import gzip
import hashlib
import json
import math
import os
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from core import lexicon, preprocessing, words
from ml import datasets

SOURCE = "unipen_words"
# Each training word is rendered this many times, with other jitter and pen each time.
TRAIN_COPIES = 2
# Numbers written with isolated digits, added to the words of each split.
NUMBER_LINES = {"train": 12000, "val": 1200}
PEN = words.TRAINED_PENS
SLANT, STRETCH, TURN = 0.3, 0.15, 0.05
LOADER_VERSION = 1


def read_records(split, root=None):
    """UNIPEN word records of `train` or `test` (dicts with text, writer, strokes with y up)."""
    (path,) = datasets.require_files(Path(root or datasets.datasets_dir()) / SOURCE,
                                     [f"unipen_words_{split}.jsonl.gz"], "UNIPEN words")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle], path


def load_splits(root=None):
    """{'train', 'val', 'test'}: records, validation writers taken from the training writers."""
    train, train_path = read_records("train", root)
    test, test_path = read_records("test", root)
    sides = _training_sides(train)
    return ({"train": [r for r, side in zip(train, sides) if side == "train"],
             "val": [r for r, side in zip(train, sides) if side == "val"],
             "test": test},
            [train_path, test_path])


def split_records(split, root=None):
    """The records of one split of `load_splits`, reading only the file that holds it (the test
    writers' file is a tenth of the training writers')."""
    if split == "test":
        return read_records("test", root)[0]
    train, _ = read_records("train", root)
    return [r for r, side in zip(train, _training_sides(train)) if side == split]


def _training_sides(train):
    return datasets.group_split(np.array([r["writer"] for r in train]), "unipen-words", test_percent=0)


def number_lines(split, count, seed, root=None):
    """Numbers of 1-8 digits written with the isolated UNIPEN digits of `split`'s writers (train
    or val: the character split's), each in one writer's hand where that writer wrote the digit,
    sized and spaced as people write (`ml.text_lines`). UNIPEN words hold few numbers."""
    from ml.text_lines import build_line

    records, _ = datasets.read_unipen("train", root)
    sides = datasets.group_split(np.array([r["writer"] for r in records]), "unipen", test_percent=0)
    digits = [r for r, side in zip(records, sides) if side == split and r["label"].isdigit()]
    by_writer, by_label = {}, {}
    for record in digits:
        by_writer.setdefault(record["writer"], {}).setdefault(record["label"], []).append(record)
        by_label.setdefault(record["label"], []).append(record)
    writers = sorted(by_writer)
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        hand = by_writer[writers[rng.integers(len(writers))]]
        text = "".join(rng.choice(list("0123456789"), rng.integers(1, 9)))
        chosen = [hand.get(c) or by_label[c] for c in text]
        line = build_line([options[rng.integers(len(options))] for options in chosen], rng)
        lines.append({"text": text, "strokes": line.strokes, "y_up": False})
    return lines


def alphabet_of(records):
    """The characters the model can write: every character of the training texts, sorted."""
    return "".join(sorted({character for record in records for character in record["text"]}))


def jitter(strokes, rng):
    """Strokes (y up) slanted, stretched and turned a little, as another writer might."""
    slant, stretch, turn = rng.uniform(-SLANT, SLANT), rng.uniform(-STRETCH, STRETCH), rng.uniform(-TURN, TURN)
    cos, sin = math.cos(turn), math.sin(turn)
    matrix = np.array([[1.0, slant], [0.0, 1.0 + stretch]]) @ np.array([[cos, -sin], [sin, cos]])
    return [(np.asarray(stroke, np.float64).reshape(-1, 2) @ matrix.T) for stroke in strokes]


def _render_job(job):
    strokes, seed, augment, y_up = job
    rng = np.random.default_rng(seed)
    if augment:
        strokes = jitter(strokes, rng)
    image, _ = words.render_strokes(strokes, rng.uniform(*PEN), y_up=y_up)
    return np.round(image * 255).astype(np.uint8)


def render_all(records, copies=1, augment=True, seed=0, workers=None, cache=True):
    """uint8 images (N * copies, HEIGHT, WIDTH), copies one after another, cached on disk
    (unless `cache` is off: a draw made once, as retraining's replay)."""
    path = _cache_path(records, copies, augment, seed) if cache else None
    if path is not None and path.is_file():
        return np.load(path)
    jobs = [(record["strokes"], seed * 1_000_003 + copy * len(records) + index, augment,
             record.get("y_up", True))
            for copy in range(copies) for index, record in enumerate(records)]
    workers = workers or min(os.cpu_count() or 1, 4)
    with Pool(workers) as pool:
        images = np.stack(pool.map(_render_job, jobs, chunksize=256))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, images)
    return images


def _cache_path(records, copies, augment, seed):
    """Where `render_all` keeps these images: named by the records, the draw and the code that
    renders them."""
    key = hashlib.sha256(json.dumps([LOADER_VERSION, len(records), records[0]["text"], records[-1]["text"],
                                     copies, augment, seed, PEN, SLANT, STRETCH, TURN]).encode())
    for source in (__file__, preprocessing.__file__, words.__file__):
        key.update(Path(source).read_bytes())
    return datasets.cache_dir() / f"words-{key.hexdigest()[:16]}.npy"


def encode(texts, alphabet, length):
    """Texts -> int32 (N, length): alphabet positions + 1 (0 is CTC's blank and the padding)."""
    index = {character: i + 1 for i, character in enumerate(alphabet)}
    labels = np.zeros((len(texts), length), np.int32)
    for row, text in enumerate(texts):
        codes = [index[c] for c in text if c in index][:length]
        labels[row, :len(codes)] = codes
    return labels


def build_model(classes, width=32, batch_size=None):
    """CNN (height pooled away, width / 4 columns) -> BiLSTM -> a score per class and blank."""
    import keras
    from keras import layers

    def block(x, filters, pool):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        return layers.MaxPooling2D(pool)(x) if pool else x

    inputs = keras.Input((words.HEIGHT, words.WIDTH, 1), batch_size=batch_size)
    x = block(inputs, width, (2, 2))          # 16 x 128
    x = block(x, 2 * width, (2, 2))           # 8 x 64
    x = block(x, 3 * width, None)
    x = block(x, 3 * width, (2, 1))           # 4 x 64
    x = block(x, 4 * width, (4, 1))           # 1 x 64
    x = layers.Reshape((words.WIDTH // words.STRIDE, 4 * width))(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.LSTM(4 * width, return_sequences=True))(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(classes + 1, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="text")


def make_dataset(images, labels, batch_size, training, seed=0):
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return (data.batch(batch_size)
            .map(lambda x, y: (tf.cast(x, tf.float32)[..., None] / 255.0, y))
            .prefetch(2))


def train(model, train_set, val_set, epochs, batch_size, budget_minutes, learning_rate, seed):
    """Fit with CTC loss on a cosine schedule fitted to the time budget; keeps the weights of the
    epoch with the lowest validation loss."""
    import keras

    from ml.training import BudgetedCosine

    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0), loss=keras.losses.CTC())
    schedule = BudgetedCosine(learning_rate, epochs, budget_minutes * 60 if budget_minutes else None)
    best = keras.callbacks.EarlyStopping(monitor="val_loss", patience=epochs, restore_best_weights=True)
    started = time.monotonic()
    history = model.fit(make_dataset(*train_set, batch_size, True, seed),
                        validation_data=make_dataset(*val_set, 256, False),
                        epochs=epochs, callbacks=[schedule, best], verbose=1 if os.isatty(1) else 2)
    return history.history, time.monotonic() - started


def read_texts(probabilities, alphabet, beam=True, lexicon_source="", lexicon_weight=0.0):
    """The text read from each line's column probabilities, decoded as the web decodes them
    (`core.words.read_line`), or by best path."""
    if not beam:
        return [words.best_path(np.log(p + 1e-12), alphabet).text for p in probabilities]
    return [words.read_line(p, alphabet, count=1, lexicon_source=lexicon_source,
                            lexicon_weight=lexicon_weight)[0].text for p in probabilities]


def scores(predicted, texts):
    """CER and word accuracy, exact and ignoring case, and both ignoring case per word length."""
    exact = [words.edit_distance(p, t) for p, t in zip(predicted, texts)]
    folded = [words.edit_distance(p.lower(), t.lower()) for p, t in zip(predicted, texts)]
    characters = max(1, sum(len(t) for t in texts))
    per_length = {}
    for distance, p, t in zip(folded, predicted, texts):
        bucket = per_length.setdefault(min(len(t), 10), [0, 0, 0, 0])  # errors, characters, right, words
        bucket[0] += distance
        bucket[1] += len(t)
        bucket[2] += p.lower() == t.lower()
        bucket[3] += 1
    return {
        "cer": sum(exact) / characters, "cer_ignoring_case": sum(folded) / characters,
        "word_accuracy": float(np.mean([p == t for p, t in zip(predicted, texts)])),
        "word_accuracy_ignoring_case": float(np.mean([p.lower() == t.lower() for p, t in zip(predicted, texts)])),
        "words": len(texts),
        "per_length": {str(length): {"cer_ignoring_case": errors / max(1, count),
                                     "word_accuracy_ignoring_case": right / words_of_length}
                       for length, (errors, count, right, words_of_length) in sorted(per_length.items())},
    }


def predict_probabilities(model, images, batch_size=256):
    """The Keras model's column probabilities for uint8 line images (softmax of its logits)."""
    import keras

    logits = model.predict(images[..., None].astype(np.float32) / 255.0, batch_size=batch_size, verbose=0)
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def export(model, out_dir, alphabet, metrics, history, seconds, args, files):
    """The text bundle: model.tflite (scores per column; the web decodes them), meta.json with
    the alphabet, the figures, how it was trained, and curves.png."""
    from datetime import UTC, datetime

    from ml import evaluation
    from ml.bundle import export_bundle
    from ml.training import hardware

    staging = Path(out_dir).parent / f".{Path(out_dir).name}-plots"
    staging.mkdir(parents=True, exist_ok=True)
    curves = evaluation.plot_curves(history, staging / "curves.png")
    meta = {
        "name": "text",
        "version": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
        "labels": list(alphabet),
        "output": "logits",
        "decoding": "ctc",
        "architecture": {"name": "crnn", "width": args["width"], "parameters": int(model.count_params())},
        "datasets": [{"file": Path(f).name, "sha256": datasets.sha256_of(f)} for f in files],
        "metrics": metrics,
        "training": {**args, "seconds": round(seconds, 1), "epochs_run": len(history.get("loss", [])),
                     "augmentation": {"slant": SLANT, "stretch": STRETCH, "turn_rad": TURN, "pen_px": PEN},
                     "hardware": hardware()},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        return export_bundle(model, out_dir, meta, extra_files=[curves], contract=words.TEXT_CONTRACT)
    finally:
        curves.unlink(missing_ok=True)
        staging.rmdir()


def run(out, epochs=12, batch_size=64, limit=None, seed=1, time_budget=None, width=16,
        learning_rate=None, init=None, log=print):
    """The whole `manage.py train --model text`: load, render, build, train, evaluate, export.

    `init`: a text bundle whose weights training starts from (to train a model further, at half
    the learning rate of a fresh start unless one is given)."""
    import keras

    learning_rate = learning_rate or (1e-3 if init else 2e-3)

    keras.utils.set_random_seed(seed)
    splits, files = load_splits()
    if limit:
        splits = {name: records[:limit] for name, records in splits.items()}
    for name, count in NUMBER_LINES.items():
        splits[name] = splits[name] + number_lines(name, min(count, limit or count), seed)
    alphabet = alphabet_of(splits["train"])
    log(f"words: train {len(splits['train'])}, validation {len(splits['val'])}, "
        f"test {len(splits['test'])}; alphabet of {len(alphabet)}")
    length = words.WIDTH // words.STRIDE // 2
    sets = {}
    for name, copies in (("train", TRAIN_COPIES), ("val", 1), ("test", 1)):
        records = splits[name]
        images, seconds = timed(render_all, records, copies, augment=name == "train", seed=seed)
        sets[name] = (images, encode([r["text"] for r in records] * copies, alphabet, length))
        log(f"rendered {name}: {len(images)} images in {seconds:.0f} s")
    model = build_model(len(alphabet), width)
    if init:
        start = keras.saving.load_model(Path(init) / "model.keras", compile=False)
        if start.output_shape[-1] != len(alphabet) + 1:
            raise ValueError(f"{init}: its alphabet is not this data's ({len(alphabet)} characters)")
        model.set_weights(start.get_weights())
        log(f"starting from {init}")
    log(f"crnn: {model.count_params():,} parameters")
    history, seconds = train(model, sets["train"], sets["val"], epochs, batch_size, time_budget,
                             learning_rate, seed)
    metrics = {}
    for name in ("val", "test"):
        probabilities = predict_probabilities(model, sets[name][0])
        texts = [r["text"] for r in splits[name]]
        for decoding, beam in (("greedy", False), ("beam", True)):
            metrics[f"{name}_{decoding}"] = scores(read_texts(probabilities, alphabet, beam), texts)
            log(f"{name} {decoding}: " + json.dumps({k: v for k, v in metrics[f'{name}_{decoding}'].items()
                                                      if k != "per_length"}))
    args = {"epochs_max": epochs, "batch_size": batch_size, "limit": limit, "seed": seed,
            "time_budget_minutes": time_budget, "width": width, "train_copies": TRAIN_COPIES,
            "learning_rate": learning_rate, "started_from": str(init) if init else None}
    return export(serving_model(model, len(alphabet), width), out, alphabet, metrics, history,
                  seconds, args, files)


def serving_model(model, classes, width):
    """The trained network for one line at a time: a fixed batch of one lets the converter
    turn the LSTM into LiteRT's own fused operator (no TensorFlow ops in the bundle)."""
    served = build_model(classes, width, batch_size=1)
    served.set_weights(model.get_weights())
    return served


def confusions(predicted, texts, count=10):
    """The most frequent character mistakes ('a -> o', 'n -> (missing)', '(extra) -> e'),
    ignoring case, from an alignment of each reading with its text."""
    counts = {}
    for read, text in zip(predicted, texts):
        for pair in words.aligned_errors(read.lower(), text.lower()):
            counts[pair] = counts.get(pair, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])[:count]


def evaluate_bundle(bundle_dir, split="test", limit=None, beam=True, lexicon_source="", lexicon_weight=0.0):
    """A text bundle's model.tflite, as the web runs it, on UNIPEN words of `split` writers (with
    a lexicon: also on those of its words the lexicon knows, `in_lexicon`)."""
    meta, probabilities, texts = bundle_probabilities(bundle_dir, split, limit)
    predicted = read_texts(probabilities, meta["labels"], beam, lexicon_source, lexicon_weight)
    result = scores(predicted, texts)
    if lexicon_source:  # the words the prior knows, where it can help most
        inside = [i for i, text in enumerate(texts) if lexicon.knows(text, lexicon_source)]
        result["in_lexicon"] = scores([predicted[i] for i in inside], [texts[i] for i in inside])
    return meta, result, confusions(predicted, texts)


def bundle_probabilities(bundle_dir, split="test", limit=None):
    """(meta, the model's column probabilities per word, texts) of a split's words, as served."""
    from core.inference import Recognizer

    reader = Recognizer(bundle_dir)
    records = split_records(split)
    records = records[:limit] if limit else records
    images = render_all(records, 1, augment=False)
    return reader.meta, [reader.probabilities(image / 255.0) for image in images], [r["text"] for r in records]


def tune_lexicon_weight(bundle_dir, source, weights=(0.0, 0.1, 0.2, 0.3, 0.5, 0.8), limit=None):
    """Word accuracy (ignoring case) of each lexicon weight on the validation writers' words."""
    meta, probabilities, texts = bundle_probabilities(bundle_dir, "val", limit)
    results = {}
    for weight in weights:
        predicted = read_texts(probabilities, meta["labels"], True, source if weight else "", weight)
        results[weight] = scores(predicted, texts)
    return results
