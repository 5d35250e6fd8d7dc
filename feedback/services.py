"""Business logic of feedback: taking answers, review, retention, datasets and statistics.

Views, admin actions and commands call these functions and stay thin. The Google Sheets mirror
lives in `feedback.sheets`.
"""
import csv
import io
import logging
import zipfile
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from PIL import Image

from ml.kinds import LABELS, is_valid_label
from recognition.models import Sample, Word

from .models import (
    Decision, Feedback, FeedbackSubmission, GoldLabel, ReviewDecision, Thumbnail, WordFeedback,
    WordFeedbackSubmission, WordReviewDecision, WordThumbnail, validate_correction,
    validate_word_correction)

logger = logging.getLogger(__name__)


class FeedbackError(Exception):
    """An answer that cannot be stored; `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400, **extra):
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra


def hash_client(address, user_agent):
    """Salted hash of a client's address and user agent: groups submissions, reveals no IP."""
    return salted_hmac("feedback.client", f"{address}|{user_agent}", algorithm="sha256").hexdigest()


@transaction.atomic
def submit_feedback(*, sample_id, is_correct, correct_label, channel, user, client_hash):
    """Store one answer on a sample: creates or updates its Feedback and appends to the trail.

    `user` is the signed-in person who answers (None when anonymous), `client_hash` the
    `hash_client` of where the answer came from; both go into the trail.

    The sample row is locked so that concurrent answers on one sample serialise; the prediction
    is read from the row, whatever the client sent. An answer given here is the person's own
    (origin "answer", also on a challenge drawing). Once a reviewer has verified or rejected
    the feedback, only a reviewer changes it: a different answer is refused with 409 and
    nothing is stored; the same answer again is recorded in the trail. Returns (feedback, created).
    """
    sample = Sample.objects.select_for_update().filter(pk=sample_id).first()
    if sample is None:
        raise FeedbackError(f"unknown sample {sample_id}", status=404)
    return _answer_sample(sample, is_correct, correct_label, channel=channel, user=user,
                          client_hash=client_hash)


def _answer_sample(sample, is_correct, correct_label, *, channel, user, client_hash):
    """`submit_feedback` on a sample already locked."""
    try:
        label = validate_correction(sample, is_correct, correct_label)
    except ValidationError as error:
        raise FeedbackError(error.messages[0], valid_labels=LABELS[sample.kind]) from error
    feedback = Feedback.objects.filter(sample=sample).first()
    created = feedback is None
    if created:
        feedback = Feedback.objects.create(sample=sample, is_correct=is_correct, correct_label=label)
    elif feedback.is_reviewed:
        if (feedback.is_correct, feedback.correct_label) != (is_correct, label):
            raise FeedbackError(
                f"the answer on this sample was already reviewed ({feedback.status}) and can no "
                f"longer be changed here; the label stays {feedback.label!r}", status=409)
    elif (feedback.is_correct, feedback.correct_label, feedback.origin) != (
            is_correct, label, Feedback.Origin.ANSWER):
        # A changed answer needs reviewing again; it is this person's, not the prompt's.
        feedback.is_correct, feedback.correct_label = is_correct, label
        feedback.origin = Feedback.Origin.ANSWER
        feedback.status = Feedback.Status.NEW
        feedback.save()
    FeedbackSubmission.objects.create(
        feedback=feedback,
        is_correct=is_correct,
        correct_label=label,
        channel=channel,
        user=user,
        client_hash=client_hash,
    )
    return feedback, created


