"""A person writes a letter, says the answer was wrong, and a reviewer finds it in the admin."""
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from feedback.models import Feedback
from recognition.tests.browser import draw, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An upper-case "L": down the left side, then along the bottom (fractions of the canvas).
LETTER_L = [[(0.3, 0.15), (0.3, 0.85), (0.75, 0.85)]]


def test_letter_corrected_on_the_page_is_found_by_a_staff_reviewer(page, live_server,
                                                                   real_models):
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("What will you write?").select_option("letter")
    page.locator("#live").uncheck()
    draw(page, LETTER_L)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).to_have_text("L")
    shot(page, "review-1-letter-predicted")

    # The writer meant a lower-case "l" (as in "hello"): say so.
    page.get_by_role("button", name="No").click()
    page.locator("#feedback-label").fill("l")
    page.get_by_role("button", name="Send correction").click()
    expect(page.locator("#feedback-status")).to_contain_text("Saved")
    feedback = Feedback.objects.get()
    assert (feedback.sample.kind, feedback.sample.predicted_label, feedback.correct_label) == (
        "letter", "L", "l")

    get_user_model().objects.create_user("reviewer", password="a-long-pass-phrase",
                                         is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/feedback/feedback/?q=l")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/feedback/feedback/%3Fq%3Dl")
    page.get_by_label("Username:").fill("reviewer")
    page.get_by_label("Password:").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(str(feedback.sample_id)[:8])  # the short id links to the page
    expect(row).to_contain_text("letter")
    shot(page, "review-2-found-in-admin")
