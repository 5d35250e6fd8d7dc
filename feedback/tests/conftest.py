"""Fixtures for the feedback tests: real Sample rows with real PNG files in a temporary media root."""
import hashlib
import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from recognition.models import Sample, Word


def character_png(seed, size=28):
    """A small grayscale PNG with a random stroke, different for every seed."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((size, size), dtype=np.uint8)
    rows = rng.integers(4, size - 4, 12)
    cols = rng.integers(4, size - 4, 12)
    pixels[rows, cols] = 255
    pixels[rows[0]:rows[0] + 3, 4:size - 4] = 200
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_sample(media_root):
    """Create a Sample as the recognition service would: image file, normalised PNG, prediction."""
    counter = iter(range(10**6))

    def make(kind="digit", predicted="3", confidence=0.9, source="canvas", model_version="1.0",
             age_days=0):
        seed = next(counter)
        png = character_png(seed)
        original = character_png(seed, size=64)
        sample = Sample(
            kind=kind,
            source=source,
            image_sha256=hashlib.sha256(original).hexdigest(),
            normalized_png=png,
            predicted_label=predicted,
            confidence=confidence,
            top5=[{"label": predicted, "probability": confidence}],
            model_name=f"{kind}-cnn",
            model_version=model_version,
        )
        sample.image.save(f"{seed}.png", ContentFile(original), save=False)
        sample.save()
        if age_days:
            Sample.objects.filter(pk=sample.pk).update(created=timezone.now() - timedelta(days=age_days))
            sample.refresh_from_db()
        return sample

    return make


def line_png(seed, width=192, height=64):
    """A wide RGBA PNG with random strokes on a transparent background, as a canvas sends it."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    for left in range(8, width - 24, 32):
        top = int(rng.integers(6, height // 2))
        pixels[top:height - 6, left:left + 3, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def make_word(make_sample):
    """Create a Word as recognition.services.recognize_text stores it: its image file and one
    character Sample per character read, at positions 0, 1, ..."""
    counter = iter(range(10**6))

    def make(text="42", kind="digit", source="canvas"):
        png = line_png(next(counter))
        word = Word(kind=kind, source=source, image_sha256=hashlib.sha256(png).hexdigest(), text=text)
        word.image.save("line.png", ContentFile(png), save=False)
        word.save()
        for position, character in enumerate(text):
            sample = make_sample(kind=kind, predicted=character, source=source)
            Sample.objects.filter(pk=sample.pk).update(word=word, position=position)
        return word

    return make
