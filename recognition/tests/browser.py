"""Chromium through Playwright for the page tests: fixtures (registered by the root conftest)
and helpers that draw with the mouse, read what the drawing area shows and keep screenshots."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    # The tests' ORM checks run beside Playwright's event loop; the switch is put back after, so
    # that later tests (e.g. `check --deploy` in a subprocess) never inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def draw(page, strokes, steps=12):
    """Drag the mouse along each stroke's polyline over the canvas."""
    box = page.locator("#canvas").bounding_box()
    at = lambda point: (box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"])
    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for start, end in zip(stroke, stroke[1:]):
            for step in range(1, steps + 1):
                t = step / steps
                page.mouse.move(*at((start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)))
        page.mouse.up()


def canvas_image(page):
    """What the drawing area shows, as a PNG data URL: equal images, equal drawings."""
    return page.locator("#canvas").evaluate("canvas => canvas.toDataURL()")
