"""Every bad input of the issue, on every POST route: a 4xx JSON error, never a 500, no row."""
import json
import resource
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition.models import Sample
from recognition.tests.images import data_url, encode, seven_png

pytestmark = pytest.mark.django_db

JSON_ROUTES = ["/submit", "/api/v1/predict"]
FILE_ROUTES = ["/upload", "/api/v1/predict"]


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bytes(width, height, idat=b""):
    """A PNG of any declared size, 1-bit grayscale, written by hand (Pillow refuses 0x0)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bomb():
    """A real 40,000 x 40,000 PNG (1.6 gigapixels of zeros) that compresses to ~200 KB."""
    side = 40_000
    row = b"\x00" * (1 + side // 8)
    compressor = zlib.compressobj(9)
    rows = b"".join(compressor.compress(row * 1000) for _ in range(side // 1000))
    return png_bytes(side, side, rows + compressor.flush())


def one_by_one():
    return encode(Image.new("L", (1, 1), 0))


def blank_canvas():
    return encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0)))


IMAGE_CASES = {
    "not-an-image": (lambda: b"hello, I am text", 400, "not an image we can read"),
    "truncated-png": (lambda: seven_png()[:200], 400, "damaged or incomplete"),
    "zero-by-zero": (lambda: png_bytes(0, 0), 400, ""),
    "one-by-one": (one_by_one, 400, "too small"),
    "blank-canvas": (blank_canvas, 400, "nothing drawn"),
}


def assert_refused(response, status, message=""):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and message in error
    assert not Sample.objects.exists()


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json")


def post_upload(client, url, data, kind="digit", name="image.png"):
    return client.post(url, {"image": SimpleUploadedFile(name, data), "kind": kind})


@pytest.mark.parametrize("url", JSON_ROUTES)
@pytest.mark.parametrize("case", IMAGE_CASES)
def test_bad_images_as_data_urls(client, tiny_models, url, case):
    make, status, message = IMAGE_CASES[case]
    assert_refused(post_json(client, url, json.dumps({"image": data_url(make())})), status, message)


@pytest.mark.parametrize("url", FILE_ROUTES)
@pytest.mark.parametrize("case", IMAGE_CASES)
def test_bad_images_as_files(client, tiny_models, url, case):
    make, status, message = IMAGE_CASES[case]
    assert_refused(post_upload(client, url, make()), status, message)


@pytest.mark.parametrize("url", JSON_ROUTES)
@pytest.mark.parametrize("body, message", [
    ('{"image": "data:image/png;base64,***notbase64***"}', "invalid base64"),
    ('{"image": "data:image/png;base64"}', "data URL"),
    ('{"image": "iVBORw0KGgo="}', "data URL"),
    ("[1, 2, 3]", "invalid JSON body"),
    ('"just a string"', "invalid JSON body"),
    ("42", "invalid JSON body"),
    ("{not json", "invalid JSON body"),
    ("", "invalid JSON body"),
    ('{"kind": "digit"}', "image: Field required"),
    ('{"image": 12}', "image"),
], ids=["bad-base64", "no-comma", "not-a-data-url", "array", "string", "number", "syntax",
        "empty", "missing-image", "image-not-a-string"])
def test_malformed_json_bodies(client, url, body, message):
    assert_refused(post_json(client, url, body), 400, message)


@pytest.mark.parametrize("url", JSON_ROUTES)
def test_unknown_kind_in_json(client, tiny_models, url):
    body = json.dumps({"image": data_url(seven_png()), "kind": "hieroglyph"})
    assert_refused(post_json(client, url, body), 400, "unknown kind")


@pytest.mark.parametrize("url", FILE_ROUTES)
def test_unknown_kind_in_form(client, tiny_models, url):
    assert_refused(post_upload(client, url, seven_png(), kind="hieroglyph"), 400, "unknown kind")


@pytest.mark.parametrize("url", FILE_ROUTES)
def test_missing_file(client, url):
    assert_refused(client.post(url, {"kind": "digit"}), 400, "image")


@pytest.mark.parametrize("url", ["/submit", "/upload", "/api/v1/predict"])
@pytest.mark.parametrize("size", [5 * 1024 * 1024 + 1, 10 * 1024 * 1024])
def test_body_over_the_limit_is_a_413(client, url, size):
    padding = "A" * size
    assert_refused(post_json(client, url, json.dumps({"image": "data:image/png;base64," + padding})), 413)
    assert_refused(post_upload(client, url, b"\x00" * size), 413)


@pytest.mark.parametrize("url", JSON_ROUTES)
def test_djangos_own_body_limit_answers_json(client, settings, url):
    settings.HWR_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    assert_refused(post_json(client, url, json.dumps({"image": "A" * 4096})), 413, "too large")


@pytest.mark.parametrize("url", FILE_ROUTES)
def test_djangos_own_field_limit_answers_json(client, settings, url):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    fields = {f"field{i}": "x" for i in range(5)}
    response = client.post(url, {"image": SimpleUploadedFile("a.png", seven_png()), **fields})
    assert_refused(response, 400, "malformed request body")


@pytest.mark.parametrize("url", ["/submit", "/api/v1/predict"])
def test_decompression_bomb_is_refused_without_decoding(client, tiny_models, url, bomb):
    assert len(bomb) < 1024 * 1024
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert_refused(post_json(client, url, json.dumps({"image": data_url(bomb)})), 400, "too large")
    assert_refused(post_upload(client, "/upload", bomb), 400, "too large")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 200 * 1024, "decoding 1.6 gigapixels would have grown the peak by GBs"


@pytest.mark.parametrize("url", ["/submit", "/upload"])
def test_wrong_content_type(client, url):
    response = client.post(url, "image=hello", content_type="text/plain")
    assert 400 <= response.status_code < 500 and "error" in response.json()
