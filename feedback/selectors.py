"""Reads for the review queue (what is waiting, in which order, and how much is left) and for
the admin's dataset export."""
import base64
from itertools import zip_longest

from django.conf import settings
from django.urls import reverse

from recognition.models import Sample

from .models import Feedback, GoldLabel, ReviewDecision, WordFeedback, WordReviewDecision

# The queues a reviewer can work through, in the order the page offers them.
QUEUES = {
    "corrections": "Corrections waiting",
    "confirmed": "Answers confirmed by users",
    "challenge": "Challenge drawings waiting",
    "words": "Words waiting",
    "unlabelled": "Unlabelled, least sure first",
}
# Queues of words (WordFeedback) rather than characters (samples).
WORD_QUEUES = ("words",)
# Unlabelled samples are picked among this many of the least sure ones, spread over labels
# and model versions, so that one confusing class does not fill a whole session.
UNLABELLED_CANDIDATES = 300
PREVIEW_SIZE = 320
THUMBNAIL_SIZE = 64
IMAGE_SIZES = (THUMBNAIL_SIZE, PREVIEW_SIZE)
# Words are wide: their copies are sized by their longest side, the width.
WORD_THUMBNAIL_SIZE = 192
WORD_PREVIEW_SIZE = 640
WORD_IMAGE_SIZES = (WORD_THUMBNAIL_SIZE, WORD_PREVIEW_SIZE)


def waiting_feedback(queue):
    """Feedback of one feedback queue that no reviewer has decided on yet."""
    new = Feedback.objects.filter(status=Feedback.Status.NEW)
    if queue == "corrections":
        return new.filter(origin=Feedback.Origin.ANSWER, is_correct=False)
    if queue == "confirmed":
        return new.filter(origin=Feedback.Origin.ANSWER, is_correct=True)
    if queue == "challenge":
        return new.filter(origin=Feedback.Origin.PROMPT)
    raise ValueError(f"unknown feedback queue {queue!r}")


def unlabelled_samples():
    return Sample.objects.filter(feedback__isnull=True)


def waiting_word_feedback():
    """Word feedback that no reviewer has decided on yet, corrected or confirmed."""
    return WordFeedback.objects.filter(status=WordFeedback.Status.NEW)


def queue_counts():
    counts = {queue: waiting_feedback(queue).count() for queue in QUEUES
              if queue not in ("unlabelled", *WORD_QUEUES)}
    counts["words"] = waiting_word_feedback().count()
    counts["unlabelled"] = unlabelled_samples().count()
    return counts


def gold_due(reviewer, exclude=()):
    """The known item to show this reviewer now, if one is due (every HWR_REVIEW_GOLD_EVERY
    decisions, when set) and one is left that they have not answered."""
    every = settings.HWR_REVIEW_GOLD_EVERY
    if not every or reviewer is None:
        return None
    recent = list(ReviewDecision.objects.filter(reviewer=reviewer, undone=False)
                  .order_by("-decided", "-pk").values_list("gold", flat=True)[:every])
    if len(recent) < every or any(recent):
        return None
    answered = ReviewDecision.objects.filter(reviewer=reviewer, gold=True, undone=False)
    return (GoldLabel.objects.exclude(sample_id__in=answered.values("sample_id"))
            .exclude(sample_id__in=exclude).values_list("sample_id", flat=True).first())


