"""manage.py purge_samples: retention of samples nobody gave feedback on, and of their words."""
from django.conf import settings
from django.core.management.base import BaseCommand

from feedback import services


class Command(BaseCommand):
    help = (
        "Delete samples without feedback older than HWR_SAMPLE_RETENTION_DAYS, with their "
        "image files, and the words (lines of characters) without feedback, on them or on any "
        "of their characters, with their characters and images. Only counts them unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *, yes, **options):
        expired = services.expired_samples()
        words = services.expired_words()
        days = settings.HWR_SAMPLE_RETENTION_DAYS
        if not yes:
            count = expired.count()
            self.stdout.write(
                f"{count} samples without feedback are older than {days} days, and "
                f"{words.count()} words without feedback, on them or on any of their characters; "
                "run with --yes to delete them"
            )
            return
        deleted_words, characters = services.purge_words(words)
        deleted = characters + services.purge_samples(expired)
        self.stdout.write(
            f"deleted {deleted} samples without feedback older than {days} days, and "
            f"{deleted_words} words"
        )
