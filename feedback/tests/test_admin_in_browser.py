"""The admin's list pages at 1280 px in Chromium: key columns on screen, no sideways scrolling,
small thumbnails (never the originals); the dataset export, on a desktop and a phone."""
import csv
import io
import zipfile

import pytest
from playwright.sync_api import expect

from feedback.models import Feedback
from feedback.tests.test_review import photo_sample
from feedback.training import usable_feedback
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


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_export_offers_retrains_choices_and_downloads_what_retrain_takes(
        page, live_server, make_sample, admin_user, viewport):
    """Select every row, choose the export, tick "not yet reviewed": the zip holds exactly the
    samples `retrain --include-unreviewed` takes, of every kind."""
    for kind, status, origin in [("digit", "verified", "answer"), ("digit", "new", "answer"),
                                 ("digit", "rejected", "answer"), ("digit", "verified", "prompt"),
                                 ("letter", "new", "reviewer"), ("letter", "new", "prompt")]:
        Feedback.objects.create(sample=make_sample(kind=kind, predicted="1" if kind == "digit" else "a"),
                                is_correct=True, status=status, origin=origin)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/feedback/feedback/")
    page.get_by_label("Username:").fill("admin")
    page.get_by_label("Password:").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("export_dataset")
    page.get_by_role("button", name="Go").click()
    table = page.locator("#export-choices")
    expect(table).to_be_visible()
    counts = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert counts == ["1", "3", "2", "5"]
    unreviewed = page.get_by_label("Include answers not yet reviewed")
    expect(unreviewed).not_to_be_checked()
    expect(page.get_by_label("Include challenge drawings")).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"admin-export-{viewport['width']}")
    unreviewed.check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        table = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
    assert {row["sample_id"] for row in table} == {
        str(feedback.sample_id) for kind in ("digit", "letter", "any")
        for feedback in usable_feedback(kind, include_unreviewed=True)}
    assert len(table) == 3
