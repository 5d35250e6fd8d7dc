"""Retrain as a background job: started from the admin, run by the task worker (db_worker),
followed in the admin; one per model at a time; permissions."""
import signal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from ml import tasks
from ml.models import ModelVersion, RetrainJob
from testing.simulation import give_verified_feedback, slanted_digits

pytestmark = pytest.mark.django_db
START = reverse("admin:ml_retrainjob_start")


def run_worker():
    """The real worker command, until the queue is empty (it sets signal handlers: put back)."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


@pytest.fixture
def verified_feedback(tiny_models, dataset_slices, settings, tmp_path):
    settings.HWR_MODELS_DIR = tmp_path / "models"
    give_verified_feedback(Client(), slanted_digits()[:40])


def test_a_second_retrain_of_the_same_model_waits_for_the_first(db):
    first = tasks.start_retrain("digit", {"epochs": 1})
    with pytest.raises(tasks.RetrainRefused, match="already queued"):
        tasks.start_retrain("digit")
    other = tasks.start_retrain("letter")
    assert RetrainJob.objects.filter(status="queued").count() == 2
    assert DBTaskResult.objects.count() == 2 and first.task_id and other.task_id
    assert tasks.cancel(first)
    assert tasks.start_retrain("digit").status == "queued"


def test_starting_needs_the_permission_and_sane_options(client, admin_client, django_user_model, db):
    viewer = django_user_model.objects.create_user("viewer", password="a-long-pass-phrase",
                                                   is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(
        codename__in=["view_retrainjob", "view_modelversion"]))
    client.force_login(viewer)
    assert client.post(START, {"kind": "digit"}).status_code == 403
    assert "Retrain digit now" not in client.get(reverse("admin:ml_retrainjob_changelist")).content.decode()
    response = admin_client.post(START, {"kind": "digit", "epochs": "many"}, follow=True)
    assert "pochs must be a whole number from 1 to 50" in response.content.decode()
    response = admin_client.post(START, {"kind": "emoji"}, follow=True)
    assert "Unknown model" in response.content.decode()
    assert not RetrainJob.objects.exists()
    assert admin_client.get(START).status_code == 405


# The worker closes connections that are inside a transaction (as between tasks), so the tests
# that run it commit for real instead of running in one rolled-back transaction.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_retrain_started_in_the_admin_runs_in_the_worker(admin_client, verified_feedback):
    active = ModelVersion.objects.get(name="digit", is_active=True)
    response = admin_client.post(START, {"kind": "digit", "epochs": "1", "test_limit": "300",
                                         "min_samples": "5"}, follow=True)
    job = RetrainJob.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:ml_retrainjob_change", args=[job.pk])
    assert (job.status, job.options["epochs"]) == ("queued", 1)
    assert b'http-equiv="refresh"' in response.content
    run_worker()
    job.refresh_from_db()
    assert job.status == "done" and job.outcome in ("promoted", "kept-inactive"), job.message
    assert job.version.parent_id == active.pk
    assert job.progress["epoch"] == job.progress["epochs"] == 1
    assert job.progress["gate"]["standard_test"]["count"] == 300
    assert "fine-tuning digit" in job.log
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = admin_client.get(reverse("admin:ml_retrainjob_change", args=[job.pk])).content.decode()
    assert job.message in page and b'http-equiv="refresh"' not in page.encode()
    version_page = admin_client.get(reverse("admin:ml_modelversion_change", args=[job.version.pk]))
    assert "standard_test accuracy (300 samples" in version_page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_failing_retrain_says_why(admin_client, no_models):
    admin_client.post(START, {"kind": "digit"})
    run_worker()
    job = RetrainJob.objects.get()
    assert job.status == "failed" and "no digit model to retrain" in job.message
    assert tasks.start_retrain("digit").status == "queued", "a failed job does not block the next"
