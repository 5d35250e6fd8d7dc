"""Retrain as a background job: started from the admin, run by the task worker.

Django's tasks framework (the `django-tasks` backport on Django 5.2) with its database backend
(`django-tasks-db`): the job waits in a table of the same database, so the embedded default
needs no extra service; `manage.py db_worker` carries it out. The web process only enqueues:
TensorFlow is imported by the worker, inside the task.
"""
import traceback

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from ml.models import RetrainJob

# What the admin may set; the rest are retrain's defaults (see `manage.py retrain --help`).
ADMIN_OPTIONS = ("include_unreviewed", "include_prompted", "epochs", "test_limit", "min_samples")
MAX_LOG_CHARS = 100_000


class RetrainRefused(Exception):
    """A retrain that cannot start now, in words for the admin."""


def start_retrain(kind, options=None, requested_by=None):
    """Queue a retrain of `kind`; refused while one of the same model is queued or running."""
    options = {key: value for key, value in (options or {}).items() if key in ADMIN_OPTIONS}
    try:
        with transaction.atomic():
            job = RetrainJob.objects.create(kind=kind, options=options, requested_by=requested_by)
            result = retrain.enqueue(job.pk)
            job.task_id = str(result.id)
            job.save(update_fields=["task_id"])
    except IntegrityError:
        running = RetrainJob.objects.filter(kind=kind, status__in=RetrainJob.ACTIVE).first()
        raise RetrainRefused(f"a retrain of {kind} is already {running.status if running else 'under way'}"
                             f" (job {running.pk if running else '?'}); wait for its result") from None
    return job


def cancel(job):
    """Mark a queued or stuck job failed, so that its model can be retrained again."""
    updated = RetrainJob.objects.filter(pk=job.pk, status__in=RetrainJob.ACTIVE).update(
        status=RetrainJob.Status.FAILED, finished=timezone.now(),
        message="cancelled from the admin (a worker still running it finishes unrecorded)")
    return bool(updated)


class JobReport:
    """retrain's `log` and `progress` callbacks, written to the job row as they come."""

    def __init__(self, job):
        self.job = job

    def log(self, message):
        self.job.log = (self.job.log + str(message) + "\n")[-MAX_LOG_CHARS:]
        RetrainJob.objects.filter(pk=self.job.pk).update(log=self.job.log)

    def progress(self, stage, **figures):
        self.job.stage = stage
        self.job.progress = {**self.job.progress, **figures}
        RetrainJob.objects.filter(pk=self.job.pk).update(stage=stage, progress=self.job.progress)


@task()
def retrain(job_id):
    """Run `retrain` for one job; its outcome (or the error) is written to the job."""
    from ml import retraining

    claimed = RetrainJob.objects.filter(pk=job_id, status=RetrainJob.Status.QUEUED).update(
        status=RetrainJob.Status.RUNNING, started=timezone.now())
    if not claimed:
        return {"status": "skipped", "message": "the job was cancelled or already taken"}
    job = RetrainJob.objects.get(pk=job_id)
    report = JobReport(job)
    options = retraining.options_for(job.kind, **job.options)
    try:
        outcome = retraining.run(job.kind, options, log=report.log, progress=report.progress)
    except Exception as error:
        report.log(traceback.format_exc())
        RetrainJob.objects.filter(pk=job_id).update(
            status=RetrainJob.Status.FAILED, finished=timezone.now(),
            message=f"{type(error).__name__}: {error}")
        raise
    RetrainJob.objects.filter(pk=job_id).update(
        status=RetrainJob.Status.DONE, finished=timezone.now(), outcome=outcome.status,
        message=outcome.message, version=outcome.version, stage="finished")
    return {"status": outcome.status, "message": outcome.message}
