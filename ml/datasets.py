"""Training and test data: every source read from HWR_DATASETS_DIR and re-normalised by `normalize`.

Each source is read raw (cheap), split by writer (or by the closest thing to a writer it has),
and only then normalised, so that `--limit` normalises just the samples it uses. Full splits
are cached under var/cache, keyed by the sha256 of the source files and of the preprocessing
code, so a second run starts in seconds. No TensorFlow here: the web's retrain path imports it.
"""
import gzip
import hashlib
import json
import os
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from core import preprocessing
from ml import conventions
from ml.kinds import LABELS

# Bump when the rasteriser or the split rules change: cached arrays then become stale.
LOADER_VERSION = 2
# A UNIPEN writer's tall characters are drawn this many pixels high (smaller ones in proportion),
# pen widths in this range: about what a 280 px canvas with a 12-30 px brush gives for a
# character filling 70 % of it.
RASTER_BOX = 64
RASTER_WIDTHS = (3, 8)
# How many times each UNIPEN 1 and 7 is redrawn as much of Europe writes it, per split.
CONVENTION_COPIES = {"train": 2, "val": 1, "test": 1}
# Share of writers (per source) held out for validation and, where the source has no test
# split of its own, for test.
VALIDATION_PERCENT = 10
TEST_PERCENT = 10
EMNIST_SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801


class DatasetError(Exception):
    """A dataset that is missing or unreadable; the message says which files and where."""


@dataclass
class Part:
    """Normalised samples of one source and one split: uint8 images (ink 255) and labels."""

    source: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    files: list = field(default_factory=list)
    license: str = ""


def datasets_dir():
    from django.conf import settings

    return Path(settings.HWR_DATASETS_DIR)


def cache_dir():
    from django.conf import settings

    return Path(os.environ.get("HWR_CACHE_DIR", settings.BASE_DIR / "var" / "cache"))


def require_files(folder, names, what):
    """Paths of `names` in `folder`, or a DatasetError naming every missing file and the folder."""
    folder = Path(folder)
    paths = [folder / name for name in names]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise DatasetError(
            f"{what}: missing {', '.join(missing)}; put them in {folder} "
            f"(see {datasets_dir() / 'SOURCES.md'})"
        )
    return paths


def sha256_of(path):
    path = Path(path)
    stat = path.stat()
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)


@cache
def _sha256(path, mtime_ns, size):
    """Hash once per file version: the key includes its modification time and size."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# IDX files (MNIST, EMNIST)

def read_idx(path, expected_magic):
    """Array stored in an IDX file (gzip or plain), with its header checked against its size."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"{path}: unreadable ({error})") from error
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DatasetError(
            f"{path}: bad IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) + header
    if len(data) != expected:
        raise DatasetError(
            f"{path}: truncated or padded IDX file: {len(data)} bytes, header {shape} needs {expected}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_pair(images_path, labels_path):
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path.name} holds {len(images)} images but {labels_path.name} "
            f"{len(labels)} labels"
        )
    return images, labels


MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_mnist(split, root=None):
    """MNIST (uint8 images, label chars, files) from the IDX files, else Keras's mnist.npz."""
    folder = Path(root or datasets_dir()) / "mnist"
    idx_names = MNIST_FILES[split]
    if all((folder / "idx" / name).is_file() for name in idx_names):
        paths = require_files(folder / "idx", idx_names, "MNIST")
        images, labels = read_idx_pair(*paths)
    elif (folder / "mnist.npz").is_file():
        paths = [folder / "mnist.npz"]
        with np.load(paths[0], allow_pickle=False) as npz:
            images, labels = npz[f"x_{split}"], npz[f"y_{split}"]
    else:
        raise DatasetError(
            f"MNIST: missing {', '.join(idx_names)} (in {folder / 'idx'}) or mnist.npz "
            f"(in {folder}); put either there"
        )
    return images, np.array([str(d) for d in labels]), paths


