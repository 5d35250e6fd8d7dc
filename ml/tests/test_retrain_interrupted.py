"""A retrain killed at any point leaves the active version, and its files, exactly as they were."""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.bundle import read_meta
from testing import DATASET_SLICES

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import base64
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from feedback.models import Feedback
from feedback.services import set_status
from testing.simulation import slanted_digits

call_command("migrate", verbosity=0)
client = Client()
for png, label, _ in slanted_digits()[:40]:
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    result = client.post("/api/v1/predict", {"kind": "digit", "image": image},
                         content_type="application/json").json()
    client.post(f"/api/v1/samples/{result['sample_id']}/feedback",
                {"is_correct": False, "correct_label": "1" if label == "0" else "0"},
                content_type="application/json")
set_status(Feedback.objects.all(), Feedback.Status.VERIFIED)
"""
RETRAIN = [sys.executable, "manage.py", "retrain", "--model", "digit", "--min-samples", "5",
           "--epochs", "2", "--test-limit", "300", "--force"]


@pytest.fixture
def deployment(tmp_path, tiny_bundles_dir):
    """A separate deployment (its own SQLite file and folders) with 40 verified feedbacks."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "HWR_MODELS_DIR": str(tmp_path / "models"),
        "HWR_BUNDLED_MODELS_DIR": str(tiny_bundles_dir),
        "HWR_DATASETS_DIR": str(DATASET_SLICES),
        "HWR_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=300)
    return env, tmp_path


def registry_rows(tmp_path):
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        return db.execute(
            "SELECT version, bundle_path, is_active FROM ml_modelversion WHERE name='digit'"
        ).fetchall()


def file_hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(folder).iterdir()}


def run_and_kill(env, tmp_path, signal_number, when):
    """Start retrain and send it `signal_number` once `when(output_so_far)` holds."""
    # A shell starts background jobs (`make test &`, nohup) with SIGINT ignored, and a child
    # inherits that, so Ctrl-C would do nothing: give the child the default disposition.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(RETRAIN, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
    finally:
        signal.signal(signal.SIGINT, inherited)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if when("".join(lines)):
            process.send_signal(signal_number)
            break
        time.sleep(0.02)
    process.wait(timeout=60)
    reader.join(timeout=10)
    return process.returncode, "".join(lines)


def staging_exists(tmp_path):
    return any((tmp_path / "models" / "digit").glob(".retrain-*/*"))


@pytest.mark.parametrize("signal_number, when", [
    (signal.SIGINT, lambda output: "fine-tuning" in output),
    (signal.SIGKILL, lambda output: "Epoch 2" in output or "epoch 2" in output.lower()),
    (signal.SIGKILL, None),  # while the candidate bundle is being written
], ids=["ctrl-c-at-start", "kill-mid-training", "kill-during-export"])
def test_killed_retrain_leaves_the_active_version_untouched(deployment, signal_number, when):
    env, tmp_path = deployment
    (original,) = registry_rows(tmp_path)
    original_dir = ROOT / original[1]
    before = file_hashes(original_dir)
    if when is None:
        def when(_output):
            return staging_exists(tmp_path)

    returncode, output = run_and_kill(env, tmp_path, signal_number, when)

    assert returncode != 0, output  # it was stopped, not finished
    rows = registry_rows(tmp_path)
    assert [row for row in rows if row[2]] == [original]
    assert file_hashes(original_dir) == before
    for version, path, _ in rows:
        read_meta(ROOT / path)  # any registered bundle is complete

    finished = subprocess.run(RETRAIN, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    active = [row for row in registry_rows(tmp_path) if row[2]]
    assert len(active) == 1 and active[0] != original
    read_meta(active[0][1])
