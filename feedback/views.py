"""The page's feedback route: POST /feedback (CSRF-protected, JSON in and out)."""
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from . import services
from .models import FeedbackSubmission
from .schemas import parse_feedback


def submit_from_request(request, channel, sample_id=None):
    """Parse, validate and store one answer; returns (HTTP status, JSON body)."""
    try:
        payload = parse_feedback(request, sample_id)
        feedback, created = services.submit_feedback(
            sample_id=payload.sample_id,
            is_correct=payload.is_correct,
            correct_label=payload.correct_label,
            channel=channel,
            request=request,
        )
    except services.FeedbackError as error:
        return error.status, {"error": error.message, **error.extra}
    return 201 if created else 200, {"status": "saved", "feedback": services.feedback_as_dict(feedback)}


@require_POST
def submit_feedback(request):
    status, body = submit_from_request(request, FeedbackSubmission.Channel.PAGE)
    return JsonResponse(body, status=status)
