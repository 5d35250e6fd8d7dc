"""Screenshots of the draw (a character, and a cursive word in text mode), upload and challenge
pages, on a phone and a desktop, light and dark.

    .venv/bin/python docs/screenshots/make_screenshots.py

Starts the development server on a free localhost port, with a throwaway SQLite database and
media folder (nothing lands in the real ones), uses each page as a person would in Debian's
Chromium, and saves what the screen shows as small PNGs next to this script.
"""
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from recognition.tests.browser import draw  # noqa: E402  (the mouse drawing the page tests use)
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
FOUR = [[(0.55, 0.15), (0.2, 0.62), (0.75, 0.62)], [(0.55, 0.35), (0.55, 0.88)]]
SEVEN = [[(0.22, 0.2), (0.78, 0.2), (0.45, 0.85)]]
# A word of a UNIPEN test writer (never seen in training), as pen strokes: see word.json.
WORD = json.loads((OUT / "word.json").read_text())


def fitted(strokes, aspect, margin=0.12):
    """Tablet strokes (y up) as fractions of a canvas `aspect` times wider than high."""
    points = [point for stroke in strokes for point in stroke]
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    scale = min((1 - 2 * margin) * aspect / (x1 - x0), (1 - 2 * margin) / (y1 - y0))
    left = (aspect - (x1 - x0) * scale) / 2
    top = (1 - (y1 - y0) * scale) / 2
    return [[((left + (x - x0) * scale) / aspect, top + (y1 - y) * scale) for x, y in stroke]
            for stroke in strokes]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(workdir):
    env = {**os.environ, "DEBUG": "True", "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
           "MEDIA_ROOT": str(workdir / "media"), "HWR_RATE_LIMIT": ""}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    port = free_port()
    server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the development server did not start")


def save(page, name):
    """The screen as it is (not the full page), quantised: a few tens of KB."""
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(OUT / f"{name}.png", optimize=True)
    print(f"docs/screenshots/{name}.png")


def shoot(browser, url, device, scheme, photo):
    context = browser.new_context(color_scheme=scheme, **VIEWPORTS[device])
    page = context.new_page()
    page.goto(f"{url}/draw/")
    draw(page, FOUR)
    expect(page.locator("#result-bars li")).to_have_count(5)
    save(page, f"draw-{device}-{scheme}")

    page.get_by_label("What will you write?").select_option("any")
    page.get_by_label("Mode").select_option("text")
    box = page.locator("#canvas").bounding_box()
    draw(page, fitted(WORD["strokes"], box["width"] / box["height"]), steps=1)
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#text-result")).to_be_visible()
    save(page, f"text-{device}-{scheme}")

    page.goto(f"{url}/upload/")
    page.locator("#image").set_input_files(str(photo))
    expect(page.locator("#result-bars li")).to_have_count(5)  # read as soon as it is chosen
    save(page, f"upload-{device}-{scheme}")

    page.goto(f"{url}/challenge/")
    expect(page.locator("#prompt")).not_to_have_text("…")
    for _ in range(30):  # skip to a 7, the one character drawn here
        if page.locator("#prompt").text_content() == "7":
            break
        shown = page.locator("#prompt").text_content()
        page.get_by_role("button", name="Skip").click()
        expect(page.locator("#prompt")).not_to_have_text(shown)
    draw(page, SEVEN)
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#last")).to_be_visible()
    save(page, f"challenge-{device}-{scheme}")
    context.close()


def main():
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        photo = ROOT / "recognition/tests/photos/four-ruled.jpg"  # a test writer's 4 on a table
        server, url = start_server(workdir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=["--no-sandbox", "--disable-gpu"])
                for device in VIEWPORTS:
                    for scheme in ("light", "dark"):
                        shoot(browser, url, device, scheme, photo)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
