"""The upload page in Chromium: a phone photo is read as soon as it is chosen and shown with the
box that was read; dragging a box (mouse, or a finger on a phone) reads what is inside it;
a pasted screenshot and a dropped file are read too."""
import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recognition.models import Sample
from recognition.tests.browser import shot

PHOTOS = Path(__file__).resolve().parent / "photos"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo_point(page, x, y):
    """Page coordinates of a pixel of the photo shown on the upload page."""
    box = page.locator("#preview-boxes").bounding_box()
    width, height = page.evaluate("[document.getElementById('preview-boxes').width,"
                                  " document.getElementById('preview-boxes').height]")
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def test_a_photo_is_read_at_once_and_a_dragged_box_reads_the_other_character(page, live_server, real_models):
    """A sheet on a table with a 4 (pen, ruled) and a pencil 7 pasted beside it: the page shows
    what it read; dragging a box around the 7 reads the 7."""
    from PIL import Image

    from recognition.tests.images import encode

    four = Image.open(PHOTOS / "four-ruled.jpg")
    four.paste(Image.open(PHOTOS / "seven-squared-pencil.jpg").crop((501, 705, 572, 773)), (600, 300))
    page.goto(f"{live_server.url}/upload/")
    page.locator("#image").set_input_files(files=[{"name": "sheet.jpg", "mimeType": "image/jpeg",
                                                   "buffer": encode(four, "JPEG", quality=90)}])
    expect(page.locator("#result-label")).to_be_visible()
    expect(page.locator("#preview-boxes")).not_to_have_attribute("data-box", "")
    first = page.locator("#result-label").text_content()
    page.mouse.move(*photo_point(page, 585, 285))
    page.mouse.down()
    page.mouse.move(*photo_point(page, 640, 340), steps=5)
    page.mouse.move(*photo_point(page, 695, 395), steps=5)
    page.mouse.up()
    expect(page.locator("#result-label")).to_have_text("7")
    expect(page.get_by_role("button", name="Find the writing again")).to_be_visible()
    shot(page, "upload-box-dragged")
    left, top, right, bottom = map(float, page.locator("#preview-boxes").get_attribute("data-box").split(","))
    assert 580 <= left and right <= 700 and 280 <= top and bottom <= 400
    assert Sample.objects.count() == 2 and first in "47"


def test_a_finger_drags_the_box_on_a_phone(browser, live_server, real_models):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/upload/")
    expect(page.get_by_text("Take a photo")).to_be_visible()
    page.locator("#image").set_input_files(str(PHOTOS / "four-ruled.jpg"))
    expect(page.locator("#result-label")).to_have_text("4")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    start, end = photo_point(page, 280, 610), photo_point(page, 365, 757)
    cdp = context.new_cdp_session(page)
    for kind, (x, y) in (("touchStart", start), ("touchMove", ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)),
                         ("touchMove", end), ("touchEnd", end)):
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    expect(page.get_by_role("button", name="Find the writing again")).to_be_visible()
    expect(page.locator("#result-label")).to_have_text("4")
    shot(page, "phone-upload-box")
    context.close()


def test_a_pasted_screenshot_is_read(page, live_server, tiny_models):
    from recognition.tests.images import seven_png

    page.goto(f"{live_server.url}/upload/")
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "screenshot.png", { type: "image/png" }));
        document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data }));
    }""", base64.b64encode(seven_png()).decode())
    expect(page.locator("#result-bars li")).to_have_count(5)
    expect(page.locator("#preview")).to_be_visible()
    assert Sample.objects.get().source == "upload"


def test_a_file_that_is_not_a_picture_is_refused_in_words(page, live_server, tiny_models):
    page.goto(f"{live_server.url}/upload/")
    page.locator("#image").set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                   "buffer": b"hello"}])
    expect(page.locator("#error")).to_contain_text("not a picture")
    assert Sample.objects.count() == 0
