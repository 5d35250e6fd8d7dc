"""A reviewer clears a queue in Chromium with the keyboard alone, and on a phone with taps."""
import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from feedback.models import Feedback, ReviewDecision
from recognition.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase"


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["change_feedback", "view_feedback", "view_sample"]))
    return user


def log_in(page, live_server, path="/review/"):
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username:").fill("reviewer")
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#review")).to_be_visible()


def shown(page):
    item = page.locator("#item")
    expect(item).to_be_visible()
    return item.get_attribute("data-sample-id")


def test_twenty_items_reviewed_with_the_keyboard_only(page, live_server, make_sample, reviewer):
    corrections = [Feedback.objects.create(sample=make_sample(predicted="1"), is_correct=False,
                                           correct_label="7") for _ in range(20)]
    log_in(page, live_server)
    expect(page.locator("#count-corrections")).to_have_text("20")
    expected = {}
    keys = ["Enter", "-", "9", "Enter", "Delete"]
    for index in range(20):
        sample_id = shown(page)
        assert sample_id not in expected, "an item decided is never shown again"
        expect(page.locator("#answer-label")).to_have_text("7")
        expect(page.locator("#top5 tbody tr")).to_have_count(1)
        if index == 0:
            expect(page.locator("#original")).to_have_attribute("src", re.compile("^blob:"))
            shot(page, "review-queue-item")
        key = keys[index % len(keys)]
        if index == 7:
            # Skipped: it stays out of this visit and waits in the queue for later.
            page.keyboard.press("Space")
            expect(page.locator("#status")).to_have_text("Skipped")
            skipped = sample_id
            continue
        page.keyboard.press(key)
        expected[sample_id] = {"Enter": ("verified", "7"), "-": ("rejected", "7"),
                               "Delete": ("rejected", "7"), "9": ("verified", "9")}[key]
        if index == 10:
            # Second thoughts: undo brings the item back, and it gets a label instead.
            page.keyboard.press("Backspace")
            expect(page.locator("#status")).to_have_text("Undone: the item is back")
            assert shown(page) == sample_id
            page.keyboard.press("4")
            expected[sample_id] = ("verified", "4")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#count-corrections")).to_have_text("1")  # the skipped one
    shot(page, "review-queue-done")

    stored = {str(f.pk): (f.status, f.label) for f in Feedback.objects.exclude(pk=skipped)}
    assert stored == expected
    assert Feedback.objects.get(pk=skipped).status == "new"
    assert len(expected) == 19 and {f.pk for f in corrections} == {f.pk for f in Feedback.objects.all()}
    assert ReviewDecision.objects.filter(undone=False).count() == 19
    assert ReviewDecision.objects.filter(undone=True).count() == 1
    relabelled = Feedback.objects.filter(origin="reviewer").values_list("correct_label", flat=True)
    assert sorted(relabelled) == sorted(label for status, label in expected.values() if label != "7")


def test_on_a_phone_the_buttons_are_big_and_label_unlabelled_samples(browser, live_server,
                                                                    make_sample, reviewer):
    samples = [make_sample(predicted="3", confidence=0.4) for _ in range(3)]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    try:
        log_in(page, live_server, "/review/?queue=unlabelled")
        expect(page.locator("#count-unlabelled")).to_have_text("3")
        for name in ("Accept", "Reject", "Skip", "Undo"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box["height"] >= 48 and box["width"] >= 120, (name, box)
        expect(page.locator("#original")).to_have_attribute("src", re.compile("^blob:"))
        page.wait_for_function("document.getElementById('original').complete")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        expect(page.locator("#answer-who")).to_have_text("Model says (no answer yet)")
        first = shown(page)
        page.get_by_role("button", name="Accept").tap()
        second = shown(page)
        assert second != first
        page.locator("#label-input").fill("5")
        page.get_by_role("button", name="Label", exact=True).tap()
        third = shown(page)
        page.get_by_role("button", name="Reject").tap()
        expect(page.locator("#empty")).to_be_visible()
        expect(page.locator("#count-unlabelled")).to_have_text("0")
        shot(page, "review-queue-phone")
    finally:
        context.close()
    assert not errors, errors
    stored = {str(f.pk): (f.origin, f.status, f.label) for f in Feedback.objects.all()}
    assert stored == {first: ("reviewer", "verified", "3"), second: ("reviewer", "verified", "5"),
                      third: ("reviewer", "rejected", "3")}
    assert {str(s.pk) for s in samples} == set(stored)
