"""manage.py purge_samples: retention of samples nobody gave feedback on, and of their words."""
import logging
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from feedback import services
from feedback.models import Sample, Word

logger = logging.getLogger(__name__)

class Command(BaseCommand):
    help = (
        "Delete samples without feedback older than HWR_SAMPLE_RETENTION_DAYS, with their "
        "image files, and the words (lines of characters) none of whose characters has "
        "feedback, with their characters and images. Only counts them unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *, yes, **options):
        expired = services.expired_samples()
        words = expired_words()
        days = settings.HWR_SAMPLE_RETENTION_DAYS
        if not yes:
            count = expired.count()
            self.stdout.write(
                f"{count} samples without feedback are older than {days} days, and "
                f"{words.count()} words none of whose characters has feedback; run with --yes "
                "to delete them"
            )
            return
        deleted_words, characters = purge_words(words)
        deleted = characters + services.purge_samples(expired)
        self.stdout.write(
            f"deleted {deleted} samples without feedback older than {days} days, and "
            f"{deleted_words} words"
        )


def expired_words(now=None):
    """Words older than the retention none of whose characters has feedback (a word whose
    characters are all gone included): nothing that training or review uses refers to them."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.HWR_SAMPLE_RETENTION_DAYS)
    return Word.objects.filter(created__lt=cutoff).exclude(characters__feedback__isnull=False)


def purge_words(queryset, chunk_size=200):
    """Delete words with their characters; their image files once each chunk is committed.
    Returns (words deleted, characters deleted)."""
    storage = Word._meta.get_field("image").storage
    words = characters = 0
    while pks := list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size]):
        with transaction.atomic():
            # Filtered again at deletion: a word whose character got feedback meanwhile is kept.
            doomed = queryset.filter(pk__in=pks)
            names = [name for name in doomed.values_list("image", flat=True) if name]
            names += [name for name in Sample.objects.filter(word__in=doomed)
                      .values_list("image", flat=True) if name]
            counts = doomed.delete()[1]
            words += counts.get(Word._meta.label, 0)
            characters += counts.get(Sample._meta.label, 0)
            transaction.on_commit(lambda names=names: _delete_files(storage, names))
        if not counts:
            break
    return words, characters


def _delete_files(storage, names):
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name, exc_info=True)
