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


class WordFeedbackIn(Schema):
    """A word's right text, as the person wrote it: the reading itself confirms it."""

    word_id: UUID | None = None
    text: pydantic.StrictStr


class WordFeedbackOut(Schema):
    word_id: UUID
    kind: str
    predicted_text: str
    is_correct: bool
    correct_text: str | None
    text: str
    status: str
    updated: str


class WordFeedbackSavedOut(Schema):
    status: str
    feedback: WordFeedbackOut
    # The answers the word's characters got from it (none when its length differs).
    characters: list[FeedbackOut]


def parse_feedback(request, sample_id=None):
    """Validate a JSON feedback body into FeedbackIn; FeedbackError (4xx) on anything else.

    `sample_id` comes from the URL on the API route; a body naming another sample is refused.
    """
    return _parse(request, FeedbackIn, "sample_id", sample_id)


def parse_word_feedback(request, word_id=None):
    """Validate a JSON word feedback body into WordFeedbackIn, as `parse_feedback` does."""
    return _parse(request, WordFeedbackIn, "word_id", word_id)


def _parse(request, schema, id_field, id_from_url):
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
    if id_from_url is not None:
        if data.setdefault(id_field, id_from_url) != id_from_url:
            raise FeedbackError(f"{id_field} in the body differs from the one in the URL")
    try:
        payload = schema.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise FeedbackError(f"{field}: {first['msg']}") from None
    if getattr(payload, id_field) is None:
        raise FeedbackError(f"{id_field}: Field required")
    return payload
