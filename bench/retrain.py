"""Benchmark and proof of `manage.py retrain` (issue 5), on a scratch deployment.

    .venv/bin/python bench/retrain.py [--feedback 1000]

1. Proof: the heavily slanted writers of `testing.simulation` (held-out UNIPEN-test strokes)
   give feedback through the real API (predict, then answer), a reviewer verifies it, `retrain`
   runs; the accuracy served by the API on the *other* writers' drawings is measured before
   and after, with the standard test accuracy from retrain's own report. Then the same with
   the labels shuffled (poisoned): the gate must refuse.
2. Timing: `manage.py retrain --model digit` as a process (start-up and TensorFlow import
   included) with `--feedback` verified samples.

Runs on its own SQLite file, media and models folders in a temporary directory, deleted at the end.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def deployment(scratch):
    """Settings for a scratch deployment serving the bundled models."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "hwrsite.settings",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "HWR_MODELS_DIR": str(scratch / "models"),
        "HWR_REGISTRY_CHECK_SECONDS": "0",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_feedback_and_registry():
    from ml import registry
    from ml.models import ModelVersion
    from recognition.models import Sample

    Sample.objects.all().delete()
    ModelVersion.objects.exclude(bundled=True).delete()
    registry.register_bundled_models()
    registry.activate(ModelVersion.objects.get(name="digit", bundled=True))


def proof(client, feedback_pool, unseen):
    from django.core.management import call_command

    from ml.models import ModelVersion
    from testing.simulation import give_verified_feedback, served_accuracy

    print(f"\n## proof: {len(feedback_pool)} feedback samples from the slanted writers, "
          f"{len(unseen)} drawings of other slanted writers to measure on")
    before, versions = served_accuracy(client, unseen)
    give_verified_feedback(client, feedback_pool)
    call_command("retrain", "--model", "digit")
    after, new_versions = served_accuracy(client, unseen)
    active = ModelVersion.objects.get(name="digit", is_active=True)
    standard = active.metrics.get("standard_test", {})
    print(f"unseen slanted writers, served by the API: {before:.2%} ({versions}) -> "
          f"{after:.2%} ({new_versions}): {(after - before) * 100:+.2f} points")
    if standard:
        print(f"standard test (MNIST, 10,000): {standard['active']:.2%} -> "
              f"{standard['candidate']:.2%}: {(standard['candidate'] - standard['active']) * 100:+.2f} points")

    print("\n## poisoned: the same feedback with its labels shuffled")
    reset_feedback_and_registry()
    give_verified_feedback(client, feedback_pool, shuffle_labels=True)
    call_command("retrain", "--model", "digit")
    print("still active:", ModelVersion.objects.get(name="digit", is_active=True))


def timing(client, samples):
    from testing.simulation import give_verified_feedback

    reset_feedback_and_registry()
    give_verified_feedback(client, samples)
    print(f"\n## timing: manage.py retrain --model digit with {len(samples)} verified samples")
    started = time.monotonic()
    finished = subprocess.run([sys.executable, "manage.py", "retrain", "--model", "digit"],
                              cwd=ROOT, env=os.environ, capture_output=True, text=True)
    seconds = time.monotonic() - started
    print("\n".join(line for line in finished.stdout.splitlines() if "Epoch" not in line
                    and "step" not in line))
    print(f"wall time {seconds:.1f} s (exit {finished.returncode}) on {os.cpu_count()} cores")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feedback", type=int, default=1000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hwr-bench-retrain-"))
    try:
        deployment(scratch)
        from django.test import Client

        from testing.simulation import slanted_digits, split_by_writer

        client = Client()
        samples = slanted_digits()
        feedback_pool, unseen = split_by_writer(samples)
        proof(client, feedback_pool, unseen)
        timing(client, random.Random(1).sample(samples, min(args.feedback, len(samples))))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
