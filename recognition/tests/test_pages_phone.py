"""The draw page as people use it, in Chromium: on a phone (390x844, touch) the answer and the
guesses to tap are on screen after drawing; a tapped guess is the stored correction; live
previews store nothing until the person acts; close calls and misfitting kinds are said."""
import math

import pytest
from playwright.sync_api import expect

from feedback.models import Feedback
from recognition.models import Sample
from recognition.tests.browser import canvas_image, draw
from recognition.tests.test_browser import SEVEN, touch_draw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
FOUR = [[(0.55, 0.15), (0.2, 0.62), (0.75, 0.62)], [(0.55, 0.35), (0.55, 0.88)]]
# A "g": a round bowl and a tail that hooks left; the digit-or-letter model hesitates with 9.
BOWL = [(0.48 + 0.17 * math.cos(step / 12 * 2 * math.pi), 0.38 + 0.17 * math.sin(step / 12 * 2 * math.pi))
        for step in range(13)]
LETTER_G = [BOWL, [(0.65, 0.22), (0.65, 0.75), (0.58, 0.86), (0.45, 0.88), (0.35, 0.82)]]


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def on_screen(page, selector):
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_on_a_phone_the_answer_is_on_screen_and_a_tapped_guess_is_the_correction(phone, live_server, real_models):
    phone.goto(f"{live_server.url}/draw/")
    touch_draw(phone.context.new_cdp_session(phone), phone.locator("#canvas").bounding_box(), FOUR)
    expect(phone.locator("#result-label")).to_have_text("4")
    expect(phone.locator("#result-bars li")).to_have_count(5)
    assert phone.evaluate("window.scrollY") == 0
    for selector in ("#result-label", "#result-confidence", "#result-bars", "#feedback-yes"):
        assert on_screen(phone, selector), f"{selector} is below the screen"
    expect(phone.locator(".key-hint")).to_be_hidden()  # no keyboard on a phone
    assert not Sample.objects.exists()  # a live preview is not stored

    other = phone.locator("#result-bars button").nth(1)
    label = other.get_attribute("data-label")
    other.tap()
    expect(phone.locator("#feedback-status")).to_have_text(f"Thanks! Saved: you wrote “{label}”.")
    expect(other).to_have_attribute("aria-pressed", "true")
    feedback = Feedback.objects.select_related("sample").get()
    assert (feedback.sample.predicted_label, feedback.is_correct, feedback.correct_label) == ("4", False, label)
    assert feedback.sample.source == "canvas" and Sample.objects.count() == 1


def test_live_previews_store_nothing_until_the_person_acts(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    draw(page, SEVEN)
    expect(page.locator("#result-label")).to_have_text("7")
    draw(page, [[(0.3, 0.55), (0.6, 0.55)]])  # a crossed 7: another preview
    expect(page.locator("#result")).not_to_have_class("result stale")
    page.get_by_role("button", name="Undo").click()
    page.get_by_label("What will you write?").select_option("any")
    expect(page.locator("#result-label")).to_have_text("7")
    assert not Sample.objects.exists()

    page.get_by_role("button", name="Yes").click()  # acting on it stores the drawing, once
    expect(page.locator("#feedback-status")).to_contain_text("Saved as correct")
    sample = Sample.objects.get()
    assert (sample.kind, sample.predicted_label, sample.feedback.is_correct) == ("any", "7", True)

    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#result")).to_be_hidden()
    draw(page, SEVEN)
    expect(page.locator("#result")).to_be_visible()
    assert Sample.objects.count() == 1
    page.get_by_role("link", name="Upload").click()  # leaving after a final answer keeps it
    expect(page).to_have_url(f"{live_server.url}/upload/")
    for _ in range(50):
        if Sample.objects.count() == 2:
            break
        page.wait_for_timeout(100)
    assert Sample.objects.count() == 2 and not hasattr(Sample.objects.latest("created"), "feedback")


def test_a_close_call_shows_both_and_a_misfitting_kind_is_said(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()
    page.get_by_label("What will you write?").select_option("any")
    draw(page, LETTER_G)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-bars li")).to_have_count(5)
    first, second = Sample.objects.get().top5[:2]
    assert first["probability"] - second["probability"] < 0.2, "the drawing is no close call any more"
    expect(page.locator("#result-label")).to_have_text(f"{first['label']} or {second['label']}?")
    expect(page.locator("#result-bars .close")).to_have_count(2)
    expect(page.get_by_role("button", name="Yes")).to_be_hidden()  # the guesses are the question
    page.locator(f"#result-bars button[data-label='{second['label']}']").click()
    expect(page.locator("#feedback-status")).to_contain_text(f"you wrote “{second['label']}”")

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("What will you write?").select_option("letter")
    draw(page, SEVEN)
    page.get_by_role("button", name="Predict").click()
    note = page.locator("#result-note")
    expect(note).to_contain_text("This looks more like the digit 7: not a letter?")
    note.get_by_role("button", name="Read as digit or letter").click()
    expect(page.get_by_label("What will you write?")).to_have_value("any")
    expect(page.locator("#result-label")).to_have_text("7")
    page.get_by_role("button", name="Clear").click()  # no answer left to keep when the page closes


def test_typing_in_the_correction_box_never_touches_the_drawing(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()
    blank = canvas_image(page)
    draw(page, SEVEN)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).to_have_text("7")
    seven = canvas_image(page)
    expect(page.locator("#result-case")).to_be_hidden()  # no "Ignoring case" for a digit
    expect(page.locator("#result")).not_to_contain_text("Model")  # no model jargon either
    page.get_by_role("button", name="No").click()
    box = page.locator("#feedback-label")
    box.fill("x")
    box.press("Control+z")  # undoes the typing, as in any text box ...
    expect(box).to_have_value("")
    assert canvas_image(page) == seven  # ... and not the drawing
    expect(page.locator("#feedback-correct")).to_be_visible()
    box.fill("x")
    page.get_by_role("button", name="Send correction").click()  # the page's own words, not Chrome's
    expect(page.locator("#feedback-status")).to_have_text(
        "“x” is not one of the characters this model knows: type a digit, 0 to 9.")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.querySelector('#feedback-correct').checkValidity()")
    assert not Feedback.objects.exists() and Sample.objects.count() == 1
    page.locator("#canvas").press("Control+z")  # on the drawing itself, Ctrl+Z still undoes
    expect(page.locator("#result")).to_be_hidden()
    assert canvas_image(page) == blank