@transaction.atomic
def submit_word_feedback(*, word_id, text, channel, user, client_hash):
    """Store what a person says a word reads (`text`: the reading itself confirms it): creates
    or updates its WordFeedback and appends to the trail, under the same rules as a sample's
    answer (the word row locked; once reviewed, a different answer is refused with 409).

    When the text has as many characters as the word has character samples, each character
    gets its answer too, as POST /feedback would store it (confirmed where it equals what was
    read, corrected where not), so the character models keep getting labels. A character is
    left as it is when a reviewer settled it otherwise or when its model cannot know the
    character given (a space, a dash); with another number of characters, only the word's
    answer is stored. `user` and `client_hash` as for `submit_feedback`. Returns (word
    feedback, created, the characters' feedback stored).
    """
    word = Word.objects.select_for_update().filter(pk=word_id).first()
    if word is None:
        raise FeedbackError(f"unknown word {word_id}", status=404)
    is_correct = text == word.text
    try:
        correct_text = validate_word_correction(word, is_correct, "" if is_correct else text)
    except ValidationError as error:
        raise FeedbackError(error.messages[0]) from error
    feedback = WordFeedback.objects.filter(word=word).first()
    created = feedback is None
    if created:
        feedback = WordFeedback.objects.create(word=word, is_correct=is_correct,
                                               correct_text=correct_text)
    elif feedback.is_reviewed:
        if (feedback.is_correct, feedback.correct_text) != (is_correct, correct_text):
            raise FeedbackError(
                f"the answer on this word was already reviewed ({feedback.status}) and can no "
                f"longer be changed here; its text stays {feedback.text!r}", status=409)
    elif (feedback.is_correct, feedback.correct_text, feedback.origin) != (
            is_correct, correct_text, WordFeedback.Origin.ANSWER):
        feedback.is_correct, feedback.correct_text = is_correct, correct_text
        feedback.origin = WordFeedback.Origin.ANSWER
        feedback.status = WordFeedback.Status.NEW
        feedback.save()
    WordFeedbackSubmission.objects.create(
        feedback=feedback, is_correct=is_correct, correct_text=correct_text, channel=channel,
        user=user, client_hash=client_hash)
    return feedback, created, _answer_characters(word, text, channel=channel, user=user,
                                                 client_hash=client_hash)


def _answer_characters(word, text, *, channel, user, client_hash):
    """Each character of `text` as the answer on the word's character at its position, when
    the word's characters are all there and as many as the text's (see submit_word_feedback)."""
    samples = list(Sample.objects.select_for_update().filter(word=word).order_by("position"))
    if [sample.position for sample in samples] != list(range(len(text))):
        return []
    stored = []
    for sample, character in zip(samples, text):
        is_correct = character == sample.predicted_label
        if not (is_correct or is_valid_label(sample.kind, character)):
            continue
        try:
            feedback, _ = _answer_sample(sample, is_correct, "" if is_correct else character,
                                         channel=channel, user=user, client_hash=client_hash)
        except FeedbackError:
            continue  # a reviewer settled this character otherwise: their label stands
        stored.append(feedback)
    return stored


def feedback_as_dict(feedback):
    """The JSON shape of a feedback in API and page answers."""
    sample = feedback.sample
    return {
        "sample_id": str(sample.pk),
        "kind": sample.kind,
        "predicted_label": sample.predicted_label,
        "confidence": sample.confidence,
        "model_version": sample.model_version,
        "is_correct": feedback.is_correct,
        "correct_label": feedback.correct_label or None,
        "label": feedback.label,
        "status": feedback.status,
        "updated": feedback.updated.isoformat(),
    }


def word_feedback_as_dict(feedback):
    """The JSON shape of a word's feedback in API and page answers."""
    word = feedback.word
    return {
        "word_id": str(word.pk),
        "kind": word.kind,
        "predicted_text": word.text,
        "is_correct": feedback.is_correct,
        "correct_text": feedback.correct_text or None,
        "text": feedback.text,
        "status": feedback.status,
        "updated": feedback.updated.isoformat(),
    }


def set_status(queryset, status, reviewer=None):
    """Reviewer decision on many feedbacks; `updated` moves so the sheet gets the change."""
    now = timezone.now()
    return queryset.update(status=status, updated=now, reviewed_by=reviewer, reviewed_at=now)


