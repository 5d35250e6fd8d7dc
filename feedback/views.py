"""The page's feedback route (POST /feedback) and the staff review queue (/review/...)."""
import json
import uuid
from functools import wraps
from urllib.parse import quote

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ml.kinds import KINDS, LABELS
from recognition.models import WORD_TEXT_MAX, Sample, Word

from . import selectors, services
from .models import FeedbackSubmission
from .schemas import parse_feedback, parse_word_feedback

REVIEW_PERMISSION = "feedback.change_feedback"
WORD_REVIEW_PERMISSION = "feedback.change_wordfeedback"
# Ids a client may name as held or skipped in one request (each is 36 characters).
MAX_EXCLUDED = 300


def submitter(request):
    """Who gives an answer, as the services take it: the signed-in user (None when anonymous)
    and the hash of the client's address and user agent."""
    return {
        "user": request.user if request.user.is_authenticated else None,
        "client_hash": services.hash_client(request.META.get("REMOTE_ADDR", ""),
                                            request.META.get("HTTP_USER_AGENT", "")),
    }


def submit_from_request(request, channel, sample_id=None):
    """Parse, validate and store one answer; returns (HTTP status, JSON body)."""
    try:
        payload = parse_feedback(request, sample_id)
        feedback, created = services.submit_feedback(
            sample_id=payload.sample_id,
            is_correct=payload.is_correct,
            correct_label=payload.correct_label,
            channel=channel,
            **submitter(request),
        )
    except services.FeedbackError as error:
        return error.status, {"error": error.message, **error.extra}
    return 201 if created else 200, {"status": "saved", "feedback": services.feedback_as_dict(feedback)}


@require_POST
def submit_feedback(request):
    status, body = submit_from_request(request, FeedbackSubmission.Channel.PAGE)
    return JsonResponse(body, status=status)


def submit_word_from_request(request, channel, word_id=None):
    """Parse, validate and store what a person says a word reads; returns (status, JSON body)."""
    try:
        payload = parse_word_feedback(request, word_id)
        feedback, created, characters = services.submit_word_feedback(
            word_id=payload.word_id, text=payload.text, channel=channel, **submitter(request))
    except services.FeedbackError as error:
        return error.status, {"error": error.message, **error.extra}
    return 201 if created else 200, {
        "status": "saved",
        "feedback": services.word_feedback_as_dict(feedback),
        "characters": [services.feedback_as_dict(character) for character in characters],
    }


@require_POST
def submit_word_feedback(request):
    """POST /feedback/word {"word_id", "text"}: the page's route (CSRF) for a word's answer."""
    status, body = submit_word_from_request(request, FeedbackSubmission.Channel.PAGE)
    return JsonResponse(body, status=status)


