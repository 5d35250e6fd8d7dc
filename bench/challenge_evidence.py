"""How much evidence the challenge's automatic acceptance needs (issue 24 point 7).

    .venv/bin/python bench/challenge_evidence.py [--scribbles 200] [--drawings 300]

With the bundled digit and letter models, served as the web serves them (`predict`):
1. random scribbles (3 to 7 random points joined by one stroke, on a 280 px canvas), each
   "drawn" for every label of the kind as the challenge's prompt: how many the old rule (the
   prompt's probability at least 5 %) and the rule in `challenge.services.clearly_the_prompt`
   (the prompt is the top-1, ahead of the next character by a margin) would accept;
2. real drawings of the prompted character (UNIPEN test writers, as canvas PNGs): how many each
   rule accepts (the share that needs no reviewer).
"""
import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django

MARGINS = (0.2, 0.35, 0.5, 0.7)
OLD_MIN_PROBABILITY = 0.05


def scribble_png(rng, size=280):
    image = Image.new("L", (size, size), 255)
    points = [tuple(rng.uniform(0.1, 0.9, 2) * size) for _ in range(rng.integers(3, 8))]
    ImageDraw.Draw(image).line(points, fill=0, width=round(size * 0.045), joint="curve")
    return png(image)


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def drawing_png(image28):
    ink = Image.fromarray(image28).resize((280, 280), Image.Resampling.BILINEAR)
    return png(Image.fromarray(255 - np.asarray(ink)))


def rates(results, prompts):
    """(old rule accepted, new rule accepted per margin) over (top5, prompt probability) pairs."""
    from challenge.services import clearly_the_prompt

    old = new = 0
    new = {margin: 0 for margin in MARGINS}
    total = 0
    for (top5, probabilities), prompt_set in zip(results, prompts):
        for prompt, probability in zip(prompt_set, probabilities):
            total += 1
            old += probability >= OLD_MIN_PROBABILITY
            for margin in MARGINS:
                new[margin] += clearly_the_prompt(prompt, top5, margin)
    return total, old, new


def report(title, total, old, new):
    print(f"{title}: {total} (drawing, prompt) pairs")
    print(f"  old rule (prompt probability >= {OLD_MIN_PROBABILITY:.0%}): {old} accepted "
          f"({100 * old / total:.1f} %)")
    for margin, count in new.items():
        print(f"  top-1 with margin >= {margin:.2f}: {count} accepted ({100 * count / total:.1f} %)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scribbles", type=int, default=200)
    parser.add_argument("--drawings", type=int, default=300)
    args = parser.parse_args()
    with throwaway_django("hwr-bench-challenge-"):
        from ml import datasets
        from ml.kinds import LABELS
        from recognition.services import predict

        rng = np.random.default_rng(0)
        scribbles = [scribble_png(rng) for _ in range(args.scribbles)]
        for kind in ("digit", "letter"):
            labels = LABELS[kind]
            results, prompts = [], []
            for data in scribbles:
                for prompt in labels:
                    _, result = predict(data, kind, prompt)
                    results.append((result["top5"], [result["prompt_probability"]]))
                    prompts.append([prompt])
            report(f"{kind}: random scribbles, every label as the prompt", *rates(results, prompts))
            test = datasets.load_test_set("unipen-test", labels, args.drawings, seed=0)
            results, prompts = [], []
            for image, label in zip(test.images, test.labels):
                _, result = predict(drawing_png(image), kind, label)
                results.append((result["top5"], [result["prompt_probability"]]))
                prompts.append([label])
            report(f"{kind}: UNIPEN test drawings of the prompted character", *rates(results, prompts))


if __name__ == "__main__":
    main()
