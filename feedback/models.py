"""The feedback people give on samples and words (recognition's records), and its review."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from ml.kinds import LABELS, is_valid_label
from recognition.models import WORD_TEXT_MAX, Sample, Word


def validate_correction(sample, is_correct, correct_label):
    """Check a yes/no answer against the sample's own prediction and label set.

    Returns the label to store ("" when the prediction was right); raises ValidationError with
    a message meant for the person who gave the answer.
    """
    label = correct_label or ""
    if is_correct:
        if label and label != sample.predicted_label:
            raise ValidationError(
                f"is_correct is true but correct_label {label!r} differs from the prediction "
                f"{sample.predicted_label!r}"
            )
        return ""
    if not label:
        raise ValidationError("is_correct is false: correct_label is required")
    if not is_valid_label(sample.kind, label):
        raise ValidationError(f"{label!r} is not a valid {sample.kind} label")
    if label == sample.predicted_label:
        raise ValidationError(
            f"{label!r} is what was predicted: answer yes (is_correct true) if the prediction was right"
        )
    return label


class SheetSyncQuerySet(models.QuerySet):
    """Feedback mirrored to the Google Sheet: `synced_at` is when its current version got there.

    The one definition of "pending sync", for the sheets mirror and the admin alike.
    """

    @staticmethod
    def _pending():
        return models.Q(synced_at__isnull=True) | models.Q(updated__gt=models.F("synced_at"))

    def pending_sync(self):
        """Never synced, or changed since it was: what the next sync_sheets run sends."""
        return self.filter(self._pending())

    def synced(self):
        """The sheet has the version stored here."""
        return self.exclude(self._pending())


class ReviewedAnswerQuerySet(SheetSyncQuerySet):
    def trusted(self, include_unreviewed=False):
        """Answers whose value may be trained on: verified; not yet reviewed only when asked;
        rejected never. The one rule for characters and words alike."""
        statuses = [self.model.Status.VERIFIED]
        if include_unreviewed:
            statuses.append(self.model.Status.NEW)
        return self.filter(status__in=statuses)


class FeedbackQuerySet(ReviewedAnswerQuerySet):
    def training_labels(self, kind, include_unreviewed=False, include_prompted=False):
        """Feedback whose label may train a model: the one definition of a training label, for
        `retrain`, the admin's dataset export, the challenge and the summary.

        Verified feedback counts; not yet reviewed feedback only when asked; rejected never.
        Challenge drawings (origin "prompt": labelled by the prompt, nobody checked what was
        drawn) count only when asked. `kind` None takes every kind (the export mixes them).
        """
        rows = self.trusted(include_unreviewed)
        if kind is not None:
            rows = rows.filter(sample__kind=kind)
        if not include_prompted:
            rows = rows.exclude(origin=self.model.Origin.PROMPT)
        return rows

    def confusions(self, kind):
        """Wrong predictions as people reported them, unreviewed and challenge drawings
        included, rejected left out: the summary's confusions and the challenge's needs."""
        return self.training_labels(kind, include_unreviewed=True, include_prompted=True).filter(
            is_correct=False)


class ReviewedAnswer(models.Model):
    """What a person said about one thing the app read (a sample, a word): right, or its right
    value; where review stands; when the sheet last had it. `Feedback` and `WordFeedback` are
    this, each with its own correction field (`CORRECTION`) and origins."""

    class Status(models.TextChoices):
        NEW = "new"
        VERIFIED = "verified"
        REJECTED = "rejected"

    is_correct = models.BooleanField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW, db_index=True)
    reviewer_notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="the staff member whose decision set the status (empty: nobody, or automatic)",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="when this version reached the sheet"
    )
    sheet_row_key = models.CharField(
        max_length=64, blank=True, help_text="worksheet and row where the sheet last had it"
    )

    CORRECTION = ""

    class Meta:
        abstract = True

    @property
    def review_fields(self):
        """What a review decision may change, kept with the decision so it can be undone."""
        return ("is_correct", self.CORRECTION, "status", "origin", "reviewer_notes",
                "reviewed_by_id", "reviewed_at")

    @property
    def is_pending_sync(self):
        """`SheetSyncQuerySet.pending_sync` for one row already loaded."""
        return self.synced_at is None or self.updated > self.synced_at

    @property
    def is_reviewed(self):
        """Verified or rejected: from then on only a reviewer changes it."""
        return self.status != self.Status.NEW


class Feedback(ReviewedAnswer):
    """What a person said about one sample: the latest answer, and where review stands."""

    class Origin(models.TextChoices):
        """Who gave the label: a person's answer on a prediction, a challenge's prompt (the
        person was asked to draw it; nobody checked what they drew), or a reviewer labelling a
        sample directly (in the review queue)."""

        ANSWER = "answer"
        PROMPT = "prompt"
        REVIEWER = "reviewer"

    sample = models.OneToOneField(
        Sample, on_delete=models.CASCADE, primary_key=True, related_name="feedback"
    )
    correct_label = models.CharField(
        max_length=1, blank=True, help_text="the right character when the prediction was wrong"
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.ANSWER, db_index=True)

    objects = FeedbackQuerySet.as_manager()
    CORRECTION = "correct_label"

    class Meta:
        ordering = ["-updated"]
        verbose_name_plural = "feedback"

    def __str__(self):
        return f"feedback on {self.sample_id}: {'right' if self.is_correct else self.correct_label}"

    @property
    def label(self):
        """The true character according to this feedback."""
        return self.sample.predicted_label if self.is_correct else self.correct_label

    def clean(self):
        self.correct_label = validate_correction(self.sample, self.is_correct, self.correct_label)


class FeedbackSubmission(models.Model):
    """Audit trail: every answer received, kept even when a later one replaces it."""

    class Channel(models.TextChoices):
        PAGE = "page"
        API = "api"

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="submissions")
    is_correct = models.BooleanField()
    correct_label = models.CharField(max_length=1, blank=True)
    channel = models.CharField(max_length=4, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_hash = models.CharField(
        max_length=64, help_text="salted hash of the client's address and user agent, never the IP"
    )
    submitted = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-submitted"]

    def __str__(self):
        return f"submission on {self.feedback_id} at {self.submitted:%Y-%m-%d %H:%M}"


# What each kind of word is written with, as a person would say it.
WORD_CHARACTERS = {"digit": "the digits 0 to 9", "letter": "the letters A to Z and a to z"}


def validate_word_text(kind, text):
    """Check a word's text as a person gave it: 1 to WORD_TEXT_MAX characters of the word's
    kind (digits for a digit word, letters for a letter word, for `any` every printable
    character but line breaks). Raises ValidationError meant for that person."""
    if not text.strip():
        raise ValidationError("the text is empty: write what the word says")
    if len(text) > WORD_TEXT_MAX:
        raise ValidationError(f"the text is {len(text)} characters long: at most {WORD_TEXT_MAX} fit")
    if kind in WORD_CHARACTERS:
        allowed = set(LABELS[kind])
        bad = next((character for character in text if character not in allowed), None)
        if bad is not None:
            raise ValidationError(f"{bad!r} cannot be in a {kind} word: write it with "
                                  f"{WORD_CHARACTERS[kind]} only")
    elif not text.isprintable():
        raise ValidationError("the text holds a line break or another character that is not "
                              "printed: write it on one line")


def validate_word_correction(word, is_correct, correct_text):
    """`validate_correction` for a whole word: returns the text to store ("" when the reading
    was right); raises ValidationError with a message for the person who answered."""
    text = correct_text or ""
    if is_correct:
        if text and text != word.text:
            raise ValidationError(f"is_correct is true but correct_text {text!r} differs from "
                                  f"the reading {word.text!r}")
        return ""
    validate_word_text(word.kind, text)
    if text == word.text:
        raise ValidationError(f"{text!r} is what was read: it is not a correction")
    return text


class WordFeedback(ReviewedAnswer):
    """What a person said about a whole word: its right text, and where review stands.

    Kept apart from the Word (the server's record of what was read, as a Sample is), so that
    answers, review and the audit trail work as they do for characters.
    """

    class Origin(models.TextChoices):
        """Who gave the text: a person's answer on a reading, or a reviewer (admin)."""

        ANSWER = "answer"
        REVIEWER = "reviewer"

    word = models.OneToOneField(Word, on_delete=models.CASCADE, primary_key=True,
                                related_name="feedback")
    correct_text = models.CharField(
        max_length=WORD_TEXT_MAX, blank=True,
        help_text="the right text when the reading was wrong (blank: confirmed as read)")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.ANSWER, db_index=True)

    objects = ReviewedAnswerQuerySet.as_manager()
    CORRECTION = "correct_text"

    class Meta:
        ordering = ["-updated"]
        verbose_name = "word feedback"
        verbose_name_plural = "word feedback"

    def __str__(self):
        return f"feedback on word {self.word_id}: {'right' if self.is_correct else self.correct_text}"

    @property
    def text(self):
        """The true text according to this feedback."""
        return self.word.text if self.is_correct else self.correct_text

    def clean(self):
        self.correct_text = validate_word_correction(self.word, self.is_correct, self.correct_text)