def _snapshot(answer):
    """An answer's reviewable fields, as a decision keeps them for undo (None: no answer yet)."""
    if answer is None:
        return None
    state = {name: getattr(answer, name) for name in answer.review_fields}
    state["reviewed_at"] = state["reviewed_at"] and state["reviewed_at"].isoformat()
    return state


def _decide(answer, action, reviewer):
    """The one rule of a decision, for samples and words: reject leaves the answer out of
    training, accept and label verify it; who decided and when are kept."""
    answer.status = (answer.Status.REJECTED if action == Decision.Action.REJECT
                     else answer.Status.VERIFIED)
    answer.reviewed_by, answer.reviewed_at = reviewer, timezone.now()
    answer.save()


def _undo(decision, answer):
    """Put an answer back as the decision found it (a decision that created it deletes it)."""
    if answer is not None:
        if decision.before is None:
            answer.delete()
        else:
            for name, value in decision.before.items():
                setattr(answer, name, value)
            answer.save()
    decision.undone = True
    decision.save(update_fields=["undone"])
    return decision


@transaction.atomic
def review(*, sample_id, action, label="", queue="", reviewer):
    """A reviewer's decision on one sample, recorded (with the state before) so it can be undone.

    accept: the answer stands (the user's, or on a sample without feedback the model's);
    reject: the answer is not used (a sample without feedback gets a rejected one, so it
    leaves the queue and is never trained on); label: the reviewer's own label, stored as
    feedback of origin "reviewer" unless it is the answer already given.
    Returns the ReviewDecision.
    """
    sample = Sample.objects.select_for_update().filter(pk=sample_id).first()
    if sample is None:
        raise FeedbackError(f"unknown sample {sample_id}", status=404)
    if action not in Decision.Action.values:
        raise FeedbackError(f"unknown action {action!r}: use accept, reject or label")
    gold = GoldLabel.objects.filter(sample=sample).first()
    if gold is not None:
        return _answer_gold(sample, gold, action, label, queue, reviewer)
    feedback = Feedback.objects.filter(sample=sample).first()
    before = _snapshot(feedback)
    if feedback is None:
        feedback = Feedback(sample=sample, is_correct=True, origin=Feedback.Origin.REVIEWER)
    if action == Decision.Action.LABEL:
        is_correct = label == sample.predicted_label
        try:
            correct_label = validate_correction(sample, is_correct, "" if is_correct else label)
        except ValidationError as error:
            raise FeedbackError(error.messages[0], valid_labels=LABELS[sample.kind]) from error
        if before is None or feedback.label != label:
            feedback.is_correct, feedback.correct_label = is_correct, correct_label
            feedback.origin = Feedback.Origin.REVIEWER
    if action == Decision.Action.REJECT and before is None:
        feedback.reviewer_notes = "rejected in the review queue: no usable character"
    _decide(feedback, action, reviewer)
    return ReviewDecision.objects.create(
        sample=sample, reviewer=reviewer, queue=queue, action=action, label=feedback.label,
        before=before)


def _answer_gold(sample, gold, action, label, queue, reviewer):
    """A decision on a known item: scored against its label, and nothing else changes."""
    if action == Decision.Action.LABEL and label not in LABELS[sample.kind]:
        raise FeedbackError(f"{label!r} is not a valid {sample.kind} label",
                            valid_labels=LABELS[sample.kind])
    given = {Decision.Action.ACCEPT: sample.predicted_label,
             Decision.Action.LABEL: label}.get(action, "")
    return ReviewDecision.objects.create(sample=sample, reviewer=reviewer, queue=queue,
                                         action=action, label=given, gold=True,
                                         right=given == gold.label)


