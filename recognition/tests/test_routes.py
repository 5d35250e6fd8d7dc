"""Pages, the canvas/upload endpoints and the JSON API, through Django's full request stack."""
import json
import re

import pytest
from django.test import Client

from recognition.models import Sample
from recognition.tests.images import data_url, seven_png

pytestmark = pytest.mark.django_db


def post_drawing(client, url, kind="digit", **extra):
    body = json.dumps({"image": data_url(seven_png()), "kind": kind})
    return client.post(url, body, content_type="application/json", **extra)


def post_file(client, url, kind="digit", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.png", seven_png(), content_type="image/png")
    return client.post(url, {"image": upload, "kind": kind}, **extra)


@pytest.mark.parametrize("url, needles", [
    ("/", ["Draw a character", "/upload/", "/api/v1/docs"]),
    ("/draw/", ['<canvas id="canvas"', 'id="kind"', "recognition/draw.js", 'id="feedback-no"']),
    ("/upload/", ['type="file"', 'id="preview"', "recognition/upload.js", 'id="feedback-yes"']),
])
def test_pages_render_without_external_resources(client, url, needles):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for needle in needles:
        assert needle in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "pages must not load from a CDN"
    assert 'name="viewport"' in html


@pytest.mark.parametrize("url, send, source", [
    ("/submit", post_drawing, "canvas"),
    ("/upload", post_file, "upload"),
    ("/api/v1/predict", post_drawing, "api"),
    ("/api/v1/predict", post_file, "api"),
])
def test_predict_routes_answer_and_record_the_sample(client, tiny_models, url, send, source):
    response = send(client, url, kind="any")
    assert response.status_code == 200, response.content
    result = response.json()
    assert {"label", "confidence", "top5", "normalized_image", "model", "sample_id",
            "case_insensitive"} <= set(result)
    sample = Sample.objects.get(pk=result["sample_id"])
    assert (sample.source, sample.kind, sample.predicted_label) == (source, "any", result["label"])


def test_kind_defaults_to_digit(client, tiny_models):
    body = json.dumps({"image": data_url(seven_png())})
    result = client.post("/submit", body, content_type="application/json").json()
    assert result["kind"] == "digit" and result["label"] in "0123456789"


@pytest.mark.parametrize("url, send", [("/submit", post_drawing), ("/upload", post_file)])
def test_page_routes_enforce_csrf(tiny_models, url, send):
    client = Client(enforce_csrf_checks=True)
    refused = send(client, url, HTTP_ACCEPT="application/json")
    assert refused.status_code == 403 and "reload the page" in refused.json()["error"]
    assert not Sample.objects.exists()
    client.get("/draw/")
    token = client.cookies["csrftoken"].value
    assert send(client, url, HTTP_X_CSRFTOKEN=token).status_code == 200


@pytest.mark.parametrize("send", [post_drawing, post_file])
def test_api_is_csrf_exempt(tiny_models, send):
    assert send(Client(enforce_csrf_checks=True), "/api/v1/predict").status_code == 200


@pytest.mark.parametrize("url", ["/submit", "/upload", "/api/v1/predict"])
def test_get_on_a_post_route_is_a_405(client, url):
    response = client.get(url)
    assert response.status_code == 405


def test_openapi_documents_both_bodies_and_the_answer(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/predict"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert content["application/json"]["schema"]["properties"]["kind"]["enum"] == ["digit", "letter", "any"]
    assert content["multipart/form-data"]["schema"]["properties"]["image"]["format"] == "binary"
    assert {"200", "400", "413", "503"} <= set(operation["responses"])
    answer = schema["components"]["schemas"]["PredictionOut"]["properties"]
    assert {"label", "confidence", "top5", "normalized_image", "sample_id"} <= set(answer)


def test_api_docs_page_uses_bundled_swagger_ui(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/api/v1/openapi.json" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_no_route_runs_inside_a_request_transaction():
    from django.db import connections

    # Inference must not hold a (SQLite: exclusive) transaction for milliseconds: requests open
    # none, and the services open their own around their writes only.
    assert not any(connections[alias].settings_dict["ATOMIC_REQUESTS"] for alias in connections)
