"""Benchmark of uploads as people make them: held-out characters drawn on a canvas, cropped
tightly, and photographed in pencil, each sent through `recognition.services.predict`.

    .venv/bin/python bench/uploads.py [--per-source 1000] [--seed 0] [--kinds digit letter any]
                                      [--split test|val]

Test writers (never seen in training; `--split val` reads the validation writers instead, for
choosing between changes), for each bundled model:
- UNIPEN-test strokes drawn the way the canvas draws them (round pen, anti-aliased edge, about
  150 px tall) and sent *on a canvas* (a margin of half the drawing around it) and as a *tight
  crop* (one pen width around the ink, as a user crops a photo to the character);
- MNIST-test (digit) or FEMNIST test-writer (letter, any) scans, *photographed in pencil*: dark
  strokes on grey paper at 224 px, pressure varying across the character (35-100 % of the
  darkest), a shadow across the page, sensor noise, a slight blur and JPEG at quality 80;
- the same scans *as they are*, one PNG each at the dataset's own size (28 px for both), as an
  ML student uploads a sample of a dataset.
The first column is the accuracy of the same characters read from the dataset itself (what
`manage.py evaluate` measures), so each row shows what the upload path loses.
"""
import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_django

SCANS = {"digit": "mnist", "letter": "femnist", "any": "femnist"}


def png(ink):
    """Ink map -> PNG bytes, black ink on white, edges softened as a browser anti-aliases them."""
    image = Image.fromarray((255 - ink * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def drawn(item, margin):
    """A UNIPEN record drawn three times the training size; `margin` None = half the drawing."""
    from recognition import preprocessing

    strokes, width, box = item
    ink = preprocessing.rasterise(strokes, 3 * width, 3 * box)  # its own margin is one pen width
    if margin is None:
        ink = np.pad(ink, max(ink.shape) // 2)
    return png(ink)


def pencil_photo(scan, rng):
    size = 224
    ink = np.asarray(Image.fromarray(scan).resize((size, size), Image.Resampling.BICUBIC), np.float32) / 255
    pressure = ndimage.zoom(rng.uniform(0.35, 1.0, (3, 3)), size / 3, order=1)[:size, :size]
    shade = np.linspace(1.0, rng.uniform(0.6, 1.0), size)[None, :]
    photo = shade * (225 - 170 * ink * pressure) + rng.normal(0, 3, (size, size))
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def as_it_is(scan):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(scan)).save(buffer, "PNG")
    return buffer.getvalue()


def sample(raw, kind, count, rng, split):
    from ml import datasets

    labels = raw.labels[split]
    wanted = np.flatnonzero(np.isin(labels, list(datasets.LABELS[kind])))
    wanted = np.sort(rng.choice(wanted, min(count, len(wanted)), replace=False))
    return [raw.items[split][i] for i in wanted], labels[wanted]


def accuracy(uploads, labels, kind):
    from recognition.services import RecognitionError, predict

    right = 0
    for data, label in zip(uploads, labels):
        try:
            right += predict(data, kind)[1]["label"] == str(label)
        except RecognitionError:
            pass  # "nothing drawn": wrong
    return right / len(labels)


def dataset_accuracy(raw, items, labels, kind):
    """The same characters as `evaluate` reads them: the dataset's own normalisation."""
    from ml import datasets
    from recognition.services import get_recognizer

    recognizer = get_recognizer(kind)
    images = datasets.normalise_all(raw.normaliser, items).astype(np.float32) / 255.0
    predicted = np.array(recognizer.labels)[recognizer.batch_probabilities(images).argmax(axis=1)]
    return float(np.mean(predicted == labels.astype(str)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=["digit", "letter", "any"])
    parser.add_argument("--split", choices=["test", "val"], default="test")
    args = parser.parse_args()
    with scratch_django("hwr-bench-uploads-"):
        from ml import datasets
        from recognition.services import get_recognizer

        print(f"{'model':<22} {f'{args.split} characters':<24} {'dataset':>8} {'upload':>8}  as")
        for kind in args.kinds:
            model = f"{kind} {get_recognizer(kind).version}"
            rng = np.random.default_rng(args.seed)
            unipen = datasets.raw_source("unipen")
            items, labels = sample(unipen, kind, args.per_source, rng, args.split)
            reference = dataset_accuracy(unipen, items, labels, kind)
            for name, margin in (("on a canvas", None), ("tight crop", 0)):
                uploads = [drawn(item, margin) for item in items]
                print(f"{model:<22} {f'UNIPEN-{args.split} ({len(labels)})':<24} {reference:>8.2%} "
                      f"{accuracy(uploads, labels, kind):>8.2%}  {name}", flush=True)
            scans = datasets.raw_source(SCANS[kind])
            items, labels = sample(scans, kind, args.per_source, rng, args.split)
            reference = dataset_accuracy(scans, items, labels, kind)
            photos = [pencil_photo(np.asarray(item), rng) for item in items]
            for name, uploads in (("pencil photo", photos), ("as it is", map(as_it_is, items))):
                print(f"{model:<22} {f'{SCANS[kind]} {args.split} ({len(labels)})':<24} "
                      f"{reference:>8.2%} {accuracy(uploads, labels, kind):>8.2%}  {name}", flush=True)


if __name__ == "__main__":
    main()
