"""The draw page in Chromium when things are slow, fail or need correcting: a busy sign, a stale
answer marked, errors in words, text corrections that say what they will save, and the other
case mentioned only when it shares the answer."""
import math
import re

import pytest
from playwright.sync_api import expect

from feedback.models import Feedback
from recognition.models import Word
from recognition.tests.browser import draw
from recognition.tests.test_browser import SEVEN
from recognition.tests.test_text_browser import FORTY_TWO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_slow_answer_shows_a_busy_sign_and_a_changed_drawing_marks_it_stale(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()
    held = []
    page.route("**/submit", lambda route: held.append(route))  # the server's answers wait here
    draw(page, SEVEN)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#busy")).to_be_visible()
    expect(page.locator("#workspace")).to_have_attribute("aria-busy", "true")
    for route in held:
        route.continue_()
    page.unroute("**/submit")
    expect(page.locator("#result-label")).to_have_text("7")
    expect(page.locator("#busy")).to_be_hidden()

    draw(page, [[(0.3, 0.55), (0.6, 0.55)]])  # Live is off: the answer no longer fits the drawing
    expect(page.locator("#result")).to_have_class("result stale")
    expect(page.locator("#result-note")).to_have_text("The drawing changed: press Predict for a new answer.")
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result")).to_have_class("result")
    expect(page.locator("#result-note")).to_be_hidden()


def test_failed_requests_are_said_in_words(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()
    draw(page, SEVEN)
    error = page.locator("#error")

    page.route("**/submit", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Predict").click()
    expect(error).to_have_text("Could not read the drawing: the server could not be reached: "
                               "check your connection, then try again.")
    page.unroute("**/submit")

    page.route("**/submit", lambda route: route.fulfill(status=500, body="<h1>Server Error</h1>"))
    page.get_by_role("button", name="Predict").click()
    expect(error).to_have_text("Could not read the drawing: the server ran into a problem (error 500): "
                               "try again in a moment.")
    page.unroute("**/submit")

    # The real server refuses a body over its limit (5 MB) with a 413: sent with the page's own
    # request module, as a drawing that large would be.
    message = page.evaluate("""() => import('/static/js/api.js')
        .then(({postJSON}) => postJSON('/submit', {image: 'data:image/png;base64,' + 'A'.repeat(6e6)}))
        .then(() => 'accepted', (error) => error.message)""")
    assert message == "the image is too large to send (the limit is 5 MB): choose a smaller image, or crop it"

    page.get_by_role("button", name="Predict").click()
    expect(error).to_be_hidden()
    expect(page.locator("#result-label")).to_have_text("7")


def test_text_corrections_say_what_they_save(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("Mode").select_option("text")
    expect(page.locator("#case-option")).to_be_hidden()  # digits have no case
    draw(page, FORTY_TWO)  # Live: a preview, stored only when saved
    field = page.get_by_label("What you wrote")
    expect(field).to_have_value("42")
    save = page.locator("#text-save")
    expect(save).to_have_text("All correct")
    assert not Word.objects.exists()

    field.fill("47")
    expect(field).to_have_class("text-answer edited")
    expect(save).to_have_text("Save correction")
    field.fill("42")
    expect(save).to_have_text("All correct")
    field.fill("4x")
    save.click()
    expect(page.locator("#text-status")).to_have_text(
        "Could not save your answer: 'x' cannot be in a digit word: write it with the digits 0 to 9 only.")
    assert not Feedback.objects.exists()
    field.fill("47")
    save.click()
    expect(page.locator("#text-status")).to_have_text("Thanks! Saved: you wrote “47”.")
    word = Word.objects.get()  # stored once, when first saved
    answers = {s.position: (s.feedback.is_correct, s.feedback.correct_label) for s in word.characters.all()}
    assert (word.text, word.feedback.correct_text, answers) == ("42", "47", {0: (True, ""), 1: (False, "7")})

    page.get_by_label("What will you write?").select_option("letter")
    expect(page.locator("#case-option")).to_be_visible()
    page.get_by_role("button", name="Clear").click()  # no answer left to keep when the page closes


def ring(centre, radius, steps=16):
    return [(centre[0] + radius * math.cos(2 * math.pi * k / steps), centre[1] + radius * math.sin(2 * math.pi * k / steps))
            for k in range(steps + 1)]


LETTER_A = [ring((0.45, 0.55), 0.2), [(0.65, 0.35), (0.65, 0.78)]]
LETTER_S = [[(0.7, 0.25), (0.35, 0.3), (0.4, 0.5), (0.65, 0.55), (0.6, 0.75), (0.3, 0.75)]]


def test_case_is_mentioned_only_when_it_splits_the_answer(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()
    page.get_by_label("What will you write?").select_option("letter")
    draw(page, LETTER_A)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).to_have_text("a")  # no "Ignoring case: A" beside it
    expect(page.locator("#result-case")).to_be_hidden()

    page.get_by_role("button", name="Clear").click()
    draw(page, LETTER_S)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).to_have_text(re.compile("^[sS]$"))
    label = page.locator("#result-label").text_content()
    expect(page.locator("#result-case")).to_have_text(
        re.compile(rf"^“{label}” or “{label.swapcase()}”, either case: (9[0-9]|100)\.[0-9] %$"))
