"""Benchmark of multi-character recognition (issue 7): accuracy on lines of real held-out
characters, and the server time of an 8-character request.

    .venv/bin/python bench/text.py [--lines 300] [--requests 200] [--seed 0]

1. Lines of 2, 4 and 8 characters built from UNIPEN-test strokes (writers never seen in
   training) by `ml.text_lines`: sized as handwriting, gaps from -8 % (overlap) to 30 % of the
   line height. Digit strings for `digit`; letter words in the usual case patterns (hello,
   Hello, HELLO) for `any`. Each line goes through `recognition.services.predict_text` with its
   strokes (what the canvas page sends) and as an image only (an upload: connected components,
   touching ones cut where the recognizer reads the parts best). Reported: segmentation (lines
   split exactly into their characters), character accuracy (position by position, when the
   count is right; a miscounted line counts all its characters wrong), whole-string accuracy,
   and for `any` the case-insensitive figures and the effect of the case-consistency switch.
2. 8-character requests through Django's full stack (`POST /api/v1/predict`, JSON with image
   and strokes, storing the Word and its 8 Samples) and `predict_text` alone (wall and CPU
   time; and with the image only): p50 / p99, and the batched inference call against 8 single
   calls.

A scratch SQLite database and media folder are used and deleted at the end.
"""
import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django

LENGTHS = (2, 4, 8)


def milliseconds(values, q):
    return float(np.percentile(np.asarray(values) * 1e3, q))


def score(lines, kind, strokes, case_consistency):
    """Counts over lines: exactly segmented, characters right, strings right (also ignoring case)."""
    from recognition.services import predict_text

    counts = dict.fromkeys(["segmented", "chars", "chars_right", "strings_right",
                            "chars_right_nocase", "strings_right_nocase"], 0)
    for line in lines:
        _, _, result = predict_text(line.png, kind, line.strokes if strokes else None, case_consistency)
        text = result["text"]
        counts["chars"] += len(line.text)
        counts["strings_right"] += text == line.text
        counts["strings_right_nocase"] += text.lower() == line.text.lower()
        if len(text) == len(line.text):
            counts["segmented"] += 1
            counts["chars_right"] += sum(a == b for a, b in zip(text, line.text))
            counts["chars_right_nocase"] += sum(a.lower() == b.lower() for a, b in zip(text, line.text))
    return counts


def accuracy_table(by_label, kinds, count, seed):
    from ml.text_lines import build_text, random_text

    print("| kind | length | input | case consistency | segmented | character acc. | string acc. "
          "| character acc. (any case) | string acc. (any case) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        for length in LENGTHS:
            rng = np.random.default_rng([seed, length, len(kind)])
            lines = [build_text(random_text(kind, length, rng), by_label, rng) for _ in range(count)]
            for strokes in (True, False):
                for cased in ((False, True) if kind != "digit" else (False,)):
                    c = score(lines, kind, strokes, cased)
                    pct = lambda n, d: f"{100 * n / d:.1f} %"
                    nocase = (f"{pct(c['chars_right_nocase'], c['chars'])} | "
                              f"{pct(c['strings_right_nocase'], count)}") if kind != "digit" else "– | –"
                    print(f"| {kind} | {length} | {'strokes + image' if strokes else 'image only'} "
                          f"| {'on' if cased else 'off' if kind != 'digit' else '–'} "
                          f"| {pct(c['segmented'], count)} | {pct(c['chars_right'], c['chars'])} "
                          f"| {pct(c['strings_right'], count)} | {nocase} |", flush=True)


def latency(by_label, requests, seed):
    from django.test import Client

    from core.preprocessing import normalize
    from core.segmentation import segment_strokes
    from ml.text_lines import build_text, random_text
    from recognition.inference import get_recognizer
    from recognition.services import predict_text

    rng = np.random.default_rng(seed)
    lines = [build_text(random_text("digit", 8, rng), by_label, rng) for _ in range(requests)]
    client = Client()
    bodies = [json.dumps({"image": "data:image/png;base64," + base64.b64encode(line.png).decode(),
                          "kind": "digit", "multi": True,
                          "strokes": line.strokes}) for line in lines]
    for body in bodies[:10]:  # warm-up: interpreters, database connection
        client.post("/api/v1/predict", body, content_type="application/json")
    http, service, service_cpu, image_only = [], [], [], []
    for body, line in zip(bodies, lines):
        start = time.perf_counter()
        response = client.post("/api/v1/predict", body, content_type="application/json")
        http.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content
        start, start_cpu = time.perf_counter(), time.thread_time()
        predict_text(line.png, "digit", line.strokes)
        service.append(time.perf_counter() - start)
        service_cpu.append(time.thread_time() - start_cpu)
        start = time.perf_counter()
        predict_text(line.png, "digit")
        image_only.append(time.perf_counter() - start)
    recognizer = get_recognizer("digit")
    batched, single = [], []
    for line in lines:
        images = np.stack([normalize(c.ink) for c in segment_strokes(line.strokes)])
        start = time.perf_counter()
        recognizer.batch_probabilities(images)
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        for image in images:
            recognizer.probabilities(image)
        single.append(time.perf_counter() - start)
    print(f"\n8-character requests ({requests}, digit model, strokes + 280 px high PNG, mean "
          f"{statistics.mean(map(len, bodies)) / 1024:.1f} KiB JSON):\n")
    print("| what | p50 | p99 |\n|---|---|---|")
    for name, values in [
        ("POST /api/v1/predict through Django's stack (parse, segment, normalise, infer, store Word + 8 Samples)", http),
        ("`predict_text` (decode, measure the pen, segment, normalise 8, one inference call)", service),
        ("`predict_text`, CPU time of its thread (less sensitive to the shared cores' load)", service_cpu),
        ("`predict_text` with the image only (an upload: components, touching ones cut)", image_only),
        ("inference: one batched call for 8 characters", batched),
        ("inference: 8 single calls", single),
    ]:
        print(f"| {name} | {milliseconds(values, 50):.2f} ms | {milliseconds(values, 99):.2f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300, help="lines per kind and length")
    parser.add_argument("--requests", type=int, default=200, help="timed 8-character requests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=["digit", "any"])
    args = parser.parse_args()

    with throwaway_django("hwr-bench-text-"):
        from ml.datasets import read_unipen
        from ml.registry import active_version
        from ml.text_lines import records_by_label

        by_label = records_by_label(read_unipen("test")[0])
        models = ", ".join(f"{kind} {active_version(kind)[0]}" for kind in args.kinds)
        print(f"models: {models}   CPUs: {os.cpu_count()}   load average: {os.getloadavg()[0]:.2f}\n")
        accuracy_table(by_label, args.kinds, args.lines, args.seed)
        latency(by_label, args.requests, args.seed)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
