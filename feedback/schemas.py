"""The feedback request and answer bodies, shared by the page route and the JSON API."""
import json
from uuid import UUID

import pydantic
from ninja import Schema

from .services import FeedbackError


class FeedbackIn(Schema):
    """What a client may send; prediction fields are not part of it and are ignored if sent."""

    sample_id: UUID | None = None
    is_correct: pydantic.StrictBool
    correct_label: str | None = None


class FeedbackOut(Schema):
    sample_id: UUID
    kind: str
    predicted_label: str
    confidence: float
    model_version: str
    is_correct: bool
    correct_label: str | None
    label: str
    status: str
    updated: str


class FeedbackSavedOut(Schema):
    status: str
    feedback: FeedbackOut


class ErrorOut(Schema):
    error: str
    valid_labels: list[str] | None = None


def parse_feedback(request, sample_id=None):
    """Validate a JSON feedback body into FeedbackIn; FeedbackError (4xx) on anything else.

    `sample_id` comes from the URL on the API route; a body naming another sample is refused.
    """
    if request.content_type != "application/json":
        raise FeedbackError("the body must be JSON (Content-Type: application/json)", status=415)
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FeedbackError("the body is not valid JSON") from None
    except RecursionError:
        raise FeedbackError("the body is nested too deeply: send one flat JSON object") from None
    if not isinstance(data, dict):
        raise FeedbackError("the body must be a JSON object")
    if sample_id is not None:
        if data.setdefault("sample_id", sample_id) != sample_id:
            raise FeedbackError("sample_id in the body differs from the one in the URL")
    try:
        payload = FeedbackIn.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise FeedbackError(f"{field}: {first['msg']}") from None
    if payload.sample_id is None:
        raise FeedbackError("sample_id: Field required")
    return payload