class WordFeedbackSubmission(models.Model):
    """Audit trail of word answers: every one received, kept when a later one replaces it."""

    feedback = models.ForeignKey(WordFeedback, on_delete=models.CASCADE, related_name="submissions")
    is_correct = models.BooleanField()
    correct_text = models.CharField(max_length=WORD_TEXT_MAX, blank=True)
    channel = models.CharField(max_length=4, choices=FeedbackSubmission.Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_hash = models.CharField(
        max_length=64, help_text="salted hash of the client's address and user agent, never the IP"
    )
    submitted = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-submitted"]

    def __str__(self):
        return f"submission on word {self.feedback_id} at {self.submitted:%Y-%m-%d %H:%M}"


class FeedbackSummary(Feedback):
    """Admin entry for the summary page (counts, accuracy, confusions); no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "summary"
        verbose_name_plural = "summary"


class Decision(models.Model):
    """One decision taken in the review queue, with the answer's fields as they were before (for
    undo). `ReviewDecision` (on a sample) and `WordReviewDecision` (on a word) are this."""

    class Action(models.TextChoices):
        ACCEPT = "accept"
        REJECT = "reject"
        LABEL = "label"

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    queue = models.CharField(max_length=12)
    action = models.CharField(max_length=6, choices=Action.choices)
    before = models.JSONField(null=True, blank=True,
                              help_text="the feedback's fields before (empty: it had none)")
    decided = models.DateTimeField(auto_now_add=True, db_index=True)
    undone = models.BooleanField(default=False)

    class Meta:
        abstract = True
        ordering = ["-decided", "-pk"]


class ReviewDecision(Decision):
    """A decision on a sample's feedback; on a known item (gold) it is only scored."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="review_decisions")
    label = models.CharField(max_length=1, blank=True, help_text="the label the decision stored")
    gold = models.BooleanField(default=False, help_text="a known item mixed into the queue")
    right = models.BooleanField(null=True, blank=True,
                                help_text="on a known item: whether the decision matched it")

    class Meta(Decision.Meta):
        pass

    def __str__(self):
        return f"{self.action} {self.label} on {self.sample_id}"


