"""/api/v1/samples/<id>/feedback and /api/v1/words/<id>/feedback: the JSON API routes for
feedback (no CSRF, for API clients)."""
from ninja import Router, Status

from .models import FeedbackSubmission
from .schemas import ErrorOut, FeedbackIn, FeedbackSavedOut, WordFeedbackIn, WordFeedbackSavedOut
from .views import submit_from_request, submit_word_from_request

router = Router(tags=["feedback"])


@router.post(
    "/samples/{sample_id}/feedback",
    response={200: FeedbackSavedOut, 201: FeedbackSavedOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              415: ErrorOut},
    # The body is parsed by parse_feedback (to answer {"error": ...} like the page route), so
    # its schema is declared here for the OpenAPI document.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": FeedbackIn.model_json_schema()}},
        }
    },
    summary="Tell us whether a prediction was right",
)
def submit_feedback(request, sample_id: str):
    """201 on the first answer for a sample, 200 when a later one replaces it; 409 when a
    reviewer has already verified or rejected a different answer (only a reviewer changes it)."""
    return Status(*submit_from_request(request, FeedbackSubmission.Channel.API, sample_id))


@router.post(
    "/words/{word_id}/feedback",
    response={200: WordFeedbackSavedOut, 201: WordFeedbackSavedOut, 400: ErrorOut, 404: ErrorOut,
              409: ErrorOut, 415: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WordFeedbackIn.model_json_schema()}},
        }
    },
    summary="Tell us what a word or number really says",
)
def submit_word_feedback(request, word_id: str):
    """`text` is the word as written: the reading itself confirms it, anything else corrects it
    (1 to 64 characters: digits for a digit word, letters for a letter word, any printable
    character on one line for `any`). 201 on the first answer for a word, 200 when a later one
    replaces it; 409 when a reviewer has already verified or rejected a different answer. When
    the text has as many characters as were read, each character's answer is stored as well
    (`characters`)."""
    return Status(*submit_word_from_request(request, FeedbackSubmission.Channel.API, word_id))
