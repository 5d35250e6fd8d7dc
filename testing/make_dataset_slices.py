"""Cut the dataset slices the tests read (testing/datasets/) from the full datasets.

    .venv/bin/python testing/make_dataset_slices.py          # write them
    .venv/bin/python testing/make_dataset_slices.py --check  # rebuild in memory, compare bytes

Reads HWR_DATASETS_DIR (as the settings do). Every slice keeps its source's format, keys and
order, and is the first samples of its file wherever a test reads "the first N": those tests then
see exactly what they saw on the full datasets. The output is deterministic (fixed zip and gzip
timestamps), so regenerating unchanged sources changes no byte and no test cache.
"""
import argparse
import gzip
import io
import json
import os
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hwrsite.settings")

# MNIST: the tiny test bundles train on the first 400 training digits (conftest.py); the
# preprocessing tests read the first 200 test digits, and a retrain test scores 300 of them.
MNIST_TRAIN, MNIST_TEST = 400, 300
# FEMNIST: the preprocessing tests read the first 200 scans (7 writers).
FEMNIST = 200
# UNIPEN test, in file order:
# - the first 40 digits: the slanted writers `testing.simulation` draws for the retrain tests;
# - 8 records of each label, evenly spaced through the file (so from writers across it): lines of
#   text built from random records, which on these split as often as on the whole file (the
#   segmentation test's 60 random lines: 52 split right here, 49 on the whole file; over 40
#   seeds 49.3 and 48.7 on average);
# - the records the segmentation tests pick, "the first <label> written with <n> strokes";
# - the first 130 1s and 80 7s: the conventions test redraws 1s and 7s until 60 of each take a
#   flag or a bar, which with ml/conventions.py as it is uses the first 110 1s and 60 7s.
UNIPEN_FIRST_DIGITS = 40
UNIPEN_PER_LABEL = 8
UNIPEN_PICKED = {("i", 2), ("t", 2), ("4", 2), ("E", 4), ("x", 2), ("7", 1), ("3", 1)}
UNIPEN_CONVENTIONS = {"1": 130, "7": 80}
# UNIPEN train: only read whole by the retrain tests' replay sample; every 400th record spreads
# the slice over writers and labels.
UNIPEN_TRAIN_EVERY = 400


def npz_bytes(arrays):
    """An .npz as np.savez_compressed writes it, but with fixed timestamps (same input, same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def jsonl_gz_bytes(lines):
    """Records as their source file holds them (the lines unchanged), gzip with no timestamp."""
    return gzip.compress("".join(lines).encode("utf-8"), compresslevel=9, mtime=0)


def read_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(handle)


def unipen_test_slice(lines):
    records = [json.loads(line) for line in lines]
    keep = set()
    digits = [i for i, record in enumerate(records) if record["label"].isdigit()]
    keep.update(digits[:UNIPEN_FIRST_DIGITS])
    by_label = defaultdict(list)
    for index, record in enumerate(records):
        by_label[record["label"]].append(index)
    for label, indices in by_label.items():
        spread = np.linspace(0, len(indices) - 1, UNIPEN_PER_LABEL).round().astype(int)
        keep.update(indices[i] for i in spread)
        keep.update(indices[:UNIPEN_CONVENTIONS.get(label, 0)])
    for label, count in UNIPEN_PICKED:
        keep.add(next(i for i in by_label[label] if len(records[i]["strokes"]) == count))
    return [lines[i] for i in sorted(keep)]


def slices(source):
    """{relative path: bytes} of every slice, cut from the datasets folder `source`."""
    with np.load(source / "mnist" / "mnist.npz", allow_pickle=False) as mnist:
        mnist_slice = {"x_train": mnist["x_train"][:MNIST_TRAIN], "y_train": mnist["y_train"][:MNIST_TRAIN],
                       "x_test": mnist["x_test"][:MNIST_TEST], "y_test": mnist["y_test"][:MNIST_TEST]}
    with np.load(source / "femnist_leaf" / "femnist_leaf.npz", allow_pickle=False) as femnist:
        femnist_slice = {key: femnist[key][:FEMNIST] for key in femnist.files}
    unipen = source / "unipen"
    return {
        "mnist/mnist.npz": npz_bytes(mnist_slice),
        "femnist_leaf/femnist_leaf.npz": npz_bytes(femnist_slice),
        "unipen/unipen_1abc_test.jsonl.gz":
            jsonl_gz_bytes(unipen_test_slice(read_lines(unipen / "unipen_1abc_test.jsonl.gz"))),
        "unipen/unipen_1abc_train.jsonl.gz":
            jsonl_gz_bytes(read_lines(unipen / "unipen_1abc_train.jsonl.gz")[::UNIPEN_TRAIN_EVERY]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed slices instead of writing them")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    from testing import DATASET_SLICES

    stale = []
    for name, data in slices(Path(settings.HWR_DATASETS_DIR)).items():
        path = DATASET_SLICES / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{name}: {len(data):,} bytes")
    if stale:
        sys.exit(f"differ from a fresh cut: {', '.join(stale)}")


if __name__ == "__main__":
    main()
