"""manage.py retrain: fine-tune a recognizer on stored feedback, promote it only if it is better."""

from django.core.management.base import BaseCommand, CommandError

from ml import retraining
from ml.datasets import DatasetError
from ml.kinds import MODELS, TEXT_MODEL

DEFAULTS = retraining.Options()


def text_default(name):
    return retraining.MODEL_DEFAULTS[TEXT_MODEL][name]


class Command(BaseCommand):
    help = ("Fine-tune the active version on verified feedback mixed with base data; the "
            "candidate is activated only if it passes the gate (see --help).")

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, choices=MODELS,
                            help="a character model, or text (word corrections)")
        parser.add_argument("--include-unreviewed", action="store_true",
                            help="also use corrections not yet reviewed (rejected ones never)")
        parser.add_argument("--include-prompted", action="store_true",
                            help="also use challenge drawings, labelled by their prompt (characters)")
        parser.add_argument("--min-samples", type=int, default=DEFAULTS.min_samples)
        parser.add_argument("--holdout-percent", type=int, default=DEFAULTS.holdout_percent,
                            help="share of feedback samples held out to judge the candidate")
        parser.add_argument("--replay-ratio", type=float, default=DEFAULTS.replay_ratio,
                            help="base training samples mixed in per feedback sample")
        parser.add_argument("--epochs", type=int,
                            help=f"default {DEFAULTS.epochs} ({text_default('epochs')} for text)")
        parser.add_argument("--learning-rate", type=float,
                            help=f"default {DEFAULTS.learning_rate} "
                                 f"({text_default('learning_rate')} for text)")
        parser.add_argument("--max-test-drop", type=float,
                            help=f"largest allowed drop on the standard test set, in points "
                                 f"(default {DEFAULTS.max_test_drop}; "
                                 f"{text_default('max_test_drop')} for text)")
        parser.add_argument("--min-holdout-gain", type=float, default=DEFAULTS.min_holdout_gain,
                            help="points the candidate must gain on the feedback holdout (default 0: not lower)")
        parser.add_argument("--fine-tuned-share", type=float, default=DEFAULTS.fine_tuned_share,
                            help="the candidate's weights: this share fine-tuned, the rest the "
                                 "active version's (1: plain fine-tuning)")
        parser.add_argument("--significance", type=float, default=DEFAULTS.significance,
                            help="largest p-value of the candidate's holdout gain being luck "
                                 "(one-sided sign test on fixed vs broken answers; 1 turns it off)")
        parser.add_argument("--test-limit", type=int,
                            help=f"evaluate on at most this many standard test samples (default "
                                 f"all; {text_default('test_limit')} words for text)")
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
        parser.add_argument("--dry-run", action="store_true",
                            help="train and report, register nothing")
        parser.add_argument("--force", action="store_true",
                            help="activate even if the gate refuses (recorded in the notes)")

    def handle(self, *args, **options):
        for name in ("min_samples", "epochs", "test_limit"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 < options["holdout_percent"] < 100:
            raise CommandError("--holdout-percent must be between 1 and 99")
        if not 0 < options["fine_tuned_share"] <= 1:
            raise CommandError("--fine-tuned-share must be in (0, 1]")
        if not 0 < options["significance"] <= 1:
            raise CommandError("--significance must be in (0, 1]")
        if options["replay_ratio"] < 0:
            raise CommandError("--replay-ratio cannot be negative")
        if options["learning_rate"] is not None and not 0 < options["learning_rate"] < 1:
            raise CommandError("--learning-rate must be between 0 and 1")
        settings = retraining.options_for(options["model"], **options)
        try:
            outcome = retraining.run(options["model"], settings, log=self.stdout.write)
        except DatasetError as error:
            raise CommandError(str(error)) from error
        if outcome.metrics:
            self.stdout.write(self.report(outcome))
        style = self.style.SUCCESS if outcome.status in ("promoted", "too-few") else self.style.WARNING
        self.stdout.write(style(outcome.message))

    @staticmethod
    def report(outcome):
        """Old vs new on each evaluation set, as a small table."""
        lines = [f"{'evaluation set':<18}{'samples':>9}{'active':>10}{'candidate':>11}{'change':>9}"]
        for name in ("feedback_holdout", "standard_test"):
            row = outcome.metrics[name]
            if row["active"] is None:
                lines.append(f"{name:<18}{row['count']:>9}{'-':>10}{'-':>11}{'-':>9}")
                continue
            change = (row["candidate"] - row["active"]) * 100
            lines.append(f"{name:<18}{row['count']:>9}{row['active']:>10.2%}"
                         f"{row['candidate']:>11.2%}{change:>+8.2f}p")
        lines.append(f"took {outcome.metrics['seconds']} s")
        return "\n".join(lines)
