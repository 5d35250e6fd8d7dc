"""Property-based: whatever bytes or images arrive, the service answers or refuses cleanly.

The only exception that may leave `predict` is the service's own `RecognitionError` (a 4xx or a
503 with a message); anything else would be a 500.
"""
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from ml.kinds import KINDS, LABELS
from recognition.services import RecognitionError, predict

pytestmark = pytest.mark.django_db
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"]
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]


def check_answer(data, kind):
    try:
        _, result = predict(data, kind)
    except RecognitionError as error:
        assert 400 <= error.status < 600 and str(error)
        return
    assert result["label"] in LABELS[kind]
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(result["top5"]) == min(5, len(LABELS[kind]))


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=4096), kind=st.sampled_from(KINDS + ("emoji", "")))
def test_random_bytes(tiny_models, data, kind):
    check_answer(data, kind)


@st.composite
def images(draw):
    """Random pixels in a random mode, size and format: noise, flat fields and everything between."""
    width = draw(st.integers(1, 64))
    height = draw(st.integers(1, 64))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    style = draw(st.sampled_from(["noise", "flat", "sparse"]))
    if style == "noise":
        pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    elif style == "flat":
        pixels = np.full((height, width, 4), draw(st.integers(0, 255)), dtype=np.uint8)
    else:
        pixels = np.full((height, width, 4), 255, dtype=np.uint8)
        pixels[rng.random((height, width)) < 0.05] = 0
    image = Image.fromarray(pixels, "RGBA").convert(draw(st.sampled_from(MODES)))
    fmt = draw(st.sampled_from(FORMATS))
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError):
        image.convert("RGB").save(buffer, format="PNG")  # this format cannot hold this mode
    data = buffer.getvalue()
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]  # truncated somewhere
    return data


@PROPERTY_SETTINGS
@given(data=images(), kind=st.sampled_from(KINDS))
def test_random_images(tiny_models, data, kind):
    check_answer(data, kind)