def read_emnist_mapping(path):
    """EMNIST mapping file -> {class id: character}; merged-case classes take the first code."""
    mapping = {}
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if fields:
            mapping[int(fields[0])] = chr(int(fields[1]))
    return mapping


def read_emnist(split_name, part, root=None):
    """Official EMNIST files of one split: upright uint8 images (transposition undone), chars."""
    if split_name not in EMNIST_SPLITS:
        raise DatasetError(f"unknown EMNIST split {split_name!r}; one of {', '.join(EMNIST_SPLITS)}")
    folder = Path(root or datasets_dir()) / "emnist" / split_name
    prefix = f"emnist-{split_name}"
    images_path, labels_path, mapping_path = require_files(
        folder,
        [f"{prefix}-{part}-images-idx3-ubyte.gz", f"{prefix}-{part}-labels-idx1-ubyte.gz",
         f"{prefix}-mapping.txt"],
        f"EMNIST {split_name}",
    )
    images, codes = read_idx_pair(images_path, labels_path)
    mapping = read_emnist_mapping(mapping_path)
    unknown = sorted(set(np.unique(codes).tolist()) - set(mapping))
    if unknown:
        raise DatasetError(f"{labels_path.name}: labels {unknown[:10]} not in {mapping_path.name}")
    labels = np.array([mapping[int(c)] for c in codes])
    return images.transpose(0, 2, 1), labels, [images_path, labels_path, mapping_path]


# ---------------------------------------------------------------------------------------------
# UNIPEN strokes

def read_unipen(split, root=None):
    """UNIPEN records of train or test: list of dicts with label, writer, strokes (y up)."""
    (path,) = require_files(Path(root or datasets_dir()) / "unipen",
                            [f"unipen_1abc_{split}.jsonl.gz"], "UNIPEN")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle], [path]


def rasterize(strokes, width, box=RASTER_BOX):
    """UNIPEN pen strokes (y up, tablet units) -> ink map, by the shared canvas-like rasteriser."""
    return preprocessing.rasterize(strokes, width, box, y_up=True)


def _normalize_record(item):
    strokes, width, box = item
    return _to_uint8(preprocessing.normalize(rasterize(strokes, width, box)))


def _normalize_image(image):
    """A scan read exactly as the web reads it uploaded (ink map, then `normalize`), so that
    training sees what serving sees and a stroke lighter than the darkest keeps its shape."""
    ink, _ = preprocessing.working_ink_map(Image.fromarray(image))
    return _to_uint8(preprocessing.normalize(ink))


def _to_uint8(image28):
    return np.round(image28 * 255.0).astype(np.uint8)


def normalize_all(function, items, workers=None):
    """Apply a normalizer to every item, on all cores for large batches."""
    items = list(items)
    if not items:
        return np.zeros((0, preprocessing.SIZE, preprocessing.SIZE), np.uint8)
    workers = workers or min(os.cpu_count() or 1, 4)
    if len(items) < 2000 or workers == 1:
        return np.stack([function(item) for item in items])
    with Pool(workers) as pool:
        return np.stack(pool.map(function, items, chunksize=256))


# ---------------------------------------------------------------------------------------------
# Splits

def group_split(groups, seed_text, test_percent):
    """'train' / 'val' / 'test' for each sample, stable per group (writer), by a hash of its name."""
    buckets = {}
    for group in np.unique(groups):
        digest = hashlib.sha256(f"{seed_text}:{group}".encode()).digest()
        bucket = int.from_bytes(digest[:4], "big") % 100
        buckets[group] = ("test" if bucket < test_percent
                          else "val" if bucket < test_percent + VALIDATION_PERCENT else "train")
    return np.array([buckets[g] for g in groups])


def contiguous_blocks(names, size):
    """Group ids for sources without writer ids: runs of `size` consecutive files per class."""
    order = np.argsort(names, kind="stable")
    blocks = np.empty(len(names), dtype=object)
    blocks[order] = [f"block{rank // size}" for rank in range(len(names))]
    return blocks


