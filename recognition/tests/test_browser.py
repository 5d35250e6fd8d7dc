"""The canvas page in Debian's Chromium: draw with the mouse, predict, correct the answer."""
import pytest
import numpy as np
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from recognition.models import Sample
from recognition.tests.browser import canvas_image, draw, shot

# A "7": the bar, then the diagonal, as fractions of the canvas.
SEVEN = [[(0.22, 0.2), (0.78, 0.2), (0.45, 0.85)]]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def touch_draw(cdp, box, strokes, steps=12):
    """Drag a finger along each stroke, as a phone's touchscreen reports it."""
    def touch(kind, point):
        x, y = box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    for stroke in strokes:
        touch("touchStart", stroke[0])
        for start, end in zip(stroke, stroke[1:]):
            for step in range(1, steps + 1):
                t = step / steps
                touch("touchMove", (start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t))
        touch("touchEnd", stroke[-1])


def test_draw_a_seven_predict_and_correct_it(page, live_server, real_models):
    page.goto(f"{live_server.url}/draw/")
    page.locator("#live").uncheck()  # this test drives Predict itself
    draw(page, SEVEN)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).to_have_text("7")
    expect(page.locator("#result-bars li")).to_have_count(5)
    assert page.locator("#result-seen").get_attribute("src").startswith("data:image/png;base64,")
    shot(page, "draw-1-predicted-seven")

    sample = Sample.objects.get()
    assert (sample.source, sample.kind, sample.predicted_label) == ("canvas", "digit", "7")

    page.get_by_role("button", name="No").click()
    expect(page.locator("#feedback-valid")).to_have_text("a digit, 0 to 9")
    page.locator("#feedback-label").fill("1")
    page.get_by_role("button", name="Send correction").click()
    expect(page.locator("#feedback-status")).to_contain_text("Saved")
    expect(page.get_by_role("button", name="No")).to_be_hidden()
    shot(page, "draw-2-corrected")
    sample.refresh_from_db()
    assert (sample.feedback.is_correct, sample.feedback.correct_label) == (False, "1")


def test_live_prediction_undo_and_clear(page, live_server, tiny_models):
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("What will you write?").select_option("letter")
    draw(page, SEVEN)
    expect(page.locator("#result")).to_be_visible()  # live: no click needed, nothing stored
    assert not Sample.objects.exists()
    page.get_by_role("button", name="Predict").click()  # predicting explicitly stores it
    for _ in range(50):
        if Sample.objects.exists():
            break
        page.wait_for_timeout(100)
    with Sample.objects.get().image.open("rb") as sent:
        assert Image.open(sent).size == (280, 280)  # whatever the screen, the page sends 280 px
    seven = canvas_image(page)
    draw(page, [[(0.3, 0.5), (0.7, 0.5)]])
    assert canvas_image(page) != seven
    page.get_by_role("button", name="Undo").click()
    assert canvas_image(page) == seven  # the bar is gone, the 7 is left
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#result")).to_be_hidden()
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#error")).to_have_text("Draw a character first.")


def test_server_errors_are_shown(page, live_server, no_models):
    # no models: the server really answers 503
    page.goto(f"{live_server.url}/draw/")
    draw(page, SEVEN)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#error")).to_contain_text("no model available for 'digit'")
    shot(page, "draw-error-shown")


def test_phone_viewport_upload_page_and_keyboard(browser, live_server, tiny_models, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 667}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/draw/")
    box = page.locator("#canvas").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["width"] >= 250
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    focused = set()
    for _ in range(14):
        page.keyboard.press("Tab")
        focused.add(page.evaluate("document.activeElement.id"))
    assert {"kind", "mode", "canvas", "predict", "undo", "clear", "live"} <= focused
    blank = canvas_image(page)
    touch_draw(context.new_cdp_session(page), box, SEVEN)
    expect(page.locator("#result-bars li")).to_have_count(5)  # live prediction after the stroke
    shot(page, "phone-draw-touch")
    page.get_by_role("button", name="Undo").tap()  # the finger drew one stroke: one undo clears it
    expect(page.locator("#result")).to_be_hidden()
    assert canvas_image(page) == blank

    from recognition.tests.images import seven_png

    image = tmp_path / "seven.png"
    image.write_bytes(seven_png())
    page.goto(f"{live_server.url}/upload/")
    page.locator("#image").set_input_files(str(image))  # read at once
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#result-bars li")).to_have_count(5)
    expect(page.get_by_role("button", name="Yes")).to_be_visible()
    shot(page, "phone-upload")
    context.close()


def photo_of_a_seven(path):
    """A phone photo of a 7 on paper: uneven light, grain, blue ink, a slight tilt, JPEG."""
    rng = np.random.default_rng(7)
    height, width = 480, 640
    light = np.linspace(0.55, 0.95, width)[None, :] * np.linspace(0.8, 1.0, height)[:, None]
    paper = np.stack([light * 235, light * 228, light * 210], axis=-1)
    photo = Image.fromarray(np.clip(paper + rng.normal(0, 6, paper.shape), 0, 255).astype(np.uint8))
    ink = Image.new("L", photo.size, 0)
    ImageDraw.Draw(ink).line([(230, 120), (420, 120), (290, 380)], fill=255, width=16,
                             joint="curve")
    ink = ink.rotate(6, resample=Image.Resampling.BILINEAR)
    photo.paste(Image.new("RGB", photo.size, (40, 50, 120)), mask=ink)
    photo.save(path, "JPEG", quality=80)
    return path


def test_upload_a_photo_see_the_preview_and_the_answer(page, live_server, real_models, tmp_path):
    page.goto(f"{live_server.url}/upload/")
    page.locator("#image").set_input_files(str(photo_of_a_seven(tmp_path / "photo.jpg")))
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#result-label")).to_have_text("7")
    assert page.locator("#result-seen").get_attribute("src").startswith("data:image/png;base64,")
    shot(page, "upload-photo-answered")
    assert Sample.objects.get().source == "upload"
