"""The model registry: every trained bundle per recognizer, exactly one of them active."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from ml.kinds import MODEL_CHOICES


class ModelVersion(models.Model):
    """One trained model bundle on disk; `is_active` marks the one the web serves."""

    name = models.CharField(max_length=16, choices=MODEL_CHOICES)
    version = models.CharField(max_length=64)
    bundle_path = models.CharField(
        max_length=500, help_text="absolute, or relative to the source tree for bundled models"
    )
    bundled = models.BooleanField(default=False, help_text="shipped in ml/artifacts")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    metrics = models.JSONField(default=dict, blank=True)
    training_data = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "-created"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_model_version"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_active=True), name="one_active_version_per_model"
            ),
        ]

    @property
    def bundle_dir(self):
        return settings.BASE_DIR / self.bundle_path

    def __str__(self):
        return f"{self.name} {self.version}{' (active)' if self.is_active else ''}"


class RetrainJob(models.Model):
    """One `retrain` run started from the admin, carried out by the task worker.

    The worker writes its stage, progress and log here as it goes, so the admin can follow it;
    at most one job per model is queued or running at a time (a database constraint).
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=16, choices=MODEL_CHOICES)
    options = models.JSONField(default=dict, blank=True, help_text="retrain's options")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    stage = models.CharField(max_length=64, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, blank=True,
                               help_text="promoted, kept-inactive, too-few or dry-run")
    message = models.TextField(blank=True)
    version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="the version this run registered")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status__in=["queued", "running"]),
                name="one_active_retrain_per_model"),
        ]

    def __str__(self):
        return f"retrain {self.kind} #{self.pk} ({self.status})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE
