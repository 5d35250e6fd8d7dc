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

Then phone photos (`bench/photos.py`) of the same held-out writers' characters on plain, ruled
and squared paper in pen, pencil and felt marker, on a table, turned, unevenly lit, JPEG, about
1-1.5 megapixels; tight crops and bold marker crops; and 2-4 digit numbers in text mode, on the
canvas (with their strokes) and photographed. Letters are scored ignoring case (their case
is told by size alone, which a photo does not give). "box" is the share of photos whose reported
box (the writing the server read) overlaps the writing by at least half (IoU).

    .venv/bin/python bench/uploads.py --photos 300 --per-source 0   # photos only
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
from bench.throwaway_django import throwaway_django

SCANS = {"digit": "mnist", "letter": "femnist", "any": "femnist"}


def png(ink):
    """Ink map -> PNG bytes, black ink on white, edges softened as a browser anti-aliases them."""
    image = Image.fromarray((255 - ink * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def drawn(item, margin):
    """A UNIPEN record drawn three times the training size; `margin` None = half the drawing."""
    from core import preprocessing

    strokes, width, box = item
    ink = preprocessing.rasterize(strokes, 3 * width, 3 * box)  # its own margin is one pen width
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
    images = datasets.normalize_all(raw.normalizer, items).astype(np.float32) / 255.0
    predicted = np.array(recognizer.labels)[recognizer.batch_probabilities(images).argmax(axis=1)]
    return float(np.mean(predicted == labels.astype(str)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=["digit", "letter", "any"])
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--photos", type=int, default=300, help="photos per kind (0: none)")
    parser.add_argument("--numbers", type=int, default=100, help="photographed numbers (text mode)")
    args = parser.parse_args()
    with throwaway_django("hwr-bench-uploads-"):
        from ml import datasets
        from recognition.services import get_recognizer

        if args.per_source:
            print(f"{'model':<22} {f'{args.split} characters':<24} {'dataset':>8} {'upload':>8}  as")
        for kind in args.kinds if args.per_source else ():
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
        if args.photos:
            by_label = held_out_records(args.split)
            for kind in args.kinds:
                photo_rows(kind, by_label, args.photos, np.random.default_rng([args.seed, len(kind)]))
        if args.numbers:
            number_rows(held_out_records(args.split), args.numbers, np.random.default_rng(args.seed))


def held_out_records(split):
    """UNIPEN records of the test writers, or of the validation writers, by label."""
    from ml import datasets
    from ml.text_lines import records_by_label

    if split == "test":
        return records_by_label(datasets.read_unipen("test")[0])
    records = datasets.read_unipen("train")[0]
    splits = datasets.group_split(np.array([r["writer"] for r in records]), "unipen", test_percent=0)
    return records_by_label([r for r, s in zip(records, splits) if s == "val"])


def iou(a, b):
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def read(data, kind, expected, multi=False, strokes=None):
    """(right, reported box) of one upload through the service, ignoring case for letters."""
    from recognition.services import RecognitionError, predict, predict_text

    try:
        if multi:
            result = predict_text(data, kind, strokes)[2]
            answer = result["text"]
        else:
            result = predict(data, kind)[1]
            answer = result["label"]
    except RecognitionError:
        return False, None
    return answer.lower() == expected.lower(), result.get("box")


def photo_rows(kind, by_label, count, rng):
    """Single characters photographed (each paper x pen), tight crops and bold marker crops."""
    from bench import photos
    from ml import datasets

    labels = [label for label in datasets.LABELS[kind] if label in by_label]
    right, boxed = {}, {}
    for index in range(count):
        label = labels[rng.integers(len(labels))]
        record = by_label[label][rng.integers(len(by_label[label]))]
        paper, pen = photos.PAPERS[index % 3], photos.PENS[index // 3 % 3]
        photo = photos.photograph(label, [record], rng, paper, pen)
        ok, box = read(photo.jpeg, kind, label)
        for key in ("all photos", f"paper {paper}", f"{pen}"):
            right.setdefault(key, []).append(ok)
            boxed.setdefault(key, []).append(box is not None and iou(box, photo.box) >= 0.5)
        if index % 2 == 0:
            right.setdefault("tight crop", []).append(read(photos.tight_crop([record], rng)[0], kind, label)[0])
        elif label not in "Il1":  # a bar cut at both ends is not a character any more
            right.setdefault("bold marker crop", []).append(read(photos.bold_crop([record], rng)[0], kind, label)[0])
    for key, values in right.items():
        box = f"{np.mean(boxed[key]):>7.1%}" if key in boxed else "      –"
        print(f"{kind:<7} {key:<18} {len(values):>5} {np.mean(values):>8.2%} box {box}", flush=True)


def number_rows(by_label, count, rng):
    """2-4 digit numbers in text mode: on the canvas (strokes), the canvas image alone, a photo."""
    from bench import photos
    from ml.text_lines import build_line

    right = {"canvas with strokes": [], "canvas image": [], "photo": []}
    for index in range(count):
        text = "".join(rng.choice(list("0123456789"), rng.integers(2, 5)))
        records = [by_label[c][rng.integers(len(by_label[c]))] for c in text]
        line = build_line(records, rng)
        right["canvas with strokes"].append(read(line.png, "digit", text, True, line.strokes)[0])
        right["canvas image"].append(read(line.png, "digit", text, True)[0])
        paper, pen = photos.PAPERS[index % 3], photos.PENS[index // 3 % 3]
        photo = photos.photograph(text, records, rng, paper, pen)
        right["photo"].append(read(photo.jpeg, "digit", text, True)[0])
    for key, values in right.items():
        print(f"digit   numbers, {key:<20} {len(values):>5} {np.mean(values):>8.2%} whole numbers right", flush=True)


if __name__ == "__main__":
    main()
