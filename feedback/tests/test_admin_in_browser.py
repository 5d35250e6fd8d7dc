"""The admin's list pages at 1280 px in Chromium: key columns on screen, no sideways scrolling,
small thumbnails (never the originals)."""
import pytest
from playwright.sync_api import expect

from feedback.models import Feedback
from feedback.tests.test_review import photo_sample
from recognition.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rows(make_sample):
    photo, photo_bytes = photo_sample(make_sample)
    Feedback.objects.create(sample=photo, is_correct=False, correct_label="8")
    for index in range(24):
        kind, predicted = [("digit", "1"), ("letter", "a"), ("any", "Q")][index % 3]
        sample = make_sample(kind=kind, predicted=predicted, confidence=0.5 + index / 100,
                             model_version=f"2026120{index % 3}123456789012")
        if index % 2:
            Feedback.objects.create(sample=sample, is_correct=False, correct_label="7" if kind == "digit" else "b")
    return photo_bytes


def fits(page):
    """(content width, visible width) of the results table's scrolling box."""
    return page.evaluate("""() => { const box = document.querySelector('#changelist .results');
                                    return [box.scrollWidth, box.clientWidth]; }""")


def test_list_pages_fit_1280_px_with_small_thumbnails(page, live_server, rows, admin_user):
    page.set_viewport_size({"width": 1280, "height": 900})
    image_bytes = []
    page.on("response", lambda response: image_bytes.append(len(response.body()))
            if "/review/image/" in response.url else None)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/feedback/feedback/")
    page.get_by_label("Username:").fill("admin")
    page.get_by_label("Password:").fill("password")
    page.get_by_role("button", name="Log in").click()
    for path, columns in [("/admin/feedback/feedback/", ["status", "origin", "synced", "updated"]),
                          ("/admin/recognition/sample/",
                           ["predicted_label", "margin_shown", "feedback_status", "created"]),
                          ("/admin/ml/modelversion/", ["headline_metrics", "created"])]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#result_list")).to_be_visible()
        page.wait_for_load_state("networkidle")
        content, visible = fits(page)
        assert content <= visible, (path, content, visible)
        for column in columns:
            box = page.locator(f"#result_list th.column-{column}").bounding_box()
            assert box and box["x"] + box["width"] <= 1280, (path, column, box)
        shot(page, "admin-list" + path.replace("/", "-").rstrip("-"))
    assert image_bytes, "thumbnails were requested"
    assert max(image_bytes) < 5000 < rows, (max(image_bytes), rows)
