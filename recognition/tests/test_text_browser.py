"""Text mode in Chromium: write "42" and "Hi" on the canvas page (mouse, or a finger on a phone),
upload a "42" whose digits touch, read each back in one field and save it as the word's answer;
tap one of the text model's other readings."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from feedback.models import Feedback, WordFeedback
from recognition.models import Word
from recognition.tests.browser import draw, shot
from recognition.tests.images import touching_forty_two
from recognition.tests.test_browser import touch_draw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Strokes as fractions of the 3:1 canvas (x of its width, y of its height), written left to right.
FORTY_TWO = [
    [(0.16, 0.15), (0.10, 0.62), (0.24, 0.62)],                      # 4: the open corner ...
    [(0.20, 0.35), (0.20, 0.88)],                                    # ... and the upright
    [(0.32, 0.3), (0.37, 0.15), (0.43, 0.2), (0.43, 0.38), (0.32, 0.85), (0.46, 0.85)],  # 2
]
HI = [
    [(0.12, 0.15), (0.12, 0.85)], [(0.24, 0.15), (0.24, 0.85)], [(0.12, 0.5), (0.24, 0.5)],  # H
    [(0.32, 0.45), (0.32, 0.85)], [(0.32, 0.28)],                                             # i
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1000, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(params=list(VIEWPORTS))
def screen(browser, request):
    """A page on a desktop or a phone (360 px wide, touch): (page, viewport name)."""
    context = browser.new_context(**VIEWPORTS[request.param])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page, request.param
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def write(page, live_server, kind, strokes, viewport="desktop", live=False):
    """Write `strokes` in text mode; without `live`, press Predict (the answer is stored), with
    it the page shows a preview, stored only when the person saves."""
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("What will you write?").select_option(kind)
    page.get_by_label("Mode").select_option("text")
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a word or number")
    if not live:
        page.locator("#live").uncheck()
    if viewport == "phone":
        touch_draw(page.context.new_cdp_session(page), page.locator("#canvas").bounding_box(), strokes)
    else:
        draw(page, strokes)
    if not live:
        page.get_by_role("button", name="Predict").click()


def save(page, text):
    """Put `text` in the word's field, save it, and return (the word's answer, the characters'
    answers by position)."""
    page.get_by_label("What you wrote").fill(text)
    expect(page.locator("#text-save")).to_have_text("Save correction")
    page.get_by_role("button", name="Save correction").click()
    expect(page.locator("#text-status")).to_have_text(f"Thanks! Saved: you wrote “{text}”.")
    feedback = WordFeedback.objects.get()
    return ((feedback.is_correct, feedback.correct_text),
            {f.sample.position: (f.is_correct, f.correct_label) for f in Feedback.objects.select_related("sample")})


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_write_42_read_it_in_one_field_and_correct_it(screen, live_server, real_models):
    page, viewport = screen
    write(page, live_server, "digit", FORTY_TWO, viewport, live=viewport == "phone")
    field = page.get_by_label("What you wrote")
    expect(field).to_have_value("42")
    expect(page.locator("#text-save")).to_have_text("All correct")
    expect(page.locator("#text-characters li")).to_have_count(2)
    assert fits_the_screen(page)
    shot(page, f"text-1-forty-two-{viewport}")
    if viewport == "phone":
        assert not Word.objects.exists()  # a live preview: stored when the person saves
    else:
        word = Word.objects.get()
        assert (word.text, word.source, len(word.strokes)) == ("42", "canvas", 3)
        assert all(len(point) == 3 for stroke in word.strokes for point in stroke)  # x, y, t

    assert save(page, "47") == ((False, "47"), {0: (True, ""), 1: (False, "7")})
    word = Word.objects.get()
    assert (word.text, word.feedback.text, word.feedback.submissions.get().channel) == ("42", "47", "page")
    assert fits_the_screen(page)
    shot(page, f"text-2-forty-seven-saved-{viewport}")


def test_a_longer_correction_is_stored_on_the_word_only(page, live_server, real_models):
    write(page, live_server, "digit", FORTY_TWO)
    expect(page.get_by_label("What you wrote")).to_have_value("42")
    assert save(page, "421") == ((False, "421"), {})
    # Back to the reading (a phone keyboard's trailing space is not part of it): a confirmation.
    page.get_by_label("What you wrote").fill("42 ")
    page.get_by_role("button", name="All correct").click()
    expect(page.locator("#text-status")).to_have_text("Thanks! Saved as correct: “42”.")
    feedback = WordFeedback.objects.get()
    assert (feedback.is_correct, feedback.correct_text, feedback.submissions.count()) == (True, "", 2)
    assert sorted(Feedback.objects.values_list("is_correct", flat=True)) == [True, True]


def test_a_refused_text_is_said_and_nothing_is_stored(page, live_server, real_models):
    write(page, live_server, "digit", FORTY_TWO)
    field = page.get_by_label("What you wrote")
    field.fill("4x")
    page.get_by_role("button", name="Save correction").click()
    expect(page.locator("#text-status")).to_have_text(
        "Could not save your answer: 'x' cannot be in a digit word: write it with the digits 0 to 9 only.")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert not WordFeedback.objects.exists()


def test_a_characters_next_guess_goes_in_its_place_in_the_field(page, live_server, real_models):
    write(page, live_server, "digit", FORTY_TWO)
    field = page.get_by_label("What you wrote")
    expect(field).to_have_value("42")
    alternative = page.locator("#text-characters li").nth(1).locator(".alternatives button").first
    tapped = alternative.text_content()
    alternative.click()
    expect(field).to_have_value(f"4{tapped}")
    expect(field).to_have_class("text-answer edited")
    field.fill("421")  # no longer one character per card: their guesses do not fit
    expect(alternative).to_be_disabled()


def test_write_hi_with_a_dotted_i(page, live_server, real_models):
    write(page, live_server, "letter", HI)
    expect(page.get_by_label("What you wrote")).to_have_value("Hi")
    expect(page.locator("#text-characters li")).to_have_count(2)
    shot(page, "text-3-hi")
    assert [s.position for s in Word.objects.get().characters.order_by("position")] == [0, 1]


def test_upload_a_number_whose_digits_touch_and_correct_it(page, live_server, real_models, tmp_path):
    """The upload page's text mode: a photo-like line of "42" written with the digits touching."""
    line = touching_forty_two()
    image = tmp_path / "forty-two.png"
    image.write_bytes(line.png)
    page.goto(f"{live_server.url}/upload/")
    page.get_by_label("What will you write?").select_option("digit")
    page.get_by_label("Mode").select_option("text")
    page.locator("#image").set_input_files(str(image))  # read at once
    expect(page.get_by_label("What you wrote")).to_have_value("42")
    expect(page.locator("#text-characters li")).to_have_count(2)
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#preview-boxes")).to_have_attribute("data-count", "2")  # boxed on the preview
    shot(page, "text-4-upload-forty-two")
    word = Word.objects.get()
    assert (word.text, word.source, word.strokes) == ("42", "upload", None)

    assert save(page, "12") == ((False, "12"), {0: (False, "1"), 1: (True, "")})
    assert WordFeedback.objects.get().word.source == "upload"


