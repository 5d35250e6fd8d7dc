"""Samples (every prediction the app made) and the feedback people give on them."""
import uuid

from django.core.exceptions import ValidationError
from django.db import models

from recognition.kinds import KIND_CHOICES, is_valid_label


class Sample(models.Model):
    """One image the app recognised, with the server's own record of its prediction."""

    class Source(models.TextChoices):
        CANVAS = "canvas"
        UPLOAD = "upload"
        API = "api"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    source = models.CharField(max_length=8, choices=Source.choices)
    image = models.FileField(upload_to="samples/%Y/%m/%d/", max_length=200)
    image_sha256 = models.CharField(max_length=64)
    normalized_png = models.BinaryField(help_text="the 28x28 image the model saw, as PNG")
    predicted_label = models.CharField(max_length=1)
    confidence = models.FloatField()
    top5 = models.JSONField(default=list)
    model_name = models.CharField(max_length=16)
    model_version = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.kind} sample {self.id} -> {self.predicted_label}"
