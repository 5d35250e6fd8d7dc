"""A reviewer clears the words queue in Chromium with the keyboard: accepts a correction, edits
a text, rejects one, undoes it and saves a reading instead; on a desktop and on a phone."""
import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from feedback.models import WordFeedback, WordReviewDecision
from recognition.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1000, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["change_wordfeedback", "view_wordfeedback"]))
    return user


@pytest.fixture
def waiting(make_word):
    """A corrected letter word, a corrected number and a confirmed number, in that order."""
    def answered(text, kind, given, readings):
        word = make_word(text, kind=kind)
        word.candidates = [{"text": reading, "confidence": share} for reading, share in readings]
        word.save()
        return WordFeedback.objects.create(word=word, is_correct=given == text,
                                           correct_text="" if given == text else given)

    return [answered("Hallo", "letter", "Hello", [("Hallo", 0.6), ("Hello", 0.3), ("Hullo", 0.1)]),
            answered("17", "digit", "71", [("17", 0.8), ("11", 0.2)]),
            answered("42", "digit", "42", [("42", 0.55), ("47", 0.45)])]


def showing(page, feedback):
    expect(page.locator("#item")).to_have_attribute("data-word-id", str(feedback.pk))


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_reviewer_reviews_words_with_the_keyboard(browser, live_server, reviewer, waiting, device):
    hallo, seventeen, forty_two = waiting
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    try:
        page.goto(f"{live_server.url}/review/?queue=words")
        page.get_by_label("Username:").fill("reviewer")
        page.get_by_label("Password:").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#count-words")).to_have_text("3")

        showing(page, hallo)
        expect(page.locator("#answer-label")).to_have_text("Hello")
        expect(page.locator("#read-text")).to_have_text("Hallo")
        expect(page.locator("#candidates tbody tr")).to_have_count(3)
        expect(page.locator("#normalized-figure")).to_be_hidden()
        expect(page.locator("#original")).to_have_attribute("src", re.compile("^blob:"))
        page.wait_for_function("document.getElementById('original').complete")
        if device == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
            for name in ("Accept", "Reject", "Skip", "Undo", "Save text"):
                box = page.get_by_role("button", name=name).bounding_box()
                assert box["height"] >= 48 and box["width"] >= 120, (name, box)
        shot(page, f"review-words-{device}")
        page.keyboard.press("Enter")

        # E opens the text, selected: typing replaces it, Enter saves it.
        showing(page, seventeen)
        page.keyboard.press("e")
        expect(page.locator("#text-input")).to_be_focused()
        expect(page.locator("#text-input")).to_have_value("71")
        page.keyboard.type("77")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text("Saved 77")

        showing(page, forty_two)
        page.keyboard.press("-")
        expect(page.locator("#empty")).to_be_visible()
        # Second thoughts: undo brings it back, and the second reading is saved instead.
        page.keyboard.press("Backspace")
        expect(page.locator("#status")).to_have_text("Undone: the item is back")
        showing(page, forty_two)
        page.keyboard.press("2")
        expect(page.locator("#text-input")).to_have_value("47")
        page.keyboard.press("Enter")
        expect(page.locator("#empty")).to_be_visible()
        expect(page.locator("#count-words")).to_have_text("0")
        expect(page.locator("#history li")).to_have_count(3)
    finally:
        context.close()
    assert not errors, errors

    stored = {f.pk: (f.status, f.text, f.origin) for f in WordFeedback.objects.select_related("word")}
    assert stored == {hallo.pk: ("verified", "Hello", "answer"),
                      seventeen.pk: ("verified", "77", "reviewer"),
                      forty_two.pk: ("verified", "47", "reviewer")}
    assert {f.reviewed_by_id for f in WordFeedback.objects.all()} == {reviewer.pk}
    assert WordReviewDecision.objects.filter(undone=False).count() == 3
    assert WordReviewDecision.objects.get(undone=True).action == "reject"
