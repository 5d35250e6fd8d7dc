"""recognition.services and recognition.inference with tiny bundles trained in the session."""
import base64
import hashlib
import io
import json
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from core.inference import Recognizer
from core.preprocessing import decode_image, preprocess_bytes
from ml.kinds import KINDS, LABELS
from recognition.inference import get_recognizer
from recognition.models import Sample
from recognition.services import RecognitionError, decode_data_url, predict, recognize
from recognition.tests.images import data_url, draw_strokes, encode, seven_png

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", KINDS)
def test_recognize_returns_the_result_and_records_a_sample(kind, tiny_models):
    data = seven_png()
    result = recognize(data, kind, Sample.Source.CANVAS)

    top5 = result["top5"]
    assert len(top5) == 5 and all(entry["label"] in LABELS[kind] for entry in top5)
    probabilities = [entry["probability"] for entry in top5]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0 + 1e-5
    assert result["label"] == top5[0]["label"] and result["confidence"] == probabilities[0]
    assert result["model"] == {"name": f"tiny-{kind}", "version": "test-1"}
    assert ("case_insensitive" in result) == (kind != "digit")

    seen = Image.open(io.BytesIO(base64.b64decode(result["normalized_image"].split(",", 1)[1])))
    assert seen.size == (28, 28)
    expected = preprocess_bytes(data)
    assert np.abs(np.asarray(seen, dtype=np.float32) / 255 - expected).max() <= 1 / 255

    sample = Sample.objects.get(pk=result["sample_id"])
    assert (sample.kind, sample.source, sample.predicted_label) == (kind, "canvas", result["label"])
    assert sample.confidence == result["confidence"] and sample.top5 == top5
    assert (sample.model_name, sample.model_version) == (f"tiny-{kind}", "test-1")
    assert sample.image_sha256 == hashlib.sha256(data).hexdigest()
    assert sample.image.name.endswith(f"{sample.id}.png")
    with sample.image.open("rb") as stored:  # the picture that was read, and it reads the same
        kept = stored.read()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(kept))), np.asarray(decode_image(data)))
    assert np.array_equal(preprocess_bytes(kept), expected)
    assert bytes(sample.normalized_png) == base64.b64decode(result["normalized_image"].split(",")[1])


def test_probabilities_match_the_model_on_the_same_input(tiny_models):
    image28, result = predict(seven_png(), "digit")
    probabilities = get_recognizer("digit").probabilities(image28)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == LABELS["digit"][int(probabilities.argmax())]


def test_case_insensitive_best_adds_both_cases(tiny_models):
    image28, result = predict(seven_png(), "letter")
    probabilities = get_recognizer("letter").probabilities(image28)
    by_letter = {
        letter: probabilities[LABELS["letter"].index(letter)]
        + probabilities[LABELS["letter"].index(letter.lower())]
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    }
    best = max(by_letter, key=by_letter.get)
    assert result["case_insensitive"]["label"] == best
    assert result["case_insensitive"]["probability"] == pytest.approx(by_letter[best], abs=1e-5)


def test_unknown_kind_is_a_400(tiny_models):
    with pytest.raises(RecognitionError, match="unknown kind") as caught:
        recognize(seven_png(), "emoji", Sample.Source.API)
    assert caught.value.status == 400
    assert not Sample.objects.exists()


def test_blank_canvas_is_nothing_drawn(tiny_models):
    blank = encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0)))
    with pytest.raises(RecognitionError, match="nothing drawn") as caught:
        recognize(blank, "digit", Sample.Source.CANVAS)
    assert caught.value.status == 400
    assert not Sample.objects.exists()


def test_missing_bundle_is_a_503(no_models):
    with pytest.raises(RecognitionError, match="no model available") as caught:
        predict(seven_png(), "digit")
    assert caught.value.status == 503


def test_bundle_with_wrong_label_count_is_refused_at_load(tiny_bundles_dir, tmp_path):
    broken = tmp_path / "digit"
    shutil.copytree(tiny_bundles_dir / "digit", broken)
    meta = json.loads((broken / "meta.json").read_text())
    meta["labels"] = LABELS["letter"]
    (broken / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="outputs"):
        Recognizer(broken)


def test_offline_runner_on_several_cores_reads_a_test_set_as_the_web_reads_each_image(tiny_bundles_dir):
    """`evaluate` and the retrain gate read thousands of images in batches on every core; the
    web reads one at a time on one thread. Both must give the same probabilities."""
    web = Recognizer(tiny_bundles_dir / "digit")
    offline = Recognizer(tiny_bundles_dir / "digit", num_threads=2)
    # 90 images: a full batch of 64, then 26 padded to 32.
    images = np.stack([preprocess_bytes(seven_png(width=width, scale=scale))
                       for width in range(4, 34) for scale in (0.6, 0.8, 1.0)])
    expected = np.stack([web.probabilities(image) for image in images])
    got = offline.batch_probabilities(images)
    assert got.shape == (90, len(LABELS["digit"]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_each_thread_gets_its_own_interpreter_with_the_same_answers(tiny_models):
    recognizer = get_recognizer("digit")
    images = [preprocess_bytes(seven_png(width=w)) for w in (6, 12, 24)]
    expected = [recognizer.probabilities(image) for image in images]
    interpreters, answers = [], []

    def work():
        interpreters.append(recognizer._thread_interpreter()[0])
        answers.append([recognizer.probabilities(image) for image in images for _ in range(20)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(interpreter) for interpreter in interpreters}) == 4
    for answer in answers:
        for index, probabilities in enumerate(answer):
            np.testing.assert_allclose(probabilities, expected[index // 20], rtol=1e-5)


def test_recognizer_is_loaded_once_per_process(tiny_models):
    assert get_recognizer("any") is get_recognizer("any")


def test_data_urls():
    assert decode_data_url(data_url(b"\x89PNG")) == b"\x89PNG"
    for bad in ["no comma", "data:image/png;base64", "data:image/png,abc", "data:image/png;base64,@@@"]:
        with pytest.raises(RecognitionError):
            decode_data_url(bad)


def test_light_strokes_on_a_transparent_canvas_are_recognized_like_dark_ones(tiny_models):
    white = encode(draw_strokes(ink=(255, 255, 255, 255), paper=(0, 0, 0, 0)))
    light, dark = predict(white, "digit")[1]["top5"], predict(seven_png(), "digit")[1]["top5"]
    # The same ranking; halving the image rounds light and dark edges apart by one grey level.
    assert [c["label"] for c in light] == [c["label"] for c in dark]
    assert [c["probability"] for c in light] == pytest.approx([c["probability"] for c in dark], abs=0.1)