@transaction.atomic
def review_word_feedback(*, word_id, action, text="", queue="", reviewer):
    """A reviewer's decision on a word's feedback, recorded (with the state before) so that it
    can be undone, as `review` records one on a sample.

    accept: the person's text stands; reject: the answer is not used; label: the reviewer's own
    text, checked as a person's would be and stored with origin "reviewer" unless it is the
    text already given. Returns the WordReviewDecision.
    """
    word = Word.objects.select_for_update().filter(pk=word_id).first()
    if word is None:
        raise FeedbackError(f"unknown word {word_id}", status=404)
    if action not in Decision.Action.values:
        raise FeedbackError(f"unknown action {action!r}: use accept, reject or label")
    feedback = WordFeedback.objects.filter(word=word).first()
    if feedback is None:
        raise FeedbackError(f"nobody gave feedback on word {word_id}: there is nothing to review",
                            status=404)
    before = _snapshot(feedback)
    if action == Decision.Action.LABEL:
        is_correct = text == word.text
        try:
            correct_text = validate_word_correction(word, is_correct, "" if is_correct else text)
        except ValidationError as error:
            raise FeedbackError(error.messages[0]) from error
        if feedback.text != text:
            feedback.is_correct, feedback.correct_text = is_correct, correct_text
            feedback.origin = WordFeedback.Origin.REVIEWER
    _decide(feedback, action, reviewer)
    return WordReviewDecision.objects.create(word=word, reviewer=reviewer, queue=queue,
                                             action=action, text=feedback.text, before=before)


@transaction.atomic
def make_gold(queryset, added_by=None):
    """Verified feedback becomes known items, with its label; returns how many are new."""
    created = 0
    for feedback in queryset.filter(status=Feedback.Status.VERIFIED).select_related("sample"):
        _, made = GoldLabel.objects.get_or_create(
            sample=feedback.sample, defaults={"label": feedback.label, "added_by": added_by})
        created += made
    return created


def reviewer_accuracy():
    """Per reviewer: known items answered, and how many rightly."""
    rows = (ReviewDecision.objects.filter(gold=True, undone=False)
            .values("reviewer__username")
            .annotate(answered=Count("pk"), right=Count("pk", filter=Q(right=True)))
            .order_by("reviewer__username"))
    return [{"reviewer": row["reviewer__username"] or "(deleted user)", "answered": row["answered"],
             "right": row["right"], "accuracy": round(100 * row["right"] / row["answered"], 1)}
            for row in rows]


@transaction.atomic
def undo_last_review(reviewer):
    """Put back the feedback as it was before this reviewer's latest decision still standing, on
    a sample or on a word. Returns that decision (a ReviewDecision or a WordReviewDecision)."""
    latest = [model.objects.select_for_update().filter(reviewer=reviewer, undone=False)
              .order_by("-decided", "-pk").first() for model in (ReviewDecision, WordReviewDecision)]
    latest = [decision for decision in latest if decision is not None]
    if not latest:
        raise FeedbackError("nothing to undo", status=409)
    decision = max(latest, key=lambda decision: decision.decided)
    if isinstance(decision, WordReviewDecision):
        Word.objects.select_for_update().filter(pk=decision.word_id).first()
        return _undo(decision, WordFeedback.objects.filter(word_id=decision.word_id).first())
    Sample.objects.select_for_update().filter(pk=decision.sample_id).first()
    # A known item's answer changed nothing: it is only struck from the score.
    feedback = None if decision.gold else Feedback.objects.filter(sample_id=decision.sample_id).first()
    return _undo(decision, feedback)


def thumbnail(sample, size):
    """(content type, bytes) of a `size`-pixel copy of the sample's image, made on first use
    and stored, so list and review pages never send the original (a photo can be megabytes)."""
    stored = Thumbnail.objects.filter(sample=sample, size=size).values_list("content_type", "data").first()
    if stored is not None:
        return stored[0], bytes(stored[1])
    data = _shrink(sample, size)
    try:
        with transaction.atomic():
            Thumbnail.objects.get_or_create(sample=sample, size=size,
                                            defaults={"content_type": "image/webp", "data": data})
    except OperationalError:
        # The database is busy with writes (SQLite): served now, stored on a later view.
        logger.warning("thumbnail of %s not stored this time", sample.pk, exc_info=True)
    return "image/webp", data