@dataclass
class RawSource:
    """One source before normalisation: raw items per split, their labels, files and license."""

    name: str
    items: dict
    labels: dict
    normalizer: object
    files: list
    license: str
    code: tuple = ()  # modules besides this one and preprocessing.py that shape its samples


def raw_mnist(root=None):
    train_x, train_y, train_files = read_mnist("train", root)
    test_x, test_y, test_files = read_mnist("test", root)
    # MNIST has no writer ids; the last 5,000 training images (the customary validation set)
    # are validation. Its test writers are disjoint from its training writers.
    return RawSource(
        "mnist",
        {"train": train_x[:55000], "val": train_x[55000:], "test": test_x},
        {"train": train_y[:55000], "val": train_y[55000:], "test": test_y},
        _normalize_image, train_files + test_files,
        "MNIST (LeCun, Cortes, Burges), as distributed",
    )


def raw_emnist(split_name, root=None, test_only=False):
    test_x, test_y, test_files = read_emnist(split_name, "test", root)
    if test_only:
        train_x, train_y, train_files = test_x[:0], test_y[:0], []
    else:
        train_x, train_y, train_files = read_emnist(split_name, "train", root)
    cut = len(train_x) * (100 - VALIDATION_PERCENT) // 100  # no writer ids in EMNIST's files
    return RawSource(
        f"emnist-{split_name}",
        {"train": train_x[:cut], "val": train_x[cut:], "test": test_x},
        {"train": train_y[:cut], "val": train_y[cut:], "test": test_y},
        _normalize_image, sorted(set(train_files + test_files)),
        "EMNIST (Cohen et al. 2017), derived from NIST SD19",
    )


def raw_unipen(root=None):
    return _raw_unipen(Path(root or datasets_dir()))


@lru_cache(maxsize=1)
def _raw_unipen(root):
    """UNIPEN's records as drawing jobs, split by writer. The last folder read is kept: parsing
    the strokes takes seconds, and the `conventions` source that follows UNIPEN in a run is drawn
    from the same records. Nothing changes a RawSource after it is built."""
    train, train_files = read_unipen("train", root)
    test, test_files = read_unipen("test", root)
    splits = group_split(np.array([r["writer"] for r in train]), "unipen", test_percent=0)
    rng = np.random.default_rng(LOADER_VERSION)
    low, high = RASTER_WIDTHS

    def items(records):
        """(strokes, pen width, box) per record, each writer's characters at their relative size."""
        boxes = np.empty(len(records))
        by_writer = defaultdict(list)
        for index, record in enumerate(records):
            by_writer[record["writer"]].append(index)
        for indices in by_writer.values():
            boxes[indices] = preprocessing.relative_boxes([records[i]["strokes"] for i in indices], RASTER_BOX)
        widths = rng.integers(low, high + 1, len(records))
        return [(r["strokes"], int(w), float(b)) for r, w, b in zip(records, widths, boxes)]

    train_items, train_labels = items(train), np.array([r["label"] for r in train])
    return RawSource(
        "unipen",
        {"train": [x for x, s in zip(train_items, splits) if s == "train"],
         "val": [x for x, s in zip(train_items, splits) if s == "val"],
         "test": items(test)},
        {"train": train_labels[splits == "train"], "val": train_labels[splits == "val"],
         "test": np.array([r["label"] for r in test])},
        _normalize_record, train_files + test_files,
        "UNIPEN train_r01_v07: research use (CD notice); CC BY 4.0 re-release (Zenodo)",
    )