class WordReviewDecision(Decision):
    """A decision on a word's feedback, whose text does not fit a one-character label."""

    word = models.ForeignKey(Word, on_delete=models.CASCADE, related_name="review_decisions")
    text = models.CharField(max_length=WORD_TEXT_MAX, blank=True,
                            help_text="the text the decision stored")

    class Meta(Decision.Meta):
        pass

    def __str__(self):
        return f"{self.action} {self.text!r} on word {self.word_id}"


class GoldLabel(models.Model):
    """A known item: a sample whose label is settled, mixed into reviewers' queues (when
    HWR_REVIEW_GOLD_EVERY is set) to measure each reviewer's accuracy; their answers on it
    change nothing."""

    sample = models.OneToOneField(Sample, on_delete=models.CASCADE, primary_key=True,
                                  related_name="gold")
    label = models.CharField(max_length=1)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "sample_id"]
        verbose_name = "known item (gold)"
        verbose_name_plural = "known items (gold)"

    def __str__(self):
        return f"gold {self.label} on {self.sample_id}"


class Thumbnail(models.Model):
    """A small re-encoded copy of a sample's image, made once, for list and review pages."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="thumbnails")
    size = models.PositiveSmallIntegerField(help_text="longest side in pixels")
    content_type = models.CharField(max_length=16)
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sample", "size"], name="one_thumbnail_per_size")]

    def __str__(self):
        return f"{self.size} px of {self.sample_id}"


class WordThumbnail(models.Model):
    """A small re-encoded copy of a word's image, made once, for the admin's lists."""

    word = models.ForeignKey(Word, on_delete=models.CASCADE, related_name="thumbnails")
    size = models.PositiveSmallIntegerField(help_text="longest side in pixels")
    content_type = models.CharField(max_length=16)
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["word", "size"],
                                               name="one_word_thumbnail_per_size")]

    def __str__(self):
        return f"{self.size} px of word {self.word_id}"