def _shrink(sample, size):
    try:
        return _shrink_image(sample.image, size)
    except (OSError, ValueError, Image.DecompressionBombError):
        # The file is gone or unreadable: the model's 28x28 view stands in for it.
        with Image.open(io.BytesIO(bytes(sample.normalized_png))) as image:
            buffer = io.BytesIO()
            image.convert("L").resize((size, size), Image.Resampling.NEAREST).save(
                buffer, format="WEBP", lossless=True)
            return buffer.getvalue()


def _shrink_image(field, size):
    """WebP bytes of a stored image (a file field) at most `size` pixels on its longest side."""
    from PIL import ImageOps

    with field.open("rb") as handle, Image.open(handle) as image:
        image.draft("RGB", (size, size))  # JPEG photos decode at a fraction of their size
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            # Drawings with a transparent background: ink on white, as people saw them.
            image = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
        image = image.convert("RGB" if image.mode not in ("L", "1", "I;16", "I") else "L")
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=80, method=4)
        return buffer.getvalue()


def word_thumbnail(word, size):
    """(content type, bytes) of a `size`-pixel copy of a word's image, made once and stored as
    `thumbnail` does for samples; FeedbackError (404) when its file is gone or unreadable."""
    stored = (WordThumbnail.objects.filter(word=word, size=size)
              .values_list("content_type", "data").first())
    if stored is not None:
        return stored[0], bytes(stored[1])
    try:
        data = _shrink_image(word.image, size)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise FeedbackError("the word's image is gone or unreadable", status=404) from None
    try:
        with transaction.atomic():
            WordThumbnail.objects.get_or_create(word=word, size=size,
                                                defaults={"content_type": "image/webp", "data": data})
    except OperationalError:
        logger.warning("thumbnail of word %s not stored this time", word.pk, exc_info=True)
    return "image/webp", data


def mark_for_resync(queryset):
    """Make the next sync_sheets run send these rows again."""
    return queryset.update(synced_at=None)


def expired_samples(now=None):
    """Samples nobody gave feedback on, older than HWR_SAMPLE_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.HWR_SAMPLE_RETENTION_DAYS)
    return Sample.objects.filter(feedback__isnull=True, created__lt=cutoff)


def purge_samples(queryset, chunk_size=500):
    """Delete samples and, once each chunk's deletion is committed, their image files."""
    storage = Sample._meta.get_field("image").storage
    deleted = 0
    while pks := list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size]):
        with transaction.atomic():
            # Filtered again at deletion: a sample that got feedback meanwhile is kept.
            doomed = queryset.filter(pk__in=pks)
            names = [name for name in doomed.values_list("image", flat=True) if name]
            deleted += doomed.delete()[1].get(Sample._meta.label, 0)
            transaction.on_commit(lambda names=names: _delete_files(storage, names))
    return deleted


