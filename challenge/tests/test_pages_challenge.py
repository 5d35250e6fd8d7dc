"""The challenge on a phone (390x844, touch): prompts vary and Skip never brings back a recent
one; after Done the score and verdict are on screen beside the next prompt."""
import re

import pytest
from playwright.sync_api import expect

from challenge.services import RECENT
from recognition.models import Sample
from recognition.tests.test_browser import SEVEN, touch_draw
from recognition.tests.test_pages_phone import PHONE, on_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_skip_varies_and_the_verdict_is_on_screen(browser, live_server, real_models):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/challenge/")
    prompt = page.locator("#prompt")
    page.get_by_label("What will you write?").select_option("letter")
    expect(prompt).to_have_text(re.compile(r"^[A-Za-z]$"))
    asked = [prompt.text_content()]
    for _ in range(8):
        page.get_by_role("button", name="Skip").tap()
        expect(prompt).not_to_have_text(asked[-1])
        asked.append(prompt.text_content())
    for index in range(len(asked)):
        window = asked[max(0, index - RECENT + 1):index + 1]
        assert len(set(window)) == len(window), asked

    finger = context.new_cdp_session(page)
    touch_draw(finger, page.locator("#canvas").bounding_box(), SEVEN)
    # Clicked, not tapped: Chromium's gesture detector takes the emulated finger's fast last
    # moves for a fling, and swallows a tap sent within the fling's time to stop it.
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#done")).to_have_text("1")
    sample = Sample.objects.get()
    assert sample.prompt == asked[-1]
    expect(page.locator("#last-verdict")).to_contain_text(f"The model read “{sample.predicted_label}”")
    assert page.evaluate("window.scrollY") == 0
    for selector in ("#last-score", "#last-verdict", "#prompt", "#canvas"):
        assert on_screen(page, selector), f"{selector} is off the screen"
    expect(page.locator(".key-hint")).to_be_hidden()
    context.close()
