"""Live previews (`"preview": true`): the same answer as a stored prediction, stored nowhere;
and the upload form's refusals in words a person can act on."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.models import Sample, Word
from recognition.tests.images import data_url, seven_png
from recognition.tests.test_text import line  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("url", ["/submit", "/api/v1/predict"])
def test_a_preview_answers_like_a_prediction_and_stores_nothing(client, tiny_models, url):
    body = {"image": data_url(seven_png()), "kind": "digit"}
    preview = post(client, url, {**body, "preview": True})
    assert preview.status_code == 200, preview.content
    shown = preview.json()
    assert not Sample.objects.exists() and shown.get("sample_id") is None
    assert shown["normalized_image"].startswith("data:image/png;base64,")
    stored = post(client, url, body).json()
    assert Sample.objects.get().pk.hex == stored["sample_id"].replace("-", "")
    assert (shown["label"], shown["top5"]) == (stored["label"], stored["top5"])


def test_a_text_preview_stores_no_word(client, tiny_models, line):  # noqa: F811
    body = {"image": data_url(line.png), "kind": "digit", "multi": True, "strokes": line.strokes}
    shown = post(client, "/submit", {**body, "preview": True}).json()
    assert not Word.objects.exists() and not Sample.objects.exists()
    assert shown.get("word_id") is None and len(shown["characters"]) >= 2
    assert all(c["normalized_image"].startswith("data:image/png") for c in shown["characters"])
    stored = post(client, "/submit", body).json()
    assert stored["text"] == shown["text"] and Word.objects.count() == 1


@pytest.mark.parametrize("upload, message", [
    ({}, "no image was sent: choose a photo"),
    ({"image": SimpleUploadedFile("empty.png", b"")}, "the chosen file is empty: choose another image"),
], ids=["missing", "empty"])
def test_upload_refusals_say_what_to_do(client, upload, message):
    response = client.post("/upload", {"kind": "digit", **upload})
    assert response.status_code == 400 and response.json()["error"].startswith(message)
