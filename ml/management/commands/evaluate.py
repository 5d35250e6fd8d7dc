"""manage.py evaluate: a bundle's .tflite (what the web serves) on a test set or an image folder."""
import os
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.bundle import BundleError, read_meta
from core.inference import Recognizer
from core.preprocessing import PreprocessingError, preprocess_bytes
from ml import datasets, evaluation
from ml.kinds import MODELS

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def read_image_folder(folder, labels):
    """DIR/<label>/*.png -> (normalised images, label indices, unreadable files)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CommandError(f"--images: {folder} is not a folder")
    images, targets, failures = [], [], []
    for label_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if label_dir.name not in labels:
            raise CommandError(
                f"--images: folder {label_dir.name!r} is not a label of this model ({''.join(labels)})"
            )
        for path in sorted(label_dir.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                images.append(preprocess_bytes(path.read_bytes()))
                targets.append(labels.index(label_dir.name))
            except PreprocessingError as error:
                failures.append(f"{path}: {error}")
    if not images:
        raise CommandError(f"--images: no readable images in {folder}/<label>/")
    return np.stack(images), np.array(targets), failures


class Command(BaseCommand):
    help = "Evaluate a model bundle: accuracy, per-class accuracy, confusions and confusion.png."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True,
                            help=f"{', '.join(MODELS)} (a bundled model) or a bundle folder")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--dataset", help="mnist-test, unipen-test, femnist-test, emnist-<split>-test; "
                                                "for the text model unipen-words-test (or -val)")
        source.add_argument("--images", help="folder of labelled images: DIR/<label>/*.png")
        parser.add_argument("--limit", type=int, help="at most this many test samples")
        parser.add_argument("--output", help="folder for confusion.png (default var/evaluation/<model>)")
        parser.add_argument("--greedy", action="store_true",
                            help="text model: best-path decoding instead of beam search")
        parser.add_argument("--lexicon", action="store_true",
                            help="text model: weigh the readings by HWR_LEXICON, as the web does")

    def handle(self, *args, **options):
        name = options["model"]
        bundle = Path(settings.HWR_BUNDLED_MODELS_DIR) / name if name in MODELS else Path(name)
        try:
            meta = read_meta(bundle)
        except BundleError as error:
            raise CommandError(str(error)) from error
        labels = meta["labels"]
        if options["limit"] is not None and options["limit"] <= 0:
            raise CommandError("--limit must be positive")
        if meta.get("decoding") == "ctc":
            return self.evaluate_text(bundle, options)

        if options["images"]:
            images, true, failures = read_image_folder(options["images"], labels)
            for failure in failures:
                self.stderr.write(f"not recognised as a character: {failure}")
            title = f"{options['images']} ({len(failures)} unreadable)"
        else:
            try:
                part = datasets.load_test_set(options["dataset"], labels, options["limit"])
            except datasets.DatasetError as error:
                raise CommandError(str(error)) from error
            images, true = datasets.as_arrays([part], labels)
            title = options["dataset"]

        probabilities = Recognizer(bundle, num_threads=os.cpu_count()).batch_probabilities(images)
        result = evaluation.summary(true, probabilities, labels)
        output = Path(options["output"] or settings.BASE_DIR / "var" / "evaluation" / bundle.name)
        output.mkdir(parents=True, exist_ok=True)
        plot = evaluation.plot_confusion(true, probabilities.argmax(axis=1), labels,
                                         output / "confusion.png", title=f"{meta['name']}: {title}")
        self.report(meta, title, result, plot)

    def report(self, meta, title, result, plot):
        write = self.stdout.write
        write(f"{meta['name']} {meta['version']} on {title}: {result['count']} samples")
        write(f"accuracy          {result['accuracy']:.2%}")
        for key, text in (("case_insensitive", "case-insensitive"), ("digits_accuracy", "digits only")):
            if key in result:
                write(f"{text:<17} {result[key]:.2%}")
        write(f"top-3             {result['top3']:.2%}")
        write("per class: " + "  ".join(f"{k} {v:.1%}" for k, v in result["per_class"].items()))
        write("most frequent confusions (true -> predicted: count):")
        for c in result["confusions"]:
            write(f"  {c['true']} -> {c['predicted']}: {c['count']}")
        write(f"confusion matrix: {plot}")

    def evaluate_text(self, bundle, options):
        from ml import words

        splits = {"unipen-words-test": "test", "unipen-words-val": "val"}
        if options["dataset"] not in splits:
            raise CommandError("the text model is evaluated on --dataset unipen-words-test "
                               "(or unipen-words-val)")
        try:
            meta, result, mistakes = words.evaluate_bundle(
                bundle, splits[options["dataset"]], options["limit"], beam=not options["greedy"],
                lexicon_source=settings.HWR_LEXICON if options["lexicon"] else "",
                lexicon_weight=settings.HWR_LEXICON_WEIGHT)
        except datasets.DatasetError as error:
            raise CommandError(str(error)) from error
        write = self.stdout.write
        decoding = "best path" if options["greedy"] else "beam search"
        if options["lexicon"] and not options["greedy"]:
            decoding += f", lexicon {settings.HWR_LEXICON} x {settings.HWR_LEXICON_WEIGHT}"
        write(f"{meta['name']} {meta['version']} on {options['dataset']} ({decoding}): {result['words']} words")
        write(f"character error rate  {result['cer']:.2%}   ignoring case {result['cer_ignoring_case']:.2%}")
        write(f"words right           {result['word_accuracy']:.2%}   ignoring case "
              f"{result['word_accuracy_ignoring_case']:.2%}")
        if "in_lexicon" in result:
            known = result["in_lexicon"]
            write(f"words the lexicon knows ({known['words']}): right {known['word_accuracy']:.2%}   "
                  f"ignoring case {known['word_accuracy_ignoring_case']:.2%}   CER {known['cer']:.2%}")
        write("per length (ignoring case): characters  CER  words right")
        for length, row in result["per_length"].items():
            write(f"  {length + ('+' if length == '10' else ''):>3}  {row['cer_ignoring_case']:>7.2%}  "
                  f"{row['word_accuracy_ignoring_case']:>7.2%}")
        write("most frequent mistakes (wanted -> read: count):")
        for (wanted, read), count in mistakes:
            write(f"  {wanted or '(extra)'} -> {read or '(missing)'}: {count}")
