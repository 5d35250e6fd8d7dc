"""Several characters in one request: the API's multi path, its bad inputs, per-character feedback."""
import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.preprocessing import decode_image, ink_map, stroke_width
from core.segmentation import segment_ink
from feedback.models import Feedback
from ml.datasets import read_unipen
from ml.kinds import LABELS
from ml.text_lines import build_text, line_png, records_by_label
from recognition.models import Sample, Word
from recognition.services import consistent_case, decode_data_url
from recognition.tests.images import data_url, encode, ring, touching_forty_two
from testing import DATASET_SLICES

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def line():
    records, _ = read_unipen("test", DATASET_SLICES)
    return build_text("42", records_by_label(records), np.random.default_rng(3))


def post_line(client, line, **fields):
    body = {"image": data_url(line.png), "kind": "digit", "multi": True, "strokes": line.strokes, **fields}
    return client.post("/api/v1/predict", json.dumps(body), content_type="application/json")


def upload_line(client, png, kind):
    upload = SimpleUploadedFile("line.png", png, content_type="image/png")
    return client.post("/api/v1/predict", {"image": upload, "kind": kind, "multi": "true"})


def test_multi_answers_text_and_characters_and_stores_a_word(client, real_models, line):
    response = post_line(client, line)
    assert response.status_code == 200, response.content
    result = response.json()
    assert len(result["characters"]) == 2
    assert result["text"] == "".join(c["label"] for c in result["characters"])
    for position, character in enumerate(result["characters"]):
        assert character["position"] == position
        assert len(character["top3"]) == 3 and character["top3"][0]["label"] == character["label"]
        assert character["normalized_image"].startswith("data:image/png;base64,")
        left, top, right, bottom = character["box"]
        assert left < right and top < bottom
    first, second = result["characters"]
    assert first["box"][0] < second["box"][0]
    word = Word.objects.get(pk=result["word_id"])
    assert (word.text, word.kind, word.source, word.strokes) == (result["text"], "digit", "api", line.strokes)
    samples = list(word.characters.order_by("position"))
    assert [str(s.pk) for s in samples] == [c["sample_id"] for c in result["characters"]]
    assert [s.predicted_label for s in samples] == list(result["text"])
    with samples[0].image.open("rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"  # the character's own image, for retraining


def test_multi_upload_without_strokes_uses_connected_components(client, real_models, line):
    response = upload_line(client, line.png, "digit")
    assert response.status_code == 200, response.content
    assert len(response.json()["characters"]) == 2
    assert Word.objects.get().strokes is None


def stroke_widths(result):
    """Stroke width of each character's normalised image in an API answer."""
    images = (Image.open(io.BytesIO(decode_data_url(c["normalized_image"]))) for c in result["characters"])
    return [stroke_width(np.asarray(image) > 127) for image in images]


def test_small_letters_on_the_pad_keep_their_thicker_strokes(client, tiny_models):
    """"oo" and "OO" with the page's pen: no tall character in either line, yet the small rings
    reach the model with thicker strokes, because the pen is measured on the sent image."""
    answers = []
    for radius in (30, 60):
        top = 40 + radius
        strokes = ring(radius, centre=(40 + radius, top)) + ring(radius, centre=(100 + 4 * radius, top))
        body = {"image": data_url(line_png(strokes)), "kind": "any", "multi": True,
                "strokes": [s.tolist() for s in strokes]}
        response = client.post("/api/v1/predict", json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content
        answers.append(stroke_widths(response.json()))
    small, large = answers
    assert len(small) == len(large) == 2
    assert min(small) > 1.3 * max(large)


def test_strokes_with_a_blank_image_are_still_read(client, tiny_models, line):
    """No ink to measure a pen on: the characters are sized by the line's tall ones."""
    blank = encode(Image.new("L", (400, 200), 255))
    response = post_line(client, line, image=data_url(blank))
    assert response.status_code == 200, response.content
    assert len(response.json()["characters"]) == 2


def test_touching_digits_in_an_upload_are_cut_apart(client, real_models):
    """"42" written with the 2 leaning into the 4: one piece of ink, two characters."""
    line = touching_forty_two()
    assert len(segment_ink(ink_map(decode_image(line.png)))) == 1  # they touch
    response = upload_line(client, line.png, "digit")
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["text"] == "42"
    first, second = (c["box"] for c in result["characters"])
    assert first[0] < second[0] and first[2] <= second[2]


def test_a_wide_character_in_an_upload_stays_whole(client, real_models):
    """A 0 drawn wide has cuttable columns (only its top and bottom arcs cross them), but its
    halves read worse than the whole."""
    angles = np.linspace(0, 2 * np.pi, 90)
    wide_zero = np.stack([150 + 110 * np.cos(angles), 120 + 70 * np.sin(angles)], 1)
    response = upload_line(client, line_png([wide_zero]), "digit")
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "0"


@pytest.mark.parametrize("fields, message", [
    ({"strokes": "abc"}, "strokes"),
    ({"strokes": [[["x", 1]]]}, "strokes"),
    ({"strokes": [[[1, 2, 3, 4]]]}, "[x, y] or [x, y, t]"),
    ({"strokes": []}, "non-empty"),
    ({"strokes": [[[0, 0]]] * 301}, "too many strokes"),
    ({"strokes": [[[0, 0]] * 20_001]}, "too many points"),
    ({"strokes": [[[1e308, 0], [-1e308, 1]]]}, "within"),
    ({"multi": False}, "strokes are only read with multi"),
    ({"kind": "emoji"}, "unknown kind"),
])
def test_bad_multi_requests_get_a_4xx_json_error(client, tiny_models, line, fields, message):
    response = post_line(client, line, **fields)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert not Word.objects.exists()


def test_infinite_coordinates_are_refused(client, tiny_models, line):
    body = ('{"image": "%s", "multi": true, "strokes": [[[1e999, 0]]]}' % data_url(line.png))
    response = client.post("/api/v1/predict", body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()


def test_each_character_takes_its_own_feedback(client, tiny_models, line):
    result = post_line(client, line).json()
    first, second = (c["sample_id"] for c in result["characters"])
    wrong = "5" if result["characters"][1]["label"] != "5" else "6"
    for sample_id, answer in [(first, {"is_correct": True}),
                              (second, {"is_correct": False, "correct_label": wrong})]:
        response = client.post("/feedback", json.dumps({"sample_id": sample_id, **answer}),
                               content_type="application/json")
        assert response.status_code == 201, response.content
    feedback = {f.sample.position: f for f in Feedback.objects.select_related("sample")}
    assert feedback[0].label == result["text"][0] and feedback[1].label == wrong
    assert {f.sample.word_id for f in feedback.values()} == {Sample.objects.get(pk=first).word_id}


def test_canvas_route_takes_the_text_mode(client, tiny_models, line):
    body = {"image": data_url(line.png), "kind": "any", "multi": True, "strokes": line.strokes,
            "case_consistency": True}
    response = client.post("/submit", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["case_consistency"] is True
    assert set(Sample.objects.values_list("source", flat=True)) == {"canvas"}


def one_hot_rows(labels, rows):
    """Probability rows over `labels`, each {label: probability}."""
    probabilities = np.zeros((len(rows), len(labels)))
    for row, entries in enumerate(rows):
        for label, probability in entries.items():
            probabilities[row, labels.index(label)] = probability
    return probabilities


def test_case_consistency_moves_each_letter_to_the_words_case():
    labels = LABELS["any"]
    # "hEllo" as read letter by letter; the E is a coin toss, the others are clear.
    rows = [{"h": 0.9, "H": 0.1}, {"E": 0.55, "e": 0.45}, {"l": 0.8, "1": 0.2}, {"l": 0.9, "I": 0.1},
            {"o": 0.6, "O": 0.3, "0": 0.1}]
    adjusted = consistent_case(labels, one_hot_rows(labels, rows))
    assert "".join(labels[i] for i in adjusted.argmax(axis=1)) == "hello"
    assert np.allclose(adjusted.sum(axis=1), 1.0)
    # A capitalised word keeps its capital; digits are never touched.
    rows = [{"P": 0.7, "p": 0.3}, {"a": 0.9, "A": 0.1}, {"R": 0.6, "r": 0.4}, {"7": 1.0}]
    adjusted = consistent_case(labels, one_hot_rows(labels, rows))
    assert "".join(labels[i] for i in adjusted.argmax(axis=1)) == "Par7"


def test_admin_shows_a_word_with_its_characters(admin_client, tiny_models, line):
    result = post_line(admin_client, line).json()
    response = admin_client.get(reverse("admin:recognition_word_changelist"))
    assert response.status_code == 200 and result["text"] in response.content.decode()
    response = admin_client.get(reverse("admin:recognition_word_change", args=[result["word_id"]]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('src="data:image/png;base64,') == len(result["characters"])
