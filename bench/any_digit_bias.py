"""How far a prior shift towards digits moves the `any` model's digits and letters (docs/experiments.md).

    .venv/bin/python bench/any_digit_bias.py [--bundle ml/artifacts/any] [--biases 0 0.5 1 1.5 2 3]

On the validation writers of each source (never the test split), the served `.tflite` model's
log-probabilities of the ten digits get a constant added before the argmax; accuracy on all
characters, on the digits and on the letters is printed per constant.
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=str(ROOT / "ml" / "artifacts" / "any"))
    parser.add_argument("--biases", type=float, nargs="+", default=[0, 0.5, 1, 1.5, 2, 3])
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hwrsite.settings")
    import django

    django.setup()
    from core.inference import Recognizer
    from ml import datasets
    from ml.kinds import LABELS

    labels = LABELS["any"]
    is_digit = np.array([label.isdigit() for label in labels])  # as ml.evaluation.summary tells them
    model = Recognizer(args.bundle, num_threads=os.cpu_count())
    print(f"bundle {args.bundle}: validation writers, digit log-probabilities + bias")
    print("| source | bias | all | digits | letters |\n|---|---|---|---|---|")
    for part in datasets.load_parts("any", splits=("val",))["val"]:
        images, true = datasets.as_arrays([part], labels)
        log_probabilities = np.log(model.batch_probabilities(images) + 1e-12)
        digits = is_digit[true]
        for bias in args.biases:
            predicted = (log_probabilities + np.where(is_digit, bias, 0.0)).argmax(axis=1)
            right = predicted == true
            digit_accuracy = f"{right[digits].mean():.2%}" if digits.any() else "–"
            print(f"| {part.source} ({len(true)}) | {bias:g} | {right.mean():.2%} | {digit_accuracy} "
                  f"| {right[~digits].mean():.2%} |")


if __name__ == "__main__":
    main()
