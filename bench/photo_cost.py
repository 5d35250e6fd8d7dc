"""Server time of a phone photo and of the worst accepted inputs, per stage of the upload path.

    .venv/bin/python bench/photo_cost.py [--repeat 5]

Inputs: a 12-megapixel phone JPEG (4000x3000, a test writer's 4 on ruled paper on a table,
from `bench/photos.py`, enlarged), a 5000x5000 1-bit PNG of random noise (exactly the pixel limit:
the worst case the attack run found) and the same noise as a 5000x5000 grey JPEG. Each is read
single-character (`digit`) and in text mode (`any`). Stages: decode (with the JPEG's DCT scaling
and the shrink to `photo.WORK_SIDE`), finding the writing (sheet, light, lines, choice), the ink
map and normalisation, the model; then the whole service call. CPU time is the process's
(`time.process_time`, all threads), the median of `--repeat` runs; peak RSS is the process's.
"""
import argparse
import io
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django


def cpu_ms(function, repeat):
    """(median CPU milliseconds, the last result) of `function()`; errors count as results."""
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        try:
            result = function()
        except Exception as error:  # a refusal (4xx) is an outcome here
            result = error
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3, result


def inputs():
    from bench import photos
    from ml.datasets import read_unipen
    from ml.text_lines import records_by_label

    rng = np.random.default_rng(0)
    four = records_by_label(read_unipen("test")[0])["4"][0]
    photo = Image.open(io.BytesIO(photos.photograph("4", [four], rng, "ruled", "pen").jpeg))
    big = io.BytesIO()
    photo.resize((4000, 3000), Image.Resampling.BICUBIC).save(big, "JPEG", quality=90)
    noise = rng.random((5000, 5000)) > 0.5
    bits, grey = io.BytesIO(), io.BytesIO()
    Image.fromarray(noise).save(bits, "PNG")
    Image.fromarray((noise * 255).astype(np.uint8)).save(grey, "JPEG", quality=90)
    return {"12 MP phone JPEG": big.getvalue(), "5000x5000 noise, 1-bit PNG": bits.getvalue(),
            "5000x5000 noise, JPEG": grey.getvalue()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with throwaway_django("hwr-bench-photo-cost-"):
        from core import photo, preprocessing
        from recognition.services import get_recognizer, predict, predict_text

        recognizer = get_recognizer("digit")
        get_recognizer("any")
        print(f"{'input':<28} {'bytes':>10} {'decode':>8} {'find':>8} {'ink+norm':>9} {'model':>7} "
              f"{'predict':>8} {'text any':>9}  (CPU ms, median of {args.repeat})")
        for name, data in inputs().items():
            decode, (image, scale) = cpu_ms(lambda: preprocessing.decode_picture(data), args.repeat)
            find, writing = cpu_ms(lambda: photo.find_writing(image), args.repeat)
            ink, image28 = cpu_ms(lambda: preprocessing.normalize(
                preprocessing.working_ink_map(writing.image)[0]), args.repeat)
            model = cpu_ms(lambda: recognizer.probabilities(image28), args.repeat)[0] \
                if isinstance(image28, np.ndarray) else float("nan")
            whole, result = cpu_ms(lambda: predict(data, "digit"), args.repeat)
            text, text_result = cpu_ms(lambda: predict_text(data, "any"), args.repeat)
            outcome = lambda r: type(r).__name__ + (f": {r}" if isinstance(r, Exception) else "")
            print(f"{name:<28} {len(data):>10,} {decode:>8.1f} {find:>8.1f} {ink:>9.1f} {model:>7.2f} "
                  f"{whole:>8.1f} {text:>9.1f}  {outcome(result)[:60]} | {outcome(text_result)[:40]}",
                  flush=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (Django, 3 models, TensorFlow not imported): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
