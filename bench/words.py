"""Benchmark of whole words and numbers (issue 28), through the app as a browser sends them.

    .venv/bin/python bench/words.py [--words 600] [--numbers 200] [--photos 150] [--split val|test]

1. Words of held-out writers (UNIPEN words: the validation writers by default, `--split test`
   for the test writers) drawn on the text-mode canvas: the strokes placed on a 560 x 280
   canvas (its desktop shape) at a height people write at, drawn with the page's pen, and sent
   as the page sends them (`POST /api/v1/predict`, JSON: the PNG as a data URL, `multi`,
   `kind: any`, the strokes in the PNG's pixels).
2. Numbers of 2-8 digits built from isolated held-out UNIPEN digits (`ml.text_lines`), with
   `kind: digit`, on the canvas (strokes) and as the canvas image alone.
3. Words photographed on paper (`bench.photos`), uploaded as the upload page does (multipart).
4. The canvas images of 1. and 2. turned 4-12 degrees either way and uploaded, as a photo or a
   screenshot of a line written uphill (no sheet edge to straighten it by).

Each is read twice: by the app as it ships (the text model) and by the same app without a text
model (characters cut apart and read one by one), so the table compares the two paths on the
same writing. Reported: CER and whole strings right, exact and ignoring case, and the server
time of 8-character words (p50). A scratch database and media folder are used and deleted.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django  # noqa: E402
from testing.words import canvas_word  # noqa: E402


def held_out_words(split, count, rng):
    from ml import words

    records = words.split_records("test" if split == "test" else "val")
    return [records[i] for i in rng.choice(len(records), min(count, len(records)), replace=False)]


def turned(png, rng):
    """The picture turned 4-12 degrees either way on a white ground, as PNG bytes."""
    import io

    from PIL import Image

    degrees = rng.uniform(4, 12) * rng.choice([-1, 1])
    picture = Image.open(io.BytesIO(png)).convert("L").rotate(
        degrees, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def post_json(client, png, kind, strokes):
    body = {"image": "data:image/png;base64," + base64.b64encode(png).decode(), "kind": kind,
            "multi": True}
    if strokes is not None:
        body["strokes"] = strokes
    return client.post("/api/v1/predict", json.dumps(body), content_type="application/json")


def post_upload(client, jpeg, kind):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/v1/predict", {"image": SimpleUploadedFile("photo.jpg", jpeg, "image/jpeg"),
                                           "kind": kind, "multi": "true"})


def answer(response):
    return response.json().get("text", "") if response.status_code == 200 else ""


def collect(args):
    """Every input of the benchmark, built once so both paths read the same writing."""
    from bench import photos
    from bench.uploads import held_out_records
    from ml.text_lines import Line, build_line

    rng = np.random.default_rng(args.seed)
    cases = []
    for record in held_out_words(args.split, args.words, rng):
        png, strokes = canvas_word(record["strokes"], rng)
        cases.append({"set": "canvas words", "kind": "any", "text": record["text"], "png": png, "strokes": strokes})
        cases.append({"set": "words, turned image", "kind": "any", "text": record["text"],
                      "png": turned(png, rng), "strokes": None})
    for index, record in enumerate(held_out_words(args.split, args.photos, rng)):
        _, strokes = canvas_word(record["strokes"], rng)
        line = Line(record["text"], [[p[:2] for p in s] for s in strokes], b"")
        photo = photos.photograph_line(line, rng, photos.PAPERS[index % 3], photos.PENS[index // 3 % 3])
        cases.append({"set": "photo words", "kind": "any", "text": record["text"], "jpeg": photo.jpeg})
    by_label = held_out_records(args.split)
    for _ in range(args.numbers):
        text = "".join(rng.choice(list("0123456789"), rng.integers(2, 9)))
        line = build_line([by_label[c][rng.integers(len(by_label[c]))] for c in text], rng)
        cases.append({"set": "numbers, canvas", "kind": "digit", "text": text, "png": line.png, "strokes": line.strokes})
        cases.append({"set": "numbers, canvas image", "kind": "digit", "text": text, "png": line.png, "strokes": None})
        cases.append({"set": "numbers, turned image", "kind": "digit", "text": text,
                      "png": turned(line.png, rng), "strokes": None})
    return cases


def read_all(cases):
    """(answers, seconds per request) of the app as configured in this process."""
    from django.test import Client

    client = Client()
    answers, seconds = [], []
    for case in cases:
        started = time.perf_counter()
        if "jpeg" in case:
            response = post_upload(client, case["jpeg"], case["kind"])
        else:
            response = post_json(client, case["png"], case["kind"], case["strokes"])
        seconds.append(time.perf_counter() - started)
        answers.append(answer(response))
    return answers, seconds


def cer(pairs, fold=str):
    from core.words import edit_distance

    return sum(edit_distance(fold(a), fold(t)) for a, t in pairs) / max(1, sum(len(t) for _, t in pairs))


def report(label, cases, answers, seconds):
    print(f"\n{label}")
    print(f"{'set':<24} {'n':>5} {'CER':>7} {'CER (no case)':>14} {'right':>7} {'right (no case)':>16}")
    for name in dict.fromkeys(case["set"] for case in cases):
        pairs = [(a, c["text"]) for a, c in zip(answers, cases) if c["set"] == name]
        right = np.mean([a == t for a, t in pairs])
        right_nocase = np.mean([a.lower() == t.lower() for a, t in pairs])
        print(f"{name:<24} {len(pairs):>5} {cer(pairs):>7.1%} {cer(pairs, str.lower):>14.1%} "
              f"{right:>7.1%} {right_nocase:>16.1%}")
    eight = [s for s, c in zip(seconds, cases) if c["set"] == "canvas words" and len(c["text"]) == 8]
    if eight:
        print(f"8-character canvas words: p50 {np.median(eight) * 1e3:.1f} ms per request "
              f"({len(eight)} requests, full stack, stored)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--without-text-model", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cases", help=argparse.SUPPRESS)
    args = parser.parse_args()
    with throwaway_django("hwr-bench-words-"):
        if args.cases:  # the second pass, in a process whose app has no text model
            import pickle

            cases = pickle.loads(Path(args.cases).read_bytes())
            answers, seconds = read_all(cases)
            report("character by character (the app without a text model)", cases, answers, seconds)
            return
        cases = collect(args)
        answers, seconds = read_all(cases)
        from recognition.inference import get_recognizer

        reader = get_recognizer("text")
        report(f"text model {reader.version} ({args.split} writers)", cases, answers, seconds)
    with tempfile.TemporaryDirectory() as folder:
        import pickle

        from django.conf import settings

        bundled = Path(settings.HWR_BUNDLED_MODELS_DIR)
        models = Path(folder) / "models"
        models.mkdir()
        for kind in ("digit", "letter", "any"):
            (models / kind).symlink_to(bundled / kind)
        (Path(folder) / "cases.pickle").write_bytes(pickle.dumps(cases))
        env = {**os.environ, "HWR_BUNDLED_MODELS_DIR": str(models)}
        subprocess.run([sys.executable, __file__, "--cases", str(Path(folder) / "cases.pickle")],
                       env=env, check=True)


if __name__ == "__main__":
    main()
