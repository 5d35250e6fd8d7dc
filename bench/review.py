"""Reviewer speed and admin page weight (issue 26).

    .venv/bin/python bench/review.py [--items 100] [--keys 40]

On a scratch SQLite database with a page's worth of samples (canvas drawings, uploaded photos
and one full-size phone photo, as stored by the app):
1. the samples list page (`/admin/recognition/sample/`, 100 rows): bytes of the HTML and of the
   images it loads, before (the list loaded each original as its thumbnail) and now (64 px
   copies made once); the time to make a thumbnail the first time and to serve it after;
2. the review queue's server side, through Django's test client in this process: time per
   decision (`POST /review/decide`, accept / reject / label in turn), per fetch of 5 items
   (`GET /review/items`, previews made there), and bytes per item (its JSON share plus its
   320 px preview);
3. the page's reaction to a key, in Chromium against `manage.py runserver` on the same
   database: from the key press until the next item is on screen (`--keys` items, keyboard only).
"""
import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django

PASSWORD = "bench-pass-phrase-123"


def canvas_png(rng):
    image = Image.new("L", (280, 280), 255)
    points = [tuple(rng.uniform(40, 240, 2)) for _ in range(4)]
    ImageDraw.Draw(image).line(points, fill=0, width=13, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def photo_jpeg(rng, size):
    """A phone-like photo of a pencil character on paper: shading, grain, blur."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    paper = 200 + 30 * np.sin(x / width * 3 + y / height * 2) + rng.normal(0, 6, (height, width))
    image = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(image)
    points = [(rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height) for _ in range(4)]
    draw.line(points, fill=(70, 70, 80), width=max(4, width // 60), joint="curve")
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def make_samples(items, rng):
    """`items` samples: mostly canvas drawings, one in ten an uploaded photo, one phone photo."""
    import hashlib

    from django.core.files.base import ContentFile

    from ml.kinds import LABELS
    from recognition.models import Sample

    samples = []
    for index in range(items):
        if index == 0:
            data, name = photo_jpeg(rng, (4032, 3024)), "phone.jpg"
        elif index % 10 == 0:
            data, name = photo_jpeg(rng, (1200, 1600)), "upload.jpg"
        else:
            data, name = canvas_png(rng), "canvas.png"
        first = float(rng.uniform(0.3, 0.99))
        labels = rng.choice(LABELS["digit"], 2, replace=False)
        thumb = Image.new("L", (28, 28))
        buffer = io.BytesIO()
        thumb.save(buffer, format="PNG")
        sample = Sample(kind="digit", source="upload" if name.endswith("jpg") else "canvas",
                        image_sha256=hashlib.sha256(data).hexdigest(),
                        normalized_png=buffer.getvalue(), predicted_label=str(labels[0]),
                        confidence=first, top5=[{"label": str(labels[0]), "probability": first},
                                                {"label": str(labels[1]), "probability": (1 - first) / 2}],
                        model_name="digit", model_version="bench")
        sample.image.save(name, ContentFile(data), save=False)
        sample.save()
        samples.append(sample)
    return samples


def ms(values):
    values = sorted(values)
    return (f"p50 {1000 * statistics.median(values):.1f} ms, "
            f"p95 {1000 * values[min(len(values) - 1, int(0.95 * len(values)))]:.1f} ms, "
            f"max {1000 * values[-1]:.1f} ms (n={len(values)})")


def list_page_weight(client, samples):
    import re

    from feedback.models import Thumbnail

    Thumbnail.objects.all().delete()
    html = client.get("/admin/recognition/sample/").content
    sources = re.findall(rb'<img src="(/review/image/[^"]+)"', html)
    originals = sum(sample.image.size for sample in samples[:100])
    first, again, thumbnail_bytes = [], [], 0
    for url in sources:
        started = time.perf_counter()
        response = client.get(url.decode())
        first.append(time.perf_counter() - started)
        thumbnail_bytes += len(response.content)
    for url in sources:
        started = time.perf_counter()
        client.get(url.decode())
        again.append(time.perf_counter() - started)
    print(f"samples list page, {len(sources)} rows: HTML {len(html) / 1024:.0f} KB")
    print(f"  before (originals as thumbnails): images {originals / 1024 / 1024:.2f} MB, "
          f"page {(originals + len(html)) / 1024 / 1024:.2f} MB")
    print(f"  now (64 px copies): images {thumbnail_bytes / 1024:.0f} KB "
          f"({thumbnail_bytes / max(len(sources), 1):.0f} B each), "
          f"page {(thumbnail_bytes + len(html)) / 1024:.0f} KB")
    print(f"  thumbnail made on first view: {ms(first)}")
    print(f"  thumbnail served after:       {ms(again)}")


def server_side(client, samples):
    from feedback.models import Feedback

    exclude, fetches, decisions, item_bytes, preview_bytes = [], [], [], [], []
    actions = [("accept", ""), ("reject", ""), ("label", "7")]
    decided = 0
    while True:
        started = time.perf_counter()
        response = client.get("/review/items", {"queue": "unlabelled", "count": 5,
                                                "exclude": ",".join(exclude)})
        fetches.append(time.perf_counter() - started)
        items = response.json()["items"]
        if not items:
            break
        item_bytes.append(len(response.content) / len(items))
        for item in items:
            preview_bytes.append(len(client.get(item["image"]).content))
            action, label = actions[decided % 3]
            if action == "label" and item["predicted"] == "7":
                label = "1"
            started = time.perf_counter()
            answer = client.post("/review/decide", json.dumps(
                {"sample_id": item["sample_id"], "action": action, "label": label,
                 "queue": "unlabelled"}), content_type="application/json")
            decisions.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.content
            decided += 1
    print(f"review queue, server side ({decided} decisions, unlabelled queue):")
    print(f"  POST /review/decide: {ms(decisions)}")
    print(f"  GET /review/items (5 items, previews made there): {ms(fetches)}")
    print(f"  bytes per item: JSON {statistics.mean(item_bytes):.0f} B + preview "
          f"{statistics.mean(preview_bytes):.0f} B (max {max(preview_bytes)} B)")
    assert Feedback.objects.count() == decided


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_keys(env, keys):
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=ROOT, env={**env, "DEBUG": "True"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/admin/login/?next=/review/%3Fqueue%3Dcorrections")
            page.fill("#id_username", "bench")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#item[data-sample-id]")
            reactions = []
            for index in range(keys):
                shown = page.get_attribute("#item", "data-sample-id")
                started = time.perf_counter()
                page.keyboard.press(["Enter", "-", "7"][index % 3])
                page.wait_for_function(
                    "id => { const item = document.getElementById('item');"
                    " return item.hidden || item.dataset.sampleId !== id; }", arg=shown)
                reactions.append(time.perf_counter() - started)
            browser.close()
        print(f"review page in Chromium, key press to the next item on screen "
              f"(runserver, one thread): {ms(reactions)}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with throwaway_django("hwr-bench-review-") as env:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.test.utils import override_settings

        from feedback.models import Feedback

        # No collectstatic in a scratch deployment: static names without the manifest.
        plain = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        override_settings(STORAGES=plain).enable()

        get_user_model().objects.create_superuser("bench", password=PASSWORD)
        client = Client()
        client.login(username="bench", password=PASSWORD)
        samples = make_samples(args.items, rng)
        list_page_weight(client, samples)
        server_side(client, samples)
        Feedback.objects.all().delete()
        for sample in make_samples(args.keys + 5, rng):
            Feedback.objects.create(sample=sample, is_correct=False,
                                    correct_label="1" if sample.predicted_label != "1" else "2")
        browser_keys(env, args.keys)


if __name__ == "__main__":
    main()