def next_samples(queue, exclude=(), count=5, reviewer=None):
    """The next `count` samples of `queue`, leaving out the ids the reviewer holds or skipped.

    Feedback queues are first come, first served; unlabelled samples come least sure first
    (lowest top-1 margin), taken in turn from each (kind, predicted label, model version).
    """
    if queue not in QUEUES or queue in WORD_QUEUES:
        raise ValueError(f"unknown queue of samples {queue!r}")
    if queue != "unlabelled":
        ids = list(waiting_feedback(queue).exclude(sample_id__in=exclude)
                   .order_by("created", "sample_id").values_list("sample_id", flat=True)[:count])
    else:
        candidates = (unlabelled_samples().exclude(pk__in=exclude).filter(margin__isnull=False)
                      .order_by("margin", "created")
                      .values_list("pk", "kind", "predicted_label", "model_version")
                      [:UNLABELLED_CANDIDATES])
        groups = {}
        for pk, *group in candidates:
            groups.setdefault(tuple(group), []).append(pk)
        ids = [pk for turn in zip_longest(*groups.values()) for pk in turn if pk is not None][:count]
    gold = gold_due(reviewer, exclude)
    if gold is not None:
        ids = [gold] + ids[:count - 1]
    by_id = Sample.objects.select_related("feedback", "word", "gold").in_bulk(ids)
    return [by_id[pk] for pk in ids]


def next_word_feedback(exclude=(), count=5):
    """The next `count` word feedbacks waiting, first come, first served, leaving out the words
    the reviewer holds or skipped."""
    return list(waiting_word_feedback().exclude(word_id__in=exclude).select_related("word")
                .order_by("created", "word_id")[:count])


def item_as_dict(sample):
    """What the review page shows of one sample (a known item is shown without its answer)."""
    feedback = None if hasattr(sample, "gold") else getattr(sample, "feedback", None)
    return {
        "sample_id": str(sample.pk),
        "kind": sample.kind,
        "source": sample.source,
        "predicted": sample.predicted_label,
        "confidence": sample.confidence,
        "margin": sample.margin,
        "top5": sample.top5,
        "model": f"{sample.model_name} {sample.model_version}",
        "prompt": sample.prompt,
        "word": sample.word.text if sample.word_id else None,
        "created": sample.created.isoformat(),
        "image": reverse("feedback:sample_image", args=[sample.pk, PREVIEW_SIZE]),
        "normalized": "data:image/png;base64," + base64.b64encode(bytes(sample.normalized_png)).decode(),
        "feedback": None if feedback is None else {
            "label": feedback.label,
            "is_correct": feedback.is_correct,
            "origin": feedback.origin,
            "status": feedback.status,
        },
    }


def word_item_as_dict(feedback):
    """What the review page shows of one word: its image, what the model read (with its other
    likely readings) and the text the person gave."""
    word = feedback.word
    return {
        "word_id": str(word.pk),
        "kind": word.kind,
        "source": word.source,
        "read": word.text,
        "candidates": word.candidates,
        "model": f"{word.model_name} {word.model_version}".strip(),
        "created": word.created.isoformat(),
        "image": reverse("feedback:word_image", args=[word.pk, WORD_PREVIEW_SIZE]),
        "feedback": {
            "text": feedback.text,
            "is_correct": feedback.is_correct,
            "origin": feedback.origin,
            "status": feedback.status,
        },
    }


def decision_item(decision):
    """The item a review decision was taken on, as the page shows it (a ReviewDecision's
    sample, a WordReviewDecision's word); None when the word's feedback is gone."""
    if isinstance(decision, WordReviewDecision):
        feedback = WordFeedback.objects.select_related("word").filter(pk=decision.word_id).first()
        return None if feedback is None else word_item_as_dict(feedback)
    sample = Sample.objects.select_related("feedback", "word", "gold").get(pk=decision.sample_id)
    return item_as_dict(sample)


def export_choices(queryset):
    """For the admin's dataset export: how many of `queryset` each of retrain's choices takes
    (its default first), and how many are rejected (never exported)."""
    choices = []
    for include_unreviewed, include_prompted in [(False, False), (True, False), (False, True),
                                                 (True, True)]:
        options = [option for option, on in [("--include-unreviewed", include_unreviewed),
                                             ("--include-prompted", include_prompted)] if on]
        choices.append({
            "include_unreviewed": include_unreviewed, "include_prompted": include_prompted,
            "options": options,
            "count": queryset.training_labels(None, include_unreviewed, include_prompted).count(),
        })
    return {"selected": queryset.count(), "choices": choices,
            "rejected": queryset.filter(status=Feedback.Status.REJECTED).count()}