def expired_words(now=None):
    """Words older than the retention without feedback, on them or on any of their characters
    (a word whose characters are all gone included): nothing that training or review uses
    refers to them."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.HWR_SAMPLE_RETENTION_DAYS)
    return (Word.objects.filter(created__lt=cutoff, feedback__isnull=True)
            .exclude(characters__feedback__isnull=False))


def purge_words(queryset, chunk_size=200):
    """Delete words with their characters; their image files once each chunk is committed.
    Returns (words deleted, characters deleted)."""
    storage = Word._meta.get_field("image").storage
    words = characters = 0
    while pks := list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size]):
        with transaction.atomic():
            # Filtered again at deletion: a word whose character got feedback meanwhile is kept.
            doomed = queryset.filter(pk__in=pks)
            names = [name for name in doomed.values_list("image", flat=True) if name]
            names += [name for name in Sample.objects.filter(word__in=doomed)
                      .values_list("image", flat=True) if name]
            counts = doomed.delete()[1]
            words += counts.get(Word._meta.label, 0)
            characters += counts.get(Sample._meta.label, 0)
            transaction.on_commit(lambda names=names: _delete_files(storage, names))
        if not counts:
            break
    return words, characters


def _delete_files(storage, names):
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name, exc_info=True)


def normalized_array(sample):
    """The 28x28 image the model saw, as uint8 (ink high, MNIST convention)."""
    with Image.open(io.BytesIO(bytes(sample.normalized_png))) as image:
        return np.asarray(image.convert("L"), dtype=np.uint8)


# Class indices in the dataset: the `any` label set, i.e. EMNIST ByClass order.
DATASET_CLASSES = LABELS["any"]


def export_dataset(queryset, include_unreviewed=False, include_prompted=False):
    """Zip of the training labels among the given feedback, chosen as `retrain` chooses them
    with the same options (`FeedbackQuerySet.training_labels`), in retrain's order.

    Holds `dataset.npz` in MNIST layout (`x_train` uint8 N x 28 x 28, the 28x28 each sample
    was read from, `y_train` uint8 class indices into `classes`, the EMNIST ByClass order),
    `labels.csv` and the PNGs under `images/`. Returns (zip bytes, number of examples).
    """
    rows = list(
        queryset.training_labels(None, include_unreviewed, include_prompted)
        .select_related("sample").order_by("sample__created", "sample_id")
    )
    images = np.zeros((len(rows), 28, 28), dtype=np.uint8)
    classes = np.zeros(len(rows), dtype=np.uint8)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["file", "label", "class", "kind", "predicted", "model_version", "sample_id"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, feedback in enumerate(rows):
            sample = feedback.sample
            images[index] = normalized_array(sample)
            classes[index] = DATASET_CLASSES.index(feedback.label)
            name = f"images/{index:06d}.png"
            archive.writestr(name, bytes(sample.normalized_png))
            writer.writerow(
                [name, feedback.label, classes[index], sample.kind, sample.predicted_label,
                 sample.model_version, sample.pk]
            )
        npz = io.BytesIO()
        np.savez_compressed(npz, x_train=images, y_train=classes, classes=np.array(DATASET_CLASSES))
        archive.writestr("dataset.npz", npz.getvalue())
        archive.writestr("labels.csv", table.getvalue())
    return buffer.getvalue(), len(rows)


def summary(confusions=20):
    """Counts per kind and status with the training labels `retrain` takes by default, accuracy
    as users saw it per model version, top confusions."""
    per_kind = (
        Feedback.objects.values("sample__kind")
        .annotate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Feedback.Status.values},
        )
        .order_by("sample__kind")
    )
    per_version = (
        Feedback.objects.values("sample__kind", "sample__model_name", "sample__model_version")
        .annotate(total=Count("pk"), right=Count("pk", filter=Q(is_correct=True)))
        .order_by("sample__kind", "sample__model_version")
    )
    training = dict(Feedback.objects.training_labels(None).values("sample__kind")
                    .annotate(count=Count("pk")).values_list("sample__kind", "count"))
    top_confusions = (
        Feedback.objects.confusions(None)
        .values("sample__kind", "sample__predicted_label", "correct_label")
        .annotate(count=Count("pk"))
        .order_by("-count", "sample__kind", "sample__predicted_label", "correct_label")[:confusions]
    )
    return {
        "reviewers": reviewer_accuracy(),
        "statuses": Feedback.Status.values,
        "per_kind": [
            {"kind": row["sample__kind"], "total": row["total"],
             "counts": [row[status] for status in Feedback.Status.values],
             "training": training.get(row["sample__kind"], 0)}
            for row in per_kind
        ],
        "per_version": [
            {"kind": row["sample__kind"], "model": row["sample__model_name"],
             "version": row["sample__model_version"], "total": row["total"], "right": row["right"],
             "accuracy": round(100 * row["right"] / row["total"], 1)}
            for row in per_version
        ],
        "confusions": [
            {"kind": row["sample__kind"], "predicted": row["sample__predicted_label"],
             "correct": row["correct_label"], "count": row["count"]}
            for row in top_confusions
        ],
    }
