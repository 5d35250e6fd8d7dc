"""The model registry: every trained bundle per recognizer, exactly one of them active."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from recognition.kinds import KIND_CHOICES


class ModelVersion(models.Model):
    """One trained model bundle on disk; `is_active` marks the one the web serves."""

    name = models.CharField(max_length=16, choices=KIND_CHOICES)
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
