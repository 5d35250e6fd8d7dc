"""manage.py purge_samples: dry-run by default; --yes deletes expired samples and their files."""
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from feedback.models import Feedback, Sample

pytestmark = pytest.mark.django_db


def purge(*args):
    out = io.StringIO()
    call_command("purge_samples", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def samples(settings, make_sample):
    settings.HWR_SAMPLE_RETENTION_DAYS = 30
    expired = [make_sample(age_days=31), make_sample(age_days=400)]
    kept_with_feedback = make_sample(age_days=90)
    Feedback.objects.create(sample=kept_with_feedback, is_correct=True)
    recent = make_sample(age_days=29)
    return expired, [kept_with_feedback, recent]


def image_path(sample):
    return Path(sample.image.path)


def test_dry_run_counts_and_deletes_nothing(samples):
    expired, kept = samples
    output = purge()
    assert f"{len(expired)} samples without feedback are older than 30 days" in output
    assert Sample.objects.count() == len(expired) + len(kept)
    assert all(image_path(sample).is_file() for sample in expired)


def test_yes_deletes_expired_samples_and_their_files_only(samples, django_capture_on_commit_callbacks):
    expired, kept = samples
    assert all(image_path(sample).is_file() for sample in expired + kept)
    with django_capture_on_commit_callbacks(execute=True):
        output = purge("--yes")
    assert f"deleted {len(expired)} samples" in output
    assert set(Sample.objects.values_list("pk", flat=True)) == {sample.pk for sample in kept}
    assert not any(image_path(sample).exists() for sample in expired)
    assert all(image_path(sample).is_file() for sample in kept)


def test_retention_days_come_from_settings(samples, settings):
    settings.HWR_SAMPLE_RETENTION_DAYS = 365
    purge("--yes")
    assert Sample.objects.count() == 3