def raw_conventions(root=None):
    """UNIPEN's 1s and 7s redrawn with a flag and a bar (`ml.conventions`): each in its writer's
    split, at that writer's size, with a pen from the usual range."""
    unipen = raw_unipen(root)
    rng = np.random.default_rng(LOADER_VERSION)
    low, high = RASTER_WIDTHS
    items, labels = {}, {}
    for split, copies in CONVENTION_COPIES.items():
        items[split], labels[split] = [], []
        for (strokes, _, box), label in zip(unipen.items[split], unipen.labels[split]):
            redraw = conventions.VARIANTS.get(label)
            for _ in range(copies if redraw else 0):
                variant = redraw(strokes, rng)
                if variant is not None:
                    items[split].append((variant, int(rng.integers(low, high + 1)), box))
                    labels[split].append(label)
        labels[split] = np.array(labels[split], dtype=unipen.labels[split].dtype)
    return RawSource("conventions", items, labels, _normalize_record, unipen.files,
                     f"{unipen.license}; redrawn by ml/conventions.py",
                     code=(conventions.__file__,))


def _split_arrays(name, images, labels, splits, normalizer, files, license_note):
    return RawSource(
        name,
        {split: images[splits == split] for split in ("train", "val", "test")},
        {split: labels[splits == split] for split in ("train", "val", "test")},
        normalizer, files, license_note,
    )


def raw_femnist(root=None):
    (path,) = require_files(Path(root or datasets_dir()) / "femnist_leaf", ["femnist_leaf.npz"], "FEMNIST")
    with np.load(path, allow_pickle=False) as npz:
        images, labels, writers = npz["images"], npz["labels"], npz["writer"]
    # LEAF's own train/test split shares writers; split by writer instead.
    splits = group_split(writers, "femnist", TEST_PERCENT)
    return _split_arrays("femnist", images, labels, splits, _normalize_image, [path],
                         "NIST SD19 terms; LEAF code BSD-2-Clause")


def raw_vowels(root=None):
    (path,) = require_files(Path(root or datasets_dir()) / "nist_sd19_vowels",
                            ["nist_sd19_vowels.npz"], "NIST SD19 vowels")
    with np.load(path, allow_pickle=False) as npz:
        keep = ~npz["in_femnist_leaf"]
        images, labels, files = npz["images_128"][keep], npz["labels"][keep], npz["nist_file"][keep]
    # No writer ids; consecutive files tend to come from one form, so split by blocks of files.
    keys = np.array([f"{label}:{name}" for label, name in zip(labels, files)])
    splits = group_split(contiguous_blocks(keys, 50), "vowels", TEST_PERCENT)
    return _split_arrays("nist_sd19_vowels", images, labels, splits, _normalize_image, [path],
                         "NIST SD19 terms")


def raw_comnist(root=None):
    (path,) = require_files(Path(root or datasets_dir()) / "comnist_early",
                            ["comnist_latin_early.npz"], "CoMNIST")
    with np.load(path, allow_pickle=False) as npz:
        images, labels, names = npz["images"], npz["labels"], npz["filename"]
    keys = np.array([f"{label}:{name}" for label, name in zip(labels, names)])
    splits = group_split(contiguous_blocks(keys, 5), "comnist", TEST_PERCENT)
    return _split_arrays("comnist_early", images, labels, splits, _normalize_image, [path],
                         "CC BY-SA 4.0, CoMNIST by Gregory Vial")


SOURCES = {
    "mnist": raw_mnist,
    "unipen": raw_unipen,
    "conventions": raw_conventions,
    "femnist": raw_femnist,
    "nist_sd19_vowels": raw_vowels,
    "comnist_early": raw_comnist,
}
DEFAULT_SOURCES = {
    "digit": ("mnist", "unipen", "conventions", "femnist"),
    "letter": ("unipen", "femnist", "nist_sd19_vowels", "comnist_early"),
    "any": ("unipen", "femnist", "nist_sd19_vowels", "comnist_early"),
}


