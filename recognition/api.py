"""POST /api/v1/predict: the recognition service for API clients (CSRF-exempt, documented)."""
import uuid
from typing import Optional, Union

from ninja import Router, Schema

from recognition import forms
from recognition.models import Sample

router = Router(tags=["recognition"])


class LabelProbability(Schema):
    label: str
    probability: float


class ModelInfo(Schema):
    name: str
    version: str


class PredictionOut(Schema):
    kind: str
    label: str
    confidence: float
    top5: list[LabelProbability]
    case_insensitive: Optional[LabelProbability] = None
    model: ModelInfo
    box: list[float]  # left, top, right, bottom of the writing read, in the image's pixels
    normalized_image: str
    sample_id: Optional[uuid.UUID] = None  # absent for a preview


class CharacterOut(Schema):
    position: int
    box: list[float]  # left, top, right, bottom in the image's pixels (or the strokes' unit)
    label: str
    confidence: float
    top3: list[LabelProbability]
    normalized_image: str
    sample_id: Optional[uuid.UUID] = None


class Candidate(Schema):
    text: str
    confidence: float  # its share of the readings listed


class TextPredictionOut(Schema):
    kind: str
    text: str
    # The likeliest whole readings of the line, best first (the text model's; absent when the
    # line is read character by character).
    candidates: list[Candidate] = []
    characters: list[CharacterOut]
    case_consistency: bool
    model: ModelInfo
    box: list[float]  # the line's box: all its characters'
    word_id: Optional[uuid.UUID] = None


class ErrorOut(Schema):
    error: str


PREDICT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": forms.DrawingIn.model_json_schema()},
        "multipart/form-data": {"schema": forms.UPLOAD_SCHEMA},
    },
}


@router.post(
    "/predict",
    response={200: Union[PredictionOut, TextPredictionOut], 400: ErrorOut, 413: ErrorOut,
              503: ErrorOut},
    summary="Recognise a handwritten character, or several in a row",
    description=(
        "Send a JSON body `{\"image\": \"data:image/png;base64,...\", \"kind\": \"digit\"}` or a "
        "multipart form with an `image` file and `kind` (digit, letter or any). The answer holds "
        "the label, its confidence, the top 5, the 28x28 image the model saw and the `sample_id` "
        "to give feedback on. With `\"multi\": true` (and, for drawings, the pen `strokes`) the "
        "line is split into characters: the answer holds the `text` and, per character, its box, "
        "label, confidence, top 3, normalised image and `sample_id`. A photo of paper is read "
        "where the writing is (the sheet, then the most plausible writing on it); `box` says where, "
        "and `crop` (left, top, right, bottom in the image's pixels) says it instead."
    ),
    openapi_extra={"requestBody": PREDICT_BODY},
)
def predict(request):
    reader = forms.read_upload if request.content_type == "multipart/form-data" else forms.read_drawing
    return reader(request).recognize(Sample.Source.API)