# A text model small enough to build in seconds, with weights set by hand rather than trained:
# each output column scores the most ink in its slice of the line, so that where there is ink
# it reads "4", and "7" a little less likely; blank elsewhere. Its readings are whatever beam
# search makes of that, so the test takes them from the page.
TINY_TEXT_LABELS = list("0123456789")
TINY_TEXT_SCORES = {"4": (10.0, -5.0), "7": (10.0, -7.0)}  # label: (weight on ink, bias)


def _build_tiny_text_bundle(out_dir):
    import keras

    from core.words import HEIGHT, STRIDE, TEXT_CONTRACT, WIDTH
    from ml.bundle import export_bundle

    model = keras.Sequential([
        keras.Input((HEIGHT, WIDTH, 1)),
        keras.layers.MaxPooling2D((HEIGHT, STRIDE)),
        keras.layers.Reshape((WIDTH // STRIDE, 1)),
        keras.layers.Dense(len(TINY_TEXT_LABELS) + 1, activation="softmax"),
    ])
    kernel = np.zeros((1, len(TINY_TEXT_LABELS) + 1), np.float32)
    bias = np.full(len(TINY_TEXT_LABELS) + 1, -12.0, np.float32)
    bias[0] = 0.0  # blank
    for label, (weight, offset) in TINY_TEXT_SCORES.items():
        kernel[0, TINY_TEXT_LABELS.index(label) + 1] = weight
        bias[TINY_TEXT_LABELS.index(label) + 1] = offset
    model.layers[-1].set_weights([kernel, bias])
    export_bundle(model, out_dir, {"name": "tiny-text", "version": "test-1", "labels": TINY_TEXT_LABELS,
                                   "decoding": "ctc"}, contract=TEXT_CONTRACT)


@pytest.fixture(scope="session")
def tiny_text_bundle(request, tmp_path_factory):
    """A tiny text bundle (built once, then reused from pytest's cache)."""
    from core import words

    digest = hashlib.sha256(Path(__file__).read_bytes() + Path(words.__file__).read_bytes())
    name = f"tiny-text-{digest.hexdigest()[:16]}"
    cache = getattr(request.config, "cache", None)
    out_dir = (Path(cache.mkdir(name)) if cache is not None else tmp_path_factory.mktemp(name)) / "text"
    if not (out_dir / "meta.json").is_file():
        _build_tiny_text_bundle(out_dir)
    return out_dir


@pytest.fixture
def tiny_text_model(tiny_models, tiny_text_bundle):
    """The tiny character bundles, and the tiny text model active: text mode reads with it."""
    from ml import registry

    registry.activate(registry.register_bundle("text", tiny_text_bundle))
    yield tiny_text_bundle
    registry.clear_cache()


def test_tapping_another_reading_puts_it_in_the_field_and_saves_it(screen, live_server, tiny_text_model):
    page, viewport = screen
    # As "any": digits drawn with strokes as "digit" are read apart, by the character model.
    write(page, live_server, "any", FORTY_TWO, viewport, live=viewport == "phone")
    field = page.get_by_label("What you wrote")
    readings = page.locator("#text-candidates button")
    expect(page.locator("#text-readings")).to_be_visible()
    expect(readings.first).to_have_attribute("aria-pressed", "true")  # the best: in the field
    best, other = readings.first.get_attribute("data-text"), readings.nth(1).get_attribute("data-text")
    expect(field).to_have_value(best)
    assert fits_the_screen(page)
    shot(page, f"text-5-readings-{viewport}")

    readings.nth(1).tap() if viewport == "phone" else readings.nth(1).click()
    expect(field).to_have_value(other)
    expect(readings.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(readings.first).to_have_attribute("aria-pressed", "false")
    page.get_by_role("button", name="Save correction").click()
    expect(page.locator("#text-status")).to_have_text(f"Thanks! Saved: you wrote “{other}”.")

    word = Word.objects.get()
    assert (word.text, word.feedback.is_correct, word.feedback.correct_text) == (best, False, other)
    characters = list(word.characters.order_by("position"))
    assert all(sample.model_name == "tiny-text" for sample in characters)
    answered = {sample.position: sample.feedback.label for sample in characters
                if hasattr(sample, "feedback")}
    # Each character is answered only when the reading tapped has one character per character read.
    assert answered == (dict(enumerate(other)) if len(other) == len(characters) else {})
