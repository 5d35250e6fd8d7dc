"""manage.py train: build one bundled model (digit, letter, any, or text for whole words) from
the datasets."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.architectures import ARCHITECTURES, DEFAULT_ARCHITECTURES
from ml.datasets import DatasetError
from ml.kinds import MODELS, TEXT_MODEL

# The issues' limits on a 2-core CPU (digit 20 min, letter and any 60 min, text 90 min), less
# loading (text: drawing 130,000 words), evaluation and export.
DEFAULT_BUDGET_MINUTES = {"digit": 18, "letter": 55, "any": 55, "text": 75}


def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise ValueError(text)
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


class Command(BaseCommand):
    help = "Train a recognizer and write its bundle (model.keras, model.tflite, meta.json, plots)."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, choices=MODELS)
        parser.add_argument("--dataset", default="default",
                            help="default, mnist, unipen, femnist, ... or emnist-<split>")
        parser.add_argument("--arch", choices=ARCHITECTURES,
                            help=f"network (default per model: {DEFAULT_ARCHITECTURES})")
        parser.add_argument("--epochs", type=positive(int), default=30)
        parser.add_argument("--batch-size", type=positive(int), default=128)
        parser.add_argument("--limit", type=positive(int),
                            help="at most this many samples per source and split (quick runs)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--time-budget", type=positive(float),
                            help="minutes of training; stops cleanly and still exports "
                                 f"(default per model: {DEFAULT_BUDGET_MINUTES})")
        parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                            help="compute type while training (bfloat16: up to half the step time "
                                 "on CPUs with AVX512-BF16 or AMX, and on GPUs); the bundle is float32")
        parser.add_argument("--out", help="bundle folder (default ml/artifacts/<model>)")
        parser.add_argument("--init", help="text model: a bundle to start from (train it further)")

    def handle(self, *args, **options):
        from ml import training  # TensorFlow only when actually training

        out = Path(options["out"] or Path(settings.HWR_BUNDLED_MODELS_DIR) / options["model"])
        budget = options["time_budget"] or DEFAULT_BUDGET_MINUTES[options["model"]]
        try:
            if options["model"] == TEXT_MODEL:
                from ml import words

                bundle = words.run(out, options["epochs"], options["batch_size"], options["limit"],
                                   options["seed"], budget, init=options["init"], log=self.stdout.write)
                self.stdout.write(self.style.SUCCESS(f"bundle written to {bundle}"))
                return
            bundle = training.run(
                options["model"], options["dataset"],
                options["arch"] or DEFAULT_ARCHITECTURES[options["model"]], options["epochs"],
                options["batch_size"], options["limit"], options["seed"], out,
                budget,
                precision=options["precision"], log=self.stdout.write,
            )
        except DatasetError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"bundle written to {bundle}"))
