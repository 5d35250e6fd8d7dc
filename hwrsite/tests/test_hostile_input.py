"""The hostile-input corpus on every POST route: odd but real images are read, everything else
gets a 4xx JSON error; nothing answers 500 and a refused request leaves no row behind."""
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from feedback.models import Feedback, FeedbackSubmission
from recognition.models import Sample
from recognition.tests.images import data_url, draw_strokes, encode

pytestmark = pytest.mark.django_db
HOSTILE_TEXT = ["digit'; DROP TABLE feedback_sample; --", "<script>alert(1)</script>",
                "\x00", "𝟟", "digit" * 1000]


def animated_gif(first_frame):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (280, 280), np.uint8))
    buffer = io.BytesIO()
    first_frame.convert("L").save(buffer, "GIF", save_all=True, append_images=[noise], duration=50)
    return buffer.getvalue()


def sixteen_bit_png():
    gray = np.asarray(draw_strokes().convert("L"), np.uint16) * 257
    image = Image.new("I;16", (gray.shape[1], gray.shape[0]))
    image.frombytes(gray.astype("<u2").tobytes())
    assert image.mode == "I;16"
    return encode(image)


ODD_REAL_IMAGES = {
    "animated-gif": lambda: animated_gif(draw_strokes()),
    "cmyk-jpeg": lambda: encode(draw_strokes().convert("CMYK"), "JPEG", quality=90),
    "16-bit-png": sixteen_bit_png,
}
REFUSED_IMAGES = {
    "animated-gif-blank-first-frame": lambda: animated_gif(Image.new("L", (280, 280), 255)),
    "fully-transparent-png": lambda: encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0))),
    "0x0-gif-header": lambda: b"GIF89a\x00\x00\x00\x00\x00\x00\x00;",
}


def post_every_way(client, data, kind="digit"):
    """The same image through the three recognition routes (JSON and multipart)."""
    return [
        client.post("/submit", {"image": data_url(data), "kind": kind},
                    content_type="application/json"),
        client.post("/upload", {"image": SimpleUploadedFile("x.bin", data), "kind": kind}),
        client.post("/api/v1/predict", {"image": data_url(data), "kind": kind},
                    content_type="application/json"),
        client.post("/api/v1/predict", {"image": SimpleUploadedFile("x.bin", data), "kind": kind}),
    ]


@pytest.mark.parametrize("case", ODD_REAL_IMAGES)
def test_odd_but_real_images_are_recognized(client, tiny_models, case):
    responses = post_every_way(client, ODD_REAL_IMAGES[case]())
    assert [r.status_code for r in responses] == [200] * 4, [r.content for r in responses]
    assert Sample.objects.count() == 4


@pytest.mark.parametrize("case", REFUSED_IMAGES)
def test_images_without_a_character_are_refused(client, tiny_models, case):
    for response in post_every_way(client, REFUSED_IMAGES[case]()):
        assert response.status_code == 400 and response.json()["error"]
    assert not Sample.objects.exists()


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_kind_is_refused_and_tables_survive(client, tiny_models, text):
    for response in post_every_way(client, encode(draw_strokes()), kind=text):
        assert 400 <= response.status_code < 500 and response.json()["error"]
    assert not Sample.objects.exists()
    assert "feedback_sample" in connection.introspection.table_names()


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_feedback_fields_are_refused(client, tiny_models, text):
    sample_id = client.post("/api/v1/predict", {"image": data_url(encode(draw_strokes())),
                                                "kind": "digit"},
                            content_type="application/json").json()["sample_id"]
    bodies = [
        ("/feedback", {"sample_id": sample_id, "is_correct": False, "correct_label": text}),
        ("/feedback", {"sample_id": text, "is_correct": False, "correct_label": "1"}),
        (f"/api/v1/samples/{sample_id}/feedback", {"is_correct": False, "correct_label": text}),
        ("/api/v1/samples/1%20OR%201=1/feedback", {"is_correct": False, "correct_label": "1"}),
    ]
    for url, body in bodies:
        response = client.post(url, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (url, response.content)
        assert response["Content-Type"].startswith("application/json") and response.json()["error"]
    assert not Feedback.objects.exists() and not FeedbackSubmission.objects.exists()
    assert Sample.objects.count() == 1
