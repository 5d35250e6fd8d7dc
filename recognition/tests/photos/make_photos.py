"""Make the phone-photo fixtures of this folder from UNIPEN *test* writers (see README.md).

    .venv/bin/python recognition/tests/photos/make_photos.py
"""
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hwrsite.settings")


def main():
    import django

    django.setup()
    from bench import photos
    from ml.datasets import read_unipen
    from ml.text_lines import records_by_label

    by_label = records_by_label(read_unipen("test")[0])
    rng = np.random.default_rng(2026)
    wanted = {"four-ruled.jpg": ("4", "ruled", "pen"), "seven-squared-pencil.jpg": ("7", "squared", "pencil"),
              "number-plain.jpg": ("305", "plain", "pen")}
    for name, (text, paper, pen) in wanted.items():
        records = [by_label[c][rng.integers(len(by_label[c]))] for c in text]
        photo = photos.photograph(text, records, rng, paper, pen)
        (HERE / name).write_bytes(photo.jpeg)
        print(name, text, [round(v) for v in photo.box])


if __name__ == "__main__":
    main()
