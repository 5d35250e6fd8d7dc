"""The app's record of what it read: every prediction (`Sample`) and every line read as a whole
(`Word`). Their tables keep the names `feedback_sample` and `feedback_word` (`Meta.db_table`):
renaming them would rewrite every foreign key to them for nothing.
"""
import uuid

from django.db import models

from ml.kinds import KIND_CHOICES

# The longest text a word holds (as read, and as corrected).
WORD_TEXT_MAX = 64


class Word(models.Model):
    """A line of several characters recognised together ("42", "Hello").

    Each character is its own Sample (`word` and `position`), so feedback, review and
    retraining work per character exactly as for single ones.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    source = models.CharField(max_length=8)
    image = models.FileField(upload_to="words/%Y/%m/%d/", max_length=200)
    image_sha256 = models.CharField(max_length=64)
    strokes = models.JSONField(null=True, blank=True, help_text="the pen strokes, when sent")
    text = models.CharField(max_length=WORD_TEXT_MAX)
    candidates = models.JSONField(default=list, blank=True,
                                  help_text="the text model's likeliest readings with their share")
    model_name = models.CharField(max_length=16, blank=True, help_text="the model that read it")
    model_version = models.CharField(max_length=64, blank=True)
    case_consistency = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "feedback_word"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.kind} word {self.id} -> {self.text}"


def top_margin(top5):
    """How far the model's best guess is ahead of its second (1: sure, 0: a coin toss)."""
    probabilities = [guess["probability"] for guess in top5 or []] + [0.0, 0.0]
    return round(probabilities[0] - probabilities[1], 6)


class SampleQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        for sample in objs:
            sample.fill_margin()
        return super().bulk_create(objs, *args, **kwargs)


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
    word = models.ForeignKey(Word, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="characters")
    position = models.PositiveSmallIntegerField(null=True, blank=True, help_text="index in the word")
    box = models.JSONField(null=True, blank=True,
                           help_text="[left, top, right, bottom] in the word's image or strokes")
    prompt = models.CharField(max_length=1, blank=True,
                              help_text="the character a challenge asked for (a prompted sample)")
    margin = models.FloatField(null=True, blank=True, db_index=True,
                               help_text="top-1 minus top-2 probability (the review queue's "
                                         "uncertainty order: lowest first)")

    objects = SampleQuerySet.as_manager()

    class Meta:
        db_table = "feedback_sample"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.kind} sample {self.id} -> {self.predicted_label}"

    def fill_margin(self):
        if self.margin is None:
            self.margin = top_margin(self.top5)

    def save(self, *args, **kwargs):
        self.fill_margin()
        super().save(*args, **kwargs)
