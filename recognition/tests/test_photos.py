"""Phone photos of paper through the upload path: the sheet, its lines and the table are not
ink, the writing is found and boxed, a box drawn by the person is read, and what is kept of an
upload is the grey picture read, without metadata."""
import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.photo import WORK_SIDE
from core.preprocessing import decode_image
from recognition.models import Sample, Word
from recognition.tests.images import encode, seven_png

PHOTOS = Path(__file__).resolve().parent / "photos"
# Where the writing lies in each fixture (photos/README.md).
WRITING = {"four-ruled.jpg": (290, 620, 354, 747), "seven-squared-pencil.jpg": (501, 705, 572, 773),
           "number-plain.jpg": (376, 798, 831, 1046)}
pytestmark = pytest.mark.django_db


def iou(a, b):
    width, height = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def upload(client, name, data, **fields):
    """POST a file to the API as a browser's form would."""
    return client.post("/api/v1/predict", {"image": SimpleUploadedFile(name, data), **fields})


@pytest.mark.parametrize("name, label", [("four-ruled.jpg", "4"), ("seven-squared-pencil.jpg", "7")])
def test_a_character_photographed_on_lined_paper_on_a_table(client, real_models, name, label):
    response = upload(client, name, (PHOTOS / name).read_bytes(), kind="digit")
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["label"] == label
    assert iou(result["box"], WRITING[name]) > 0.5  # the writing, not the sheet or its lines


def test_a_number_photographed_in_text_mode(client, real_models):
    data = (PHOTOS / "number-plain.jpg").read_bytes()
    result = upload(client, "number.jpg", data, kind="digit", multi="true").json()
    assert result["text"] == "305"
    assert iou(result["box"], WRITING["number-plain.jpg"]) > 0.5
    for character in result["characters"]:  # each box inside the number's, in the photo's pixels
        left, top, right, bottom = character["box"]
        assert 376 - 20 <= left < right <= 831 + 20 and 798 - 20 <= top < bottom <= 1046 + 20


def test_a_box_drawn_around_one_of_two_characters_reads_that_one(client, real_models):
    """A 7 and a 4 on one sheet: with a crop box, only what is inside it is read."""
    four = Image.open(PHOTOS / "four-ruled.jpg")
    seven = Image.open(PHOTOS / "seven-squared-pencil.jpg").crop(WRITING["seven-squared-pencil.jpg"])
    four.paste(seven, (600, 300))
    data = encode(four, "JPEG", quality=90)
    for crop, label in (((590, 290, 690, 390), "7"), ((280, 610, 365, 757), "4")):
        response = upload(client, "two.jpg", data, kind="digit", crop=",".join(map(str, crop)))
        assert response.json()["label"] == label
        left, top, right, bottom = response.json()["box"]
        assert crop[0] - 2 <= left and right <= crop[2] + 2 and crop[1] - 2 <= top and bottom <= crop[3] + 2
    as_json = client.post("/api/v1/predict", json.dumps({
        "kind": "digit", "crop": [590, 290, 690, 390],
        "image": "data:image/jpeg;base64," + base64.b64encode(data).decode()}),
        content_type="application/json")
    assert as_json.json()["label"] == "7"


@pytest.mark.parametrize("crop, message", [("10,10,5,5", "left < right"), ("a,b,c,d", "four numbers"),
                                           ("1,2,3", "four numbers"), ("5000,5000,6000,6000", "outside the image")])
def test_a_bad_crop_box_is_refused_in_words(client, tiny_models, crop, message):
    response = upload(client, "seven.png", seven_png(), kind="digit", crop=crop)
    assert response.status_code == 400 and message in response.json()["error"]


def test_a_screenshot_with_a_title_bar_reads_the_drawing(client, tiny_models):
    """An app's dark title bar and status bar are not ink: the drawing alone is read."""
    drawing = np.asarray(Image.open(io.BytesIO(seven_png())).convert("L"))
    screen = np.full((600, 340), 255, np.uint8)
    screen[:48] = 40       # status and title bar
    screen[-60:] = 90      # a toolbar
    screen[160:440, 30:310] = drawing
    plain = upload(client, "seven.png", seven_png(), kind="digit").json()
    shot = upload(client, "screenshot.png", encode(Image.fromarray(screen)), kind="digit").json()
    assert shot["label"] == plain["label"]
    left, top, right, bottom = plain["box"]
    assert iou(shot["box"], (left + 30, top + 160, right + 30, bottom + 160)) > 0.8


def test_uploads_are_kept_without_metadata_and_bounded(client, tiny_models):
    """A 3000 px photo with EXIF (a GPS position) and a PNG with a large private chunk: what is
    kept is the grey picture that was read, at most WORK_SIDE across, with nothing else."""
    photo = Image.open(PHOTOS / "four-ruled.jpg").resize((3000, 2250))
    exif = Image.Exif()
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    exif[0x010F] = "PhoneMaker"
    data = encode(photo, "JPEG", quality=85, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()
    response = upload(client, "photo.jpg", data, kind="digit")
    sample = Sample.objects.get(pk=response.json()["sample_id"])
    with sample.image.open("rb") as handle:
        kept = handle.read()
    image = Image.open(io.BytesIO(kept))
    assert image.format == "PNG" and image.mode == "L" and max(image.size) <= WORK_SIDE
    assert not image.getexif() and b"PhoneMaker" not in kept and b"GPS" not in kept

    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("private", "x" * 3_000_000, zip=False)
    drawing = Image.open(io.BytesIO(seven_png()))
    padded = encode(drawing, "PNG", pnginfo=info)
    assert len(padded) > 3_000_000
    response = upload(client, "padded.png", padded, kind="digit", multi="true")
    word = Word.objects.get(pk=response.json()["word_id"])
    with word.image.open("rb") as handle:
        assert len(handle.read()) < 50_000


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PCX", "TGA", "SGI", "PPM"])
def test_formats_the_api_does_not_document_are_refused(client, tiny_models, fmt):
    image = Image.open(io.BytesIO(seven_png())).convert("RGB").resize((64, 64))
    response = upload(client, f"seven.{fmt.lower()}", encode(image, fmt), kind="digit")
    assert response.status_code == 400
    assert "PNG, JPEG, WebP, GIF or BMP" in response.json()["error"]


def test_eps_is_refused_before_any_interpreter_runs(client, tiny_models):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\n"
    response = upload(client, "x.eps", eps, kind="digit")
    assert response.status_code == 400 and "PNG, JPEG" in response.json()["error"]


def test_two_small_marks_far_apart_are_a_clear_error_not_a_crash(client, tiny_models):
    """A 3000x100 white picture with two 7 px dots at its ends (a 500 before)."""
    image = np.full((100, 3000), 255, np.uint8)
    image[40:47, 10:17] = image[40:47, 2980:2987] = 0
    response = upload(client, "dots.png", encode(Image.fromarray(image)), kind="digit")
    assert response.status_code == 400 and "too small and too far apart" in response.json()["error"]


def test_a_large_phone_photo_is_decoded_at_the_working_size():
    photo = Image.open(PHOTOS / "four-ruled.jpg").resize((4000, 3000))
    decoded = decode_image(encode(photo, "JPEG", quality=80))
    assert decoded.size == (WORK_SIDE, WORK_SIDE * 3 // 4)