def sources_for(kind, dataset):
    """Source names behind a --dataset choice (default, mnist, emnist-<split>, or one source)."""
    if dataset in (None, "default"):
        return DEFAULT_SOURCES[kind]
    if dataset.startswith("emnist-") or dataset in SOURCES:
        return (dataset,)
    raise DatasetError(
        f"unknown dataset {dataset!r}: use default, {', '.join(SOURCES)} or emnist-<split> "
        f"({', '.join(EMNIST_SPLITS)})"
    )


def raw_source(name):
    if name.startswith("emnist-"):
        return raw_emnist(name.removeprefix("emnist-"))
    return SOURCES[name]()


def pipeline_key(raw):
    """Cache key: source file hashes, the preprocessing and loading code and LOADER_VERSION."""
    digest = hashlib.sha256(f"{raw.name}:{LOADER_VERSION}".encode())
    for module in (preprocessing.__file__, __file__, *raw.code):
        digest.update(Path(module).read_bytes())
    for path in raw.files:
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()[:20]


def load_part(raw, split, label_set, limit=None, seed=0):
    """Normalised samples of one split whose labels are in `label_set`, cached when complete."""
    labels = raw.labels[split]
    wanted = np.flatnonzero(np.isin(labels, list(label_set)))
    if limit is not None and limit < len(wanted):
        wanted = np.sort(np.random.default_rng(seed).choice(wanted, limit, replace=False))
        images = normalize_all(raw.normalizer, [raw.items[split][i] for i in wanted])
    else:
        images = _cached_split(raw, split)[wanted]
    return Part(raw.name, split, images, labels[wanted], list(raw.files), raw.license)


def _cached_split(raw, split):
    path = cache_dir() / f"{raw.name}-{split}-{pipeline_key(raw)}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    images = normalize_all(raw.normalizer, raw.items[split])
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp.npy")
    np.save(staging, images)
    os.replace(staging, path)
    return images


def load_parts(kind, dataset="default", splits=("train", "val", "test"), limit=None, seed=0):
    """{split: [Part per source]} for a model kind; `limit` caps each split of each source."""
    parts = {split: [] for split in splits}
    for name in sources_for(kind, dataset):
        raw = raw_source(name)
        for split in splits:
            part = load_part(raw, split, LABELS[kind], limit, seed)
            if len(part.labels):
                parts[split].append(part)
    for split, found in parts.items():
        if not found:
            raise DatasetError(f"{dataset}: no {split} samples with {kind} labels")
    return parts


def load_test_set(name, label_set, limit=None, seed=0):
    """`evaluate --dataset`: '<source>-test' (mnist-test, unipen-test, emnist-byclass-test...)."""
    source = name.removesuffix("-test")
    if not name.endswith("-test") or not (source in SOURCES or source.startswith("emnist-")):
        raise DatasetError(
            f"unknown test set {name!r}: use {', '.join(f'{s}-test' for s in SOURCES)} "
            f"or emnist-<split>-test ({', '.join(EMNIST_SPLITS)})"
        )
    raw = (raw_emnist(source.removeprefix("emnist-"), test_only=True)
           if source.startswith("emnist-") else raw_source(source))
    part = load_part(raw, "test", label_set, limit, seed)
    if not len(part.labels):
        raise DatasetError(f"{name}: no samples with this model's labels")
    return part


def as_arrays(parts, labels):
    """Parts -> what a model takes and is scored on: float32 N x 28 x 28 images in [0, 1] and
    int32 indices of each sample's label in `labels` (the model's output order)."""
    index = {label: i for i, label in enumerate(labels)}
    images = np.concatenate([p.images for p in parts]).astype(np.float32) / 255.0
    return images, np.array([index[c] for p in parts for c in p.labels], dtype=np.int32)


def file_records(parts):
    """meta.json's dataset list: per source and split the count, files and their sha256."""
    return [
        {
            "name": part.source,
            "split": part.split,
            "count": len(part.labels),
            "files": {Path(path).name: sha256_of(path) for path in part.files},
            "license": part.license,
        }
        for split_parts in parts.values() for part in split_parts
    ]
