"""The site's small things in Chromium: no console error or 404 (a favicon), dark mode, a way
back from the API docs, Challenge on the home page, keyboard hints where there is a keyboard,
a text canvas as wide as its card and large enough for a finger, and a pen width to choose."""
import pytest
from playwright.sync_api import expect

from recognition.tests.browser import draw
from recognition.tests.test_pages_phone import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ["/", "/draw/", "/upload/", "/challenge/", "/api/v1/docs", "/admin/login/"]


def test_no_page_logs_an_error_or_misses_a_file(page, live_server, tiny_models):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("response", lambda response: response.status >= 400 and problems.append(response.url))
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert not problems
    icon = page.request.get(f"{live_server.url}/static/favicon.svg")
    assert icon.ok and b"<svg" in icon.body()


def test_the_api_docs_lead_back_and_the_home_page_offers_the_challenge(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_role("link", name="← Back to hwr").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("link", name="Take the challenge").click()
    expect(page).to_have_url(f"{live_server.url}/challenge/")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_follow_the_systems_colour_scheme(browser, live_server, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{live_server.url}/draw/")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    red, green, blue = (int(part) for part in background[background.index("(") + 1:-1].split(",")[:3])
    assert (red + green + blue < 150) == (scheme == "dark"), background
    context.close()


def ink_pixels(page):
    """Pixels of the pad's canvas darker than mid-grey (light scheme: black ink on white)."""
    return page.evaluate("""() => {
        const canvas = document.getElementById('canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] < 128) count++;
        return count;
    }""")


def test_desktop_pen_width_hints_and_a_text_canvas_as_wide_as_its_card(page, live_server, tiny_models):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/draw/")
    expect(page.locator(".key-hint")).to_be_visible()
    page.locator("#live").uncheck()
    page.get_by_label("Pen", exact=True).select_option("fine")
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    fine = ink_pixels(page)
    page.get_by_label("Pen", exact=True).select_option("bold")
    bold = ink_pixels(page)
    assert bold > 2.5 * fine > 0

    page.get_by_label("Mode").select_option("text")
    canvas = page.locator("#canvas").bounding_box()
    pad = page.locator(".pad").bounding_box()
    assert canvas["width"] >= pad["width"] - 40 and canvas["width"] / canvas["height"] == pytest.approx(3, rel=0.02)


def test_on_a_phone_the_text_canvas_fits_a_finger(browser, live_server, tiny_models):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/draw/")
    page.get_by_label("Mode").select_option("text")
    canvas = page.locator("#canvas").bounding_box()
    pad = page.locator(".pad").bounding_box()
    assert canvas["width"] >= pad["width"] - 30 and canvas["height"] >= 160
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    mode = page.get_by_label("Mode")
    text_width = page.evaluate("""(select) => {
        const context = document.createElement('canvas').getContext('2d');
        context.font = getComputedStyle(select).font;
        return context.measureText(select.selectedOptions[0].text).width;
    }""", mode.element_handle())
    assert text_width + 30 <= mode.bounding_box()["width"]  # the chosen mode is not cut off
    context.close()
