"""The challenge page in Chromium: a prompt, a drawing with the mouse, the score and progress,
and a new prompt when the one drawn can no longer be scored."""
import re
import time

import pytest
from playwright.sync_api import expect

from challenge.services import ANSWER_WITHIN_SECONDS, read_token, sign_token
from recognition.models import Sample
from recognition.tests.browser import draw, shot
from recognition.tests.test_browser import SEVEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draw_what_is_asked_and_see_the_score(page, live_server, real_models):
    page.goto(f"{live_server.url}/challenge/")
    prompt = page.locator("#prompt")
    expect(prompt).to_have_text(re.compile(r"^[0-9]$"))
    asked = prompt.text_content()
    draw(page, SEVEN)
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#done")).to_have_text("1")
    sample = Sample.objects.get()
    assert (sample.prompt, sample.feedback.origin) == (asked, "prompt")
    verdict = page.locator("#last-verdict")
    if sample.predicted_label == asked:
        expect(verdict).to_contain_text("Yes!")
        expect(page.locator("#streak")).to_have_text("1")
    else:
        expect(verdict).to_contain_text(f"not “{asked}”")
        expect(page.locator("#streak")).to_have_text("0")
    score = round(100 * sample.confidence) if sample.predicted_label == asked else None
    if score is not None:
        expect(page.locator("#last-score")).to_have_text(f"+{score}")
    expect(prompt).not_to_have_text(asked)  # the next character is never the same one
    shot(page, "challenge-scored")

    page.get_by_label("What will you write?").select_option("letter")
    expect(prompt).to_have_text(re.compile(r"^[A-Za-z]$"))


def test_a_prompt_too_old_to_score_is_replaced_by_a_new_one(page, live_server, tiny_models):
    """The page sends the token the server gave with its prompt; here it is swapped (as if the
    drawing were sent two hours late) for one that has expired: the page says so and shows a
    new character, and the next drawing is scored."""
    page.goto(f"{live_server.url}/challenge/")
    prompt = page.locator("#prompt")
    expect(prompt).to_have_text(re.compile(r"^[0-9]$"))
    asked = prompt.text_content()
    state = read_token(page.evaluate("sessionStorage.getItem('hwr-challenge')"))
    assert state["prompt"] == asked
    late = sign_token({**state, "asked_at": time.time() - 2 * ANSWER_WITHIN_SECONDS})
    page.route("**/challenge/answer",
               lambda route: route.continue_(headers={**route.request.headers, "x-challenge": late}),
               times=1)
    draw(page, SEVEN)
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#error")).to_contain_text("more than 60 minutes ago: a new one is shown")
    expect(prompt).not_to_have_text(asked)
    assert not Sample.objects.exists()
    replaced = prompt.text_content()

    draw(page, SEVEN)
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#done")).to_have_text("1")
    expect(page.locator("#error")).to_be_hidden()
    assert Sample.objects.get().prompt == replaced
