"""manage.py purge_samples: dry-run by default; --yes deletes expired samples and their files."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Feedback
from recognition.models import Sample, Word

from .conftest import character_png

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


@pytest.fixture
def words(settings, make_sample):
    """Words of two characters: expired, expired with a corrected character, recent; and an
    expired word whose characters are already gone."""
    settings.HWR_SAMPLE_RETENTION_DAYS = 30

    def make_word(age_days, characters=2):
        word = Word(kind="digit", source="canvas", image_sha256="0" * 64, text="42")
        word.image.save("line.png", ContentFile(character_png(age_days, size=64)), save=False)
        word.save()
        Word.objects.filter(pk=word.pk).update(created=timezone.now() - timedelta(days=age_days))
        made = [make_sample(age_days=age_days) for _ in range(characters)]
        for position, sample in enumerate(made):
            Sample.objects.filter(pk=sample.pk).update(word=word, position=position)
        return word, made

    expired = make_word(31)
    corrected = make_word(90)
    Feedback.objects.create(sample=corrected[1][0], is_correct=False, correct_label="7")
    recent = make_word(29)
    orphan = make_word(400, characters=0)
    return {"expired": expired, "corrected": corrected, "recent": recent, "orphan": orphan}


def test_dry_run_counts_expired_words(words):
    assert "and 2 words without feedback, on them or on any of their characters" in purge()
    assert Word.objects.count() == 4


def test_yes_deletes_expired_words_with_their_characters_and_images(
        words, django_capture_on_commit_callbacks):
    (expired, expired_characters), (orphan, _) = words["expired"], words["orphan"]
    files = [Path(word.image.path) for word in (expired, orphan)]
    files += [image_path(sample) for sample in expired_characters]
    assert all(path.is_file() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        output = purge("--yes")
    assert "and 2 words" in output
    assert set(Word.objects.values_list("pk", flat=True)) == {
        words["corrected"][0].pk, words["recent"][0].pk}
    assert not Sample.objects.filter(pk__in=[s.pk for s in expired_characters]).exists()
    assert not any(path.exists() for path in files)
    # A word with a corrected character keeps its image and that character (review needs both).
    corrected, (with_feedback, without) = words["corrected"]
    assert Path(corrected.image.path).is_file() and image_path(with_feedback).is_file()
    assert set(Sample.objects.filter(word=corrected).values_list("pk", flat=True)) == {with_feedback.pk}
    assert Sample.objects.filter(word=words["recent"][0]).count() == 2
