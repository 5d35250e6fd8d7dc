"""A staff member starts a retrain from the admin in Chromium, and follows it to its result."""
import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from ml.models import ModelVersion, RetrainJob
from testing.simulation import give_verified_feedback, slanted_digits
from ml.tests.test_retrain_job import run_worker
from recognition.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_retrain_started_and_followed_in_the_admin(page, live_server, tiny_models, dataset_slices,
                                                  settings, tmp_path, django_user_model):
    settings.HWR_MODELS_DIR = tmp_path / "models"
    give_verified_feedback(Client(), slanted_digits()[:40])
    django_user_model.objects.create_user("admin", password="a-long-pass-phrase", is_staff=True,
                                          is_superuser=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/ml/modelversion/")
    page.get_by_label("Username:").fill("admin")
    page.get_by_label("Password:").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()

    page.get_by_label("epochs").fill("1")
    page.get_by_label("standard test samples").fill("300")
    page.get_by_role("button", name="Retrain digit now").click()
    expect(page.locator(".messagelist")).to_contain_text("Retrain of digit queued")
    expect(page.locator(".field-status")).to_contain_text(re.compile("queued", re.I))
    expect(page.locator(".hwr-live")).to_be_visible()
    # A second start while it waits is refused.
    page.goto(f"{live_server.url}/admin/ml/retrainjob/")
    page.get_by_role("button", name="Retrain digit now").click()
    expect(page.locator(".messagelist")).to_contain_text("already queued")
    assert RetrainJob.objects.count() == 1

    run_worker()  # what `manage.py db_worker` does, until the queue is empty

    job = RetrainJob.objects.get()
    page.goto(f"{live_server.url}/admin/ml/retrainjob/{job.pk}/change/")
    expect(page.locator(".field-status")).to_contain_text(re.compile("done", re.I))
    expect(page.locator(".field-message")).to_contain_text(job.version.version)
    expect(page.locator(".field-progress_table")).to_contain_text("standard_test")
    expect(page.locator(".field-log_text")).to_contain_text("fine-tuning digit")
    expect(page.locator(".hwr-live")).to_have_count(0)
    shot(page, "retrain-job-done")
    page.get_by_role("link", name=str(job.version)).click()
    expect(page.locator(".field-change_against_parent")).to_contain_text("standard_test accuracy")
    shot(page, "retrain-version-page")
    assert job.version.parent == ModelVersion.objects.get(name="digit", bundled=True)
