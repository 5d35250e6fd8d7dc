"""Text mode in Chromium: write "42" and "Hi" on the canvas page with the mouse, upload a "42"
whose digits touch, read them back and correct them."""
import pytest
from playwright.sync_api import expect

from feedback.models import Feedback, Word
from recognition.tests.browser import draw, shot
from recognition.tests.images import touching_forty_two

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


def write(page, live_server, kind, strokes):
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("What will you write?").select_option(kind)
    page.get_by_label("Mode").select_option("text")
    page.locator("#live").uncheck()
    draw(page, strokes)
    page.get_by_role("button", name="Predict").click()


def correct(page, number, label, text):
    """Fix character `number` (from 1), save, and return the stored answers by position."""
    page.get_by_label(f"Character {number}").fill(label)
    page.get_by_role("button", name="Save corrections").click()
    expect(page.locator("#text-status")).to_contain_text(f"you wrote “{text}”")
    return {f.sample.position: (f.is_correct, f.correct_label)
            for f in Feedback.objects.select_related("sample")}


def test_write_42_read_it_and_correct_one_character(page, live_server, real_models):
    write(page, live_server, "digit", FORTY_TWO)
    expect(page.locator("#text-label")).to_have_text("42")
    expect(page.locator("#text-characters li")).to_have_count(2)
    shot(page, "text-1-forty-two")
    word = Word.objects.get()
    assert (word.text, word.source, len(word.strokes)) == ("42", "canvas", 3)
    assert all(len(point) == 3 for stroke in word.strokes for point in stroke)  # x, y, t

    assert correct(page, 2, "7", "47") == {0: (True, ""), 1: (False, "7")}


def test_write_hi_with_a_dotted_i(page, live_server, real_models):
    write(page, live_server, "letter", HI)
    expect(page.locator("#text-label")).to_have_text("Hi")
    expect(page.locator("#text-characters li")).to_have_count(2)
    shot(page, "text-2-hi")
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
    expect(page.locator("#text-label")).to_have_text("42")
    expect(page.locator("#text-characters li")).to_have_count(2)
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#preview-boxes")).to_have_attribute("data-count", "2")  # boxed on the preview
    shot(page, "text-3-upload-forty-two")
    word = Word.objects.get()
    assert (word.text, word.source, word.strokes) == ("42", "upload", None)

    assert correct(page, 1, "1", "12") == {0: (False, "1"), 1: (True, "")}