def reviewer_required(api=True):
    """Staff who may change feedback (of characters or of words); others are sent to log in,
    or refused (403). Which queues they may decide in is `may_review`'s."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not (user.is_active and user.is_staff):
                if api:
                    return JsonResponse({"error": "log in as staff to review"}, status=403)
                login = reverse("admin:login")
                return redirect(f"{login}?next={quote(request.get_full_path())}")
            if not (user.has_perm(REVIEW_PERMISSION) or user.has_perm(WORD_REVIEW_PERMISSION)):
                message = "reviewing needs the permission to change feedback"
                if api:
                    return JsonResponse({"error": message}, status=403)
                return HttpResponse(message, status=403, content_type="text/plain")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def may_review(user, queue):
    """Words are reviewed by those who may change word feedback, characters by those who may
    change feedback."""
    return user.has_perm(WORD_REVIEW_PERMISSION if queue in selectors.WORD_QUEUES
                         else REVIEW_PERMISSION)


def _refused(words):
    needed = ("words needs the permission to change word feedback" if words
              else "characters needs the permission to change feedback")
    return JsonResponse({"error": f"reviewing {needed}"}, status=403)


@require_GET
@reviewer_required(api=False)
def review_page(request):
    queue = request.GET.get("queue", "")
    if queue not in selectors.QUEUES or not may_review(request.user, queue):
        queue = next(key for key in selectors.QUEUES if may_review(request.user, key))
    return render(request, "feedback/review.html", {
        "queues": selectors.QUEUES,
        "queue": queue,
        "counts": selectors.queue_counts(),
        "config": {
            "queue": queue,
            "items": reverse("feedback:review_items"),
            "decide": reverse("feedback:review_decide"),
            "undo": reverse("feedback:review_undo"),
            "labels": {kind: "".join(LABELS[kind]) for kind in KINDS},
            "textMax": WORD_TEXT_MAX,
            "queues": selectors.QUEUES,
        },
    })


@require_GET
@reviewer_required()
def review_items(request):
    """GET /review/items?queue=...&exclude=id,id: the next items and the counts of each queue."""
    queue = request.GET.get("queue", "")
    if queue not in selectors.QUEUES:
        return JsonResponse({"error": f"unknown queue {queue!r}: use one of "
                                      f"{', '.join(selectors.QUEUES)}"}, status=400)
    exclude = [part for part in request.GET.get("exclude", "").split(",") if part]
    if len(exclude) > MAX_EXCLUDED:
        return JsonResponse({"error": f"exclude at most {MAX_EXCLUDED} ids"}, status=400)
    try:
        count = min(max(int(request.GET.get("count", 5)), 1), 20)
    except ValueError:
        return JsonResponse({"error": "count must be a whole number"}, status=400)
    if not may_review(request.user, queue):
        return _refused(queue in selectors.WORD_QUEUES)
    if queue in selectors.WORD_QUEUES:
        return _word_items(_valid_ids(exclude), count)
    try:
        samples = selectors.next_samples(queue, exclude=_valid_ids(exclude), count=count,
                                         reviewer=request.user)
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    # Their previews are made here, ahead of the reviewer, so that showing one is a plain read.
    for sample in samples:
        services.thumbnail(sample, selectors.PREVIEW_SIZE)
    return JsonResponse({"items": [selectors.item_as_dict(sample) for sample in samples],
                         "counts": selectors.queue_counts()})


def _word_items(exclude, count):
    feedbacks = selectors.next_word_feedback(exclude=exclude, count=count)
    for feedback in feedbacks:
        try:
            services.word_thumbnail(feedback.word, selectors.WORD_PREVIEW_SIZE)
        except services.FeedbackError:
            pass  # the image is gone: the item is still shown, its picture answers 404
    return JsonResponse({"items": [selectors.word_item_as_dict(feedback) for feedback in feedbacks],
                         "counts": selectors.queue_counts()})


def _valid_ids(ids):
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return valid


def _json_body(request):
    if request.content_type != "application/json":
        raise services.FeedbackError("the body must be JSON (Content-Type: application/json)",
                                     status=415)
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise services.FeedbackError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise services.FeedbackError("the body must be a JSON object")
    return data


@require_POST
@reviewer_required()
def review_decide(request):
    """POST /review/decide {"sample_id", "action": accept|reject|label, "label", "queue"}, or
    for a word {"word_id", "action", "text", "queue"}."""
    try:
        data = _json_body(request)
        if "word_id" in data:
            return _decide_on_word(request, data)
        if not may_review(request.user, "corrections"):
            return _refused(words=False)
        sample_id = _valid_ids([str(data.get("sample_id", ""))])
        if not sample_id:
            raise services.FeedbackError("sample_id: a sample id is required")
        label = data.get("label") or ""
        if not isinstance(label, str):
            raise services.FeedbackError("label must be one character")
        decision = services.review(sample_id=sample_id[0], action=data.get("action"),
                                   label=label, queue=str(data.get("queue", ""))[:12],
                                   reviewer=request.user)
    except services.FeedbackError as error:
        return JsonResponse({"error": error.message, **error.extra}, status=error.status)
    return JsonResponse({"decision": {"sample_id": str(decision.sample_id),
                                      "action": decision.action, "label": decision.label},
                         "counts": selectors.queue_counts()})


def _decide_on_word(request, data):
    if not may_review(request.user, "words"):
        return _refused(words=True)
    word_id = _valid_ids([str(data.get("word_id", ""))])
    if not word_id:
        raise services.FeedbackError("word_id: a word id is required")
    text = data.get("text") or ""
    if not isinstance(text, str):
        raise services.FeedbackError("text must be a string: the word as it is written")
    decision = services.review_word_feedback(
        word_id=word_id[0], action=data.get("action"), text=text,
        queue=str(data.get("queue", ""))[:12], reviewer=request.user)
    return JsonResponse({"decision": {"word_id": str(decision.word_id), "action": decision.action,
                                      "text": decision.text},
                         "counts": selectors.queue_counts()})


@require_POST
@reviewer_required()
def review_undo(request):
    """POST /review/undo: the reviewer's latest decision is taken back; its item comes back."""
    try:
        decision = services.undo_last_review(request.user)
    except services.FeedbackError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    item = selectors.decision_item(decision)
    if item is None:
        return JsonResponse({"error": "the word's feedback was deleted meanwhile: its decision "
                                      "is struck, nothing comes back"}, status=409)
    return JsonResponse({"item": item, "queue": decision.queue, "counts": selectors.queue_counts()})


@require_GET
def sample_image(request, sample_id, size):
    """A sample's image shrunk to `size` pixels (made once, then stored): staff only."""
    user = request.user
    if not (user.is_active and user.is_staff and (
            user.has_perm("recognition.view_sample") or user.has_perm("feedback.view_feedback"))):
        return JsonResponse({"error": "log in as staff to see samples"}, status=403)
    if size not in selectors.IMAGE_SIZES:
        return JsonResponse({"error": f"size must be one of {selectors.IMAGE_SIZES}"}, status=404)
    sample = get_object_or_404(Sample.objects.only("pk", "image", "normalized_png"), pk=sample_id)
    content_type, data = services.thumbnail(sample, size)
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def word_image(request, word_id, size):
    """A word's image shrunk to `size` pixels (made once, then stored): staff only."""
    user = request.user
    if not (user.is_active and user.is_staff and (
            user.has_perm("recognition.view_word") or user.has_perm("feedback.view_wordfeedback"))):
        return JsonResponse({"error": "log in as staff to see words"}, status=403)
    if size not in selectors.WORD_IMAGE_SIZES:
        return JsonResponse({"error": f"size must be one of {selectors.WORD_IMAGE_SIZES}"},
                            status=404)
    word = get_object_or_404(Word.objects.only("pk", "image"), pk=word_id)
    try:
        content_type, data = services.word_thumbnail(word, size)
    except services.FeedbackError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
