"""manage.py purge_samples: retention of samples nobody gave feedback on."""
from django.conf import settings
from django.core.management.base import BaseCommand

from feedback import services


class Command(BaseCommand):
    help = (
        "Delete samples without feedback older than HWR_SAMPLE_RETENTION_DAYS, with their "
        "image files. Only counts them unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *, yes, **options):
        expired = services.expired_samples()
        days = settings.HWR_SAMPLE_RETENTION_DAYS
        if not yes:
            count = expired.count()
            self.stdout.write(
                f"{count} samples without feedback are older than {days} days; run with --yes to delete them"
            )
            return
        deleted = services.purge_samples(expired)
        self.stdout.write(f"deleted {deleted} samples without feedback older than {days} days")
