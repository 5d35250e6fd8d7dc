"""Fixtures for the feedback tests: real Sample rows with real PNG files in a temporary media root."""
import hashlib
import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from feedback.models import Sample


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
