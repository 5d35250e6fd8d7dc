"""Every POST route against deeply nested JSON, random JSON shapes and random small images: the
answer is a result or a 4xx with a JSON `error`, never a 5xx."""
import base64
import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from ml.kinds import KINDS
from recognition.tests.images import data_url, draw_strokes, encode

pytestmark = pytest.mark.django_db
FUZZ_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])
# /challenge/next reads no body (its kind is in the query string): random bodies only.
JSON_ROUTES = ["/submit", "/feedback", "/challenge/next", "/challenge/answer", "/api/v1/predict",
               "/api/v1/samples/{sample_id}/feedback"]
DEEP = 1000


def assert_clean(response, route):
    assert response.status_code < 500, (route, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), (route, response.content[:300])
        assert response.json()["error"], route


@pytest.fixture
def sample_id(client, tiny_models):
    """A real sample to give feedback on."""
    answer = client.post("/api/v1/predict", {"image": data_url(encode(draw_strokes())), "kind": "digit"},
                         content_type="application/json")
    return answer.json()["sample_id"]


@pytest.mark.parametrize("route", [route for route in JSON_ROUTES if route != "/challenge/next"])
@pytest.mark.parametrize("body", [
    "[" * DEEP + "]" * DEEP,
    "[" * DEEP,
    '{"a":' * DEEP + "1" + "}" * DEEP,
    '{"sample_id": "x", "is_correct": ' + "[" * DEEP + "]" * DEEP + "}",
    '{"image": ' + "[" * DEEP + "]" * DEEP + ', "kind": "digit"}',
], ids=["nested-arrays", "unclosed-arrays", "nested-objects", "nested-field", "nested-image"])
def test_deeply_nested_json_is_a_4xx(client, sample_id, route, body):
    response = client.post(route.format(sample_id=sample_id), body, content_type="application/json")
    assert_clean(response, route)
    assert 400 <= response.status_code < 500


def test_nested_feedback_says_what_is_wrong(client, sample_id):
    for route in ("/feedback", f"/api/v1/samples/{sample_id}/feedback"):
        response = client.post(route, "[" * DEEP + "]" * DEEP, content_type="application/json")
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["error"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@st.composite
def small_images(draw):
    """Encoded images up to 48x48 in every documented format and the common modes: noise,
    blank, or a stroke."""
    width, height = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    seed = draw(st.integers(0, 2**32 - 1))
    content = draw(st.sampled_from(["noise", "blank", "stroke"]))
    rng = np.random.default_rng(seed)
    if content == "noise":
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8), "RGB")
    elif content == "blank":
        image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
    else:
        image = draw_strokes(size=max(width, height)).convert("RGB").resize((width, height))
    image = image.convert(draw(st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA"])))
    fmt = draw(st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "WEBP"]))
    if fmt == "JPEG" and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if fmt == "BMP" and image.mode == "LA":  # BMP has no grey with alpha
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def json_body(draw_value, sample_id):
    """A random JSON shape, or one shaped like a route's body with random field values."""
    return st.one_of(
        draw_value,
        st.fixed_dictionaries({}, optional={
            "image": st.one_of(draw_value, small_images().map(data_url)),
            "kind": st.one_of(st.sampled_from(KINDS), draw_value),
            "multi": draw_value, "strokes": draw_value, "case_consistency": draw_value,
        }),
        st.fixed_dictionaries({}, optional={
            "sample_id": st.one_of(st.just(sample_id), draw_value),
            "is_correct": draw_value, "correct_label": draw_value,
        }),
    )


@FUZZ_SETTINGS
@given(data=st.data())
def test_random_json_shapes_on_every_json_route(client, sample_id, data):
    route = data.draw(st.sampled_from(JSON_ROUTES)).format(sample_id=sample_id)
    body = data.draw(json_body(json_values, sample_id))
    response = client.post(route, json.dumps(body), content_type="application/json")
    assert_clean(response, route)


@FUZZ_SETTINGS
@given(image=small_images(), kind=st.sampled_from(KINDS), multi=st.booleans(),
       route=st.sampled_from(["/submit", "/challenge/answer", "/api/v1/predict", "/upload",
                              "/api/v1/predict multipart"]))
def test_random_small_images_on_every_image_route(client, sample_id, image, kind, multi, route):
    if route in ("/upload", "/api/v1/predict multipart"):
        path = route.split()[0]
        fields = {"image": SimpleUploadedFile("image.bin", image), "kind": kind}
        if multi:
            fields["multi"] = "true"
        response = client.post(path, fields)
    else:
        path = route
        token = client.post("/challenge/next?kind=" + kind).json()["token"]
        response = client.post(path, {"image": data_url(image), "kind": kind, "multi": multi},
                               content_type="application/json", headers={"X-Challenge": token})
    assert_clean(response, route)


def test_random_bytes_as_an_image_are_a_4xx(client, sample_id):
    garbage = base64.b64encode(np.random.default_rng(0).bytes(2000)).decode()
    token = client.post("/challenge/next?kind=digit").json()["token"]
    for route in ("/submit", "/api/v1/predict", "/challenge/answer"):
        response = client.post(route, {"image": f"data:image/png;base64,{garbage}"},
                               content_type="application/json", headers={"X-Challenge": token})
        assert_clean(response, route)
        assert response.status_code == 400
